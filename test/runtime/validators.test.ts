// The one validation engine: the same schema accepts, refuses, coerces and words alike whatever its size, never
// changes the value it is given, and compiles schemas with `$id`s without depending on any other schema.
import { describe, expect, it } from 'vitest';
import type { Issue } from '../../src/errors.js';
import type { JsonSchema } from '../../src/model/action.js';
import { mergeAllOf, mergeComponents } from '../../src/runtime/schema-merge.js';
import { compileValidator, createAppValidators, type LocationValidator } from '../../src/runtime/validators.js';

const item: JsonSchema = {
  type: 'object',
  required: ['sku', 'qty'],
  additionalProperties: false,
  properties: {
    sku: { type: 'string', pattern: '^[A-Z]{3}-\\d+$' },
    qty: { type: 'integer', minimum: 1, maximum: 10 },
    price: { type: 'number', exclusiveMinimum: 0, multipleOf: 0.01 },
    tags: { type: 'array', items: { type: 'string', enum: ['red', 'blue'] }, maxItems: 2, uniqueItems: true },
    note: { type: 'string', minLength: 2, maxLength: 5 },
    email: { type: 'string', format: 'email' },
    kind: { const: 'item' },
    flag: { type: 'boolean' },
    either: { anyOf: [{ type: 'integer' }, { type: 'boolean' }] },
  },
};

/** The item schema as written inline (small), and reached through a $ref among 300 other components (large). */
function engines(coerce = false): [string, LocationValidator][] {
  const small = compileValidator(createAppValidators({ schemas: {} }), { type: 'object', properties: { item } }, 'query', 'test.small', coerce);
  const schemas: Record<string, JsonSchema> = { Item: item };
  for (let i = 0; i < 300; i++) schemas[`Filler${i}`] = { type: 'object', properties: { a: { type: 'string' }, b: { $ref: 'components#/schemas/Item' } } };
  const big = { type: 'object', properties: { item: { $ref: 'components#/schemas/Item' }, fill: { anyOf: Object.keys(schemas).map((n) => ({ $ref: `components#/schemas/${n}` })) } } };
  const large = compileValidator(createAppValidators({ schemas }), big, 'query', 'test.large', coerce);
  return [
    ['small', small],
    ['large', large],
  ];
}

function issuesOf(v: LocationValidator, value: unknown): Issue[] {
  const issues: Issue[] = [];
  v(value, issues);
  return issues;
}

const CASES: [string, unknown, string[]][] = [
  ['a valid item', { sku: 'ABC-1', qty: 2, price: 9.99, tags: ['red'], kind: 'item', either: true }, []],
  ['missing fields', {}, ['/item/sku is required', '/item/qty is required']],
  ['an unknown field', { sku: 'ABC-1', qty: 1, color: 'red' }, ['/item/color is not allowed']],
  ['a wrong type', { sku: 'ABC-1', qty: 'many' }, ['/item/qty must be integer']],
  ['a fraction for an integer', { sku: 'ABC-1', qty: 1.5 }, ['/item/qty must be integer']],
  ['bounds', { sku: 'ABC-1', qty: 11, price: 0 }, ['/item/qty must be <= 10', '/item/price must be > 0']],
  ['a pattern', { sku: 'abc', qty: 1 }, ['/item/sku must match pattern "^[A-Z]{3}-\\\\d+$"']],
  ['an enum', { sku: 'ABC-1', qty: 1, tags: ['green'] }, ['/item/tags/0 must be one of "red", "blue"']],
  ['lengths', { sku: 'ABC-1', qty: 1, note: 'x', tags: ['red', 'blue', 'red'] }, ['/item/tags must have at most 2 items', '/item/tags must not have duplicate items (indexes 0 and 2)', '/item/note must have at least 2 characters']],
  ['a format', { sku: 'ABC-1', qty: 1, email: 'nope' }, ['/item/email must match format "email"']],
  ['a const', { sku: 'ABC-1', qty: 1, kind: 'other' }, ['/item/kind must be "item"']],
  ['an anyOf', { sku: 'ABC-1', qty: 1, either: 'x' }, ['/item/either must match at least one of the allowed shapes']],
  ['a multipleOf', { sku: 'ABC-1', qty: 1, price: 1.005 }, ['/item/price must be a multiple of 0.01']],
];

