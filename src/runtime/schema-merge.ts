// Prepares a schema for validating a request: `allOf` merged into one schema, as Prism does, so
// `allOf: [A, { additionalProperties: false }]` means A plus the rest; and `readOnly` properties never required.
import type { JsonSchema } from '../model/action.js';

type Schema = Record<string, unknown>;
const REF_PREFIX = 'components#/schemas/';

// Keywords that describe, not constrain: the first branch that has one keeps it.
const ANNOTATIONS = new Set(['title', 'description', 'example', 'examples', 'default', 'deprecated', 'format', 'discriminator']);
// Flags that hold for the merge when any branch states them (a field read-only in A stays so in `allOf: [A, B]`).
const FLAGS = new Set(['readOnly', 'writeOnly']);
// Schema-valued keywords whose values are merged the same way when several branches have them.
const SUBSCHEMAS = new Set(['items', 'additionalProperties', 'propertyNames', 'contains', 'not', 'if', 'then', 'else', 'unevaluatedProperties']);
const LOWER_BOUNDS = new Set(['minimum', 'exclusiveMinimum', 'minLength', 'minItems', 'minProperties', 'minContains']);
const UPPER_BOUNDS = new Set(['maximum', 'exclusiveMaximum', 'maxLength', 'maxItems', 'maxProperties', 'maxContains']);

/**
 * Returns `schema` with every `allOf` merged into its parent (the same object when there is none), for validation.
 *
 * Specs often write `allOf: [A, { additionalProperties: false, properties: { x } }]`. Strict JSON Schema checks each
 * branch alone, so the second refuses A's properties and no object can pass; the vendor's API (and Prism, which merges
 * `allOf` with json-schema-merge-allof's `ignoreAdditionalProperties`) accepts A's properties plus `x`. Merged:
 *
 * - `properties`: the union; a property several branches declare is their merge. `required`: the union.
 * - `type`: the intersection (`integer` within `number`); `enum`: the intersection; bounds: the tightest.
 * - `additionalProperties`: from the merged object only, checked against the merged `properties` (`false` if any branch
 *   says `false`, else the merge of the schemas). This is the one deliberate departure from strict JSON Schema.
 * - annotations (`description`, `format`, `example`…): the first branch's.
 * - anything else two branches state differently (two `pattern`s, two `anyOf`s, types that do not intersect) stays
 *   in a residual `allOf` of those fragments, so genuine contradictions are still reported.
 *
 * `$ref`s inside an `allOf` (`components#/schemas/X`) are inlined from `components` so that they can be merged; a
 * component that refers back into its own `allOf` chain is left as a `$ref`.
 *
 * Every object schema, at any depth, also loses from `required` the properties that are `readOnly` (stated on the
 * property, on a component it refers to, or in any `allOf` branch): the server sets them, so a request cannot be
 * required to carry them (OAS 3 §4.8.25). Ductape validates requests only, so `writeOnly` needs nothing here.
 *
 * @example mergeAllOf({ allOf: [{ properties: { a: {} } }, { additionalProperties: false, properties: { b: {} } }] })
 * // { properties: { a: {}, b: {} }, additionalProperties: false }
 */
export function mergeAllOf(schema: JsonSchema, components: Record<string, JsonSchema> = {}): JsonSchema {
  return walk(schema, components, []);
}

/** The app's shared schemas with their `allOf`s merged (the same object when none has one). */
export function mergeComponents(components: Record<string, JsonSchema>): Record<string, JsonSchema> {
  let out: Record<string, JsonSchema> | undefined;
  for (const [name, s] of Object.entries(components)) {
    const merged = walk(s, components, [name]);
    if (merged !== s) (out ??= { ...components })[name] = merged;
  }
  return out ?? components;
}

function walk(node: JsonSchema, components: Record<string, JsonSchema>, stack: string[]): JsonSchema {
  if (!isObject(node)) return node;
  let out: Schema | undefined;
  for (const [k, v] of Object.entries(node)) {
    if (k === 'enum' || k === 'const' || ANNOTATIONS.has(k) || FLAGS.has(k) || k === 'allOf') continue;
    let next: unknown = v;
    if (k === 'properties' || k === 'patternProperties' || k === '$defs' || k === 'definitions' || k === 'dependentSchemas') {
      next = mapValues(v, (s) => walk(s as JsonSchema, components, stack));
    } else if (k === 'anyOf' || k === 'oneOf' || k === 'prefixItems' || (k === 'items' && Array.isArray(v))) {
      next = mapList(v, (s) => walk(s as JsonSchema, components, stack));
    } else if (SUBSCHEMAS.has(k)) {
      next = walk(v as JsonSchema, components, stack);
    }
    if (next !== v) (out ??= { ...node })[k] = next;
  }
  const base = out ?? node;
  if (!Array.isArray(base.allOf)) return withoutReadOnlyRequired(base, components);
  const { allOf, ...own } = base;
  const branches = [own, ...(allOf as JsonSchema[]).map((b) => inline(b, components, stack))];
  const merged = mergeBranches(branches.filter((b) => !(isObject(b) && Object.keys(b).length === 0)), components, stack);
  return isObject(merged) ? withoutReadOnlyRequired(merged, components) : merged;
}

/** `required` without the properties a request never carries (readOnly ones); the same object when none is. */
function withoutReadOnlyRequired(node: Schema, components: Record<string, JsonSchema>): Schema {
  const required = node.required;
  const props = node.properties;
  if (!Array.isArray(required) || !isObject(props)) return node;
  const kept = required.filter((name) => !(typeof name === 'string' && Object.hasOwn(props, name) && isReadOnly(props[name] as JsonSchema, components, 0)));
  if (kept.length === required.length) return node;
  const { required: _, ...rest } = node;
  return kept.length ? { ...rest, required: kept } : rest;
}

