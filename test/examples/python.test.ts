// examples/python/seed_examples.py (standard library only) runs the seed page's seven examples through a real
// `ductape serve` process.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineSeedWorkspace } from '../../examples/api/seed-workspace.js';
import { startExampleApi, type ExampleApi } from '../../examples/api/server.js';
import { Ductape } from '../../src/index.js';
import { hasPython, runSeedExamples } from '../helpers/python.js';
import { startServe, type ServeProcess } from '../helpers/serve.js';


let dir: string;
let dev: ExampleApi;
let prd: ExampleApi;
let serve: ServeProcess;
let key: string;

beforeAll(async () => {
  if (!hasPython) return;
  dir = mkdtempSync(join(tmpdir(), 'ductape-python-'));
  const prdApiKey = `sk_live_${randomBytes(12).toString('hex')}`;
  dev = await startExampleApi({ name: 'dev' });
  prd = await startExampleApi({ name: 'prd', apiKey: prdApiKey });
  const env = { DUCTAPE_WORKSPACE: 'seed', DUCTAPE_USER: 'python@acme.test', DUCTAPE_PRIVATE_KEY: 'python-example-key-0123', DUCTAPE_STORE: `sqlite:${join(dir, 'ws.db')}` };
  const d = new Ductape({ workspace_id: 'seed', private_key: env.DUCTAPE_PRIVATE_KEY, store: env.DUCTAPE_STORE, revision_poll_ms: 0 });
  await defineSeedWorkspace(d, { dev: `${dev.url}/v1`, prd: `${prd.url}/v1`, prdApiKey });
  key = (await d.keys.create({ name: 'python', role: 'admin' })).key;
  await d.close();
  serve = await startServe(env);
}, 180_000);

afterAll(async () => {
  await serve?.stop();
  await dev?.close();
  await prd?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('examples/python/seed_examples.py', () => {
  it.skipIf(!hasPython)('runs the seed examples through ductape serve', async () => {
    const r = await runSeedExamples(serve.url, key);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.match(/^ok /gm)).toHaveLength(9);
    expect(r.stdout).toContain('(cached)');
    expect(r.stdout).toContain('Invalid input refused: HTTP 400 INVALID_INPUT');
    expect(r.stdout).toContain('all seed examples passed');
    // The session example reached the API with the user id from the verified session.
    expect(r.stdout).toMatch(/GET http:\/\/127\.0\.0\.1:\d+\/v1\/users\/42\/stats -> 200/);
  }, 180_000);
});