describe('one engine, whatever the schema size', () => {
  for (const [name, value, expected] of CASES) {
    it(`accepts, refuses and words ${name} the same for small and large schemas`, () => {
      for (const [size, v] of engines()) {
        const got = issuesOf(v, { item: value }).map((i) => `${i.path} ${i.message}`);
        expect(got.sort(), size).toEqual([...expected].sort());
      }
    });
  }

  it('coerces text-on-the-wire values the same for small and large schemas, at any depth', () => {
    for (const [size, v] of engines(true)) {
      // '2' → 2, 'true' → true, a lone tag → one-item array, ['3'] → 3 inside anyOf's integer branch.
      expect(issuesOf(v, { item: { sku: 'ABC-1', qty: '2', price: '9.99', flag: 'true', tags: 'red', either: '3' } }), size).toEqual([]);
      expect(issuesOf(v, { item: { sku: 'ABC-1', qty: '2.5' } }).map((i) => i.message), size).toEqual(['must be integer']);
      expect(issuesOf(v, { item: { sku: 'ABC-1', qty: 'ten' } }).map((i) => i.message), size).toEqual(['must be integer']);
      expect(issuesOf(v, { item: { sku: 'ABC-1', qty: '' } }).map((i) => i.message), size).toEqual(['must be integer']);
    }
  });

  it('does not coerce where the location is not text (bodies)', () => {
    for (const [size, v] of engines(false)) {
      expect(issuesOf(v, { item: { sku: 'ABC-1', qty: '2' } }).map((i) => `${i.path} ${i.message}`), size).toEqual(['/item/qty must be integer']);
    }
  });

  it('never changes the value it is given, nested arrays and objects included', () => {
    const value = { item: { sku: 'ABC-1', qty: ['2'], price: '1.5', tags: 'red', flag: 'false', either: ['7'] }, other: [['1']] };
    const before = structuredClone(value);
    for (const [size, v] of engines(true)) {
      expect(issuesOf(v, value), size).toEqual([]);
      expect(value, size).toEqual(before);
    }
  });

  it('reads undefined members as absent and refuses values JSON cannot carry', () => {
    const [, v] = engines()[1];
    expect(issuesOf(v, { item: { sku: 'ABC-1', qty: 1, note: undefined } })).toEqual([]);
    expect(issuesOf(v, { item: { sku: 'ABC-1', qty: undefined } }).map((i) => `${i.path} ${i.message}`)).toEqual(['/item/qty is required']);
    expect(issuesOf(v, { item: { sku: 'ABC-1', qty: 1n } }).map((i) => i.message)).toEqual(['holds a value JSON cannot carry (a function, symbol or bigint)']);
  });
});

describe('schemas with $id', () => {
  const thing = { $id: 'https://x.test/thing', type: 'object', required: ['name'], properties: { name: { type: 'string', example: { id: 'same' } } }, example: { id: 'same' } };

  it('compiles schemas with ids and id-holding examples, and each compile depends on nothing else', () => {
    const v = createAppValidators({ schemas: { Thing: thing, Owner: { id: 'owner', $id: 'owner', type: 'object', example: { id: 'same' } } } });
    const first = compileValidator(v, { $ref: 'components#/schemas/Thing' }, 'body', 'a.one');
    const second = compileValidator(v, { $id: 'https://x.test/thing', type: 'object', properties: { t: { $ref: 'components#/schemas/Thing' }, o: { $ref: 'components#/schemas/Owner' } }, example: { id: 'same' } }, 'body', 'a.two');
    // A third action whose own schema reuses the same $id as a component: no "Duplicate schema URI".
    const third = compileValidator(v, { ...thing, properties: { name: { type: 'integer' } } }, 'body', 'a.three');
    expect(issuesOf(first, { name: 'w' })).toEqual([]);
    expect(issuesOf(first, {}).map((i) => i.path)).toEqual(['/name']);
    expect(issuesOf(second, { t: { name: 1 }, o: {} }).map((i) => `${i.path} ${i.message}`)).toEqual(['/t/name must be string']);
    expect(issuesOf(third, { name: 1 })).toEqual([]);
    expect(issuesOf(first, { name: 1 }).map((i) => i.message)).toEqual(['must be string']);
  });

  it('leaves the schema objects as they were (nothing written onto shared components)', () => {
    const components = { Thing: structuredClone(thing) };
    const before = structuredClone(components);
    compileValidator(createAppValidators({ schemas: components }), { $ref: 'components#/schemas/Thing' }, 'body', 'a.one')({ name: 'w' }, []);
    expect(Object.getOwnPropertyNames(components.Thing).sort()).toEqual(Object.keys(before.Thing).sort());
    expect(components).toEqual(before);
  });

  it('refuses a $ref to nothing and a pattern that is not a regex with CONFIG_ERROR when compiling', () => {
    const v = createAppValidators({ schemas: {} });
    expect(() => compileValidator(v, { $ref: 'components#/schemas/Nope' }, 'body', 'a.b')).toThrow(expect.objectContaining({ code: 'CONFIG_ERROR', message: expect.stringContaining('components#/schemas/Nope') }));
    expect(() => compileValidator(v, { $ref: 'https://elsewhere.test/x.json' }, 'body', 'a.b')).toThrow(expect.objectContaining({ code: 'CONFIG_ERROR' }));
    expect(() => compileValidator(v, { type: 'string', pattern: '(' }, 'body', 'a.b')).toThrow(expect.objectContaining({ code: 'CONFIG_ERROR' }));
  });
});

