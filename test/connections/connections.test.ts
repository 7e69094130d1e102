// End-user connections (API.md §13) against a loopback authorization server: consent with PKCE, owners' tokens in
// runs, refresh, expiry, revocation, and the state and code rules.
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import type { Ductape } from '../../src/index.js';
import { startAuthorizationServer, type AuthorizationServer } from '../helpers/authorization-server.js';
import { newClient } from '../helpers/client.js';
import { errorOf } from '../helpers/errors.js';
import { AT, connect, definePerUser, me, REDIRECT_URI, sessionOf } from './setup.js';

let as: AuthorizationServer;
let ductape: Ductape;

async function setup(opts: Parameters<typeof startAuthorizationServer>[0] extends infer O ? Partial<O> : never = {}) {
  as = await startAuthorizationServer({ redirectUris: [REDIRECT_URI], ...opts });
  ductape = newClient();
  await definePerUser(ductape, as);
}

afterEach(async () => {
  await ductape?.close();
  await as?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Points the connection's token_url at a loopback endpoint that answers every request with 200 and `body`. */
async function tokenEndpoint(contentType: string, body: string): Promise<void> {
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': contentType }).end(body));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  onTestFinished(() => new Promise<void>((r) => server.close(() => r())));
  await ductape.products.apps.configure({
    ...AT,
    per_user: '$Session{user}{id}',
    auth: { type: 'oauth2', grant: 'authorization_code', authorize_url: as.authorizeUrl, token_url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`, client_id: 'app-client', redirect_uri: REDIRECT_URI },
  });
}

describe('connections: two owners', () => {
  beforeEach(() => setup());

  it("sends owner A's token on A's runs and B's on B's, never the other's", async () => {
    const a = await connect(ductape, as, '1', 'alice@crm');
    const b = await connect(ductape, as, '2', 'bob@crm');
    expect(a).toMatchObject({ ...AT, owner: '1', status: 'active', scopes: ['contacts.read', 'contacts.write'] });
    expect(b.owner).toBe('2');
    expect(b.return_url).toBeNull();
    const [sa, sb] = [await sessionOf(ductape, '1'), await sessionOf(ductape, '2')];
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => me(ductape, i % 2 ? sb : sa)));
    results.forEach((r, i) => expect(r.account).toBe(i % 2 ? 'bob@crm' : 'alice@crm'));
    // A product cache keys by owner too: B never gets A's cached answer.
    expect((await me(ductape, sa, { cache: 'profiles' })).account).toBe('alice@crm');
    expect((await me(ductape, sb, { cache: 'profiles' })).account).toBe('bob@crm');
    const logs = await ductape.logs.query({ owner: '2' });
    expect(logs.length).toBe(11);
    expect(logs.every((l) => l.owner === '2' && l.ok)).toBe(true);
  });

  it("keeps a connection's rate limit per owner: one user's burst does not hold another's runs", async () => {
    await connect(ductape, as, '1', 'alice@crm');
    await connect(ductape, as, '2', 'bob@crm');
    await ductape.products.apps.configure({ ...AT, rate_limit: { requests: 1, per_ms: 60_000, max_wait_ms: 0 } });
    const [sa, sb] = [await sessionOf(ductape, '1'), await sessionOf(ductape, '2')];
    expect((await me(ductape, sa)).account).toBe('alice@crm');
    expect((await errorOf(me(ductape, sa))).code).toBe('RATE_LIMITED');
    expect((await me(ductape, sb)).account).toBe('bob@crm');
  });

  it('lists owners with status, scopes and expiry, never tokens', async () => {
    await connect(ductape, as, '1', 'alice@crm');
    await connect(ductape, as, '2', 'bob@crm');
    const list = await ductape.connections.list({ product: 'dash' });
    expect(list.map((c) => [c.owner, c.status])).toEqual([
      ['1', 'active'],
      ['2', 'active'],
    ]);
    expect(Date.parse(list[0].expires_at!)).toBeGreaterThan(Date.now());
    const text = JSON.stringify(list);
    for (const t of as.issued) expect(text).not.toContain(t);
    expect(await ductape.connections.list({ product: 'dash', env: 'prd', app: 'crm' })).toHaveLength(2);
  });

  it('fails a run without a session, or for an owner who has not connected, with AUTH_FAILED saying how to connect', async () => {
    await connect(ductape, as, '1', 'alice@crm');
    const none = await errorOf(me(ductape));
    expect(none.code).toBe('AUTH_FAILED');
    expect(none.message).toContain('run({ session })');
    const stranger = await errorOf(me(ductape, await sessionOf(ductape, '3')));
    expect(stranger.code).toBe('AUTH_FAILED');
    expect(stranger.message).toMatch(/Owner "3" has not connected app "crm".*connections\.authorize/);
    expect(stranger.details).toMatchObject({ owner: '3', connectionStatus: 'not_connected' });
  });

  it('fails a run whose session holds an owner id no consent can have (empty, over 256 characters) as no_owner', async () => {
    // It was told the owner "has not connected" and to ask them to, but connections.authorize refuses such an id.
    for (const id of ['', 'x'.repeat(257)]) {
      const err = await errorOf(me(ductape, await sessionOf(ductape, id)));
      expect(err.code).toBe('AUTH_FAILED');
      expect(err.details).toMatchObject({ owner: null, connectionStatus: 'no_owner' });
      expect(err.message).toContain('non-empty string of at most 256 characters');
      expect((await errorOf(ductape.connections.authorize({ ...AT, owner: id }))).code).toBe('CONFIG_ERROR');
    }
  });

  it('refuses an authorize_url that resolves to no URL with CONFIG_ERROR, not a TypeError', async () => {
    // new URL() threw a raw TypeError "Invalid URL" from connections.authorize.
    for (const authorize_url of ['https://', 'http://exa mple.com/authorize']) {
      await ductape.products.apps.configure({
        ...AT,
        per_user: '$Session{user}{id}',
        auth: { type: 'oauth2', grant: 'authorization_code', authorize_url, token_url: as.tokenUrl, client_id: 'app-client', redirect_uri: REDIRECT_URI },
      });
      const err = await errorOf(ductape.connections.authorize({ ...AT, owner: '1' }));
      expect(err.code).toBe('CONFIG_ERROR');
      expect(err.message).toContain('authorize_url');
    }
  });

  it('builds the consent URL with PKCE S256, the scopes and a single-use state', async () => {
    const { url, state } = await ductape.connections.authorize({ ...AT, owner: '1' });
    const u = new URL(url);
    expect(`${u.origin}${u.pathname}`).toBe(as.authorizeUrl);
    expect(Object.fromEntries(u.searchParams)).toMatchObject({
      response_type: 'code',
      client_id: 'app-client',
      redirect_uri: REDIRECT_URI,
      scope: 'contacts.read contacts.write',
      state,
      code_challenge_method: 'S256',
    });
    expect(u.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});

describe('connections: state and code', () => {
  beforeEach(() => setup());

  it('refuses a replayed state, and the provider never sees the second attempt', async () => {
    const { url } = await ductape.connections.authorize({ ...AT, owner: '1' });
    const { code, state } = await as.approve(url, 'alice@crm');
    await ductape.connections.complete({ state, code });
    const again = await errorOf(ductape.connections.complete({ state, code }));
    expect(again.code).toBe('AUTH_FAILED');
    expect(again.message).toContain('unknown, already used or expired');
    expect(as.tokenCalls.filter((c) => c.grant === 'authorization_code')).toHaveLength(1);
  });

  it('refuses a foreign state: one it never issued, and one issued for another owner', async () => {
    const forged = await errorOf(ductape.connections.complete({ state: 'c3RhdGUtZnJvbS1lbHNld2hlcmU', code: 'code_x' }));
    expect(forged.code).toBe('AUTH_FAILED');
    expect(forged.details.reason).toBe('state_unknown');
    const { url } = await ductape.connections.authorize({ ...AT, owner: '1' });
    const { code, state } = await as.approve(url, 'mallory@crm');
    const foreign = await errorOf(ductape.connections.complete({ state, code, owner: '2' }));
    expect(foreign.details.reason).toBe('state_foreign');
    // Discarded: not even the right caller can use it afterwards.
    expect((await errorOf(ductape.connections.complete({ state, code, owner: '1' }))).details.reason).toBe('state_unknown');
    expect(await ductape.connections.list({ product: 'dash' })).toEqual([]);
  });

  it('refuses a state issued by another workspace', async () => {
    const other = newClient({ workspace_id: 'other' });
    try {
      await definePerUser(other, as);
      const { url } = await other.connections.authorize({ ...AT, owner: '1' });
      const { code, state } = await as.approve(url, 'alice@crm');
      expect((await errorOf(ductape.connections.complete({ state, code }))).details.reason).toBe('state_unknown');
    } finally {
      await other.close();
    }
  });

  it('refuses a code used twice (the provider says so), and a code whose PKCE verifier does not match', async () => {
    const first = await ductape.connections.authorize({ ...AT, owner: '1' });
    const second = await ductape.connections.authorize({ ...AT, owner: '1' });
    const { code } = await as.approve(first.url, 'alice@crm');
    await ductape.connections.complete({ state: first.state, code });
    const reused = await errorOf(ductape.connections.complete({ state: second.state, code }));
    expect(reused.code).toBe('AUTH_FAILED');
    expect(reused.message).toContain('invalid_grant');
    expect(as.tokenCalls.at(-1)).toMatchObject({ status: 400, refusal: 'code reused' });

    const third = await ductape.connections.authorize({ ...AT, owner: '2' });
    const fourth = await ductape.connections.authorize({ ...AT, owner: '2' });
    const approved = await as.approve(third.url, 'bob@crm');
    const mismatched = await errorOf(ductape.connections.complete({ state: fourth.state, code: approved.code }));
    expect(mismatched.code).toBe('AUTH_FAILED');
    expect(as.tokenCalls.at(-1)).toMatchObject({ status: 400, refusal: 'PKCE verification failed' });
  });

  it('says a token_url answering 200 without an access_token is no refusal of the code', async () => {
    // It said "The provider refused the authorization code … with 200" and to start the consent again, which never helps.
    await tokenEndpoint('text/html', '<html>Sign in</html>');
    const { state } = await ductape.connections.authorize({ ...AT, owner: '1' });
    const err = await errorOf(ductape.connections.complete({ state, code: 'code-0123456789' }));
    expect(err.code).toBe('AUTH_FAILED');
    expect(err.message).toMatch(/answered the authorization code for owner "1" of app "crm" with 200 but no access_token\. Check that auth\.token_url/);
    expect(err.message).not.toContain('refused');
    expect(err.details).toMatchObject({ status: 200, oauthError: null });
  });

  it('takes a token lifetime beyond any date as none: complete and list answer, not a RangeError', async () => {
    // expires_in: 1e20 made the expiry an invalid date: complete threw "RangeError: Invalid time value" after storing
    // the owner, and so did every connections.list of the product afterwards.
    await tokenEndpoint('application/json', JSON.stringify({ access_token: 'at-0123456789', token_type: 'Bearer', expires_in: 1e20 }));
    const { state } = await ductape.connections.authorize({ ...AT, owner: '1' });
    expect(await ductape.connections.complete({ state, code: 'code-0123456789' })).toMatchObject({ owner: '1', status: 'active', expires_at: null });
    expect(await ductape.connections.list({ product: 'dash' })).toMatchObject([{ owner: '1', status: 'active', expires_at: null }]);
  });

  it('refuses an expired state', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ductape-state-'));
    const file = join(dir, 'ws.db');
    const d = newClient({ store: `sqlite:${file}` });
    try {
      await definePerUser(d, as);
      const { url } = await d.connections.authorize({ ...AT, owner: '1' });
      const { code, state } = await as.approve(url, 'alice@crm');
      // Age the stored state past its lifetime, as ten minutes would.
      const db = new Database(file);
      expect(db.prepare("UPDATE records SET expires_at = ? WHERE kind = 'oauth-state'").run(Date.now() - 1).changes).toBe(1);
      db.close();
      const expired = await errorOf(d.connections.complete({ state, code }));
      expect(expired.code).toBe('AUTH_FAILED');
      expect(expired.details.reason).toBe('state_expired');

      // An abandoned consent's state is swept by a later client's first authorize.
      await d.connections.authorize({ ...AT, owner: '1' });
      const aged = new Database(file);
      aged.prepare("UPDATE records SET expires_at = ? WHERE kind = 'oauth-state'").run(Date.now() - 1);
      aged.close();
      const later = newClient({ store: `sqlite:${file}` });
      await later.connections.authorize({ ...AT, owner: '2' });
      await later.close();
      const check = new Database(file);
      expect(check.prepare("SELECT count(*) AS n FROM records WHERE kind = 'oauth-state'").get()).toEqual({ n: 1 });
      check.close();
    } finally {
      await d.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('connections: refresh', () => {
  it('refreshes an expired access token once for 100 concurrent runs of that owner', async () => {
    await setup({ expiresIn: 1, refreshedExpiresIn: 3600, refreshDelayMs: 50 });
    await connect(ductape, as, '1', 'alice@crm');
    const session = await sessionOf(ductape, '1');
    expect((await me(ductape, session)).account).toBe('alice@crm');
    await sleep(1100);
    const results = await Promise.all(Array.from({ length: 100 }, () => me(ductape, session)));
    expect(results.every((r) => r.account === 'alice@crm')).toBe(true);
    expect(as.tokenCalls.filter((c) => c.grant === 'refresh_token')).toEqual([{ grant: 'refresh_token', status: 200 }]);
  });

  it('marks the connection expired when the provider refuses the refresh; the next run fails with AUTH_FAILED naming it', async () => {
    await setup({ expiresIn: 1 });
    await connect(ductape, as, '1', 'alice@crm');
    await connect(ductape, as, '2', 'bob@crm');
    const [sa, sb] = [await sessionOf(ductape, '1'), await sessionOf(ductape, '2')];
    await me(ductape, sa);
    as.revokeGrantsOf('alice@crm');
    await sleep(1100);
    const refused = await errorOf(me(ductape, sa));
    expect(refused.code).toBe('AUTH_FAILED');
    expect(refused.message).toContain('The connection of owner "1" to app "crm" (dash/prd) expired');
    const [alice, bob] = await ductape.connections.list({ product: 'dash' });
    expect(alice).toMatchObject({ owner: '1', status: 'expired', expires_at: null });
    expect(alice.reason).toContain('invalid_grant');
    expect(bob.status).toBe('active');

    const calls = as.tokenCalls.length;
    const next = await errorOf(me(ductape, sa));
    expect(next.code).toBe('AUTH_FAILED');
    expect(next.message).toMatch(/owner "1" to app "crm" \(dash\/prd\) expired.*connections\.authorize/);
    expect(next.details).toMatchObject({ owner: '1', connectionStatus: 'expired' });
    expect(as.tokenCalls.length).toBe(calls); // no refresh attempt for an expired connection
    // Bob is untouched, and Alice can connect again.
    expect((await me(ductape, sb)).account).toBe('bob@crm');
    await connect(ductape, as, '1', 'alice@crm');
    expect((await me(ductape, sa)).account).toBe('alice@crm');
  });

  it('refreshes once after a 401 and retries with the new token', async () => {
    await setup();
    await connect(ductape, as, '1', 'alice@crm');
    const session = await sessionOf(ductape, '1');
    await me(ductape, session);
    as.expireAccessTokensOf('alice@crm');
    const results = await Promise.all(Array.from({ length: 10 }, () => me(ductape, session)));
    expect(results.every((r) => r.account === 'alice@crm')).toBe(true);
    expect(as.tokenCalls.filter((c) => c.grant === 'refresh_token')).toHaveLength(1);
  });
});

/**
 * Alice connected with a token that has expired; a run is refreshing it now, and the provider has already rotated her
 * refresh token but not yet answered (300 ms).
 */
async function refreshInFlight() {
  await setup({ expiresIn: 1, refreshedExpiresIn: 3600, refreshAnswerDelayMs: 300 });
  await connect(ductape, as, '1', 'alice@crm');
  const session = await sessionOf(ductape, '1');
  await sleep(1100);
  const run = me(ductape, session);
  while (!as.tokenCalls.some((c) => c.grant === 'refresh_token')) await sleep(5);
  return { session, run };
}

describe('connections: revoke', () => {
  beforeEach(() => setup());

  it("revokes at the provider with the refresh token, marks the owner revoked, and fails that owner's runs", async () => {
    await connect(ductape, as, '1', 'alice@crm');
    const session = await sessionOf(ductape, '1');
    await me(ductape, session);
    const r = await ductape.connections.revoke({ ...AT, owner: '1' });
    expect(r).toMatchObject({ owner: '1', status: 'revoked', provider_revoked: true });
    expect(as.revokeCalls).toHaveLength(1);
    expect(as.revokeCalls[0].hint).toBe('refresh_token');
    expect(as.isValidRefreshToken(as.revokeCalls[0].token)).toBe(false);
    const err = await errorOf(me(ductape, session));
    expect(err.code).toBe('AUTH_FAILED');
    expect(err.message).toContain('was revoked');
    expect((await ductape.connections.list({ product: 'dash' }))[0].status).toBe('revoked');
    const unknown = await errorOf(ductape.connections.revoke({ ...AT, owner: '9' }));
    expect(unknown.code).toBe('NOT_FOUND');
  });

  it("disconnects an owner when the connection's client cannot be loaded (secret deleted, per_user configured away)", async () => {
    // revoke threw NOT_FOUND / CONFIG_ERROR from loading the OAuth client and left the owner active, tokens stored.
    await connect(ductape, as, '1', 'alice@crm');
    await connect(ductape, as, '2', 'bob@crm');
    await ductape.secrets.delete({ key: 'CRM_CLIENT_SECRET' });
    expect(await ductape.connections.revoke({ ...AT, owner: '1' })).toMatchObject({ owner: '1', status: 'revoked', provider_revoked: false });
    await ductape.products.apps.configure({ ...AT, per_user: null, auth: { type: 'bearer', token: 'product-wide-token' } } as never);
    expect(await ductape.connections.revoke({ ...AT, owner: '2' })).toMatchObject({ owner: '2', status: 'revoked', provider_revoked: false });
    expect(as.revokeCalls).toHaveLength(0);
    expect((await ductape.connections.list({ product: 'dash' })).map((c) => c.status)).toEqual(['revoked', 'revoked']);
  });

  it('revokes the token a refresh in flight is getting, not the one it replaces, and leaves no token stored', async () => {
    // The provider has rotated the refresh token before its answer arrives; a revoke meanwhile used to send the old
    // one (already spent) and then let the refresh store the new one: the grant stayed alive for a revoked owner.
    const { session, run } = await refreshInFlight();
    const r = await ductape.connections.revoke({ ...AT, owner: '1' });
    expect((await run).account).toBe('alice@crm'); // it started before the revoke
    expect(r).toMatchObject({ status: 'revoked', provider_revoked: true });
    expect(as.revokeCalls).toHaveLength(1);
    const live = [...as.issued].filter((t) => as.isValidRefreshToken(t));
    expect(live).toEqual([]);
    expect(await ductape.connections.list({ product: 'dash' })).toMatchObject([{ owner: '1', status: 'revoked', expires_at: null }]);
    expect((await errorOf(me(ductape, session))).code).toBe('AUTH_FAILED');
  });

  it('keeps an owner who connects again while a refresh of their old token is in flight connected, with the new token', async () => {
    // The refresh used to store its old-chain token over the new one after complete; the next run found no token of
    // the new connection and marked it expired ("no token is stored for this owner").
    const { session, run } = await refreshInFlight();
    await connect(ductape, as, '1', 'alice@crm');
    await run;
    expect((await me(ductape, session)).account).toBe('alice@crm');
    expect(await ductape.connections.list({ product: 'dash' })).toMatchObject([{ owner: '1', status: 'active', reason: null }]);
  });
});

describe('connections: configuration', () => {
  beforeEach(() => setup());

  it('refuses per_user without an authorization_code form, and authorization_code without per_user', async () => {
    await ductape.products.create({ tag: 'other', envs: ['prd'] });
    await ductape.products.apps.connect({ product: 'other', app: 'crm' });
    const noCode = await errorOf(ductape.products.apps.configure({ product: 'other', env: 'prd', app: 'crm', per_user: '$Session{user}{id}', auth: { type: 'bearer', token: 'x' } }));
    expect(noCode.code).toBe('CONFIG_ERROR');
    expect(noCode.message).toContain('authorization_code');
    const noOwner = await errorOf(
      ductape.products.apps.configure({
        product: 'other',
        env: 'prd',
        app: 'crm',
        auth: { type: 'oauth2', grant: 'authorization_code', authorize_url: as.authorizeUrl, token_url: as.tokenUrl, client_id: 'c', redirect_uri: REDIRECT_URI },
      }),
    );
    expect(noOwner.message).toContain('per_user');
    const badSelector = await errorOf(ductape.products.apps.configure({ product: 'other', env: 'prd', app: 'crm', per_user: 'user.id' }));
    expect(badSelector.code).toBe('CONFIG_ERROR');
    const shared = await errorOf(ductape.connections.authorize({ product: 'other', env: 'prd', app: 'crm', owner: '1' }));
    expect(shared.message).toContain('not connected per user');
  });

  it('reports the return_url a callback sends the browser to', async () => {
    await ductape.products.apps.configure({ ...AT, auth: { type: 'oauth2', grant: 'authorization_code', authorize_url: as.authorizeUrl, token_url: as.tokenUrl, client_id: 'app-client', client_secret: '$Secret{CRM_CLIENT_SECRET}', redirect_uri: REDIRECT_URI, return_url: 'https://app.example.test/connected' } });
    expect((await connect(ductape, as, '1', 'alice@crm')).return_url).toBe('https://app.example.test/connected');
  });
});

describe('connections: lifetime', () => {
  beforeEach(() => setup());

  it("drops the owners and their tokens with the connection or the product: re-creating them brings no one's tokens back", async () => {
    const recreate = async () => {
      if (!(await ductape.products.list()).some((p) => p.tag === 'dash')) {
        await ductape.products.create({ tag: 'dash', envs: ['prd'] });
        await ductape.products.sessions.create({ product: 'dash', tag: 'user', sample: { user: { id: '42' } }, selector: '$Session{user}{id}' });
      }
      await ductape.products.apps.connect({ product: 'dash', app: 'crm' });
      await ductape.products.apps.configure({
        ...AT,
        per_user: '$Session{user}{id}',
        auth: { type: 'oauth2', grant: 'authorization_code', authorize_url: as.authorizeUrl, token_url: as.tokenUrl, client_id: 'app-client', client_secret: '$Secret{CRM_CLIENT_SECRET}', redirect_uri: REDIRECT_URI },
      });
    };
    await connect(ductape, as, '1', 'alice@crm');
    await ductape.products.apps.disconnect({ product: 'dash', app: 'crm' });
    await recreate();
    expect(await ductape.connections.list({ product: 'dash' })).toEqual([]);
    expect((await errorOf(me(ductape, await sessionOf(ductape, '1')))).details).toMatchObject({ connectionStatus: 'not_connected' });

    await connect(ductape, as, '1', 'alice@crm');
    await ductape.products.delete({ product: 'dash' });
    await recreate();
    expect(await ductape.connections.list({ product: 'dash' })).toEqual([]);
    expect((await errorOf(me(ductape, await sessionOf(ductape, '1')))).details).toMatchObject({ connectionStatus: 'not_connected' });
  });
});

/** Connects app `people` to product `dash` per user, its URLs and scopes left to the app's authorizationCode flow. */
async function connectPeoplePerUser(): Promise<void> {
  await ductape.products.apps.connect({ product: 'dash', app: 'people' });
  await ductape.products.apps.configure({
    product: 'dash',
    env: 'prd',
    app: 'people',
    per_user: '$Session{user}{id}',
    auth: { type: 'oauth2', grant: 'authorization_code', client_id: 'app-client', client_secret: '$Secret{CRM_CLIENT_SECRET}', redirect_uri: REDIRECT_URI },
  });
}

describe('connections: an imported spec', () => {
  beforeEach(() => setup());

  it.each([
    ['absolute', (u: string) => `${as.url}${u}`],
    // Mastodon declares `authorizationUrl: /oauth/authorize`: relative to the server (OAS 3 "Relative References in URLs").
    ['relative', (u: string) => u],
  ])("takes the consent and token URLs (%s) and the default scopes from the spec's authorizationCode flow", async (_, at) => {
    const spec = {
      openapi: '3.0.3',
      info: { title: 'People', version: '1' },
      servers: [{ url: as.url }],
      components: {
        securitySchemes: {
          oauth: {
            type: 'oauth2',
            flows: {
              authorizationCode: { authorizationUrl: at('/authorize'), tokenUrl: at('/token'), scopes: { 'people.read': 'read people', 'people.write': 'write people' } },
            },
          },
        },
      },
      security: [{ oauth: ['people.read'] }],
      paths: { '/me': { get: { operationId: 'whoAmI', responses: { '200': { description: 'ok', content: { 'application/json': { schema: { type: 'object' } } } } } } } },
    };
    await ductape.apps.import({ app: 'people', spec });
    await ductape.apps.envs.upsert({ app: 'people', slug: 'prd', base_url: as.url });
    await connectPeoplePerUser();
    const { url } = await ductape.connections.authorize({ product: 'dash', env: 'prd', app: 'people', owner: '7' });
    expect(url.startsWith(`${as.authorizeUrl}?`)).toBe(true);
    expect(new URL(url).searchParams.get('scope')).toBe('people.read people.write');
    const { code, state } = await as.approve(url, 'gina@people');
    expect(await ductape.connections.complete({ state, code })).toMatchObject({ owner: '7', scopes: ['people.read', 'people.write'] });
    const run = await ductape.actions.run<{ account: string }>({ product: 'dash', env: 'prd', app: 'people', event: 'who_am_i', session: await sessionOf(ductape, '7') });
    expect(run.account).toBe('gina@people');
  });
});

describe("connections: an imported spec's refreshUrl", () => {
  beforeEach(() => setup({ expiresIn: 1 }));

  it("refreshes owners' tokens at the authorizationCode flow's refreshUrl, exchanging codes at its tokenUrl", async () => {
    // Refreshes went to tokenUrl: OpenAPI's refreshUrl, "the URL to be used for obtaining refresh tokens", was ignored.
    const grants: string[] = [];
    const refresher = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        grants.push(new URLSearchParams(body).get('grant_type') ?? '');
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'invalid_grant' }));
      });
    });
    await new Promise<void>((r) => refresher.listen(0, '127.0.0.1', r));
    onTestFinished(() => new Promise<void>((r) => refresher.close(() => r())));
    const refreshUrl = `http://127.0.0.1:${(refresher.address() as AddressInfo).port}/refresh`;
    await ductape.apps.create({
      tag: 'people',
      envs: [{ slug: 'prd', base_url: as.url }],
      auth_schemes: { oauth: { type: 'oauth2', flows: { authorizationCode: { authorizationUrl: as.authorizeUrl, tokenUrl: as.tokenUrl, refreshUrl, scopes: {} } } } },
    });
    await ductape.apps.actions.create({ app: 'people', event: 'me', method: 'GET', path: '/me' });
    await connectPeoplePerUser();
    const { url } = await ductape.connections.authorize({ product: 'dash', env: 'prd', app: 'people', owner: '7' });
    const { code, state } = await as.approve(url, 'gina@people');
    await ductape.connections.complete({ state, code });
    await sleep(1100); // the access token has expired: the run refreshes it
    const err = await errorOf(ductape.actions.run({ product: 'dash', env: 'prd', app: 'people', event: 'me', session: await sessionOf(ductape, '7') }));
    expect(err.details).toMatchObject({ connectionStatus: 'expired' });
    expect(grants).toEqual(['refresh_token']);
    expect(as.tokenCalls.map((c) => c.grant)).toEqual(['authorization_code']);
  });
});

describe('connections: rotateKey', () => {
  it("re-seals owners' tokens and consents in progress under the new key", async () => {
    as = await startAuthorizationServer({ redirectUris: [REDIRECT_URI] });
    const dir = mkdtempSync(join(tmpdir(), 'ductape-owners-rotate-'));
    const store = `sqlite:${join(dir, 'ws.db')}`;
    try {
      ductape = newClient({ store });
      await definePerUser(ductape, as);
      await connect(ductape, as, '1', 'alice@crm');
      const pending = await ductape.connections.authorize({ ...AT, owner: '2' });
      await ductape.rotateKey('a-brand-new-private-key-0987654321');
      ductape = newClient({ store, private_key: 'a-brand-new-private-key-0987654321' });
      expect((await me(ductape, await sessionOf(ductape, '1'))).account).toBe('alice@crm');
      const { code, state } = await as.approve(pending.url, 'bob@crm');
      expect(state).toBe(pending.state);
      expect((await ductape.connections.complete({ state, code })).owner).toBe('2');
    } finally {
      await ductape.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
