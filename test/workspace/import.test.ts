// apps.import through the client: re-imports keep renames and configuration; bad files change nothing.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Ductape } from '../../src/index.js';
import { newClient } from '../helpers/client.js';
import { runCli } from '../helpers/cli.js';
import { errorOf } from '../helpers/errors.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

const TODO = fileURLToPath(new URL('../fixtures/specs/todo/todo-openapi3.yaml', import.meta.url));
let dir: string;
let upstream: Upstream;
let ductape: Ductape;
const storeFile = () => join(dir, 'ws.db');
const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ductape-import-'));
  upstream = await startUpstream();
  ductape = newClient({ store: `sqlite:${storeFile()}` });
});
afterEach(async () => {
  await ductape.close();
  await upstream.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('apps.import', () => {
  it('keeps renamed events and connection config across a re-import of a changed spec', async () => {
    const first = await ductape.apps.import({ app: 'todo', file: TODO });
    expect(first.created).toContain('list_todos');
    await ductape.apps.actions.rename({ app: 'todo', event: 'list_todos', to: 'todos' });
    await ductape.products.create({ tag: 'p', envs: ['dev'] });
    await ductape.products.apps.connect({ product: 'p', app: 'todo' });
    await ductape.products.apps.configure({ product: 'p', app: 'todo', env: 'dev', base_url: `${upstream.url}/v1`, headers: { 'x-tenant': 't1' } });

    // The vendor adds an operation and changes a summary.
    const changed = readFileSync(TODO, 'utf8')
      .replace('summary: List todos', 'summary: List every todo')
      .replace('paths:\n', 'paths:\n  /health:\n    get:\n      operationId: getHealth\n      responses:\n        "200": { description: ok }\n');
    const again = await ductape.apps.import({ app: 'todo', spec: changed });
    expect(again.created).toEqual(['get_health']);
    expect(again.updated).toEqual(['todos']);
    expect(again.unchanged.length).toBeGreaterThan(0);
    expect((await ductape.apps.actions.fetch({ app: 'todo', event: 'todos' })).summary).toBe('List every todo');

    await ductape.actions.run({ env: 'dev', product: 'p', app: 'todo', event: 'todos', input: { query: { limit: 5 } } });
    expect(upstream.requests[0].url).toBe('/v1/todos?limit=5');
    expect(upstream.requests[0].headers['x-tenant']).toBe('t1');
  });

  it('reports vanished operations and deletes them only with prune', async () => {
    await ductape.apps.import({ app: 'todo', file: TODO });
    const smaller = readFileSync(TODO, 'utf8').replace(/\n {4}post:\n(?: {6}.*\n)+/, '\n');
    const kept = await ductape.apps.import({ app: 'todo', spec: smaller });
    expect(kept.vanished).toEqual(['create_todo']);
    expect(kept.deleted).toEqual([]);
    expect(kept.warnings.join(' ')).toContain('create_todo');
    expect((await ductape.apps.actions.list({ app: 'todo' })).map((a) => a.event)).toContain('create_todo');
    const pruned = await ductape.apps.import({ app: 'todo', spec: smaller, prune: true });
    expect(pruned.deleted).toEqual(['create_todo']);
    expect((await ductape.apps.actions.list({ app: 'todo' })).map((a) => a.event)).not.toContain('create_todo');
  });

  it.each([
    ['truncated.json', '{\n  "openapi": "3.0.0",\n  "info": {\n', /truncated\.json/],
    ['tabs.yaml', 'openapi: 3.0.0\ninfo:\n\ttitle: T\n', /tabs\.yaml:3:1/],
    ['unknown.yaml', 'openapi: 9.1.0\ninfo: { title: T, version: "1" }\npaths: {}\n', /unknown\.yaml/],
    ['missing-ref.yaml', 'openapi: 3.0.0\ninfo: { title: T, version: "1" }\npaths:\n  /a:\n    get:\n      responses:\n        "200": { $ref: "./nope.yaml#/R" }\n', /missing-ref\.yaml|nope\.yaml/],
  ])('refuses %s with CONFIG_ERROR naming the file and leaves the store file unchanged', async (name, text, pattern) => {
    await ductape.apps.import({ app: 'todo', file: TODO });
    await ductape.close();
    const before = sha(storeFile());
    ductape = newClient({ store: `sqlite:${storeFile()}` });
    const file = join(dir, name);
    writeFileSync(file, text);
    const err = await errorOf(ductape.apps.import({ app: 'todo', file }));
    expect(err.code).toBe('CONFIG_ERROR');
    expect(err.message).toMatch(pattern);
    await ductape.close();
    expect(sha(storeFile())).toBe(before);
    ductape = newClient({ store: `sqlite:${storeFile()}` });
  });

  it('refuses a file over the size limit before reading it', async () => {
    const file = join(dir, 'big.json');
    writeFileSync(file, JSON.stringify({ openapi: '3.0.0', info: { title: 'T', version: '1' }, paths: {}, pad: 'x'.repeat(2048) }));
    const err = await errorOf(ductape.apps.import({ app: 'todo', file }, { maxBytes: 1024 }));
    expect(err.code).toBe('CONFIG_ERROR');
    expect(err.message).toContain('big.json');
    expect(await ductape.apps.list()).toEqual([]);
  });
});

describe('ductape apps import', () => {
  it('imports with --json (no progress bar when not a terminal) and lists the actions', async () => {
    await ductape.close();
    const env = { DUCTAPE_WORKSPACE: 'acme', DUCTAPE_PRIVATE_KEY: 'cli-import-key-123', DUCTAPE_STORE: `sqlite:${join(dir, 'cli.db')}` };
    const r = await runCli(['--json', 'apps', 'import', TODO, '--app', 'todo'], env);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ app: 'todo', format: 'openapi-3.0' });
    expect(report.created.length).toBeGreaterThan(1);
    expect(r.stdout).not.toContain('Importing');
    const human = await runCli(['apps', 'import', TODO, '--app', 'todo'], env);
    expect(human.stdout).toMatch(/Imported .*todo-openapi3\.yaml \(openapi-3\.0\) into app todo: 0 created, 0 updated, \d+ unchanged/);
    const bad = await runCli(['apps', 'import', join(dir, 'nope.json'), '--app', 'todo'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^CONFIG_ERROR: .*nope\.json/);
    ductape = newClient({ store: `sqlite:${storeFile()}` });
  });
});
