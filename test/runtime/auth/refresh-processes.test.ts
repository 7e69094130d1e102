// Issue 10 (items 4 and 6): a credential refresh happens exactly once across real processes sharing one store, and a
// process killed in the middle of one leaves the store as before or after it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Ductape } from '../../../src/index.js';
import { openWorkspaceKey } from '../../../src/model/keys.js';
import { openJson } from '../../../src/store/seal.js';
import { openStore } from '../../../src/store/index.js';
import type { Store } from '../../../src/store/store.js';
import { OAUTH_TOKEN_KIND } from '../../../src/runtime/auth/oauth2.js';
import { LEASE_KIND, LEASE_TTL_MS } from '../../../src/store/lease.js';
import { authSpec } from '../../helpers/auth-spec.js';
import { hasPostgres, startPostgresServer } from '../../helpers/postgres-server.js';
import { startOAuthServer, type OAuthServer } from '../../helpers/oauth-server.js';
import { startWorker, startWorkers, type Worker } from '../../helpers/worker.js';

const KEY = 'refresh-processes-key-0123456789';
const PROCESSES = 3;
const RUNS_EACH = 50;

interface Backend {
  /** A store URL of a fresh, empty store. */
  fresh(): Promise<string>;
  /** Whether leases are rows with an expiry (SQLite) rather than locks that end with their connection (PostgreSQL). */
  leaseRows: boolean;
  close(): Promise<void>;
}

