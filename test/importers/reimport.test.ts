import { describe, expect, it } from 'vitest';
import { isDeepEqual, planReimport } from '../../src/importers/index.js';
import type { ActionDef } from '../../src/model/action.js';

const action = (event: string, path: string, extra: Partial<ActionDef> = {}): ActionDef => ({
  event, method: 'GET', path, parameters: [], source: `openapi:GET ${path}`, ...extra,
});

describe('planReimport', () => {
  it('keeps a renamed event when its operation changes', () => {
    const stored = [action('create_customer', '/customers', { summary: 'old' })];
    const plan = planReimport(stored, [action('get_customers', '/customers', { summary: 'new' })]);
    expect(plan.update).toEqual([action('create_customer', '/customers', { summary: 'new' })]);
    expect(plan).toMatchObject({ create: [], unchanged: [], vanished: [] });
  });

  it('reports unchanged actions by their stored event, ignoring key order and undefined fields', () => {
    const stored = [JSON.parse(JSON.stringify(action('list', '/items', { summary: 's' })))];
    const incoming = [{ summary: 's', ...action('get_items', '/items'), description: undefined }];
    expect(planReimport(stored, incoming)).toMatchObject({ unchanged: ['list'], update: [], create: [] });
  });

  it('creates new operations and reports vanished ones, leaving hand-made actions alone', () => {
    const stored = [action('a', '/a'), action('gone', '/gone'), { event: 'manual', method: 'GET', path: '/m', parameters: [] } as ActionDef];
    const plan = planReimport(stored, [action('a', '/a'), action('b', '/b')]);
    expect(plan.create.map((a) => a.event)).toEqual(['b']);
    expect(plan.vanished).toEqual(['gone']);
    expect(plan.unchanged).toEqual(['a']);
  });

  it('keeps the timeout_ms and unsafe set on an imported action, so re-importing the same spec changes nothing', () => {
    // Before: the re-import replaced the action with the spec's, which carries neither, so a per-action timeout (or
    // unsafe) set with apps.actions.update vanished on every re-import, and ductape apply re-imported every time.
    const stored = [action('list', '/items', { timeoutMs: 60_000, unsafe: true })];
    const plan = planReimport(stored, [action('list', '/items')]);
    expect(plan).toMatchObject({ unchanged: ['list'], update: [] });
    const changed = planReimport(stored, [action('list', '/items', { summary: 'new' })]);
    expect(changed.update).toEqual([action('list', '/items', { summary: 'new', timeoutMs: 60_000, unsafe: true })]);
  });

  it('suffixes a new action whose event a stored action already holds', () => {
    const stored = [action('get_orders', '/v1/orders')];
    const plan = planReimport(stored, [action('get_orders', '/v2/orders')]);
    expect(plan.create.map((a) => a.event)).toEqual(['get_orders_2']);
    expect(plan.vanished).toEqual(['get_orders']);
    expect(plan.warnings[0]).toContain('"get_orders_2"');
  });
});

describe('isDeepEqual', () => {
  it.each([
    [{ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 }, true],
    [{ a: 1, b: undefined }, { a: 1 }, true],
    [{ a: [1, 2] }, { a: [2, 1] }, false],
    [{ a: null }, { a: {} }, false],
    [[], {}, false],
  ])('compares %j and %j', (a, b, equal) => {
    expect(isDeepEqual(a, b)).toBe(equal);
  });
});
