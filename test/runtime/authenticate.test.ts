// Issue 4 acceptance: every auth form reaches a loopback upstream exactly as its scheme says; OAuth2 and action logins.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Ductape } from '../../src/index.js';
import { newClient } from '../helpers/client.js';
import { authSpec } from '../helpers/auth-spec.js';
import { startOAuthServer, type OAuthServer } from '../helpers/oauth-server.js';
import { startUpstream, type Recorded, type Upstream } from '../helpers/upstream.js';
import { errorOf as failure } from '../helpers/errors.js';

let upstream: Upstream;
let oauth: OAuthServer;
let ductape: Ductape;

async function setup(d: Ductape, upstreamUrl: string, tokenUrl: string) {
  await d.apps.import({ app: 'demo', spec: authSpec(tokenUrl) });
  await d.apps.envs.upsert({ app: 'demo', slug: 'prd', base_url: `${upstreamUrl}/v1` });
  await d.apps.envs.upsert({ app: 'demo', slug: 'dev', base_url: `${upstreamUrl}/v1` });
  await d.products.create({ tag: 'shop', envs: ['dev', 'prd'] });
}

/** Connects the app under a fresh access tag configured with `auth` in prd. */
async function connect(d: Ductape, tag: string, auth: unknown, env = 'prd') {
  await d.products.apps.connect({ product: 'shop', app: 'demo', access_tag: tag });
  await d.products.apps.configure({ product: 'shop', app: tag, env, auth: auth as never });
}

const run = (app: string, event = 'get_item', input: Record<string, unknown> = { params: { id: '42' } }, env = 'prd') =>
  ductape.actions.run({ env, product: 'shop', app, event, input });


const last = (): Recorded => upstream.requests[upstream.requests.length - 1];

