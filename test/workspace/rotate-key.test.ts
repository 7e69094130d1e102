// rotate-key: every sealed value re-sealed under the new key in one transaction; the old key stops opening the workspace.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Ductape } from '../../src/index.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { authSpec } from '../helpers/auth-spec.js';
import { newClient, TEST_KEY } from '../helpers/client.js';
import { startOAuthServer, type OAuthServer } from '../helpers/oauth-server.js';
import { errorOf as failure } from '../helpers/errors.js';
import { fixture, startChild } from '../helpers/node-child.js';

const NEW_KEY = 'the-new-private-key-456789';
let dir: string;
let oauth: OAuthServer;
let clients: Ductape[] = [];
const open = (key: string) => {
  const c = newClient({ store: `sqlite:${join(dir, 'ws.db')}`, private_key: key });
  clients.push(c);
  return c;
};
const run = (d: Ductape, app: string) => d.actions.run({ env: 'prd', product: 'shop', app, event: 'get_item', input: { params: { id: '1' } } });


describe('rotateKey', () => {
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ductape-rotate-'));
    oauth = await startOAuthServer();
    const d = open(TEST_KEY);
    await d.apps.import({ app: 'demo', spec: authSpec(oauth.tokenUrl) });
    await d.apps.envs.upsert({ app: 'demo', slug: 'prd', base_url: oauth.url });
    await d.products.create({ tag: 'shop', envs: ['prd'] });
    await d.products.apps.connect({ product: 'shop', app: 'demo', access_tag: 'oauth' });
    await d.secrets.set({ key: 'CLIENT_SECRET', value: 'secret-1', envs: ['prd'] });
    await d.products.apps.configure({ product: 'shop', app: 'oauth', env: 'prd', auth: { type: 'oauth2', grant: 'client_credentials', client_id: 'client-1', client_secret: '$Secret{CLIENT_SECRET}' } });
    await d.products.sessions.create({ product: 'shop', tag: 'user', schema: { type: 'object', properties: { user: { type: 'object' } } }, selector: '$Session{user}{id}', expiry: 3600 });
    await run(d, 'oauth');
  });
  afterEach(async () => {
    for (const c of clients) await c.close();
    clients = [];
    await oauth.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('re-seals credentials, secrets, tokens and sessions so that only the new key opens them', async () => {
    const d = open(TEST_KEY);
    const { refreshToken } = await d.sessions.start({ product: 'shop', env: 'prd', tag: 'user', data: { user: { id: '42' } } });
    const result = await d.rotateKey(NEW_KEY);
    expect(result).toEqual({ connections: 1, secrets: 1, tokens: 1, sessions: 1 });

    const old = open(TEST_KEY);
    const err = await failure(old.secrets.list());
    expect(err.code).toBe('CONFIG_ERROR');
    expect(err.message).toContain('private_key does not open workspace acme');

    const fresh = open(NEW_KEY);
    expect(await fresh.secrets.get({ key: 'CLIENT_SECRET', env: 'prd' })).toMatchObject({ value: 'secret-1' });
    expect(await run(fresh, 'oauth')).toMatchObject({ ok: true });
    // The persisted access token opened under the new key: no second token request.
    expect(oauth.tokenRequests).toHaveLength(1);
    const refreshed = await fresh.sessions.refresh({ product: 'shop', env: 'prd', tag: 'user', refreshToken });
    expect((await fresh.sessions.verify({ product: 'shop', env: 'prd', tag: 'user', token: refreshed.token })).data).toEqual({ user: { id: '42' } });
  });

  it('changes nothing when one value does not open', async () => {
    const store = await openSqliteStore(join(dir, 'ws.db'));
    await store.putRecord('acme', 'secret', 'BROKEN|*|*', { value: 'v1.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA.AAAA', set: 'x', expires_at: null, updated_at: '' });
    await store.close();
    const d = open(TEST_KEY);
    expect((await failure(d.rotateKey(NEW_KEY))).code).toBe('CONFIG_ERROR');
    const again = open(TEST_KEY);
    expect(await again.secrets.get({ key: 'CLIENT_SECRET', env: 'prd' })).toMatchObject({ value: 'secret-1' });
    expect(await run(again, 'oauth')).toMatchObject({ ok: true });
    expect((await failure(open(NEW_KEY).secrets.list())).message).toContain('private_key does not open workspace acme');
  });

  it('refuses definition changes and new sessions from a client opened before another process rotated the key, so nothing is sealed under the old key', async () => {
    // The client of beforeEach stays open, as a long-running server would while `ductape rotate-key` runs elsewhere.
    const stale = clients[0];
    const before = await stale.sessions.start({ product: 'shop', env: 'prd', tag: 'user', data: { user: { id: 'u0' } } });
    const child = startChild(fixture('rotate-key.ts'), [join(dir, 'ws.db'), TEST_KEY, NEW_KEY], { timeoutMs: 60_000 });
    const result = await child.done;
    expect(JSON.parse(result.stdout.trim()), result.stderr).toMatchObject({ ok: true, secrets: 1 });

    const refused = await failure(stale.secrets.set({ key: 'LATE', value: 'sealed-under-the-old-key' }));
    expect(refused).toMatchObject({ code: 'CONFIG_ERROR' });
    expect(refused.message).toMatch(/changed since this client opened it.*nothing was changed/);
    expect(await failure(stale.products.apps.configure({ product: 'shop', app: 'oauth', env: 'prd', auth: { type: 'oauth2', grant: 'client_credentials', client_id: 'late', client_secret: 'late' } }))).toMatchObject({ code: 'CONFIG_ERROR' });

    expect(await failure(stale.sessions.start({ product: 'shop', env: 'prd', tag: 'user', data: { user: { id: 'u1' } } }))).toMatchObject({ code: 'CONFIG_ERROR' });
    // A refresh too (it said SESSION_INVALID, a session that is fine), and the refresh token is not used up by it.
    const refresh = { product: 'shop', env: 'prd', tag: 'user', refreshToken: before.refreshToken };
    expect(await failure(stale.sessions.refresh(refresh))).toMatchObject({ code: 'CONFIG_ERROR' });
    expect((await open(NEW_KEY).sessions.refresh(refresh)).sessionId).toBe(before.sessionId);

    // The workspace still opens whole under the new key: it can even be rotated again.
    const fresh = open(NEW_KEY);
    expect((await fresh.secrets.list()).map((s) => s.key)).toEqual(['CLIENT_SECRET']);
    expect(await fresh.rotateKey('a-third-private-key-0987')).toMatchObject({ secrets: 1, connections: 1 });
  }, 90_000);

  it("fails the runs of a process opened before another process rotated the key with a message that says so, within the 1 s bound", async () => {
    // Before: "private_key does not open workspace acme: the sealed credentials of connection shop/prd/oauth failed
    // authentication (wrong private_key, or the stored value was altered or moved)": the key was right, nothing was altered.
    const stale = newClient({ store: `sqlite:${join(dir, 'ws.db')}`, private_key: TEST_KEY, revision_poll_ms: 250 });
    clients.push(stale);
    await run(stale, 'oauth');
    const child = startChild(fixture('rotate-key.ts'), [join(dir, 'ws.db'), TEST_KEY, NEW_KEY], { timeoutMs: 60_000 });
    const result = await child.done;
    expect(JSON.parse(result.stdout.trim()), result.stderr).toMatchObject({ ok: true });
    // API.md §6: a change is in force for every run that starts more than 1 s after it.
    await new Promise((r) => setTimeout(r, 1_100));
    const err = await failure(run(stale, 'oauth'));
    expect(err).toMatchObject({ code: 'CONFIG_ERROR' });
    expect(err.message).toMatch(/changed since this client opened it \(another process rotated it\).*Restart this process with the current private_key/);
    expect(err.message).not.toMatch(/altered/);
    // A process with the new key runs it.
    expect(await run(open(NEW_KEY), 'oauth')).toBeDefined();
  }, 90_000);

  it('refuses a new key that is too short or the same', async () => {
    expect((await failure(open(TEST_KEY).rotateKey('short'))).code).toBe('CONFIG_ERROR');
    expect((await failure(open(TEST_KEY).rotateKey(TEST_KEY))).message).toContain('same');
  });
});
