// Crash safety (API.md §6): a process killed with SIGKILL in the middle of an import or an apply leaves the store as
// before that write or as after it, never between, on SQLite and on PostgreSQL. The moments are random; each outcome
// is checked whole.
import { copyFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ductape } from '../../src/index.js';
import { PG_LOCK, PG_LOCK_CLASS } from '../../src/store/migrate.js';
import { fixture, startChild } from '../helpers/node-child.js';
import { hasPostgres, startPostgresServer, type PostgresServer } from '../helpers/postgres-server.js';

const STRIPE = fileURLToPath(new URL('../fixtures/specs/stripe-api-2020-08-27-spec3-2022-04.json', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'ductape-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const worker = fixture('crash-worker.ts');
const client = (store: string) => new Ductape({ workspace_id: 'crash', private_key: 'crash-test-key-0123456', store, revision_poll_ms: 0 });

/** Where the crashes happen: fresh copies of a base state, and a way to see the write transaction begin. */
interface Backend {
  name: string;
  /** A store URL holding exactly the base state. */
  copy(label: string): Promise<string>;
  /** Resolves once the write transaction of a process working on `store` has begun (or after timeoutMs). */
  writeBegan(store: string, timeoutMs: number): Promise<void>;
  /** Anything that must hold of the store after a crash besides its content (SQLite: the file is sound). */
  soundness(store: string): Promise<string>;
}

/** What an outcome is compared on: the app's envs and events, and the products. */
async function snapshot(store: string) {
  const d = client(store);
  try {
    const apps = await d.apps.list();
    const stripe = apps.find((a) => a.tag === 'stripe');
    const events = stripe ? (await d.apps.actions.list({ app: 'stripe' })).map((a: { event: string }) => a.event).sort() : [];
    const products = (await d.products.list()).map((p: { tag: string }) => p.tag).sort();
    return { envs: stripe?.envs ?? [], events, products };
  } finally {
    await d.close();
  }
}

/** Runs the child to the end once (the "after" state and how long the write takes), then kills it at random moments. */
async function crashRounds(backend: Backend, mode: 'import' | 'apply', arg: string) {
  const before = await snapshot(await backend.copy(`${mode}-before`));
  const whole = await backend.copy(`${mode}-whole`);
  const full = startChild(worker, [mode, whole, arg], { timeoutMs: 120_000 });
  const durationMs = Number((await full.waitFor(/^finished /)).split(' ')[1]);
  await full.done;
  const after = await snapshot(whole);
  expect(after).not.toEqual(before);

  const outcomes: string[] = [];
  for (let round = 0; round < 5; round++) {
    const store = await backend.copy(`${mode}-${round}`);
    const child = startChild(worker, [mode, store, arg], { timeoutMs: 120_000 });
    await child.waitFor(/^started$/);
    // Most of an import is parsing; the transaction is the last few tens of ms. So the moment is random in one of two
    // windows, in turn: anywhere in the run, or within 40 ms of the write transaction's start.
    if (round % 2 === 0) await backend.writeBegan(store, durationMs * 2);
    await new Promise((r) => setTimeout(r, Math.random() * (round % 2 === 0 ? 40 : durationMs * 1.1)));
    child.kill('SIGKILL');
    const exit = await child.done;
    expect(await backend.soundness(store)).toBe('ok');
    const state = await snapshot(store);
    const outcome = JSON.stringify(state) === JSON.stringify(before) ? 'before' : JSON.stringify(state) === JSON.stringify(after) ? 'after' : 'between';
    outcomes.push(`${outcome}${exit.signal ? '' : ' (finished first)'}`);
    expect(outcome, `round ${round}: ${JSON.stringify({ events: state.events.length, products: state.products })}`).not.toBe('between');
  }
  console.log(`${backend.name} ${mode}: a whole run takes ${durationMs} ms; after SIGKILL at random moments: ${outcomes.join(', ')}`);
}

const until = async (done: () => boolean | Promise<boolean>, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await done()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1));
};

function sqliteBackend(base: string): Backend {
  const size = (file: string) => {
    try {
      return statSync(`${file}-wal`).size;
    } catch {
      return 0;
    }
  };
  return {
    name: 'sqlite',
    async copy(label) {
      const file = join(dir, `${label}.db`);
      copyFileSync(base, file);
      return `sqlite:${file}`;
    },
    // The base file was closed (checkpointed) and nothing else writes, so the WAL growing is the transaction.
    writeBegan: (store, timeoutMs) => until(() => size(store.slice('sqlite:'.length)) > 0, timeoutMs),
    async soundness(store) {
      const raw = new Database(store.slice('sqlite:'.length));
      try {
        return String(raw.pragma('integrity_check', { simple: true }));
      } finally {
        raw.close();
      }
    },
  };
}

