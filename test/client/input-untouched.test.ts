// Validation coerces text-on-the-wire values into a copy: the caller's input object is never changed (deep-compared).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Ductape } from '../../src/index.js';
import { newClient } from '../helpers/client.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

let upstream: Upstream;
let ductape: Ductape;

beforeEach(async () => {
  upstream = await startUpstream();
  ductape = newClient();
  await ductape.apps.create({ tag: 'api', envs: [{ slug: 'dev', base_url: upstream.url }] });
  await ductape.apps.actions.create({
    app: 'api',
    event: 'search',
    method: 'POST',
    path: '/items/{id}',
    schemas: {
      params: { type: 'object', properties: { id: { type: 'integer' } } },
      query: {
        type: 'object',
        properties: {
          limit: { type: 'integer' },
          tags: { type: 'array', items: { type: 'string' } },
          filter: { type: 'object', properties: { ids: { type: 'array', items: { type: 'integer' } }, on: { type: 'boolean' } } },
        },
      },
      headers: { type: 'object', properties: { 'x-page': { type: 'integer' }, 'x-flags': { type: 'array', items: { type: 'boolean' } } } },
      body: { type: 'object', properties: { lines: { type: 'array', items: { type: 'array', items: { type: 'string' } } } } },
    },
  });
  await ductape.products.create({ tag: 'shop', envs: ['dev'] });
  await ductape.products.apps.connect({ product: 'shop', app: 'api' });
});
afterEach(async () => {
  await ductape.close();
  await upstream.close();
});

describe('run input', () => {
  it('is exactly as the caller gave it after a run that coerced its values at every depth', async () => {
    const input = {
      params: { id: '42' },
      query: { limit: ['5'], tags: 'red', filter: { ids: ['1', '2'], on: 'true' } },
      headers: { 'x-page': '3', 'x-flags': 'true' },
      body: { lines: [['a', 'b'], ['c']] },
    };
    const before = structuredClone(input);
    await ductape.actions.run({ env: 'dev', product: 'shop', app: 'api', event: 'search', input });
    expect(upstream.requests).toHaveLength(1);
    expect(upstream.requests[0].url).toMatch(/^\/items\/42\?/);
    expect(input).toEqual(before);
    // The same input object runs again with the same result (nothing left behind by the first run).
    await ductape.actions.run({ env: 'dev', product: 'shop', app: 'api', event: 'search', input });
    expect(upstream.requests[1].url).toBe(upstream.requests[0].url);
    expect(input).toEqual(before);
  });
});
