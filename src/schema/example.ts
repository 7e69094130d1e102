// Builds an example value for a JSON Schema: the spec's own examples where it has them, else one made from the schema.
//
// The value is meant to be sent as is (describe, MCP), so it aims to be valid rather than complete: objects carry
// their required properties only, strings meet their format, pattern and length, numbers their bounds. The caller
// checks the result with the action's own validators and falls back to `useExamples: false` when a spec's example
// does not match its own schema (vendors' examples drift).
import type { JsonSchema } from '../model/action.js';
import { mergeAllOf } from '../runtime/schema-merge.js';
import { componentTarget } from './resolve.js';

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface ExampleOptions {
  /** Use `example`, `examples` and `default` from the schema. @default true */
  useExamples?: boolean;
}

/** Refs deeper than this stop the walk: an example needs only what is required, which a finite value satisfies. */
const MAX_DEPTH = 24;

/** An example for `schema`, or undefined when none can be made (a required property that only recurses). */
export function exampleFor(schema: JsonSchema | undefined, components: Record<string, JsonSchema>, options: ExampleOptions = {}): unknown {
  if (schema === undefined) return undefined;
  return build(schema, { components, useExamples: options.useExamples !== false }, [], 0);
}

interface Ctx {
  components: Record<string, JsonSchema>;
  useExamples: boolean;
}

function build(schema: unknown, ctx: Ctx, refs: string[], depth: number): unknown {
  if (schema === true || schema === undefined) return 'example';
  if (!isObject(schema) || depth > MAX_DEPTH) return undefined;
  if (typeof schema.$ref === 'string') {
    const target = componentTarget(schema.$ref, ctx.components);
    // A required property that leads back into its own component has no finite example.
    if (target === undefined || refs.includes(schema.$ref)) return undefined;
    // Keywords beside a $ref (3.1: `required`, `description`) apply too: merge them into the target.
    const { $ref: _ref, ...rest } = schema;
    const next = Object.keys(rest).length ? mergeAllOf({ allOf: [target, rest] }, ctx.components) : target;
    return build(next, ctx, [...refs, schema.$ref], depth + 1);
  }
  if (ctx.useExamples) {
    if (schema.example !== undefined) return schema.example;
    if (Array.isArray(schema.examples) && schema.examples.length) return schema.examples[0];
    if (schema.default !== undefined) return schema.default;
  }
  if (schema.const !== undefined) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length) return schema.enum.find((v) => v !== null) ?? schema.enum[0];
  if (Array.isArray(schema.allOf)) {
    const merged = mergeAllOf(schema, ctx.components);
    return isObject(merged) && !merged.allOf ? build(merged, ctx, refs, depth + 1) : buildAllOf(isObject(merged) ? merged : schema, ctx, refs, depth);
  }
  for (const k of ['oneOf', 'anyOf'] as const) {
    const branches = schema[k];
    if (Array.isArray(branches) && branches.length) {
      // Prefer a branch that is not null; siblings of anyOf (properties beside it) are folded into each branch.
      const { [k]: _b, ...rest } = schema;
      for (const b of orderBranches(branches)) {
        const v = build(Object.keys(rest).length ? { allOf: [rest, b] } : b, ctx, refs, depth + 1);
        if (v !== undefined) return v;
      }
      return undefined;
    }
  }
  switch (typeOf(schema)) {
    case 'object':
      return buildObject(schema, ctx, refs, depth);
    case 'array':
      return buildArray(schema, ctx, refs, depth);
    case 'string':
      return exampleString(schema);
    case 'integer':
      return exampleNumber(schema, true);
    case 'number':
      return exampleNumber(schema, false);
    case 'boolean':
      return true;
    case 'null':
      return null;
    default:
      return 'example';
  }
}

function typeOf(schema: Obj): string | undefined {
  const t = schema.type;
  if (typeof t === 'string') return t;
  if (Array.isArray(t)) return (t.find((x) => x !== 'null') ?? t[0]) as string | undefined;
  if (schema.properties || schema.additionalProperties || schema.required) return 'object';
  if (schema.items || schema.prefixItems) return 'array';
  return undefined;
}

function orderBranches(branches: unknown[]): unknown[] {
  const isNull = (b: unknown) => isObject(b) && (b.type === 'null' || (Array.isArray(b.enum) && b.enum.length === 1 && (b.enum[0] === null || b.enum[0] === '')));
  return [...branches.filter((b) => !isNull(b)), ...branches.filter(isNull)];
}