describe('properties named like data keywords', () => {
  it('checks a property named default, const, enum, example or examples through its $ref', () => {
    // The ref walk skipped these names as if they were the keywords, and the interpreter threw a raw
    // 'Unresolved $ref' Error at the first run whose body held one of them.
    const v = createAppValidators({ schemas: { Setting: { type: 'object', required: ['on'], properties: { on: { type: 'boolean' } } } } });
    const ref = { $ref: 'components#/schemas/Setting' };
    const names = ['default', 'const', 'enum', 'example', 'examples'];
    const body = compileValidator(v, { type: 'object', properties: Object.fromEntries(names.map((n) => [n, ref])) }, 'body', 'a.b');
    expect(issuesOf(body, Object.fromEntries(names.map((n) => [n, { on: true }])))).toEqual([]);
    expect(issuesOf(body, { default: {}, const: { on: 1 } }).map((i) => `${i.path} ${i.message}`)).toEqual(['/default/on is required', '/const/on must be boolean']);
    const patterned = compileValidator(v, { type: 'object', patternProperties: { default: ref } }, 'body', 'a.b');
    expect(issuesOf(patterned, { default: {} }).map((i) => `${i.path} ${i.message}`)).toEqual(['/default/on is required']);
  });
});

describe('readOnly properties in required', () => {
  const components = mergeComponents({
    Id: { type: 'string', readOnly: true },
    Reference: {
      type: 'object',
      required: ['id', 'type', 'summary', 'self'],
      properties: { id: { $ref: 'components#/schemas/Id' }, type: { type: 'string' }, summary: { type: 'string', readOnly: true }, self: { allOf: [{ type: 'string' }, { readOnly: true }] } },
    },
    Link: { type: 'object', required: ['id', 'name'], properties: { id: { $ref: 'components#/schemas/Id' }, name: { type: 'string' } } },
  });
  const v = createAppValidators({ schemas: components });
  const body = mergeAllOf(
    {
      allOf: [
        { $ref: 'components#/schemas/Link' },
        { type: 'object', required: ['target', 'related', 'nested'], properties: { target: { $ref: 'components#/schemas/Reference' }, related: { type: 'array', items: { $ref: 'components#/schemas/Reference' } }, nested: { type: 'object', required: ['at'], properties: { at: { type: 'string', readOnly: true }, n: { type: 'integer' } } } } },
      ],
    },
    components,
  );
  const check = compileValidator(v, body, 'body', 'ro.create_link');

  it('does not require them at any depth: through $ref, allOf, nested objects and array items', () => {
    expect(issuesOf(check, { name: 'n', target: { type: 't' }, related: [{ type: 't' }], nested: {} })).toEqual([]);
  });

  it('still requires the other fields and still checks readOnly values that are sent', () => {
    expect(issuesOf(check, { target: {}, related: [{}], nested: {} }).map((i) => `${i.path} ${i.message}`).sort()).toEqual(['/name is required', '/related/0/type is required', '/target/type is required']);
    expect(issuesOf(check, { name: 'n', target: { type: 't', id: 5 }, related: [], nested: {} }).map((i) => `${i.path} ${i.message}`)).toEqual(['/target/id must be string']);
  });
});
