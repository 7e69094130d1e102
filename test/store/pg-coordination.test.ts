// PostgreSQL coordination primitives against a real server: the advisory-lock lease and the revision listener.
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ductape } from '../../src/index.js';
import { createAdvisoryLeases, withAdvisoryLock } from '../../src/store/pg-lease.js';
import { createRevisionListener, REVISION_CHANNEL } from '../../src/store/pg-notify.js';
import { errorOf } from '../helpers/errors.js';
import { hasPostgres, startPostgresServer, type PostgresServer } from '../helpers/postgres-server.js';
import { startUpstream } from '../helpers/upstream.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!hasPostgres)(`PostgreSQL coordination${hasPostgres ? '' : ' (skipped: PostgreSQL 15 is not installed)'}`, () => {
  let server: PostgresServer;
  // Two pools stand for two processes: they share nothing but the server.
  let a: Kysely<any>;
  let b: Kysely<any>;
  const open = (url: string) => {
    const pool = new pg.Pool({ connectionString: url, max: 4 });
    // Backends this test terminates on purpose: idle clients report to the pool, checked-out ones to themselves.
    pool.on('error', () => {});
    pool.on('connect', (client) => client.on('error', () => {}));
    return new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
  };

  beforeAll(async () => {
    server = await startPostgresServer();
    a = open(server.url);
    b = open(server.url);
  });
  afterAll(async () => {
    await a?.destroy();
    await b?.destroy();
    await server?.stop();
  });

  describe('withAdvisoryLock', () => {
    it('lets one holder in at a time across pools', async () => {
      const events: string[] = [];
      const hold = (db: Kysely<any>, who: string) =>
        withAdvisoryLock(db, 'acme', 'oauth-token/k', { waitMs: 10_000 }, async () => {
          events.push(`${who} in`);
          await sleep(100);
          events.push(`${who} out`);
          return who;
        });
      expect(await Promise.all([hold(a, 'a'), hold(b, 'b'), hold(a, 'a2'), hold(b, 'b2')])).toEqual(['a', 'b', 'a2', 'b2']);
      for (let i = 0; i < events.length; i += 2) expect(events[i + 1]).toBe(events[i].replace(' in', ' out'));
    });

    it('gives up with TIMEOUT after waitMs, and the holder is not disturbed', async () => {
      let release!: () => void;
      const held = withAdvisoryLock(a, 'acme', 'k', { waitMs: 1_000 }, () => new Promise<string>((r) => (release = () => r('done'))));
      await sleep(100);
      const err = await errorOf(withAdvisoryLock(b, 'acme', 'k', { waitMs: 200 }, async () => 'never'));
      expect(err.code).toBe('TIMEOUT');
      expect(err.details.timeoutMs).toBe(200);
      release();
      expect(await held).toBe('done');
    });

    it('holds a transaction-scoped lock only: nothing is left on the session after release (safe behind PgBouncer)', async () => {
      await withAdvisoryLock(a, 'acme', 'k', { waitMs: 1_000 }, async () => {
        const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_locks where locktype = 'advisory'`.execute(b);
        expect(rows[0].n).toBe(1);
      });
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_locks where locktype = 'advisory'`.execute(b);
      expect(rows[0].n).toBe(0);
    });

    it('releases the lock when fn throws', async () => {
      await expect(withAdvisoryLock(a, 'acme', 'k', { waitMs: 1_000 }, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
      expect(await withAdvisoryLock(b, 'acme', 'k', { waitMs: 200 }, async () => 'next')).toBe('next');
    });

    it('frees the lock at once when the holding connection dies', async () => {
      let holderPid = 0;
      let finish!: () => void;
      const held = withAdvisoryLock(a, 'acme', 'dies', { waitMs: 1_000 }, async () => {
        const { rows } = await sql<{ pid: number }>`select pid from pg_locks where locktype = 'advisory' and granted`.execute(b);
        holderPid = rows[0].pid;
        await new Promise<void>((r) => (finish = r));
      });
      held.catch(() => undefined);
      while (!holderPid) await sleep(20);
      // The server side of a vanished client: its backend ends, and with it the transaction and the lock.
      await sql`select pg_terminate_backend(${holderPid})`.execute(b);
      expect(await withAdvisoryLock(b, 'acme', 'dies', { waitMs: 5_000 }, async () => 'taken over')).toBe('taken over');
      // The holder finds out at its COMMIT: what it wrote on the lost connection was not stored.
      finish();
      await expect(held).rejects.toThrow();
    });
  });

  describe('createAdvisoryLeases', () => {
    it("commits what fn writes on the lease's connection with the release, and nothing when fn throws", async () => {
      await sql`create table if not exists lease_writes (v text)`.execute(a);
      const lease = createAdvisoryLeases(a, 2);
      await lease('acme', 'w', { waitMs: 1_000 }, async (conn) => {
        await sql`insert into lease_writes values ('kept')`.execute(conn);
        // Not visible to anyone else before the release.
        const { rows } = await sql<{ n: number }>`select count(*)::int as n from lease_writes`.execute(b);
        expect(rows[0].n).toBe(0);
      });
      await expect(
        lease('acme', 'w', { waitMs: 1_000 }, async (conn) => {
          await sql`insert into lease_writes values ('dropped')`.execute(conn);
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      const { rows } = await sql<{ v: string }>`select v from lease_writes`.execute(b);
      expect(rows.map((r) => r.v)).toEqual(['kept']);
    });

    it('holds at most maxHolders leases at once per pool; the rest wait their turn within their bound', async () => {
      const lease = createAdvisoryLeases(a, 1);
      let inside = 0;
      let most = 0;
      const hold = (name: string) =>
        lease('acme', name, { waitMs: 5_000 }, async () => {
          most = Math.max(most, ++inside);
          await sleep(100);
          inside--;
          return name;
        });
      expect(await Promise.all([hold('x'), hold('y'), hold('z')])).toEqual(['x', 'y', 'z']);
      expect(most).toBe(1);
      let release!: () => void;
      const held = lease('acme', 'x', { waitMs: 1_000 }, () => new Promise<void>((r) => (release = r)));
      await sleep(50);
      const err = await errorOf(lease('acme', 'other', { waitMs: 150 }, async () => undefined));
      expect(err.code).toBe('TIMEOUT');
      release();
      await held;
      expect(await lease('acme', 'other', { waitMs: 1_000 }, async () => 'free again')).toBe('free again');
    });
  });

  describe('Ductape clients on one PostgreSQL store', () => {
    it('honour a definition change of another client at once through NOTIFY, long before their poll', async () => {
      const url = await server.createDatabase('notify_clients');
      const upstream = await startUpstream();
      // A poll of one minute: only the notification can make the change visible within this test.
      const open = () => new Ductape({ workspace_id: 'acme', private_key: 'pg-notify-key-0123456789abcdef', store: url, revision_poll_ms: 60_000 });
      const writer = open();
      const reader = open();
      try {
        await writer.apps.create({ tag: 'api', name: 'API' });
        await writer.apps.actions.create({ app: 'api', event: 'list', method: 'GET', path: '/items' });
        await writer.apps.envs.upsert({ app: 'api', slug: 'prd', base_url: `${upstream.url}/v1` });
        await writer.products.create({ tag: 'shop', envs: ['prd'] });
        await writer.products.apps.connect({ product: 'shop', app: 'api' });
        const list = { env: 'prd', product: 'shop', app: 'api', event: 'list' };
        await reader.actions.run(list); // compiles and keeps the plan
        await reader.actions.run(list);
        expect(upstream.requests.map((r) => r.url)).toEqual(['/v1/items', '/v1/items']);

        await writer.apps.envs.upsert({ app: 'api', slug: 'prd', base_url: `${upstream.url}/v2` });
        let url2 = '';
        for (let i = 0; i < 40 && url2 !== '/v2/items'; i++) {
          await sleep(50);
          await reader.actions.run(list);
          url2 = upstream.requests[upstream.requests.length - 1].url;
        }
        expect(url2).toBe('/v2/items');
      } finally {
        await writer.close();
        await reader.close();
        await upstream.close();
      }
    });
  });

  describe('createRevisionListener', () => {
    it('calls the subscribers of a workspace when a NOTIFY for it commits, and no one else', async () => {
      const listener = createRevisionListener(server.url);
      try {
        let acme = 0;
        let other = 0;
        listener.subscribe('acme', () => acme++);
        listener.subscribe('other', () => other++);
        // Until LISTEN is in place, a notification can be missed (the poll covers that); wait until one arrives.
        for (let i = 0; i < 100 && acme === 0; i++) {
          await sql`select pg_notify(${REVISION_CHANNEL}, 'acme')`.execute(a);
          await sleep(50);
        }
        expect(acme).toBeGreaterThan(0);
        const seen = acme;
        // NOTIFY is transactional: nothing arrives for a rolled back change.
        await a.transaction().execute(async (trx) => {
          await sql`select pg_notify(${REVISION_CHANNEL}, 'acme')`.execute(trx);
          throw new Error('roll back');
        }).catch(() => undefined);
        await sql`select pg_notify(${REVISION_CHANNEL}, 'acme')`.execute(a);
        for (let i = 0; i < 100 && acme === seen; i++) await sleep(20);
        await sleep(100);
        expect(acme).toBe(seen + 1);
        expect(other).toBe(0);
      } finally {
        await listener.close();
      }
    });

    it('reconnects after its connection is killed and tells subscribers to check again', async () => {
      const listener = createRevisionListener(server.url);
      try {
        let calls = 0;
        listener.subscribe('acme', () => calls++);
        const listening = async () => {
          const { rows } = await sql<{ pid: number }>`select pid from pg_stat_activity where application_name = 'ductape-listen'`.execute(a);
          return rows.map((r) => r.pid);
        };
        let pids: number[] = [];
        for (let i = 0; i < 200 && pids.length === 0; i++, await sleep(25)) pids = await listening();
        expect(pids).toHaveLength(1);
        await sql`select pg_terminate_backend(${pids[0]})`.execute(a);
        // After the reconnect, one call covers whatever was committed while no one listened.
        for (let i = 0; i < 200 && calls === 0; i++) await sleep(25);
        expect(calls).toBe(1);
        const again = await listening();
        expect(again).toHaveLength(1);
        expect(again[0]).not.toBe(pids[0]);
      } finally {
        await listener.close();
      }
    });
  });
});
