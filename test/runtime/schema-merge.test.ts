// mergeAllOf: allOf branches become one schema, so additionalProperties: false in one branch keeps the others' fields.
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { DuctapeError } from '../../src/index.js';
import { newClient } from '../helpers/client.js';
import { startUpstream } from '../helpers/upstream.js';
import type { JsonSchema } from '../../src/model/action.js';
import { mergeAllOf, mergeComponents } from '../../src/runtime/schema-merge.js';

const ajv = new Ajv({ strict: false, allErrors: true });
const valid = (schema: JsonSchema, value: unknown) => ajv.validate(schema as object, value);

const base = { type: 'object', required: ['name'], properties: { name: { type: 'string' }, age: { type: 'integer' } } };
const closed = { allOf: [base, { type: 'object', additionalProperties: false, properties: { nickname: { type: 'string' } } }] };

describe('mergeAllOf', () => {
  it('accepts the fields of every branch when one branch closes the object', () => {
    expect(valid(closed, { name: 'a', nickname: 'b' })).toBe(false); // strict JSON Schema: unsatisfiable
    const merged = mergeAllOf(closed);
    expect(merged).toEqual({
      type: 'object',
      required: ['name'],
      properties: { name: { type: 'string' }, age: { type: 'integer' }, nickname: { type: 'string' } },
      additionalProperties: false,
    });
    expect(valid(merged, { name: 'a', age: 3, nickname: 'b' })).toBe(true);
  });

  it('still rejects genuine violations: a missing required field, an undeclared field, a wrong type', () => {
    const merged = mergeAllOf(closed);
    expect(valid(merged, { nickname: 'b' })).toBe(false);
    expect(valid(merged, { name: 'a', extra: 1 })).toBe(false);
    expect(valid(merged, { name: 'a', age: 'old' })).toBe(false);
  });

  it('unions required, intersects types and enums, and keeps the tightest bounds', () => {
    const merged = mergeAllOf({
      allOf: [
        { type: ['number', 'string'], minimum: 1, maximum: 10, enum: [1, 2, 3, 'x'] },
        { type: 'integer', minimum: 2, maximum: 20, enum: [2, 3, 4] },
      ],
    });
    expect(merged).toEqual({ type: 'integer', minimum: 2, maximum: 10, enum: [2, 3] });
    expect(mergeAllOf({ allOf: [{ required: ['a'] }, { required: ['b', 'a'] }] })).toEqual({ required: ['a', 'b'] });
  });

  it('merges a property declared by several branches, and nested allOf inside properties and items', () => {
    const merged = mergeAllOf({
      type: 'object',
      properties: {
        list: { type: 'array', items: { allOf: [{ properties: { a: { type: 'string' } } }, { additionalProperties: false, properties: { b: {} } }] } },
      },
      allOf: [{ properties: { x: { type: 'object', required: ['p'] } } }, { properties: { x: { required: ['q'] } } }],
    });
    expect(merged).toEqual({
      type: 'object',
      properties: {
        list: { type: 'array', items: { properties: { a: { type: 'string' }, b: {} }, additionalProperties: false } },
        x: { type: 'object', required: ['p', 'q'] },
      },
    });
  });

  it('keeps contradictions in a residual allOf, so they are still reported', () => {
    const merged = mergeAllOf({ allOf: [{ type: 'string', pattern: '^a' }, { type: 'integer', pattern: 'b$' }] });
    expect(merged).toEqual({ allOf: [{ type: 'string' }, { type: 'integer' }, { pattern: '^a' }, { pattern: 'b$' }] });
    expect(valid(merged, 'ab')).toBe(false);
    expect(valid(merged, 3)).toBe(false);
  });

  it('inlines component refs inside allOf, leaves cycles as refs, and returns untouched schemas as they are', () => {
    const components: Record<string, JsonSchema> = {
      Base: base,
      Node: { allOf: [{ $ref: 'components#/schemas/Node' }, { properties: { next: {} } }] },
    };
    expect(mergeAllOf({ allOf: [{ $ref: 'components#/schemas/Base' }, { additionalProperties: false }] }, components)).toEqual({
      ...base,
      additionalProperties: false,
    });
    const merged = mergeComponents(components);
    expect(merged.Base).toBe(base);
    expect(merged.Node).toEqual({ $ref: 'components#/schemas/Node', properties: { next: {} } });
    const plain = { type: 'object', properties: { a: { anyOf: [{ type: 'string' }, { type: 'null' }] } } };
    expect(mergeAllOf(plain)).toBe(plain);
  });

  it('makes a branch that is false make the whole schema false', () => {
    expect(mergeAllOf({ allOf: [{ type: 'string' }, false] })).toBe(false);
  });
});

describe('actions.run with an allOf-closed body schema', () => {
  it('sends what the API accepts and refuses genuine violations before sending', async () => {
    const upstream = await startUpstream();
    const ductape = newClient();
    try {
      await ductape.apps.create({ tag: 'people', envs: [{ slug: 'dev', base_url: upstream.url }] });
      await ductape.apps.actions.create({ app: 'people', event: 'create_person', method: 'POST', path: '/people', schemas: { body: closed } });
      await ductape.products.create({ tag: 'crm', envs: ['dev'] });
      await ductape.products.apps.connect({ product: 'crm', app: 'people' });
      const run = (body: unknown) => ductape.actions.run({ env: 'dev', product: 'crm', app: 'people', event: 'create_person', input: { body: body as Record<string, unknown> } });
      await run({ name: 'Ada', nickname: 'A' });
      expect(upstream.requests).toHaveLength(1);
      const err = await run({ nickname: 'A', extra: true }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DuctapeError);
      expect((err as DuctapeError & { issues: { path: string }[] }).issues.map((i) => i.path).sort()).toEqual(['/extra', '/name']);
      expect(upstream.requests).toHaveLength(1);
    } finally {
      await ductape.close();
      await upstream.close();
    }
  });
});