describe('authenticate', () => {
  beforeEach(async () => {
    upstream = await startUpstream();
    oauth = await startOAuthServer({ refreshTokens: ['rt_start'] });
    ductape = newClient();
    await setup(ductape, upstream.url, oauth.tokenUrl);
  });
  afterEach(async () => {
    await ductape.close();
    await upstream.close();
    await oauth.close();
  });

  it('sends a bearer token from a sealed secret in Authorization', async () => {
    await ductape.secrets.set({ key: 'DEMO_TOKEN', value: 'tok_bearer_live_1', envs: ['prd'] });
    await connect(ductape, 'bearer', { type: 'bearer', token: '$Secret{DEMO_TOKEN}' });
    await run('bearer');
    expect(last().headers.authorization).toBe('Bearer tok_bearer_live_1');
    expect(last().url).toBe('/v1/items/42');
  });

  it('sends basic credentials', async () => {
    await connect(ductape, 'basic', { type: 'basic', username: 'shop', password: 'pw_basic_1' });
    await run('basic');
    expect(last().headers.authorization).toBe(`Basic ${Buffer.from('shop:pw_basic_1').toString('base64')}`);
  });

  it('sends both API-key headers of an AND-ed requirement', async () => {
    await connect(ductape, 'pair', [
      { type: 'apiKey', name: 'X-Api-Key', value: 'key_pair_1' },
      { type: 'apiKey', name: 'X-Api-Secret', value: 'secret_pair_1' },
    ]);
    await run('pair');
    expect([last().headers['x-api-key'], last().headers['x-api-secret'], last().headers.authorization]).toEqual(['key_pair_1', 'secret_pair_1', undefined]);
  });

  it('sends an apiKey in the query and in a cookie, named by the scheme', async () => {
    await connect(ductape, 'q', { type: 'apiKey', in: 'query', value: 'key query/1' });
    await run('q');
    expect(last().url).toBe('/v1/items/42?api_key=key%20query%2F1');
    await connect(ductape, 'c', { type: 'apiKey', in: 'cookie', value: 'cookie_val_1' });
    await run('c');
    expect(last().headers.cookie).toBe('sid=cookie_val_1');
  });

  it('sends raw header, query and body templates resolving variables and constants', async () => {
    await connect(ductape, 'raw', { headers: { 'X-Signature': 'sig-$Variable{account}' }, query: { tenant: '$Variable{account}' }, body: { api_secret: 'body_secret_1' } });
    await ductape.products.apps.configure({ product: 'shop', app: 'raw', env: 'prd', variables: { account: 'acct_9' } });
    await run('raw', 'create_item', { body: { name: 'x' } });
    expect(last().headers['x-signature']).toBe('sig-acct_9');
    expect(last().url).toBe('/v1/items?tenant=acct_9');
    expect(JSON.parse(last().body)).toEqual({ name: 'x', api_secret: 'body_secret_1' });
  });

  it('sends nothing for an operation with security: []', async () => {
    await connect(ductape, 'bearer', { type: 'bearer', token: 'tok_never_sent' });
    await run('bearer', 'get_public', {});
    expect(last().headers.authorization).toBeUndefined();
  });

  it('fetches an oauth2 client_credentials token with the requirement scopes and sends it', async () => {
    await ductape.secrets.set({ key: 'OAUTH_SECRET', value: 'secret-1' });
    await connect(ductape, 'oauth', { type: 'oauth2', grant: 'client_credentials', client_id: 'client-1', client_secret: '$Secret{OAUTH_SECRET}' });
    await run('oauth');
    await run('oauth');
    expect(oauth.tokenRequests).toHaveLength(1);
    expect(oauth.tokenRequests[0]).toMatchObject({ grant: 'client_credentials', scope: 'read', clientAuth: 'basic' });
    const sent = upstream.requests.map((r) => r.headers.authorization);
    expect(sent[0]).toMatch(/^Bearer at_/);
    expect(oauth.isValidAccessToken(sent[0]!.slice(7))).toBe(true);
    expect(sent[1]).toBe(sent[0]);
  });

  it("resolves the scheme's relative tokenUrl against the connection's base URL (Mastodon, PeerTube: /oauth/token)", async () => {
    // Before: CONFIG_ERROR 'The OAuth2 token_url "/oauth/token" is not an absolute http(s) URL' on every run.
    await ductape.apps.create({ tag: 'relative' });
    await ductape.apps.import({ app: 'relative', spec: authSpec('/oauth/token') });
    await ductape.products.apps.connect({ product: 'shop', app: 'relative' });
    const auth = { type: 'oauth2', grant: 'client_credentials', client_id: 'client-1', client_secret: 'secret-1' };
    await ductape.products.apps.configure({ product: 'shop', app: 'relative', env: 'prd', base_url: `${oauth.url}/api/v1`, auth: auth as never });
    expect(await run('relative')).toEqual({ ok: true, path: '/api/v1/items/42' });
    expect(oauth.tokenRequests).toHaveLength(1);
    expect(oauth.tokenRequests[0]).toMatchObject({ grant: 'client_credentials', scope: 'read', status: 200 });
  });

  it('logs in with the app login action and sends $Auth values', async () => {
    const login = await startUpstream((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      if (req.url === '/v1/login') res.end(JSON.stringify({ session: { token: `sess_${JSON.parse(req.body).password}` } }));
      else res.end(JSON.stringify({ auth: req.headers['x-session'] ?? null }));
    });
    try {
      await ductape.apps.envs.upsert({ app: 'demo', slug: 'prd', base_url: `${login.url}/v1` });
      await ductape.secrets.set({ key: 'LOGIN_PW', value: 'pw_login_77' });
      await connect(ductape, 'acct', { type: 'action', event: 'login', input: { body: { user: 'shop', password: '$Secret{LOGIN_PW}' } }, expiry: 600, headers: { 'X-Session': '$Auth{session}{token}' } });
      expect(await run('acct')).toEqual({ auth: 'sess_pw_login_77' });
      expect(await run('acct')).toEqual({ auth: 'sess_pw_login_77' });
      expect(login.requests.map((r) => r.url)).toEqual(['/v1/login', '/v1/items/42', '/v1/items/42']);
    } finally {
      await login.close();
    }
  });

  it('sends the login input as resolved: session data and secret values are never resolved a second time', async () => {
    // Before: the login run bound its resolved input again. Session data holding "$Secret{STRIPE_KEY}" sent that
    // secret to the login endpoint (with secrets_in_input; without, every login of that user failed), and the
    // password "pw\\$Now" arrived as "pw$Now".
    const login = await startUpstream((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(req.url === '/v1/login' ? { token: 'sess_1' } : { ok: true }));
    });
    for (const secretsInInput of [false, true]) {
      const d = newClient({ secrets_in_input: secretsInInput });
      try {
        await setup(d, login.url, oauth.tokenUrl);
        await d.secrets.set({ key: 'LOGIN_PW', value: 'pw\\$Now' });
        await d.secrets.set({ key: 'STRIPE_KEY', value: 'sk_live_not_for_login' });
        await d.products.sessions.create({ product: 'shop', tag: 'us', sample: { user: { id: 'x', name: 'n' } }, selector: '$Session{user}{id}' });
        await d.products.apps.connect({ product: 'shop', app: 'demo', access_tag: 'acct' });
        const auth = { type: 'action', event: 'login', input: { body: { user: '$Session{user}{name}', password: '$Secret{LOGIN_PW}' } }, headers: { 'X-Session': '$Auth{token}' } };
        await d.products.apps.configure({ product: 'shop', app: 'acct', env: 'prd', auth: auth as never });
        const { token } = await d.sessions.start({ product: 'shop', env: 'prd', tag: 'us', data: { user: { id: '1', name: '$Secret{STRIPE_KEY}' } } });
        await d.actions.run({ env: 'prd', product: 'shop', app: 'acct', event: 'get_item', input: { params: { id: '42' } }, session: { tag: 'us', token } });
      } finally {
        await d.close();
      }
    }
    const bodies = login.requests.filter((r) => r.url === '/v1/login').map((r) => JSON.parse(r.body));
    expect(bodies).toEqual([
      { user: '$Secret{STRIPE_KEY}', password: 'pw\\$Now' },
      { user: '$Secret{STRIPE_KEY}', password: 'pw\\$Now' },
    ]);
    await login.close();
  });

  it('logs in again once when the upstream answers 401', async () => {
    let valid = 'sess_1';
    let logins = 0;
    const api = await startUpstream((req, res) => {
      if (req.url === '/v1/login') {
        valid = `sess_${++logins}`;
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end(JSON.stringify({ token: valid }));
      }
      const ok = req.headers['x-session'] === valid;
      res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok }));
    });
    try {
      await ductape.apps.envs.upsert({ app: 'demo', slug: 'prd', base_url: `${api.url}/v1` });
      await connect(ductape, 'acct', { type: 'action', event: 'login', input: { body: {} }, headers: { 'X-Session': '$Auth{token}' } });
      await run('acct');
      valid = 'revoked';
      expect(await run('acct')).toEqual({ ok: true });
      expect(logins).toBe(2);
      expect(api.requests.map((r) => r.url)).toEqual(['/v1/login', '/v1/items/42', '/v1/items/42', '/v1/login', '/v1/items/42']);
    } finally {
      await api.close();
    }
  });

  it('fails with CONFIG_ERROR when the credentials satisfy none of the requirements', async () => {
    await connect(ductape, 'odd', { type: 'apiKey', in: 'header', name: 'X-Other', value: 'v_odd_1' });
    const err = await failure(run('odd'));
    expect(err.code).toBe('CONFIG_ERROR');
    expect(err.message).toContain('satisfy none of the security requirements of get_item');
  });

  it('does not return credential values from configure', async () => {
    await ductape.products.apps.connect({ product: 'shop', app: 'demo', access_tag: 'x' });
    const res = await ductape.products.apps.configure({ product: 'shop', app: 'x', env: 'prd', auth: { type: 'basic', username: 'u_configure', password: 'pw_configure_1' } });
    expect(res.auth).toEqual([{ type: 'basic' }]);
    expect(JSON.stringify(res)).not.toContain('pw_configure_1');
  });
});

