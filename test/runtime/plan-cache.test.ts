import { describe, expect, it } from 'vitest';
import type { Plan } from '../../src/runtime/plan.js';
import { PlanCache } from '../../src/runtime/runtime.js';

// Plans stand in as tagged objects: the cache only stores and returns them.
const plan = (name: string) => ({ name }) as unknown as Plan;

describe('PlanCache', () => {
  it('keeps one plan per product, env, access tag and event', async () => {
    const cache = new PlanCache();
    const names = [
      ['shop', 'prd', 'api', 'get'],
      ['shop', 'prd', 'api', 'put'],
      ['shop', 'prd', 'crm', 'get'],
      ['shop', 'dev', 'api', 'get'],
      ['pay', 'prd', 'api', 'get'],
    ] as const;
    for (const [p, e, a, v] of names) await cache.getOrCompile(p, e, a, v, async () => plan(`${p}/${e}/${a}/${v}`));
    expect(cache.size).toBe(5);
    for (const [p, e, a, v] of names) expect(cache.get(p, e, a, v)).toEqual({ name: `${p}/${e}/${a}/${v}` });
    expect(cache.get('shop', 'prd', 'api', 'delete')).toBeUndefined();
    expect(cache.get('other', 'prd', 'api', 'get')).toBeUndefined();
  });

  it('compiles an action once for concurrent runs, and again after clear()', async () => {
    const cache = new PlanCache();
    let compiles = 0;
    const compile = async () => plan(`v${++compiles}`);
    const [a, b] = await Promise.all([cache.getOrCompile('s', 'prd', 'api', 'get', compile), cache.getOrCompile('s', 'prd', 'api', 'get', compile)]);
    expect(a).toBe(b);
    expect(compiles).toBe(1);
    const generation = cache.generation;
    cache.clear();
    expect(cache.generation).toBe(generation + 1);
    expect(cache.size).toBe(0);
    expect(cache.get('s', 'prd', 'api', 'get')).toBeUndefined();
    expect(await cache.getOrCompile('s', 'prd', 'api', 'get', compile)).toEqual({ name: 'v2' });
  });

  it('does not keep a plan whose compile a definition change overtook', async () => {
    const cache = new PlanCache();
    let finish!: (p: Plan) => void;
    const pending = cache.getOrCompile('s', 'prd', 'api', 'get', () => new Promise<Plan>((r) => (finish = r)));
    cache.clear();
    finish(plan('stale'));
    // The run that asked still gets it; later runs compile afresh.
    expect(await pending).toEqual({ name: 'stale' });
    expect(cache.get('s', 'prd', 'api', 'get')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('a failed compile is not kept and the next run tries again', async () => {
    const cache = new PlanCache();
    await expect(cache.getOrCompile('s', 'prd', 'api', 'get', async () => Promise.reject(new Error('store down')))).rejects.toThrow('store down');
    expect(await cache.getOrCompile('s', 'prd', 'api', 'get', async () => plan('ok'))).toEqual({ name: 'ok' });
  });
});
