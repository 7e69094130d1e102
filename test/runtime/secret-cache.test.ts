// Resolved secrets are kept per runtime: warm runs read no store, and a change or an expiry is never missed.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PlanCache, type Runtime } from '../../src/runtime/runtime.js';
import { RuntimeState } from '../../src/runtime/state.js';
import { cachedSecret } from '../../src/runtime/secret-cache.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/store.js';
import { setSecret } from '../../src/workspace/secrets.js';
import { newClient } from '../helpers/client.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

const KEY = 'secret-cache-test-key';
let store: Store;
let reads: number;

beforeEach(async () => {
  const real = await openSqliteStore(':memory:');
  reads = 0;
  // Counts every read of records, the only way secrets are loaded.
  store = new Proxy(real, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (prop === 'getRecord' || prop === 'listRecords') return (...args: unknown[]) => (reads++, (v as (...a: unknown[]) => unknown).apply(target, args));
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
});
afterEach(async () => store.close());

const runtimeOf = (plans = new PlanCache()) => ({ workspace: 'acme', store, privateKey: KEY, plans, state: new RuntimeState() }) as unknown as Runtime;

describe('cachedSecret', () => {
  it('reads the store once, then answers from memory', async () => {
    await setSecret({ store, workspace: 'acme', privateKey: KEY }, { key: 'API_KEY', value: 'sk_live_one', envs: ['prd'] });
    const rt = runtimeOf();
    reads = 0;
    expect(await cachedSecret(rt, 'API_KEY', 'prd', 'stripe')).toBe('sk_live_one');
    const afterFirst = reads;
    expect(afterFirst).toBeGreaterThan(0);
    for (let i = 0; i < 10; i++) expect(await cachedSecret(rt, 'API_KEY', 'prd', 'stripe')).toBe('sk_live_one');
    expect(reads).toBe(afterFirst);
  });

  it('reads again after the plans are dropped (a definition or secret changed)', async () => {
    const deps = { store, workspace: 'acme', privateKey: KEY };
    await setSecret(deps, { key: 'API_KEY', value: 'old-value-1', envs: ['prd'] });
    const plans = new PlanCache();
    const rt = runtimeOf(plans);
    expect(await cachedSecret(rt, 'API_KEY', 'prd', 'x')).toBe('old-value-1');
    await setSecret(deps, { key: 'API_KEY', value: 'new-value-2', envs: ['prd'] });
    plans.clear();
    expect(await cachedSecret(rt, 'API_KEY', 'prd', 'x')).toBe('new-value-2');
  });

  it('never serves a value past its expiry', async () => {
    const deps = { store, workspace: 'acme', privateKey: KEY };
    await setSecret(deps, { key: 'SHORT', value: 'short-lived', expires_at: Date.now() + 150 });
    const rt = runtimeOf();
    expect(await cachedSecret(rt, 'SHORT', 'prd', 'x')).toBe('short-lived');
    await new Promise((r) => setTimeout(r, 200));
    await expect(cachedSecret(rt, 'SHORT', 'prd', 'x')).rejects.toMatchObject({ code: 'CONFIG_ERROR' });
  });
});

describe('secrets through the client', () => {
  let upstream: Upstream;
  beforeEach(async () => {
    upstream = await startUpstream();
  });
  afterEach(async () => upstream.close());

  it('uses a changed secret at the very next run', async () => {
    const ductape = newClient();
    try {
      await ductape.apps.create({ tag: 'api', envs: [{ slug: 'prd', base_url: upstream.url }] });
      await ductape.apps.actions.create({ app: 'api', event: 'ping', method: 'GET', path: '/ping' });
      await ductape.products.create({ tag: 'p', envs: ['prd'] });
      await ductape.products.apps.connect({ product: 'p', app: 'api' });
      await ductape.products.apps.configure({ product: 'p', app: 'api', env: 'prd', auth: { type: 'bearer', token: '$Secret{API_TOKEN}' } });
      await ductape.secrets.set({ key: 'API_TOKEN', value: 'tok_first_123', envs: ['prd'] });
      const run = () => ductape.actions.run({ env: 'prd', product: 'p', app: 'api', event: 'ping' });
      await run();
      await run();
      await ductape.secrets.set({ key: 'API_TOKEN', value: 'tok_second_456', envs: ['prd'] });
      await run();
      expect(upstream.requests.map((r) => r.headers.authorization)).toEqual(['Bearer tok_first_123', 'Bearer tok_first_123', 'Bearer tok_second_456']);
    } finally {
      await ductape.close();
    }
  });
});