function sqliteBackend(): Backend {
  const dir = mkdtempSync(join(tmpdir(), 'ductape-refresh-'));
  let n = 0;
  return {
    fresh: async () => `sqlite:${join(dir, `ws${n++}.db`)}`,
    leaseRows: true,
    close: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

async function postgresBackend(): Promise<Backend> {
  const server = await startPostgresServer();
  let n = 0;
  return { fresh: () => server.createDatabase(`refresh_${n++}`), leaseRows: false, close: () => server.stop() };
}

const backends: { name: string; skip: string | false; make: () => Backend | Promise<Backend> }[] = [
  { name: 'SQLite file', skip: false, make: sqliteBackend },
  { name: 'PostgreSQL', skip: hasPostgres ? false : 'PostgreSQL 15 is not installed', make: postgresBackend },
];

const options = (store: string) => ({ workspace_id: 'acme', user_id: 'ops@acme.test', private_key: KEY, store });
const input = { env: 'prd', product: 'shop', app: 'oauth', event: 'get_item', input: { params: { id: '1' } } };

/** The app (served by the OAuth server itself, which also answers as the protected resource), product and connection. */
async function define(store: string, oauth: OAuthServer, auth: unknown): Promise<Ductape> {
  const d = new Ductape({ ...options(store), revision_poll_ms: 0 });
  await d.apps.import({ app: 'demo', spec: authSpec(oauth.tokenUrl) });
  await d.apps.envs.upsert({ app: 'demo', slug: 'prd', base_url: oauth.url });
  await d.products.create({ tag: 'shop', envs: ['prd'] });
  await d.products.apps.connect({ product: 'shop', app: 'demo', access_tag: 'oauth' });
  await d.products.apps.configure({ product: 'shop', app: 'oauth', env: 'prd', auth: auth as never });
  return d;
}

const refreshAuth = { type: 'oauth2', grant: 'refresh_token', client_id: 'client-1', client_secret: 'secret-1', refresh_token: 'rt_start' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const { name, skip, make } of backends) {
  describe.skipIf(skip)(`credential refresh across processes (${name}${skip ? `: skipped, ${skip}` : ''})`, () => {
    let backend: Backend;
    let oauth: OAuthServer | undefined;
    let workers: Worker[] = [];

    beforeAll(async () => {
      backend = await make();
    });
    afterAll(() => backend?.close());
    afterEach(async () => {
      await Promise.all(workers.map((w) => w.stop()));
      workers = [];
      await oauth?.close();
      oauth = undefined;
    });

    it(`refreshes a rotating refresh token exactly once for ${PROCESSES} processes × ${RUNS_EACH} concurrent runs`, async () => {
      // The server revokes the whole grant if a rotated-away refresh token is ever presented again, so a second
      // refresh by any process would fail runs rather than merely cost a request.
      oauth = await startOAuthServer({ refreshTokens: ['rt_start'], expiresIn: 1, revokeGrantOnReuse: true, delayMs: 150 });
      const store = await backend.fresh();
      const setup = await define(store, oauth, refreshAuth);
      await setup.actions.run(input); // first token: lives 1 s
      await setup.close();
      oauth.setExpiresIn(3600);
      const firstAt = Date.now();

      workers = await startWorkers(PROCESSES, options(store));
      await sleep(Math.max(0, firstAt + 1_100 - Date.now())); // the stored access token has expired
      const before = oauth.tokenRequests.length;
      const at = Date.now() + 300;
      const results = (await Promise.all(workers.map((w) => w.runMany(RUNS_EACH, input, at)))).flat();

      expect(results.filter((r) => !r.ok).map((r) => r.error)).toEqual([]);
      expect(results).toHaveLength(PROCESSES * RUNS_EACH);
      expect(oauth.tokenRequests.slice(before).map((r) => [r.grant, r.status])).toEqual([['refresh_token', 200]]);
      expect(oauth.reusedRefreshTokens).toEqual([]);
    });

    it(`logs in exactly once for ${PROCESSES} processes × ${RUNS_EACH} concurrent runs (action login)`, async () => {
      oauth = await startOAuthServer({ delayMs: 150 });
      const store = await backend.fresh();
      const setup = await define(store, oauth, { type: 'action', event: 'login', input: { body: { user: 'shop' } }, headers: { Authorization: 'Bearer $Auth{token}' } });
      await setup.close();

      workers = await startWorkers(PROCESSES, options(store));
      const at = Date.now() + 300;
      const results = (await Promise.all(workers.map((w) => w.runMany(RUNS_EACH, input, at)))).flat();

      expect(results.filter((r) => !r.ok).map((r) => r.error)).toEqual([]);
      expect(oauth.logins).toBe(1);
    });

    it('leaves the stored token as before or after when the refreshing process is SIGKILLed, and the claim lapses', async () => {
      oauth = await startOAuthServer({ refreshTokens: ['rt_start'], expiresIn: 1, revokeGrantOnReuse: true });
      const store = await backend.fresh();
      const setup = await define(store, oauth, refreshAuth);
      await setup.actions.run(input);
      await setup.close();
      const storedBefore = await readToken(store);
      await sleep(1_100);

      // The token request reaches the server and is held there; the process that sent it dies while it waits.
      let held!: () => void;
      const arrived = new Promise<void>((r) => (held = r));
      const hold = oauth.holdTokenRequests(held);
      const doomed = await startWorker(options(store));
      const doomedRun = doomed.runMany(1, input).catch(() => undefined);
      await arrived;
      await doomed.kill();
      await doomedRun;
      hold.release();

      expect(await readToken(store)).toEqual(storedBefore);
      // SQLite: the dead holder's row stays until it expires. PostgreSQL: the lock ended with the connection.
      const claimedUntil = backend.leaseRows ? await leaseExpiry(store) : Date.now();
      expect(claimedUntil).not.toBeNull();

      // Another process waits for the dead holder's claim to lapse (at most LEASE_TTL_MS), then refreshes.
      oauth.setExpiresIn(3600);
      const started = Date.now();
      const heir = await startWorker(options(store), { timeoutMs: LEASE_TTL_MS + 30_000 });
      workers = [heir];
      const [result] = await heir.runMany(1, { ...input, timeout: LEASE_TTL_MS + 10_000 });
      expect(result.error).toBeUndefined();
      expect(Date.now()).toBeGreaterThanOrEqual(claimedUntil!);
      expect(Date.now() - started).toBeLessThan(LEASE_TTL_MS + 20_000);
      const after = await readToken(store);
      expect(after.accessToken).not.toBe(storedBefore.accessToken);
      expect(oauth.isValidAccessToken(after.accessToken)).toBe(true);
    }, 90_000);

    it('leaves every stored token whole when processes are SIGKILLed at random moments of a refresh', async () => {
      const ROUNDS = 5;
      // One connection per round (distinct token params, so distinct tokens and leases): rounds run side by side.
      let kill: (round: number) => void = () => {};
      oauth = await startOAuthServer({
        expiresIn: 1,
        delayMs: 20,
        onTokenRequest: (log) => {
          if (log.params.round !== undefined) setTimeout(() => kill(Number(log.params.round)), Math.floor(Math.random() * 60));
        },
      });
      const store = await backend.fresh();
      const auth = (i: number) => ({ type: 'oauth2', grant: 'client_credentials', client_id: 'client-1', client_secret: 'secret-1', params: { round: String(i) } });
      const setup = await define(store, oauth, auth(0));
      for (let i = 1; i < ROUNDS; i++) {
        await setup.products.apps.connect({ product: 'shop', app: 'demo', access_tag: `oauth${i}` });
        await setup.products.apps.configure({ product: 'shop', app: `oauth${i}`, env: 'prd', auth: auth(i) as never });
      }
      const appOf = (i: number) => (i === 0 ? 'oauth' : `oauth${i}`);
      for (let i = 0; i < ROUNDS; i++) await setup.actions.run({ ...input, app: appOf(i) });
      await setup.close();
      const before = await readTokens(store);
      expect(before.size).toBe(ROUNDS);
      oauth.setExpiresIn(3600);
      await sleep(1_100);

      workers = await startWorkers(ROUNDS, options(store));
      kill = (round) => void workers[round].kill();
      await Promise.all(workers.map((w, i) => w.runMany(1, { ...input, app: appOf(i) }).catch(() => undefined)));
      await Promise.all(workers.map((w) => w.kill()));

      // Every record opens, and holds either the token from before or one the server issued in this refresh.
      const after = await readTokens(store);
      expect(after.size).toBe(ROUNDS);
      for (const [key, token] of after) {
        if (token.accessToken !== before.get(key)!.accessToken) expect(oauth.isValidAccessToken(token.accessToken)).toBe(true);
      }
    });
  });
}

/** The workspace's master key (values are sealed under it, not under the private_key as given). */
async function masterKey(store: Store): Promise<string> {
  return (await openWorkspaceKey(KEY, 'acme', (await store.getWorkspace('acme'))!.keyCheck!))!.material;
}

/** Every stored OAuth2 token by record key, opened (they are sealed; a torn record would not open). */
async function readTokens(url: string): Promise<Map<string, { accessToken: string }>> {
  const store = await openStore(url);
  try {
    const out = new Map<string, { accessToken: string }>();
    const key = await masterKey(store);
    for (const rec of await store.listRecords<{ sealed: string }>('acme', OAUTH_TOKEN_KIND)) {
      const value = openJson<{ access_token: string }>(key, { workspace: 'acme', kind: OAUTH_TOKEN_KIND, key: rec.key }, rec.data.sealed);
      out.set(rec.key, { accessToken: value.access_token });
    }
    return out;
  } finally {
    await store.close();
  }
}

/** The stored OAuth2 token of the one connection, opened (it is sealed). */
async function readToken(url: string): Promise<{ accessToken: string; refreshToken: string | undefined; obtainedAt: number }> {
  const store = await openStore(url);
  try {
    const [rec] = await store.listRecords<{ sealed: string; obtainedAt: number }>('acme', OAUTH_TOKEN_KIND);
    const value = openJson<{ access_token: string; refresh_token?: string }>(await masterKey(store), { workspace: 'acme', kind: OAUTH_TOKEN_KIND, key: rec.key }, rec.data.sealed);
    return { accessToken: value.access_token, refreshToken: value.refresh_token, obtainedAt: rec.data.obtainedAt };
  } finally {
    await store.close();
  }
}

/** When the (one) lease left in the store expires, or null when none is held. */
async function leaseExpiry(url: string): Promise<number | null> {
  const store = await openStore(url);
  try {
    const [rec] = await store.listRecords(`acme`, LEASE_KIND);
    return rec?.expiresAt ?? null;
  } finally {
    await store.close();
  }
}
