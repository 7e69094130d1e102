// ductape.keys.*: keys are shown once, stored only as a hash, scoped, and revocable (API.md §6).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Ductape } from '../../src/index.js';
import { KeyRing, authorize } from '../../src/server/auth.js';
import { newClient } from '../helpers/client.js';
import { errorOf } from '../helpers/errors.js';

let ductape: Ductape;
beforeEach(async () => {
  ductape = newClient();
  await ductape.products.create({ tag: 'shop', envs: ['dev', 'prd'] });
});
afterEach(() => ductape.close());

describe('keys', () => {
  it('creates a key shown once and stores only its hash', async () => {
    const created = await ductape.keys.create({ name: 'billing', role: 'run', product: 'shop', env: 'prd' });
    expect(created.key).toMatch(/^dtk_[A-Za-z0-9_-]{43}$/);
    const listed = await ductape.keys.list();
    expect(listed).toEqual([{ id: created.id, name: 'billing', role: 'run', product: 'shop', env: 'prd', created_at: expect.any(String) }]);
    const rt = await ductape.services.runtime();
    const stored = await rt.store.listRecords(rt.workspace, 'api_key');
    expect(JSON.stringify(stored)).not.toContain(created.key);
  });

  it('refuses keys with a scope that does not fit their role', async () => {
    expect((await errorOf(ductape.keys.create({ name: 'a', role: 'admin', product: 'shop' }))).code).toBe('CONFIG_ERROR');
    expect((await errorOf(ductape.keys.create({ name: 'r', role: 'run' }))).code).toBe('CONFIG_ERROR');
    expect((await errorOf(ductape.keys.create({ name: 'r', role: 'run', product: 'nope' }))).code).toBe('NOT_FOUND');
    expect((await errorOf(ductape.keys.create({ name: 'r', role: 'run', product: 'shop', env: 'staging' }))).code).toBe('NOT_FOUND');
    expect((await errorOf(ductape.keys.create({ name: 'r', role: 'owner' as never }))).code).toBe('CONFIG_ERROR');
  });

  it('checks keys against the ring, refuses revoked ones after a refresh, and scopes run keys', async () => {
    const admin = await ductape.keys.create({ name: 'admin', role: 'admin' });
    const run = await ductape.keys.create({ name: 'run', role: 'run', product: 'shop', env: 'dev' });
    const rt = await ductape.services.runtime();
    const ring = new KeyRing(rt.store, rt.workspace);
    await ring.refresh();
    expect(ring.check(`Bearer ${admin.key}`).role).toBe('admin');
    expect(() => ring.check(undefined)).toThrow(expect.objectContaining({ code: 'UNAUTHORIZED' }));
    expect(() => ring.check(`Basic ${admin.key}`)).toThrow(expect.objectContaining({ code: 'UNAUTHORIZED' }));

    const key = ring.check(`bearer ${run.key}`);
    const execute = { name: 'actions.execute', role: 'run' as const };
    expect(() => authorize(key, execute, { product: 'shop', env: 'dev' })).not.toThrow();
    expect(() => authorize(key, execute, { product: 'shop', env: 'prd' })).toThrow(expect.objectContaining({ code: 'FORBIDDEN' }));
    expect(() => authorize(key, execute, { product: 'other', env: 'dev' })).toThrow(expect.objectContaining({ code: 'FORBIDDEN' }));
    expect(() => authorize(key, { name: 'apps.create' }, { product: 'shop', env: 'dev' })).toThrow(expect.objectContaining({ code: 'FORBIDDEN' }));

    const revoked = await ductape.keys.revoke({ id: run.id });
    expect(revoked.revoked_at).toEqual(expect.any(String));
    expect((await ductape.keys.revoke({ id: run.id })).revoked_at).toBe(revoked.revoked_at);
    await ring.refresh();
    expect(() => ring.check(`Bearer ${run.key}`)).toThrow(expect.objectContaining({ code: 'UNAUTHORIZED' }));
    expect((await errorOf(ductape.keys.revoke({ id: 'nope' }))).code).toBe('NOT_FOUND');
  });

  it('revokes the run keys of a deleted product, so a product re-created under its tag does not take them back', async () => {
    await ductape.products.create({ tag: 'other', envs: ['dev'] });
    const shop = await ductape.keys.create({ name: 'shop', role: 'run', product: 'shop' });
    const other = await ductape.keys.create({ name: 'other', role: 'run', product: 'other' });
    const admin = await ductape.keys.create({ name: 'admin', role: 'admin' });
    await ductape.products.delete({ product: 'shop' });
    const listed = Object.fromEntries((await ductape.keys.list()).map((k) => [k.name, k.revoked_at]));
    expect(listed).toEqual({ shop: expect.any(String), other: undefined, admin: undefined });

    await ductape.products.create({ tag: 'shop', envs: ['dev', 'prd'] });
    const rt = await ductape.services.runtime();
    const ring = new KeyRing(rt.store, rt.workspace);
    await ring.refresh();
    expect(() => ring.check(`Bearer ${shop.key}`)).toThrow(expect.objectContaining({ code: 'UNAUTHORIZED' }));
    expect(ring.check(`Bearer ${other.key}`).product).toBe('other');
    expect(ring.check(`Bearer ${admin.key}`).role).toBe('admin');
  });
});
