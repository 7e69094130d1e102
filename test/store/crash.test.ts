// Crash safety (API.md §6): a process killed with SIGKILL in the middle of an import or an apply leaves the store as
// before that write or as after it, never between. The moments are random; each outcome is checked whole.
import { copyFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { Ductape } from '../../src/index.js';
import { fixture, startChild } from '../helpers/node-child.js';

const STRIPE = fileURLToPath(new URL('../fixtures/specs/stripe-api-2020-08-27-spec3-2022-04.json', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'ductape-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const worker = fixture('crash-worker.ts');
const client = (file: string) => new Ductape({ workspace_id: 'crash', private_key: 'crash-test-key-0123456', store: `sqlite:${file}`, revision_poll_ms: 0 });

/** What an outcome is compared on: the app's events, whether its shared schemas are stored, products. */
async function snapshot(file: string) {
  // The file must still be a sound database after the crash (WAL recovery included).
  const raw = new Database(file);
  const integrity = raw.pragma('integrity_check', { simple: true });
  raw.close();
  const d = client(file);
  try {
    const apps = await d.apps.list();
    const stripe = apps.find((a) => a.tag === 'stripe');
    const events = stripe ? (await d.apps.actions.list({ app: 'stripe' })).map((a: { event: string }) => a.event).sort() : [];
    const products = (await d.products.list()).map((p: { tag: string }) => p.tag).sort();
    return { integrity, envs: stripe?.envs ?? [], events, products };
  } finally {
    await d.close();
  }
}

/** Runs the child to the end once (the "after" state and how long the write takes), then kills it at random moments. */
async function crashRounds(mode: 'import' | 'apply', base: string, arg: string) {
  const before = await snapshot(base);
  const whole = join(dir, `${mode}-whole.db`);
  copyFileSync(base, whole);
  const full = startChild(worker, [mode, `sqlite:${whole}`, arg], { timeoutMs: 120_000 });
  const durationMs = Number((await full.waitFor(/^finished /)).split(' ')[1]);
  await full.done;
  const after = await snapshot(whole);
  expect(after).not.toEqual(before);

  const outcomes: string[] = [];
  for (let round = 0; round < 5; round++) {
    const file = join(dir, `${mode}-${round}.db`);
    copyFileSync(base, file);
    const child = startChild(worker, [mode, `sqlite:${file}`, arg], { timeoutMs: 120_000 });
    await child.waitFor(/^started$/);
    // Most of an import is parsing; the transaction is the last few tens of ms. So the moment is random in one of two
    // windows, in turn: anywhere in the run, or within the transaction, found by watching the WAL file grow (nothing
    // else writes in this process), plus 0–40 ms.
    if (round % 2 === 0) await walGrows(file, durationMs * 2);
    await new Promise((r) => setTimeout(r, Math.random() * (round % 2 === 0 ? 40 : durationMs * 1.1)));
    child.kill('SIGKILL');
    const exit = await child.done;
    const state = await snapshot(file);
    expect(state.integrity).toBe('ok');
    const outcome = JSON.stringify(state) === JSON.stringify(before) ? 'before' : JSON.stringify(state) === JSON.stringify(after) ? 'after' : 'between';
    outcomes.push(`${outcome}${exit.signal ? '' : ' (finished first)'}`);
    expect(outcome, `round ${round}: ${JSON.stringify({ events: state.events.length, products: state.products })}`).not.toBe('between');
  }
  console.log(`${mode}: a whole run takes ${durationMs} ms; after SIGKILL at random moments: ${outcomes.join(', ')}`);
}

/** Resolves once the store's WAL file holds anything, polled every millisecond (or after timeoutMs). */
async function walGrows(file: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const size = () => {
    try {
      return statSync(`${file}-wal`).size;
    } catch {
      return 0;
    }
  };
  while (size() === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1));
}

describe('crash safety (SQLite)', () => {
  it('leaves the app with its old or its new actions, never a mix, when an import of the Stripe spec is killed', async () => {
    const base = join(dir, 'import-base.db');
    const d = client(base);
    await d.apps.create({ tag: 'stripe', envs: [{ slug: 'prd', base_url: 'http://127.0.0.1:1' }] });
    for (const event of ['old_list', 'old_get', 'old_create']) await d.apps.actions.create({ app: 'stripe', event, method: 'GET', path: `/${event}` });
    await d.close(); // a closed store is checkpointed: the base file holds everything
    await crashRounds('import', base, STRIPE);
  }, 600_000);

  it('leaves the workspace as before or as after an apply, never between, when it is killed', async () => {
    const base = join(dir, 'apply-base.db');
    const d = client(base);
    await d.apps.create({ tag: 'stripe', envs: [{ slug: 'old', base_url: 'http://127.0.0.1:1' }] });
    await d.apps.actions.create({ app: 'stripe', event: 'old_list', method: 'GET', path: '/old' });
    await d.close();
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
    await crashRounds('apply', base, yaml);
  }, 600_000);
});
