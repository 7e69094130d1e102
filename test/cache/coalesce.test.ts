import { describe, expect, it } from 'vitest';
import { createCoalescer } from '../../src/cache/coalesce.js';

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe('createCoalescer', () => {
  it('runs one call for many concurrent callers of the same key and gives them all its value', async () => {
    const c = createCoalescer<string>();
    const gate = deferred<string>();
    let calls = 0;
    const runs = Array.from({ length: 1000 }, () => c.run('k', () => (calls++, gate.promise)));
    expect(c.size).toBe(1);
    gate.resolve('v');
    const results = await Promise.all(runs);
    expect(calls).toBe(1);
    expect(results.filter((r) => r.leader)).toHaveLength(1);
    expect(results.every((r) => r.value === 'v')).toBe(true);
    expect(c.size).toBe(0);
  });

  it('runs different keys independently', async () => {
    const c = createCoalescer<string>();
    let calls = 0;
    const [a, b] = await Promise.all([c.run('a', async () => (calls++, 'A')), c.run('b', async () => (calls++, 'B'))]);
    expect([a.value, b.value, calls]).toEqual(['A', 'B', 2]);
  });

  it('shares a failure with every waiter but does not remember it', async () => {
    const c = createCoalescer<string>();
    const gate = deferred<string>();
    const runs = Array.from({ length: 5 }, () => c.run('k', () => gate.promise));
    gate.reject(new Error('upstream down'));
    const settled = await Promise.allSettled(runs);
    expect(settled.every((s) => s.status === 'rejected' && (s.reason as Error).message === 'upstream down')).toBe(true);
    const again = await c.run('k', async () => 'recovered');
    expect(again).toEqual({ value: 'recovered', leader: true });
  });

  it('rejects waiters when the call throws synchronously', async () => {
    const c = createCoalescer<string>();
    await expect(
      c.run('k', () => {
        throw new Error('sync');
      }),
    ).rejects.toThrow('sync');
    expect(c.size).toBe(0);
  });

  it('starts a new call after the previous one settled', async () => {
    const c = createCoalescer<number>();
    let calls = 0;
    await c.run('k', async () => ++calls);
    const second = await c.run('k', async () => ++calls);
    expect(second.value).toBe(2);
  });
});
