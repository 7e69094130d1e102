// The compiled yes-check (src/runtime/fast-accept.ts) may only say "valid" where the interpreter says so too.
import fc from 'fast-check';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compileAccept } from '../../src/runtime/fast-accept.js';
import { interpretJson, NOT_JSON, resolveRefs } from '../../src/runtime/validators.js';
import { importSpec } from '../../src/importers/index.js';
import { exampleFor } from '../../src/schema/example.js';
import type { JsonSchema } from '../../src/model/action.js';

// The validator's verdict without the fast check: the interpreter on the value as JSON reads it.
const interpreterAccepts = (value: unknown, schema: JsonSchema, refs: Record<string, JsonSchema>): boolean => {
  const out = interpretJson(value, schema, refs);
  return out !== NOT_JSON && out.valid;
};

// Schemas from the subset the compiler covers, plus keywords it must refuse to judge.
const leaf = fc.oneof(
  fc.constant<JsonSchema>({}),
  fc.constant<JsonSchema>(true as unknown as JsonSchema),
  fc.record({ type: fc.constantFrom('string', 'integer', 'number', 'boolean', 'null') }),
  fc.record({ type: fc.constant(['string', 'null']) }),
  fc.record({ type: fc.constant('string'), minLength: fc.nat(3), maxLength: fc.integer({ min: 1, max: 6 }) }, { requiredKeys: ['type'] }),
  fc.record({ type: fc.constant('string'), pattern: fc.constantFrom('^a', 'b$', '^[a-z]+$', '\\d') }),
  fc.record({ type: fc.constant('string'), format: fc.constantFrom('date-time', 'email', 'uuid', 'int64', 'uri') }),
  fc.record({ type: fc.constantFrom('integer', 'number'), minimum: fc.integer({ min: -5, max: 5 }), exclusiveMaximum: fc.integer({ min: -5, max: 20 }) }, { requiredKeys: ['type'] }),
  fc.record({ enum: fc.array(fc.oneof(fc.string({ maxLength: 2 }), fc.integer({ min: -2, max: 2 }), fc.constant(null)), { minLength: 1, maxLength: 4 }) }),
  fc.record({ const: fc.oneof(fc.string({ maxLength: 2 }), fc.integer({ min: -2, max: 2 })) }),
  fc.record({ type: fc.constant('number'), multipleOf: fc.constant(0.5) }),
);
const schema: fc.Arbitrary<JsonSchema> = fc.letrec<{ s: JsonSchema }>((tie) => ({
  s: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.record(
      {
        type: fc.constant('object'),
        properties: fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd'), tie('s'), { maxKeys: 3 }),
        required: fc.subarray(['a', 'b', 'c']),
        additionalProperties: fc.oneof(fc.constant(false), fc.constant(true), tie('s')),
        minProperties: fc.nat(2),
        maxProperties: fc.integer({ min: 1, max: 4 }),
      },
      { requiredKeys: [] },
    ),
    fc.record({ type: fc.constant('array'), items: tie('s'), minItems: fc.nat(2), maxItems: fc.integer({ min: 0, max: 4 }), uniqueItems: fc.boolean() }, { requiredKeys: ['items'] }),
    fc.record({ allOf: fc.array(tie('s'), { minLength: 1, maxLength: 3 }) }),
    fc.record({ anyOf: fc.array(tie('s'), { minLength: 1, maxLength: 3 }) }),
    fc.record({ oneOf: fc.array(tie('s'), { minLength: 1, maxLength: 2 }) }),
    fc.record({ not: tie('s') }),
    fc.record({ $ref: fc.constant('components#/schemas/Shared') }),
  ),
})).s;

// Values: JSON, and the non-JSON the interpreter reads its own way (undefined members, NaN, functions, class instances).
const value: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    fc.string({ maxLength: 6 }),
    fc.constantFrom('a', 'ab1', '2024-01-02T03:04:05Z', 'x@y.io', '123e4567-e89b-12d3-a456-426614174000', '😀😀', '\ud83d', ''),
    fc.integer({ min: -10, max: 25 }),
    fc.double({ noNaN: false }),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    fc.constant(() => 1),
    fc.constant(new Date(0)),
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd', 'e'), tie('v'), { maxKeys: 5 }),
  ),
})).v;

const shared: JsonSchema = { type: 'object', properties: { id: { type: 'string' }, next: { $ref: 'components#/schemas/Shared' } }, required: ['id'] };

