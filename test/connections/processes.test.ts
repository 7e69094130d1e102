// End-user connections across real processes sharing one store (a SQLite file, and PostgreSQL 15 when installed): an
// owner's token is refreshed exactly once, a revoke in one process is honoured by the others within a second, and a
// revoke or a new connection made while another process refreshes the token is not undone by that refresh.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Ductape } from '../../src/index.js';
import { startAuthorizationServer, type AuthorizationServer } from '../helpers/authorization-server.js';
import { hasPostgres, startPostgresServer, type PostgresServer } from '../helpers/postgres-server.js';
import { startWorkers, type Worker } from '../helpers/worker.js';
import { AT, connect, definePerUser, REDIRECT_URI, sessionOf } from './setup.js';

const KEY = 'connections-processes-key-0123456789';
let as: AuthorizationServer;
let workers: Worker[] = [];
let parent: Ductape;
let store: string;

const options = () => ({ workspace_id: 'acme', user_id: 'ops@acme.test', private_key: KEY, store });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Backend {
  /** A store URL of a fresh, empty store. */
  fresh(): Promise<string>;
  close(): Promise<void>;
}

function sqliteBackend(): Backend {
  const dir = mkdtempSync(join(tmpdir(), 'ductape-owners-'));
  let n = 0;
  return { fresh: async () => `sqlite:${join(dir, `ws${n++}.db`)}`, close: async () => rmSync(dir, { recursive: true, force: true }) };
}

async function postgresBackend(): Promise<Backend> {
  const server: PostgresServer = await startPostgresServer();
  let n = 0;
  return { fresh: () => server.createDatabase(`owners_${n++}`), close: () => server.stop() };
}

const backends = [
  { name: 'SQLite file', skip: false as const, make: async () => sqliteBackend() },
  { name: 'PostgreSQL', skip: hasPostgres ? (false as const) : 'PostgreSQL 15 is not installed', make: postgresBackend },
];

afterEach(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  workers = [];
  await parent?.close();
  await as?.close();
});

for (const { name, skip, make } of backends) {
  describe.skipIf(skip)(`per-user connections across processes (${name}${skip ? `: skipped, ${skip}` : ''})`, () => {
    let backend: Backend;
    beforeAll(async () => {
      backend = await make();
    }, 120_000);
    afterAll(() => backend?.close());
    beforeEach(async () => {
      store = await backend.fresh();
    });

    it("refreshes an owner's expired token once for 2 processes × 50 concurrent runs", async () => {
      // Refreshed tokens live long: on a loaded machine a 1 s token could expire again before the last run, and a
      // second refresh would then be right rather than a bug.
      as = await startAuthorizationServer({ redirectUris: [REDIRECT_URI], expiresIn: 1, refreshedExpiresIn: 3600, refreshDelayMs: 150 });
      parent = new Ductape({ ...options(), revision_poll_ms: 0 });
      await definePerUser(parent, as);
      await connect(parent, as, '1', 'alice@crm');
      const session = await sessionOf(parent, '1');
      workers = await startWorkers(2, options());
      await sleep(1100); // the first access token has expired
      const at = Date.now() + 300;
      const outcomes = (await Promise.all(workers.map((w) => w.runMany(50, { ...AT, event: 'me', session }, at)))).flat();
      expect(outcomes.filter((o) => !o.ok)).toEqual([]);
      expect(outcomes.every((o) => (o.data as { account: string }).account === 'alice@crm')).toBe(true);
      expect(as.tokenCalls.filter((c) => c.grant === 'refresh_token')).toEqual([{ grant: 'refresh_token', status: 200 }]);
    });

    // A refresh in a worker, with the provider's answer held back; the parent acts meanwhile.
    const refreshInWorker = async () => {
      as = await startAuthorizationServer({ redirectUris: [REDIRECT_URI], expiresIn: 1, refreshedExpiresIn: 3600, refreshAnswerDelayMs: 500 });
      parent = new Ductape({ ...options(), revision_poll_ms: 0 });
      await definePerUser(parent, as);
      await connect(parent, as, '1', 'alice@crm');
      const session = await sessionOf(parent, '1');
      workers = await startWorkers(1, options());
      await sleep(1100); // the first access token has expired
      const run = workers[0].runMany(1, { ...AT, event: 'me', session });
      while (!as.tokenCalls.some((c) => c.grant === 'refresh_token')) await sleep(5);
      return { session, run };
    };

    it('a revoke while another process refreshes the token revokes the new one and leaves no token stored', async () => {
      const { session, run } = await refreshInWorker();
      const r = await parent.connections.revoke({ ...AT, owner: '1' });
      expect((await run)[0]).toMatchObject({ ok: true }); // it started before the revoke
      expect(r).toMatchObject({ status: 'revoked', provider_revoked: true });
      expect([...as.issued].filter((t) => as.isValidRefreshToken(t))).toEqual([]);
      expect(await parent.connections.list({ product: 'dash' })).toMatchObject([{ owner: '1', status: 'revoked', expires_at: null }]);
      const [after] = await workers[0].runMany(1, { ...AT, event: 'me', session });
      expect(after.error).toMatchObject({ code: 'AUTH_FAILED' });
    });

    it('an owner who connects again while another process refreshes the old token stays connected', async () => {
      const { session, run } = await refreshInWorker();
      await connect(parent, as, '1', 'alice@crm');
      expect((await run)[0]).toMatchObject({ ok: true });
      expect(await parent.connections.list({ product: 'dash' })).toMatchObject([{ owner: '1', status: 'active', reason: null }]);
      const [after] = await workers[0].runMany(1, { ...AT, event: 'me', session });
      expect(after).toMatchObject({ ok: true });
    });

    it('honours a revoke made in another process within a second', async () => {
      as = await startAuthorizationServer({ redirectUris: [REDIRECT_URI] });
      parent = new Ductape({ ...options(), revision_poll_ms: 0 });
      await definePerUser(parent, as, { revoke: false }); // the provider keeps the token valid: only Ductape stops using it
      await connect(parent, as, '1', 'alice@crm');
      const session = await sessionOf(parent, '1');
      workers = await startWorkers(1, options());
      const [before] = await workers[0].runMany(1, { ...AT, event: 'me', session });
      expect(before.ok).toBe(true);
      await parent.connections.revoke({ ...AT, owner: '1' });
      await sleep(1000);
      const [after] = await workers[0].runMany(1, { ...AT, event: 'me', session });
      expect(after.ok).toBe(false);
      expect(after.error).toMatchObject({ code: 'AUTH_FAILED' });
      expect(after.error!.message).toContain('was revoked');
    });
  });
}