describe('authenticate with OAuth2 against a token server', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ductape-auth-'));
  });
  afterEach(async () => {
    await ductape?.close();
    await oauth?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('makes exactly one token request for 100 concurrent runs with an expired token', async () => {
    // 3 s tokens: the 100 runs after the wait must all finish before the new token expires too, on a loaded machine.
    oauth = await startOAuthServer({ expiresIn: 3, delayMs: 50 });
    ductape = newClient();
    await setup(ductape, oauth.url, oauth.tokenUrl);
    await connect(ductape, 'oauth', { type: 'oauth2', grant: 'client_credentials', client_id: 'client-1', client_secret: 'secret-1' });
    await run('oauth');
    expect(oauth.tokenRequests).toHaveLength(1);
    await sleep(3100);
    const results = await Promise.all(Array.from({ length: 100 }, () => run('oauth')));
    expect(results.every((r) => (r as { ok: boolean }).ok)).toBe(true);
    expect(oauth.tokenRequests).toHaveLength(2);
    expect(oauth.resourceRequests.filter((r) => r.status === 401)).toHaveLength(0);
  });

  it('refreshes once and retries once after a 401', async () => {
    oauth = await startOAuthServer();
    ductape = newClient();
    await setup(ductape, oauth.url, oauth.tokenUrl);
    await connect(ductape, 'oauth', { type: 'oauth2', grant: 'client_credentials', client_id: 'client-1', client_secret: 'secret-1' });
    await run('oauth');
    oauth.revokeAccessTokens();
    const env = await ductape.actions.execute({ env: 'prd', product: 'shop', app: 'oauth', event: 'get_item', input: { params: { id: '1' } } });
    expect(env.status).toBe(200);
    expect(oauth.tokenRequests).toHaveLength(2);
    expect(oauth.resourceRequests.map((r) => r.status)).toEqual([200, 401, 200]);
  });

  it('gives up after one retry when the fresh token is refused too', async () => {
    oauth = await startOAuthServer();
    ductape = newClient();
    await setup(ductape, oauth.url, oauth.tokenUrl);
    await connect(ductape, 'oauth', { type: 'oauth2', grant: 'client_credentials', client_id: 'client-1', client_secret: 'secret-1' });
    await run('oauth');
    oauth.refuseAll(true);
    const err = await failure(run('oauth'));
    expect(err.details.status).toBe(401);
    expect(oauth.tokenRequests).toHaveLength(2);
    expect(oauth.resourceRequests.map((r) => r.status)).toEqual([200, 401, 401]);
  });

  it('ends a run with timeout.run at its deadline while the token endpoint is slow; the request goes on for later runs', async () => {
    // The token request used to hold such a run for its own 30 s bound, whatever timeout.run said.
    oauth = await startOAuthServer();
    ductape = newClient();
    await setup(ductape, oauth.url, oauth.tokenUrl);
    await connect(ductape, 'oauth', { type: 'oauth2', grant: 'client_credentials', client_id: 'client-1', client_secret: 'secret-1' });
    const held = oauth.holdTokenRequests();
    const err = await failure(ductape.actions.run({ env: 'prd', product: 'shop', app: 'oauth', event: 'get_item', input: { params: { id: '1' } }, timeout: { run: 300 } }));
    expect(err).toMatchObject({ code: 'TIMEOUT', timeoutMs: 300, deadline: true });
    expect(err.message).toMatch(/OAuth2 token of this connection passed the run's deadline of 300 ms \(timeout\.run\)/);
    held.release();
    expect(await run('oauth')).toMatchObject({ ok: true });
    expect(oauth.tokenRequests).toHaveLength(1); // the held request answered, and the next run used its token
  });

  it('keeps a rotated refresh token across a restart (two clients on one SQLite file)', async () => {
    oauth = await startOAuthServer({ refreshTokens: ['rt_first'], expiresIn: 1 });
    const store = `sqlite:${join(dir, 'ws.db')}`;
    ductape = newClient({ store });
    await setup(ductape, oauth.url, oauth.tokenUrl);
    await connect(ductape, 'oauth', { type: 'oauth2', grant: 'refresh_token', client_id: 'client-1', client_secret: 'secret-1', refresh_token: 'rt_first' });
    await run('oauth');
    expect(oauth.validRefreshTokens.has('rt_first')).toBe(false);
    await ductape.close();

    await sleep(1100);
    ductape = newClient({ store });
    expect(await run('oauth')).toMatchObject({ ok: true });
    expect(oauth.tokenRequests.map((r) => [r.grant, r.status])).toEqual([
      ['refresh_token', 200],
      ['refresh_token', 200],
    ]);
    expect(oauth.tokenRequests[1].refreshToken).not.toBe('rt_first');
  });
});