describe('fast accept', () => {
  it('never accepts a value the interpreter refuses (random schemas and values)', () => {
    let judged = 0;
    fc.assert(
      fc.property(schema, fc.array(value, { minLength: 1, maxLength: 8 }), (s, values) => {
        const refs = resolveRefs(s, { Shared: shared }, 'test');
        const accept = compileAccept(s, refs);
        if (!accept) return;
        for (const v of values) {
          if (!accept(v)) continue;
          judged++;
          expect(interpreterAccepts(v, s, refs), JSON.stringify({ s, v })).toBe(true);
        }
      }),
      { numRuns: 8000 },
    );
    // The property means something only if the check says yes often.
    expect(judged).toBeGreaterThan(1000);
  });

  it('accepts the common valid shapes, and leaves unsupported keywords to the interpreter', () => {
    const s: JsonSchema = {
      type: 'object',
      required: ['email'],
      properties: {
        email: { type: 'string', format: 'email', maxLength: 64 },
        tags: { type: 'array', items: { type: 'string', enum: ['a', 'b'] } },
        meta: { type: 'object', additionalProperties: { type: 'string' } },
        parent: { $ref: 'components#/schemas/Shared' },
        qty: { anyOf: [{ type: 'integer', minimum: 1 }, { type: 'null' }] },
      },
      additionalProperties: false,
    };
    const refs = resolveRefs(s, { Shared: shared }, 'test');
    const accept = compileAccept(s, refs)!;
    expect(accept).toBeTypeOf('function');
    expect(accept({ email: 'a@b.co', tags: ['a'], meta: { k: 'v' }, parent: { id: 'p', next: { id: 'q' } }, qty: null })).toBe(true);
    expect(accept({ email: 'a@b.co', qty: 2 })).toBe(true);
    // Not certain: the interpreter decides (and reports) these.
    expect(accept({ email: 'a@b.co', extra: 1 })).toBe(false);
    expect(accept({ email: 'a@b.co', qty: 0 })).toBe(false);
    expect(accept({ email: undefined })).toBe(false);
    expect(accept({ email: 'a@b.co', parent: { next: { id: 'q' } } })).toBe(false);
    expect(compileAccept({ oneOf: [{ type: 'string' }] }, {})).toBeUndefined();
    expect(compileAccept({ type: 'object', properties: { a: { not: { type: 'string' } } } }, {})).toBeUndefined();
  });

  it('accepts the examples of every vendor spec body and judges their mutations as the interpreter does', async () => {
    let compiled = 0;
    let fast = 0;
    let bodies = 0;
    for (const file of ['stripe-api-2020-08-27-spec3-2022-04.json', 'swagger-petstore-3.1.yaml', 'nytimes-timeswire-v3-swagger2.yaml', 'docusign-admin-v2.1.postman_collection.json']) {
      const app = await importSpec({ file: fileURLToPath(new URL(`../fixtures/specs/${file}`, import.meta.url)) });
      const components = (app.components?.schemas ?? {}) as Record<string, JsonSchema>;
      for (const action of app.actions) {
        const media = action.body?.media[action.body.default];
        if (!media?.schema) continue;
        bodies++;
        const refs = resolveRefs(media.schema, components, action.event);
        const accept = compileAccept(media.schema, refs);
        if (!accept) continue;
        compiled++;
        const example = exampleFor(media.schema, components);
        if (example === undefined) continue;
        if (accept(example)) fast++;
        // The example and a few mutations of it: whatever the check says yes to, the interpreter accepts.
        for (const v of [example, ...mutations(example)]) if (accept(v)) expect(interpreterAccepts(v, media.schema, refs), `${file} ${action.event}`).toBe(true);
      }
    }
    expect(compiled).toBeGreaterThan(bodies / 2);
    expect(fast).toBeGreaterThan(compiled / 2);
  });
});

/** The value with one member dropped, retyped or added, at the top and one level down. */
function mutations(v: unknown): unknown[] {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return [String(v), 7, null, [v]];
  const out: unknown[] = [];
  for (const k of Object.keys(v)) {
    const o = v as Record<string, unknown>;
    const { [k]: _dropped, ...rest } = o;
    out.push(rest, { ...o, [k]: 12.5 }, { ...o, [k]: 'x' }, { ...o, [k]: null }, { ...o, [k]: undefined });
    for (const m of mutations(o[k]).slice(0, 6)) out.push({ ...o, [k]: m });
  }
  out.push({ ...(v as object), zz_extra: true });
  return out;
}