/** readOnly on the schema, through `$ref`s, in any `allOf` branch, or in every non-null anyOf/oneOf branch. */
function isReadOnly(schema: JsonSchema, components: Record<string, JsonSchema>, depth: number): boolean {
  if (!isObject(schema) || depth > 16) return false;
  if (schema.readOnly === true) return true;
  const ref = schema.$ref;
  if (typeof ref === 'string' && ref.startsWith(REF_PREFIX)) {
    const target = components[componentName(ref)];
    if (target !== undefined && isReadOnly(target, components, depth + 1)) return true;
  }
  if (Array.isArray(schema.allOf) && schema.allOf.some((b) => isReadOnly(b as JsonSchema, components, depth + 1))) return true;
  for (const k of ['anyOf', 'oneOf'] as const) {
    const list = schema[k];
    if (!Array.isArray(list)) continue;
    const real = list.filter((b) => !(isObject(b) && b.type === 'null'));
    if (real.length && real.every((b) => isReadOnly(b as JsonSchema, components, depth + 1))) return true;
  }
  return false;
}

function componentName(ref: string): string {
  return decodeURIComponent(ref.slice(REF_PREFIX.length)).replace(/~1/g, '/').replace(/~0/g, '~');
}

/** An allOf branch ready to merge: a `$ref` to a component is replaced by that component (merged), unless cyclic. */
function inline(branch: JsonSchema, components: Record<string, JsonSchema>, stack: string[]): JsonSchema {
  if (!isObject(branch)) return branch;
  const ref = branch.$ref;
  if (typeof ref !== 'string' || !ref.startsWith(REF_PREFIX)) return walk(branch, components, stack);
  const name = componentName(ref);
  const target = components[name];
  if (target === undefined || stack.includes(name)) return branch;
  const { $ref: _, ...beside } = branch;
  const resolved = walk(target, components, [...stack, name]);
  return Object.keys(beside).length ? mergeBranches([resolved, walk(beside, components, stack)], components, stack) : resolved;
}

function mergeBranches(branches: JsonSchema[], components: Record<string, JsonSchema>, stack: string[]): JsonSchema {
  if (branches.length === 0) return {};
  if (branches.length === 1) return branches[0];
  if (branches.some((b) => b === false)) return false;
  const list = branches.filter(isObject);
  const out: Schema = {};
  const residual: Schema[] = [];
  const keys = new Set(list.flatMap((b) => Object.keys(b)));
  for (const k of keys) {
    const values = list.filter((b) => b[k] !== undefined).map((b) => b[k]);
    if (FLAGS.has(k)) {
      out[k] = values.some((v) => v === true) || values[0];
    } else if (values.length === 1 || ANNOTATIONS.has(k)) {
      out[k] = values[0];
    } else if (k === 'required') {
      out.required = [...new Set(values.flat() as string[])];
    } else if (k === 'properties' || k === 'patternProperties') {
      const merged: Record<string, JsonSchema> = {};
      for (const props of values as Record<string, JsonSchema>[]) {
        for (const [name, s] of Object.entries(props)) merged[name] = name in merged ? mergeBranches([merged[name], s], components, stack) : s;
      }
      out[k] = merged;
    } else if (k === 'additionalProperties' || k === 'unevaluatedProperties') {
      out[k] = values.some((v) => v === false) ? false : mergeBranches(values as JsonSchema[], components, stack);
    } else if (k === 'type') {
      const common = intersectTypes(values);
      if (common.length) out.type = common.length === 1 ? common[0] : common;
      else residual.push(...values.map((v) => ({ type: v })));
    } else if (k === 'enum') {
      const [first, ...rest] = values as unknown[][];
      out.enum = first.filter((x) => rest.every((e) => e.some((y) => JSON.stringify(y) === JSON.stringify(x))));
    } else if (LOWER_BOUNDS.has(k)) {
      out[k] = Math.max(...(values as number[]));
    } else if (UPPER_BOUNDS.has(k)) {
      out[k] = Math.min(...(values as number[]));
    } else if (SUBSCHEMAS.has(k) && k !== 'not' && k !== 'if' && k !== 'then' && k !== 'else') {
      out[k] = mergeBranches(values as JsonSchema[], components, stack);
    } else if (values.every((v) => JSON.stringify(v) === JSON.stringify(values[0]))) {
      out[k] = values[0];
    } else {
      residual.push(...values.map((v) => ({ [k]: v })));
    }
  }
  if (residual.length) out.allOf = residual;
  return out;
}

function intersectTypes(values: unknown[]): string[] {
  const sets = values.map((v) => new Set(Array.isArray(v) ? (v as string[]) : [v as string]));
  let common = [...sets[0]];
  for (const s of sets.slice(1)) {
    common = common.flatMap((t) => (s.has(t) ? [t] : t === 'number' && s.has('integer') ? ['integer'] : t === 'integer' && s.has('number') ? ['integer'] : []));
  }
  return [...new Set(common)];
}

function isObject(v: unknown): v is Schema {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function mapValues(v: unknown, fn: (x: unknown) => unknown): unknown {
  if (!isObject(v)) return v;
  let out: Schema | undefined;
  for (const [k, x] of Object.entries(v)) {
    const y = fn(x);
    if (y !== x) (out ??= { ...v })[k] = y;
  }
  return out ?? v;
}

function mapList(v: unknown, fn: (x: unknown) => unknown): unknown {
  if (!Array.isArray(v)) return v;
  let out: unknown[] | undefined;
  v.forEach((x, i) => {
    const y = fn(x);
    if (y !== x) (out ??= v.slice())[i] = y;
  });
  return out ?? v;
}
