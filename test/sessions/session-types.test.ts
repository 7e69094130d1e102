// Session types: create from schema or sample, selector checks, expiry checks, list/fetch/update/delete.
import { afterEach, describe, expect, it } from 'vitest';
import {
  createSessionType,
  deleteSessionType,
  fetchSessionType,
  inferSchema,
  listSessionTypes,
  startSession,
  updateSessionType,
  verifySession,
} from '../../src/sessions/index.js';
import { codeOf, setup, type Setup } from './setup.js';

let s: Setup;
afterEach(async () => s?.store.close());

describe('session types', () => {
  it('creates a type from the API.md example with defaults filled in', async () => {
    s = await setup();
    const t = await fetchSessionType(s.deps, { product: 'dashboard', tag: 'user-session' });
    expect(t).toMatchObject({ product: 'dashboard', tag: 'user-session', selector: '$Session{user}{id}', expiry: 3600, refresh_expiry: 86_400 });
    const a = await fetchSessionType(s.deps, { product: 'dashboard', tag: 'admin-session' });
    expect(a.expiry).toBe(3600);
    expect(a.refresh_expiry).toBe(30 * 24 * 3600);
  });

  it('infers a schema from a sample, every present key required', () => {
    expect(inferSchema({ user: { id: 'x', age: 3, score: 1.5, ok: true, tags: ['a'], none: null } })).toEqual({
      type: 'object',
      required: ['user'],
      properties: {
        user: {
          type: 'object',
          required: ['id', 'age', 'score', 'ok', 'tags', 'none'],
          properties: { id: { type: 'string' }, age: { type: 'integer' }, score: { type: 'number' }, ok: { type: 'boolean' }, tags: { type: 'array', items: { type: 'string' } }, none: { type: 'null' } },
        },
      },
    });
  });

  it('lists the types of one product only', async () => {
    s = await setup();
    expect((await listSessionTypes(s.deps, { product: 'dashboard' })).map((t) => t.tag).sort()).toEqual(['admin-session', 'user-session']);
    expect((await listSessionTypes(s.deps, { product: 'billing' })).map((t) => t.tag)).toEqual(['user-session']);
  });

  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['a selector of another kind', { sample: { id: 'x' }, selector: '$Secret{X}' }, /selector/],
    ['a selector with text around it', { sample: { id: 'x' }, selector: 'id=$Session{id}' }, /selector/],
    ['a selector pointing at an object', { sample: { user: { id: 'x' } }, selector: '$Session{user}' }, /string, number or boolean/],
    ['a selector through a string', { sample: { user: 'x' }, selector: '$Session{user}{id}' }, /not an object/],
    ['a selector to a property the schema forbids', { schema: { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false }, selector: '$Session{b}' }, /allows no property "b"/],
    ['both schema and sample', { schema: { type: 'object' }, sample: {}, selector: '$Session{a}' }, /either schema or sample/],
    ['neither schema nor sample', { selector: '$Session{a}' }, /give a JSON Schema/],
    ['an invalid JSON Schema', { schema: { type: 'nonsense' }, selector: '$Session{a}' }, /not a valid JSON Schema/],
    ['a zero expiry', { sample: { id: 'x' }, selector: '$Session{id}', expiry: 0 }, /expiry/],
    ['a fractional expiry', { sample: { id: 'x' }, selector: '$Session{id}', expiry: 1.5 }, /expiry/],
    ['a refresh expiry shorter than expiry', { sample: { id: 'x' }, selector: '$Session{id}', expiry: 100, refresh_expiry: 50 }, /at least expiry/],
    ['an unknown field', { sample: { id: 'x' }, selector: '$Session{id}', expires: 5 }, /unknown field/],
    ['a selector to an array item that is an object', { sample: { users: [{ id: 'x' }] }, selector: '$Session{users}{0}' }, /string, number or boolean/],
    ['a selector by name into an array', { sample: { emails: ['x'] }, selector: '$Session{emails}{first}' }, /not an object/],
  ];
  it.each(bad)('refuses %s with CONFIG_ERROR', async (_n, fields, message) => {
    s = await setup();
    const err = await createSessionType(s.deps, { product: 'dashboard', tag: 't', ...fields } as never).catch((e) => e);
    expect(err.code).toBe('CONFIG_ERROR');
    expect(err.message).toMatch(message);
  });

  it('takes a selector through an array by index, as every $Session path may go', async () => {
    s = await setup();
    // Before: refused with 'goes through "0", but the schema there is array, not an object'.
    const tuple = { type: 'object', properties: { ids: { type: 'array', prefixItems: [{ type: 'integer' }], items: { type: 'string' } } } };
    for (const [i, [fields, selector]] of ([
      [{ sample: { emails: ['jo@example.test'] } }, '$Session{emails}{0}'],
      [{ schema: { type: 'object', properties: { users: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' } } } } } } }, '$Session{users}{0}{id}'],
      [{ schema: tuple }, '$Session{ids}{0}'],
      [{ schema: tuple }, '$Session{ids}{3}'],
    ] as const).entries()) {
      const tag = `by-index-${i}`;
      expect((await createSessionType(s.deps, { product: 'dashboard', tag, ...fields, selector } as never)).selector).toBe(selector);
    }
  });

  it('refuses a duplicate tag and an unknown product', async () => {
    s = await setup();
    expect(await codeOf(createSessionType(s.deps, { product: 'dashboard', tag: 'user-session', sample: { id: 'x' }, selector: '$Session{id}' }))).toBe('CONFIG_ERROR');
    expect(await codeOf(createSessionType(s.deps, { product: 'nope', tag: 't', sample: { id: 'x' }, selector: '$Session{id}' }))).toBe('NOT_FOUND');
  });

  it('names the known types when a type is missing', async () => {
    s = await setup();
    const err = await fetchSessionType(s.deps, { product: 'dashboard', tag: 'user-sesion' }).catch((e) => e);
    expect(err.code).toBe('NOT_FOUND');
    expect(err.message).toContain('did you mean "user-session"');
  });

  it('updates expiry and replaces the schema when a new sample is given', async () => {
    s = await setup();
    const before = await fetchSessionType(s.deps, { product: 'dashboard', tag: 'user-session' });
    s.clock.now += 1000;
    const t = await updateSessionType(s.deps, { product: 'dashboard', tag: 'user-session', expiry: 60, sample: { user: { id: 'x', plan: 'pro' } } });
    expect(t.expiry).toBe(60);
    expect(t.created_at).toBe(before.created_at);
    expect(t.updated_at).not.toBe(before.updated_at);
    expect((t.schema as { properties: { user: { required: string[] } } }).properties.user.required).toEqual(['id', 'plan']);
    expect(await fetchSessionType(s.deps, { product: 'dashboard', tag: 'user-session' })).toEqual(t);
  });

  it('deletes a type and revokes its sessions, so its tokens stop working even if it is created again', async () => {
    s = await setup();
    const args = { product: 'dashboard', env: 'prd', tag: 'user-session' };
    const { token } = await startSession(s.deps, { ...args, data: { user: { id: '1' } } });
    expect(await deleteSessionType(s.deps, { product: 'dashboard', tag: 'user-session' })).toEqual({ deleted: true, revoked: 1 });
    expect(await codeOf(fetchSessionType(s.deps, { product: 'dashboard', tag: 'user-session' }))).toBe('NOT_FOUND');
    await createSessionType(s.deps, { product: 'dashboard', tag: 'user-session', sample: { user: { id: 'x' } }, selector: '$Session{user}{id}' });
    expect(await verifySession(s.deps, { ...args, token })).toEqual({ valid: false, code: 'SESSION_INVALID' });
  });
});
