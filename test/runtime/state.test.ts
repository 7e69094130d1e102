// Runtime state lives on the runtime: no stage file keeps it in a module, and two clients share nothing.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Agent } from 'undici';
import { MemoryCache } from '../../src/cache/index.js';
import { InFlight } from '../../src/runtime/attempt-signal.js';
import type { RunContext } from '../../src/runtime/context.js';
import { createLogWriter } from '../../src/runtime/log-writer.js';
import { runPipeline } from '../../src/runtime/pipeline.js';
import { PlanCache, type Runtime } from '../../src/runtime/runtime.js';
import { RuntimeState } from '../../src/runtime/state.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { newClient, TEST_KEY } from '../helpers/client.js';
import { startUpstream } from '../helpers/upstream.js';
import { RateLimits } from '../../src/runtime/limits/index.js';

const RUNTIME_DIR = join(import.meta.dirname, '../../src/runtime');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Top-level `const x = new Map | WeakMap | WeakSet | LRUCache | Set()`: state that would outlive and cross clients
 * (constant tables such as `new Set(['GET', …])` are data, not state). */
const MODULE_STATE = /^(?:export\s+)?(?:const|let)\s+\w+(?:\s*:[^=]+)?=\s*new\s+(?:WeakMap|WeakSet|Map|LRUCache\b|Set\(\))/m;

describe('runtime state', () => {
  it('#11: no file of src/runtime keeps state at module level', () => {
    const offenders = sourceFiles(RUNTIME_DIR).filter((f) => MODULE_STATE.test(readFileSync(f, 'utf8')));
    expect(offenders.map((f) => f.slice(RUNTIME_DIR.length + 1))).toEqual([]);
  });

  it('#11: two runtimes in one process share nothing: what a run compiles and caches sits on its own runtime', async () => {
    const up = await startUpstream();
    const dir = mkdtempSync(join(tmpdir(), 'ductape-state-'));
    const file = join(dir, 'ductape.db');
    const d = newClient({ store: `sqlite:${file}` });
    await d.apps.create({ tag: 'api', envs: [{ slug: 'prd', base_url: up.url }] });
    await d.apps.actions.create({ app: 'api', event: 'get_x', method: 'GET', path: '/x' });
    await d.products.create({ tag: 'p', envs: ['prd'] });
    await d.products.apps.connect({ product: 'p', app: 'api' });
    await d.products.caches.create({ product: 'p', tag: 'c', expiry: 60_000 });
    await d.close();

    const a = await runtimeOn(file);
    const b = await runtimeOn(file);
    onTestFinished(async () => {
      for (const rt of [a, b]) {
        rt.state.close();
        await rt.dispatcher.close();
        await rt.logs.close();
        await rt.store.close();
      }
      await up.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const run = (rt: Runtime): RunContext => ({
      runtime: rt,
      run: { env: 'prd', product: 'p', app: 'api', event: 'get_x', cache: 'c', input: { query: { extra: '1' }, headers: { 'x-extra': '1' } } },
      startedAt: Date.now(),
      perfStart: performance.now(),
      attempts: 0,
      cached: false,
    });
    const first = run(a);
    await runPipeline(first);
    expect(first.result?.status).toBe(200);

    expect(a.state).not.toBe(b.state);
    expect(a.state.cacheKeySecret).toBeInstanceOf(Buffer);
    expect(a.state.queryEncoders.has('extra')).toBe(true);
    expect(a.state.headerEncoders.has('x-extra')).toBe(true);
    expect(a.state.validators.byApp.size).toBe(1);
    expect(a.plans.size).toBe(1);
    expect(first.plan && a.state.planAuth.has(first.plan)).toBe(true);
    // b has not run anything: none of a's state reached it.
    expect(b.state.cacheKeySecret).toBeUndefined();
    expect(b.state.queryEncoders.size).toBe(0);
    expect(b.state.headerEncoders.size).toBe(0);
    expect(b.state.validators.byApp.size).toBe(0);

    // And b's own run compiles its own pieces rather than finding a's.
    await runPipeline(run(b));
    expect(b.state.queryEncoders.get('extra')).not.toBe(a.state.queryEncoders.get('extra'));
  });
});

async function runtimeOn(file: string): Promise<Runtime> {
  const store = await openSqliteStore(file);
  return {
    workspace: 'acme',
    actor: 'tester',
    store,
    dispatcher: new Agent(),
    plans: new PlanCache(),
    logs: createLogWriter(store, 'acme', () => {}),
    cache: new MemoryCache(),
    closing: new AbortController().signal,
    inFlight: new InFlight(),
    limits: new RateLimits('memory', () => {}),
    privateKey: TEST_KEY,
    state: new RuntimeState(),
    secretsInInput: false,
  };
}