function postgresBackend(server: PostgresServer, base: string): Backend {
  const admin = server.url.replace(/\/[^/]*$/, '/postgres');
  const query = async (url: string, text: string) => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      return (await c.query(text)).rows;
    } finally {
      await c.end();
    }
  };
  return {
    name: 'postgres',
    async copy(label) {
      const name = `${base}_${label.replace(/-/g, '_')}`;
      await query(admin, `CREATE DATABASE "${name}" TEMPLATE "${base}"`);
      return server.url.replace(/\/[^/]*$/, `/${name}`);
    },
    // Every write transaction of a PostgreSQL store takes this advisory lock first (src/store/postgres.ts).
    async writeBegan(store, timeoutMs) {
      const c = new pg.Client({ connectionString: store });
      await c.connect();
      try {
        const sql = `select count(*)::int as n from pg_locks where locktype = 'advisory' and classid = ${PG_LOCK_CLASS} and objid = ${PG_LOCK.write} and granted`;
        await until(async () => (await c.query(sql)).rows[0].n > 0, timeoutMs);
      } finally {
        await c.end();
      }
    },
    soundness: async () => 'ok',
  };
}

async function importBase(store: string) {
  const d = client(store);
  await d.apps.create({ tag: 'stripe', envs: [{ slug: 'prd', base_url: 'http://127.0.0.1:1' }] });
  for (const event of ['old_list', 'old_get', 'old_create']) await d.apps.actions.create({ app: 'stripe', event, method: 'GET', path: `/${event}` });
  await d.close(); // closed: a SQLite base file is checkpointed, a PostgreSQL base database has no connection left
}

async function applyBase(store: string) {
  const d = client(store);
  await d.apps.create({ tag: 'stripe', envs: [{ slug: 'old', base_url: 'http://127.0.0.1:1' }] });
  await d.apps.actions.create({ app: 'stripe', event: 'old_list', method: 'GET', path: '/old' });
  await d.close();
}

function applyFile(): string {
  const yaml = join(dir, 'ductape.yaml');
  writeFileSync(
    yaml,
    [
      'apps:',
      '  stripe:',
      `    spec: ${JSON.stringify(STRIPE)}`,
      '    envs:',
      '      sandbox: http://127.0.0.1:2',
      'products:',
      '  payments:',
      '    envs: [dev]',
      '    apps:',
      '      stripe:',
      '        envs:',
      '          dev: { app_env: sandbox, auth: { type: bearer, token: "$Secret{STRIPE_KEY}" } }',
      '  billing:',
      '    envs: [prd]',
      'secrets:',
      '  STRIPE_KEY: "$Env{STRIPE_KEY}"',
      '',
    ].join('\n'),
  );
  return yaml;
}

describe('crash safety (SQLite)', () => {
  it('leaves the app with its old or its new actions, never a mix, when an import of the Stripe spec is killed', async () => {
    const base = join(dir, 'import-base.db');
    await importBase(`sqlite:${base}`);
    await crashRounds(sqliteBackend(base), 'import', STRIPE);
  }, 600_000);

  it('leaves the workspace as before or as after an apply, never between, when it is killed', async () => {
    const base = join(dir, 'apply-base.db');
    await applyBase(`sqlite:${base}`);
    await crashRounds(sqliteBackend(base), 'apply', applyFile());
  }, 600_000);
});

describe.skipIf(!hasPostgres)(`crash safety (PostgreSQL)${hasPostgres ? '' : ': skipped, PostgreSQL is not installed'}`, () => {
  let server: PostgresServer;
  beforeAll(async () => {
    server = await startPostgresServer();
  });
  afterAll(async () => server?.stop());

  it('leaves the app with its old or its new actions, never a mix, when an import of the Stripe spec is killed', async () => {
    await importBase(await server.createDatabase('import_base'));
    await crashRounds(postgresBackend(server, 'import_base'), 'import', STRIPE);
  }, 600_000);

  it('leaves the workspace as before or as after an apply, never between, when it is killed', async () => {
    await applyBase(await server.createDatabase('apply_base'));
    await crashRounds(postgresBackend(server, 'apply_base'), 'apply', applyFile());
  }, 600_000);
});