function buildAllOf(schema: Obj, ctx: Ctx, refs: string[], depth: number): unknown {
  const { allOf, ...rest } = schema;
  let out: unknown;
  for (const part of [...(allOf as unknown[]), ...(Object.keys(rest).length ? [rest] : [])]) {
    const v = build(part, ctx, refs, depth + 1);
    if (v === undefined) return undefined;
    out = isObject(out) && isObject(v) ? { ...out, ...v } : out === undefined || isObject(v) ? v : out;
  }
  return out;
}

function buildObject(schema: Obj, ctx: Ctx, refs: string[], depth: number): unknown {
  const props = (isObject(schema.properties) ? schema.properties : {}) as Obj;
  const required = Array.isArray(schema.required) ? (schema.required as string[]) : [];
  const out: Obj = {};
  const add = (name: string): boolean => {
    if (Object.hasOwn(out, name)) return true;
    const v = build(Object.hasOwn(props, name) ? props[name] : isObject(schema.additionalProperties) ? schema.additionalProperties : true, ctx, refs, depth + 1);
    if (v === undefined) return false;
    out[name] = v;
    // `dependentRequired: { a: ['b'] }` (2019-09+; draft-07 `dependencies` with a list): a present `a` needs `b` too.
    return dependents(schema, name).every(add);
  };
  for (const name of required) if (!add(name)) return undefined;
  const min = typeof schema.minProperties === 'number' ? schema.minProperties : 0;
  for (const name of Object.keys(props)) {
    if (Object.keys(out).length >= min) break;
    const before = { ...out };
    if (!add(name)) for (const k of Object.keys(out)) if (!Object.hasOwn(before, k)) delete out[k];
  }
  return out;
}

function dependents(schema: Obj, name: string): string[] {
  const list = (map: unknown) => (isObject(map) && Array.isArray(map[name]) ? (map[name] as unknown[]).filter((d): d is string => typeof d === 'string') : []);
  return [...list(schema.dependentRequired), ...list(schema.dependencies)];
}

function buildArray(schema: Obj, ctx: Ctx, refs: string[], depth: number): unknown {
  const min = typeof schema.minItems === 'number' ? schema.minItems : 0;
  const max = typeof schema.maxItems === 'number' ? schema.maxItems : Infinity;
  if (max === 0) return [];
  // A tuple: 2020-12 `prefixItems` (then `items` for the rest), or draft-07 `items: [...]` (then `additionalItems`).
  const prefix = Array.isArray(schema.prefixItems) ? schema.prefixItems : Array.isArray(schema.items) ? schema.items : undefined;
  if (prefix) return buildTuple(prefix, Array.isArray(schema.items) ? schema.additionalItems : schema.items, min, max, ctx, refs, depth);
  const item = build(schema.items ?? true, ctx, refs, depth + 1);
  if (item === undefined) return min === 0 ? [] : undefined;
  // uniqueItems with more than one item would need distinct values; one item shows the shape.
  const count = Math.max(1, schema.uniqueItems === true ? Math.min(min, 1) : min);
  return Array.from({ length: count }, () => item);
}

/** Every prefix item (a tuple usually means all of them), then `rest` items up to `minItems`. */
function buildTuple(prefix: unknown[], rest: unknown, min: number, max: number, ctx: Ctx, refs: string[], depth: number): unknown {
  const out: unknown[] = [];
  const count = Math.min(max, Math.max(min, prefix.length));
  for (let i = 0; i < count; i++) {
    const v = build(i < prefix.length ? prefix[i] : (rest ?? true), ctx, refs, depth + 1);
    if (v === undefined) return out.length >= min ? out : undefined;
    out.push(v);
  }
  return out;
}

const FORMATS: Record<string, string> = {
  'date-time': '2024-01-01T00:00:00Z',
  date: '2024-01-01',
  time: '12:00:00Z',
  email: 'user@example.com',
  'idn-email': 'user@example.com',
  uri: 'https://example.com',
  url: 'https://example.com',
  'uri-reference': 'https://example.com',
  iri: 'https://example.com',
  hostname: 'example.com',
  ipv4: '192.0.2.1',
  ipv6: '2001:db8::1',
  uuid: '3fa85f64-5717-4562-b3fc-2c963f66afa6',
  byte: 'ZXhhbXBsZQ==',
  binary: 'example',
  password: 'example-password',
  duration: 'P1D',
  regex: '.*',
  'json-pointer': '/example',
};

