// The store contract on a real PostgreSQL 15 that this file starts (test/helpers/postgres-server.ts), plus what only
// PostgreSQL has: migrations raced by real processes, a Ductape client end to end, an unreachable server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuctapeError } from '../../src/errors.js';
import { openStore } from '../../src/store/index.js';
import { openPostgresStore } from '../../src/store/postgres.js';
import { storeContract } from '../contract/store.js';
import { newClient, TEST_KEY } from '../helpers/client.js';
import { fixture, startChild } from '../helpers/node-child.js';
import { hasPostgres, startPostgresServer, type PostgresServer } from '../helpers/postgres-server.js';
import { refusedPort } from '../helpers/ports.js';
import { startUpstream } from '../helpers/upstream.js';
import { startWorker } from '../helpers/worker.js';

let server: PostgresServer | undefined;
beforeAll(async () => {
  if (hasPostgres) server = await startPostgresServer();
});
afterAll(async () => server?.stop());

if (!hasPostgres) {
  describe('postgres store', () => {
    it.skip('skipped: PostgreSQL is not installed (apt-get install postgresql-15, or set DUCTAPE_PG_BIN)', () => {});
  });
} else {
  storeContract('postgres', () => openPostgresStore(server!.url), { shared: true });

  describe('postgres store', () => {
    it('migrates a new database once when several processes open it at the same moment', async () => {
      for (let round = 0; round < 3; round++) {
        const url = await server!.createDatabase(`race${round}`);
        const children = Array.from({ length: 3 }, () => startChild(fixture('open-store.ts'), [url]));
        const results = await Promise.all(children.map((c) => c.done));
        for (const r of results) expect(JSON.parse(r.stdout), r.stderr).toEqual({ ok: true });
        const store = await openPostgresStore(url);
        expect(await store.getWorkspace('race')).toMatchObject({ id: 'race', keyCheck: 'check' });
        await store.close();
      }
    });

    it('serves a Ductape client: definitions, runs, run logs filtered in SQL', async () => {
      const upstream = await startUpstream();
      const url = await server!.createDatabase('client');
      const ductape = newClient({ store: url });
      try {
        await ductape.apps.create({ tag: 'api', envs: [{ slug: 'prd', base_url: upstream.url }] });
        await ductape.apps.actions.create({ app: 'api', event: 'ping', method: 'GET', path: '/ping' });
        await ductape.products.create({ tag: 'shop', envs: ['prd'] });
        await ductape.products.apps.connect({ product: 'shop', app: 'api' });
        for (let i = 0; i < 3; i++) await ductape.actions.run({ env: 'prd', product: 'shop', app: 'api', event: 'ping' });
        const logs = await ductape.logs.query({ product: 'shop', event: 'ping' });
        expect(logs).toHaveLength(3);
        expect(logs[0]).toMatchObject({ product: 'shop', app: 'api', event: 'ping', status: 200, ok: true });
        expect(await ductape.logs.query({ status: 'error' })).toEqual([]);
      } finally {
        await ductape.close();
        await upstream.close();
      }
      // Another client (another process, as far as the store knows) sees the same workspace.
      const again = newClient({ store: url });
      expect((await again.logs.query({})).length).toBe(3);
      await again.close();
    });

    it('logs a batch in which a run carries a NUL character or a lone surrogate (PostgreSQL text cannot hold them)', async () => {
      // Before: the insert failed with 22P05 "unsupported Unicode escape sequence" and every run of the batch went
      // unlogged (a warning only), here the two runs around the one whose error message held the upstream's NUL.
      const upstream = await startUpstream((req, res) => {
        res.writeHead(req.url === '/bad' ? 500 : 200, { 'content-type': 'text/plain' });
        res.end(req.url === '/bad' ? 'boom\u0000here' : 'ok');
      });
      const url = await server!.createDatabase('nul');
      const ductape = newClient({ store: url });
      try {
        await ductape.apps.create({ tag: 'api', envs: [{ slug: 'prd', base_url: upstream.url }] });
        await ductape.apps.actions.create({ app: 'api', event: 'ping', method: 'GET', path: '/ping' });
        await ductape.apps.actions.create({ app: 'api', event: 'bad', method: 'GET', path: '/bad' });
        await ductape.products.create({ tag: 'shop', envs: ['prd'] });
        await ductape.products.apps.connect({ product: 'shop', app: 'api' });
        const run = (event: string) => ductape.actions.run({ env: 'prd', product: 'shop', app: 'api', event }).catch((e: DuctapeError) => e.code);
        // An event name is the caller's text: half an emoji (a lone UTF-16 surrogate) reaches the log as given.
        expect([await run('ping'), await run('bad'), await run('x\ud83d'), await run('ping')]).toEqual(['ok', 'UPSTREAM_ERROR', 'NOT_FOUND', 'ok']);
        const logs = await ductape.logs.query({});
        expect(logs.map((l) => [l.event, l.errorCode])).toEqual([['ping', null], ['x\ufffd', 'NOT_FOUND'], ['bad', 'UPSTREAM_ERROR'], ['ping', null]]);
        expect(logs[2].response).toEqual({ error: expect.stringContaining('boom\ufffdhere') });
      } finally {
        await ductape.close();
        await upstream.close();
      }
    });

    it('fails with STORE_ERROR (unreachable) and no password in the message when the server cannot be reached', async () => {
      const port = await refusedPort();
      const err = await openStore(`postgres://ductape:s3cret-pass@127.0.0.1:${port}/ductape`).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DuctapeError);
      expect(err).toMatchObject({ code: 'STORE_ERROR', reason: 'unreachable', retryable: true });
      expect((err as Error).message).toContain(`127.0.0.1:${port}`);
      expect((err as Error).message).not.toContain('s3cret-pass');
    });

    // pg reads the password up to the last '@' before the host, and from ?password= / ?sslpassword= too.
    it.each([
      ['a raw @ in the password', (port: number) => `postgres://ductape:s3cret@pass@127.0.0.1:${port}/ductape`],
      ['?password=', (port: number) => `postgres://ductape@127.0.0.1:${port}/ductape?password=s3cret-pass`],
      ['?sslpassword=', (port: number) => `postgres://ductape@127.0.0.1:${port}/ductape?application_name=x&sslpassword=s3cret-pass`],
    ])('keeps a password given with %s out of the message', async (_, urlAt) => {
      const port = await refusedPort();
      const err = await openStore(urlAt(port)).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'STORE_ERROR', reason: 'unreachable' });
      expect((err as Error).message).toContain(`127.0.0.1:${port}`);
      expect((err as Error).message).not.toMatch(/s3cret|pass@/);
    });

    it('fails the store reads of a process with STORE_ERROR within 10 s while the server answers nothing, and recovers when it answers again', async () => {
      // Before: a read on a connection pooled before the server froze waited as long as the server did (a run with
      // `timeout: 3000` here, for ever across a network cut that leaves connections open), with no error at all.
      const upstream = await startUpstream();
      const url = await server!.createDatabase('frozen');
      const setup = newClient({ store: url, revision_poll_ms: 0 });
      await setup.apps.create({ tag: 'api', envs: [{ slug: 'prd', base_url: upstream.url }] });
      for (const event of ['warm', 'cold', 'later']) await setup.apps.actions.create({ app: 'api', event, method: 'GET', path: `/${event}` });
      await setup.products.create({ tag: 'shop', envs: ['prd'] });
      await setup.products.apps.connect({ product: 'shop', app: 'api' });
      await setup.close();
      const worker = await startWorker({ workspace_id: 'acme', private_key: TEST_KEY, store: url }, { timeoutMs: 30_000 });
      const run = (event: string) => ({ env: 'prd', product: 'shop', app: 'api', event, timeout: 3000 });
      try {
        expect((await worker.runMany(1, run('warm')))[0]).toMatchObject({ ok: true });
        server!.pause();
        try {
          // A warm run never reads the store; a cold one and a definition call do, on connections pooled before.
          expect((await worker.runMany(1, run('warm')))[0]).toMatchObject({ ok: true });
          const [[cold], list] = await Promise.all([worker.runMany(1, run('cold')), worker.call('apps.list').catch((e: unknown) => e)]);
          expect(cold).toMatchObject({ ok: false, error: { code: 'STORE_ERROR' } });
          expect(cold.error!.message).toMatch(/did not answer|connection timeout/);
          expect(list).toMatchObject({ code: 'STORE_ERROR' });
        } finally {
          server!.resume();
        }
        expect((await worker.runMany(1, run('later')))[0]).toMatchObject({ ok: true });
        expect(await worker.call('apps.list')).toHaveLength(1);
      } finally {
        await worker.stop();
        await upstream.close();
      }
    });

    it('turns SQL errors into STORE_ERROR', async () => {
      const store = await openPostgresStore(server!.url);
      try {
        // A NUL byte is valid in a JS string but not in PostgreSQL text: the driver refuses it.
        const err = await store.putRecord('ws', 'k', 'bad\u0000key', 1).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(DuctapeError);
        expect(err).toMatchObject({ code: 'STORE_ERROR', dialect: 'postgres' });
      } finally {
        await store.close();
      }
    });
  });
}