// Tried in order against a `pattern`: short values of the shapes patterns usually ask for.
const PATTERN_CANDIDATES = ['example', 'abc', 'ABC', '123', 'a1', 'A1', '1', 'a', 'US', 'USD', 'usd', 'en', 'en-US', 'abc123', '+15005550006', 'AC00000000000000000000000000000000'];

function exampleString(schema: Obj): string {
  const min = typeof schema.minLength === 'number' ? schema.minLength : 0;
  const max = typeof schema.maxLength === 'number' ? schema.maxLength : Infinity;
  const fit = (s: string) => (s.length < min ? s.padEnd(min, 'x') : s.length > max ? s.slice(0, max) : s);
  const format = typeof schema.format === 'string' ? FORMATS[schema.format] : undefined;
  if (typeof schema.pattern === 'string') {
    let re: RegExp | undefined;
    try {
      re = new RegExp(schema.pattern, 'u');
    } catch {
      re = undefined;
    }
    if (re) {
      for (const c of [...(format ? [format] : []), ...PATTERN_CANDIDATES]) {
        const s = fit(c);
        if (re.test(s)) return s;
      }
      const made = fromPattern(schema.pattern);
      if (made !== undefined && re.test(made)) return made;
    }
  }
  return fit(format ?? 'example');
}

/**
 * A string for simple anchored patterns (`^[A-Z]{2}[0-9]+$`, `^AC[0-9a-fA-F]{32}$`): literals, classes and `{n}`,
 * `+`, `*`, `?` quantifiers. Anything richer returns undefined.
 */
export function fromPattern(pattern: string): string | undefined {
  let p = pattern.replace(/^\^/, '').replace(/\$$/, '');
  let out = '';
  while (p.length) {
    let unit: string | undefined;
    if (p[0] === '[') {
      const end = p.indexOf(']', 1);
      if (end < 0) return undefined;
      unit = firstOfClass(p.slice(1, end));
      p = p.slice(end + 1);
    } else if (p[0] === '\\') {
      const c = p[1];
      unit = c === 'd' ? '1' : c === 'w' ? 'a' : c === 's' ? ' ' : /[.\-+*?()[\]{}|/\\^$]/.test(c) ? c : undefined;
      p = p.slice(2);
    } else if (p[0] === '(') {
      // A group: its first alternative (`(SM|MM)` → 'SM'); nested groups are beyond this helper.
      const end = p.indexOf(')');
      const inner = p.slice(p.startsWith('(?:') ? 3 : 1, end);
      if (end < 0 || inner.includes('(')) return undefined;
      unit = fromPattern(inner.split('|')[0]);
      p = p.slice(end + 1);
    } else if (p[0] === '|' || p[0] === ')') {
      return undefined;
    } else {
      unit = p[0] === '.' ? 'a' : p[0];
      p = p.slice(1);
    }
    if (unit === undefined) return undefined;
    const q = /^(\{(\d+)(?:,(\d*))?\}|[+*?])/.exec(p);
    let times = 1;
    if (q) {
      times = q[2] !== undefined ? Number(q[2]) : q[1] === '*' || q[1] === '?' ? 0 : 1;
      p = p.slice(q[0].length);
    }
    out += unit.repeat(times);
  }
  return out;
}

function firstOfClass(body: string): string | undefined {
  if (body.startsWith('^')) return /[^a-z]/.test(body) ? undefined : 'A';
  const c = body[0];
  if (c === '\\') return body[1] === 'd' ? '1' : body[1] === 'w' ? 'a' : body[1];
  return c;
}

function exampleNumber(schema: Obj, integer: boolean): number {
  const num = (k: string) => (typeof schema[k] === 'number' ? (schema[k] as number) : undefined);
  const step = num('multipleOf');
  let lo = num('minimum');
  const exLo = num('exclusiveMinimum');
  if (exLo !== undefined) lo = Math.max(lo ?? -Infinity, exLo + (integer ? 1 : Math.min(1, step ?? 1)));
  let hi = num('maximum');
  const exHi = num('exclusiveMaximum');
  if (exHi !== undefined) hi = Math.min(hi ?? Infinity, exHi - (integer ? 1 : Math.min(1, step ?? 1)));
  let v = lo ?? (hi !== undefined && hi < 1 ? hi : 1);
  if (integer) v = Math.ceil(v);
  if (step) v = Math.ceil(v / step) * step;
  return v;
}
