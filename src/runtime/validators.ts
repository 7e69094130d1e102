// Compiles an action's JSON Schemas into validators once per plan, and turns their errors into issues.
//
// One engine for every schema, large or small: @cfworker/json-schema's `validate`, an interpreter with no compile
// step (a Stripe request body is ready in well under a millisecond, where generated code takes 20–100 ms). We never
// let it `dereference` our schemas: that walk writes hidden properties onto the (shared) schema objects, reads any
// object with an `id`/`$id` (a spec's `example: { id: "cus_1" }` included) as a new base URI, and throws "Duplicate
// schema URI" when two examples share an id. Instead, compiling walks the schema once, resolves each `$ref` it meets
// to its target and hands the interpreter that table: a plan depends on nothing but its own schemas.
//
// Values are never changed in place: text-on-the-wire locations are coerced into a copy (see `coerce`), so the
// caller's object stays exactly as given.
import { validate as interpret, type OutputUnit, type Schema as InterpretedSchema } from '@cfworker/json-schema';
import { ConfigError, type Issue } from '../errors.js';
import type { JsonSchema } from '../model/action.js';
import { DATA_KEYWORDS, SCHEMA_MAPS } from '../schema/resolve.js';
import { compileAccept } from './fast-accept.js';

type Location = Issue['location'];
type Obj = Record<string, unknown>;
export type LocationValidator = (value: unknown, issues: Issue[]) => void;

const COMPONENTS = 'components#';

/** Per app definition: the shared schemas of an imported spec (refs look like `components#/schemas/X`, cycles included). */
export interface AppValidators {
  readonly components: Record<string, JsonSchema>;
}

export function createAppValidators(components?: { schemas?: Record<string, JsonSchema> } | Record<string, unknown>): AppValidators {
  return { components: ((components as { schemas?: Record<string, JsonSchema> } | undefined)?.schemas ?? {}) as Record<string, JsonSchema> };
}

/**
 * Compiles one location's schema. `coerce` is for text-on-the-wire locations (params, query, headers, cookies):
 * '10' is a fine integer there, 'true' a fine boolean, a lone value a fine one-item array.
 * Throws a CONFIG_ERROR when the schema cannot be used (a `$ref` to nothing, a pattern that is not a regex).
 */
export function compileValidator(v: AppValidators, schema: JsonSchema, location: Location, where: string, coerce = false): LocationValidator {
  const what = `the ${location} schema of ${where}`;
  const refs = resolveRefs(schema, v.components, what);
  const loop = sameValueLoop(schema, refs);
  if (loop?.always) throw loopError(what, loop.refs);
  // Plain schemas also get a compiled yes-check: a valid value (the usual case) skips the interpreter (fast-accept.ts).
  const accept = compileAccept(schema, refs);
  return (value, issues) => {
    const input = coerce ? coerceValue(value, schema, refs, 0) : value;
    if (accept !== undefined && accept(input)) return;
    let out: ReturnType<typeof interpretJson>;
    try {
      out = interpretJson(input, schema, refs);
    } catch (err) {
      // A value that reaches a loop elsewhere in the schema (under one of its properties) overflows the interpreter.
      throw loop && err instanceof RangeError ? loopError(what, loop.refs) : err;
    }
    if (out === NOT_JSON) {
      issues.push({ location, path: '', message: 'holds a value JSON cannot carry (a function, symbol or bigint)' });
      return;
    }
    if (!out.valid) for (const e of leafErrors(out.errors)) issues.push(issueOf(e, schema, refs, location));
  };
}

/**
 * The interpreter's verdict on a value as JSON reads it: the interpreter throws on values JSON has no form for, so then
 * `undefined` members count as absent (array items as null) and functions, symbols and bigints are refused (NOT_JSON).
 * A value refused as it is, holding a Date (or another object with `toJSON`), is judged again as it is sent: a JSON
 * body writes its `toJSON()` text, and the text encoders write a Date as ISO 8601 (`type: string, format: date-time`).
 */
export function interpretJson(value: unknown, schema: JsonSchema, refs: Record<string, JsonSchema>): OutputUnitList | typeof NOT_JSON {
  const run = (v: unknown) => interpret(v, schema as unknown as InterpretedSchema, '2019-09', refs as Record<string, InterpretedSchema>, false);
  let out: OutputUnitList;
  try {
    out = run(value);
  } catch {
    const json = jsonView(value, 0);
    return json === NOT_JSON ? NOT_JSON : run(json);
  }
  if (out.valid || value === null || typeof value !== 'object') return out;
  const json = jsonView(value, 0);
  return json === value || json === NOT_JSON ? out : run(json);
}

type OutputUnitList = ReturnType<typeof interpret>;

/**
 * Walks a schema and everything it reaches, and returns each `$ref` string met → its target schema (the table the
 * interpreter resolves refs with). Patterns are checked here so that a bad one fails the compile, not a run.
 */
export function resolveRefs(schema: JsonSchema, components: Record<string, JsonSchema>, what: string): Record<string, JsonSchema> {
  const refs: Record<string, JsonSchema> = Object.create(null);
  const stack: unknown[] = [schema];
  while (stack.length) {
    const node = stack.pop();
    if (!node || typeof node !== 'object') continue;
    if (Array.isArray(node)) {
      for (const x of node) stack.push(x);
      continue;
    }
    for (const k in node as Obj) {
      const val = (node as Obj)[k];
      if (k === '$ref' && typeof val === 'string') {
        if (!(val in refs)) {
          const target = refTarget(val, schema, components);
          if (target === undefined) throw new ConfigError(`Cannot resolve $ref "${val}" in ${what}: it names no schema of the app.`, { ref: val });
          refs[val] = target;
          stack.push(target);
        }
      } else if (k === 'pattern' && typeof val === 'string') {
        checkPattern(val, what);
      } else if (k === 'patternProperties' && val && typeof val === 'object') {
        for (const p in val as Obj) {
          checkPattern(p, what);
          stack.push((val as Obj)[p]);
        }
      } else if (val && typeof val === 'object' && SCHEMA_MAPS.has(k) && !Array.isArray(val)) {
        // A map of schemas: a property named `default` or `const` is a schema like the others (its refs count).
        for (const name in val as Obj) stack.push((val as Obj)[name]);
      } else if (val && typeof val === 'object' && !DATA_KEYWORDS.has(k)) {
        stack.push(val);
      }
    }
  }
  return refs;
}

/** The error for a schema with a same-value `$ref` loop (see sameValueLoop). */
function loopError(what: string, loop: string[]): ConfigError {
  return new ConfigError(
    `Cannot use ${what}: $ref ${loop.map((r) => `"${r}"`).join(' → ')} leads back to itself without looking into the value (a schema that is only a $ref to itself, or reaches itself through allOf/anyOf/oneOf/not/if), so no value can be checked against it.`,
    { refs: loop },
  );
}

// Keywords whose subschemas apply to the very value their schema applies to (not to a property or an item of it).
const SAME_VALUE_ONE = ['not', 'if', 'then', 'else'];
const SAME_VALUE_LIST = ['allOf', 'anyOf', 'oneOf'];

/**
 * The `$ref`s of a loop that returns to a schema without stepping into the value (`A: { $ref: B }, B: { $ref: A }`,
 * `A: { allOf: [{ $ref: A }] }`), or undefined. The interpreter would recurse on such a loop until the stack overflows
 * (a RangeError). `always` when the schema itself reaches the loop, so every value would; otherwise only a value
 * with the property or item that leads there does. A recursive schema that goes through `properties` or `items` is fine.
 */
function sameValueLoop(root: JsonSchema, refs: Record<string, JsonSchema>): { refs: string[]; always: boolean } | undefined {
  const state = new Map<object, 'open' | 'done'>();
  const trail: string[] = [];
  const visit = (node: unknown): boolean => {
    if (!node || typeof node !== 'object' || Array.isArray(node)) return false;
    const seen = state.get(node);
    if (seen) return seen === 'open';
    state.set(node, 'open');
    const schema = node as Obj;
    if (typeof schema.$ref === 'string') {
      trail.push(schema.$ref);
      if (visit(refs[schema.$ref])) return true;
      trail.pop();
    }
    for (const k of SAME_VALUE_ONE) if (visit(schema[k])) return true;
    for (const k of SAME_VALUE_LIST) {
      const list = schema[k];
      if (Array.isArray(list)) for (const sub of list) if (visit(sub)) return true;
    }
    state.set(node, 'done');
    return false;
  };
  if (visit(root)) return { refs: trail, always: true };
  for (const target of Object.values(refs)) if (visit(target)) return { refs: trail, always: false };
  return undefined;
}

function refTarget(ref: string, root: JsonSchema, components: Record<string, JsonSchema>): JsonSchema | undefined {
  if (ref.startsWith(COMPONENTS)) return pointerGet({ schemas: components }, ref.slice(COMPONENTS.length)) as JsonSchema | undefined;
  if (ref.startsWith('#')) return pointerGet(root, ref.slice(1)) as JsonSchema | undefined;
  return undefined;
}

/** Follows a URI-fragment JSON pointer (`/schemas/A%20B/properties/x`). */
function pointerGet(doc: unknown, pointer: string): unknown {
  if (pointer === '') return doc;
  if (!pointer.startsWith('/')) return undefined;
  let node = doc;
  for (const raw of pointer.slice(1).split('/')) {
    let token: string;
    try {
      token = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    } catch {
      return undefined;
    }
    if (!node || typeof node !== 'object' || !Object.hasOwn(node, token)) return undefined;
    node = (node as Obj)[token];
  }
  return node;
}

function checkPattern(pattern: string, what: string): void {
  try {
    new RegExp(pattern, 'u');
  } catch (err) {
    throw new ConfigError(`The pattern ${JSON.stringify(pattern)} in ${what} is not a valid regular expression: ${(err as Error).message}`, { pattern });
  }
}

// ---- values as JSON ------------------------------------------------------------------------------------------------

export const NOT_JSON = Symbol('not JSON');

/**
 * The value as JSON sees it: `toJSON()` applied (a Date is its ISO text), `undefined` members dropped (copy on write);
 * NOT_JSON for functions, symbols, bigints.
 */
function jsonView(value: unknown, depth: number): unknown {
  const t = typeof value;
  if (t === 'function' || t === 'symbol' || t === 'bigint') return NOT_JSON;
  if (value === null || t !== 'object' || depth > 64) return value;
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return jsonView((value as { toJSON: () => unknown }).toJSON(), depth + 1);
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const x = value[i] === undefined ? null : jsonView(value[i], depth + 1);
      if (x === NOT_JSON) return NOT_JSON;
      if (x !== value[i]) (copy ??= value.slice())[i] = x;
    }
    return copy ?? value;
  }
  let copy: Obj | undefined;
  for (const k in value as Obj) {
    const item = (value as Obj)[k];
    if (item === undefined) {
      copy ??= { ...(value as Obj) };
      delete copy[k];
      continue;
    }
    const x = jsonView(item, depth + 1);
    if (x === NOT_JSON) return NOT_JSON;
    if (x !== item) (copy ??= { ...(value as Obj) })[k] = x;
  }
  return copy ?? value;
}

// ---- coercion of text-on-the-wire values -----------------------------------------------------------------------------

/**
 * Returns `value` as the schema reads text-on-the-wire values, at any depth: numeric text → number where a number
 * is expected, 'true'/'false' → boolean, '' → null where only null fits, number/boolean → text where text is
 * expected, a lone value → a one-item array, a one-item array → its item where no array fits. Copy on write: the
 * value passed in is never changed.
 */
export function coerceValue(value: unknown, schema: JsonSchema, refs: Record<string, JsonSchema>, depth: number): unknown {
  if (value === undefined || depth > 40 || !schema || typeof schema !== 'object') return value;
  const s = schema as Obj;
  let v: unknown = value;
  if (typeof s.$ref === 'string' && refs[s.$ref] !== undefined) v = coerceValue(v, refs[s.$ref], refs, depth + 1);
  if (Array.isArray(s.allOf)) for (const b of s.allOf) v = coerceValue(v, b as JsonSchema, refs, depth + 1);
  if (Array.isArray(s.anyOf)) v = coerceBranches(v, s.anyOf as JsonSchema[], refs, depth + 1);
  if (Array.isArray(s.oneOf)) v = coerceBranches(v, s.oneOf as JsonSchema[], refs, depth + 1);
  const types = typesOf(s);
  if (types) v = coerceScalar(v, types);
  else if (s.const !== undefined || Array.isArray(s.enum)) v = sameText(v, s.const !== undefined ? [s.const] : (s.enum as unknown[]));
  if (v !== null && typeof v === 'object') {
    if (Array.isArray(v)) v = coerceItems(v, s, refs, depth);
    else if (isPlain(v)) v = coerceMembers(v as Obj, s, refs, depth);
  }
  return v;
}

/** A schema's `type` as written: one name or a list (no array is built per value for the common single name). */
type Types = string | readonly string[];

const hasType = (types: Types, t: string): boolean => (typeof types === 'string' ? types === t : types.includes(t));

function typesOf(s: Obj): Types | undefined {
  if (typeof s.type === 'string') return s.type;
  if (Array.isArray(s.type)) return s.type as string[];
  return undefined;
}

function fits(value: unknown, types: Types): boolean {
  if (value === null) return hasType(types, 'null');
  if (Array.isArray(value)) return hasType(types, 'array');
  const t = typeof value;
  if (t === 'number') return hasType(types, 'number') || (hasType(types, 'integer') && Number.isInteger(value));
  return hasType(types, t);
}

function coerceScalar(value: unknown, types: Types): unknown {
  if (fits(value, types)) return value;
  if (Array.isArray(value)) {
    if (value.length !== 1) return value;
    const item = coerceScalar(value[0], types);
    return fits(item, types) ? item : value;
  }
  if (typeof value === 'string') {
    const n = value.trim() === '' ? NaN : Number(value);
    if (hasType(types, 'integer') && Number.isInteger(n)) return n;
    if (hasType(types, 'number') && Number.isFinite(n)) return n;
    if (hasType(types, 'boolean') && (value === 'true' || value === 'false')) return value === 'true';
    if (hasType(types, 'null') && value === '') return null;
  } else if ((typeof value === 'number' || typeof value === 'boolean') && hasType(types, 'string')) {
    return String(value);
  }
  if (hasType(types, 'array') && value !== null && !isPlain(value)) return [value];
  return value;
}

/**
 * A typeless `const` or `enum` (OpenAPI 3.1 specs write `const: '2'`, `enum: [1, 2]`): the allowed value whose text on
 * the wire is the given one's (2 for a header `const: '2'`, '1' for a path `enum: [1, 2]`), else the value as given.
 */
function sameText(value: unknown, allowed: unknown[]): unknown {
  const t = typeof value;
  if (t !== 'string' && t !== 'number' && t !== 'boolean') return value;
  if (allowed.includes(value)) return value;
  const text = String(value);
  return allowed.find((a) => (typeof a === 'string' || typeof a === 'number' || typeof a === 'boolean') && String(a) === text) ?? value;
}

/** anyOf/oneOf: the first branch whose type the value already has, else the first branch that coerces it. */
function coerceBranches(value: unknown, branches: JsonSchema[], refs: Record<string, JsonSchema>, depth: number): unknown {
  const resolved = branches.map((b) => deref(b, refs));
  for (let i = 0; i < branches.length; i++) {
    const types = typesOf(resolved[i]);
    if (types && fits(value, types)) return coerceValue(value, branches[i], refs, depth);
  }
  for (const b of branches) {
    const c = coerceValue(value, b, refs, depth);
    if (c !== value) return c;
  }
  return value;
}

function deref(schema: JsonSchema, refs: Record<string, JsonSchema>): Obj {
  let s = schema as unknown;
  for (let i = 0; i < 16 && s && typeof s === 'object' && typeof (s as Obj).$ref === 'string' && !(s as Obj).type; i++) s = refs[(s as Obj).$ref as string];
  return s && typeof s === 'object' ? (s as Obj) : {};
}

function coerceMembers(value: Obj, s: Obj, refs: Record<string, JsonSchema>, depth: number): Obj {
  const props = s.properties && typeof s.properties === 'object' ? (s.properties as Record<string, JsonSchema>) : undefined;
  const extra = s.additionalProperties && typeof s.additionalProperties === 'object' ? (s.additionalProperties as JsonSchema) : undefined;
  if (!props && !extra) return value;
  let copy: Obj | undefined;
  for (const k in value) {
    const sub = props && Object.hasOwn(props, k) ? props[k] : extra;
    if (sub === undefined) continue;
    const c = coerceValue(value[k], sub, refs, depth + 1);
    if (c !== value[k]) (copy ??= { ...value })[k] = c;
  }
  return copy ?? value;
}

function coerceItems(value: unknown[], s: Obj, refs: Record<string, JsonSchema>, depth: number): unknown[] {
  const tuple = Array.isArray(s.prefixItems) ? (s.prefixItems as JsonSchema[]) : Array.isArray(s.items) ? (s.items as JsonSchema[]) : undefined;
  const rest = !Array.isArray(s.items) && s.items && typeof s.items === 'object' ? (s.items as JsonSchema) : undefined;
  if (!tuple && !rest) return value;
  let copy: unknown[] | undefined;
  for (let i = 0; i < value.length; i++) {
    const sub = tuple && i < tuple.length ? tuple[i] : rest;
    if (sub === undefined) continue;
    const c = coerceValue(value[i], sub, refs, depth + 1);
    if (c !== value[i]) (copy ??= value.slice())[i] = c;
  }
  return copy ?? value;
}

function isPlain(v: unknown): boolean {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

// ---- errors → issues -------------------------------------------------------------------------------------------------

// The interpreter reports every level of a failure (the property, its parent, each anyOf branch); users want the
// innermost reasons, plus a single line for a failed anyOf/oneOf rather than every branch's complaint.
const WRAPPERS = new Set([
  'properties',
  'patternProperties',
  'additionalProperties',
  'unevaluatedProperties',
  'items',
  'prefixItems',
  'additionalItems',
  'unevaluatedItems',
  'allOf',
  '$ref',
  '$recursiveRef',
  'then',
  'else',
  'dependentSchemas',
]);

function leafErrors(errors: OutputUnit[]): OutputUnit[] {
  const branches = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf').map((e) => e.keywordLocation + '/');
  const leaves = errors.filter((e) => !WRAPPERS.has(e.keyword) && !branches.some((b) => e.keywordLocation.startsWith(b)));
  // A dependency on a schema ("has x but does not match dependant schema") is a wrapper when its reasons follow.
  return leaves.filter((e) => !(e.keyword === 'dependencies' && e.error.includes('dependant schema')));
}

/** The schema object holding the keyword at `keywordLocation` (`#/properties/a/$ref/items/type` → the items schema). */
function keywordParent(root: JsonSchema, keywordLocation: string, refs: Record<string, JsonSchema>): Obj {
  const tokens = keywordLocation.replace(/^#\/?/, '').split('/');
  tokens.pop();
  let node: unknown = root;
  for (const raw of tokens) {
    if (!node || typeof node !== 'object') return {};
    const token = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    node = token === '$ref' ? refs[(node as Obj).$ref as string] : (node as Obj)[token];
  }
  return node && typeof node === 'object' ? (node as Obj) : {};
}

// Count keywords → how the message states them.
const COUNTS: Record<string, [string, string, string]> = {
  minLength: ['at least', 'character', 'characters'],
  maxLength: ['at most', 'character', 'characters'],
  minItems: ['at least', 'item', 'items'],
  maxItems: ['at most', 'item', 'items'],
  minProperties: ['at least', 'property', 'properties'],
  maxProperties: ['at most', 'property', 'properties'],
};

function issueOf(e: OutputUnit, root: JsonSchema, refs: Record<string, JsonSchema>, location: Location): Issue {
  let path = decodePath(e.instanceLocation);
  const s = keywordParent(root, e.keywordLocation, refs);
  const quoted = /"([^"]*)"/.exec(e.error)?.[1];
  let message: string;
  switch (e.keyword) {
    case 'type': {
      const types = typesOf(s) ?? [];
      message = `must be ${typeof types === 'string' ? types : types.join(' or ')}`;
      break;
    }
    case 'required':
      path += `/${quoted}`;
      message = 'is required';
      break;
    case 'false':
      message = 'is not allowed';
      break;
    case 'enum':
      message = `must be one of ${((s.enum as unknown[]) ?? []).map((x) => JSON.stringify(x)).join(', ')}`;
      break;
    case 'const':
      message = `must be ${JSON.stringify(s.const)}`;
      break;
    case 'anyOf':
      message = 'must match at least one of the allowed shapes';
      break;
    case 'oneOf':
      message = 'must match exactly one of the allowed shapes';
      break;
    case 'not':
      message = 'must not match the excluded shape';
      break;
    case 'minimum':
      message = `must be ${s.exclusiveMinimum === true ? '>' : '>='} ${s.minimum}`;
      break;
    case 'maximum':
      message = `must be ${s.exclusiveMaximum === true ? '<' : '<='} ${s.maximum}`;
      break;
    case 'exclusiveMinimum':
      message = `must be > ${s.exclusiveMinimum}`;
      break;
    case 'exclusiveMaximum':
      message = `must be < ${s.exclusiveMaximum}`;
      break;
    case 'multipleOf':
      message = `must be a multiple of ${s.multipleOf}`;
      break;
    case 'minLength':
    case 'maxLength':
    case 'minItems':
    case 'maxItems':
    case 'minProperties':
    case 'maxProperties': {
      const [bound, one, many] = COUNTS[e.keyword];
      const n = s[e.keyword];
      message = `must have ${bound} ${n} ${n === 1 ? one : many}`;
      break;
    }
    case 'uniqueItems':
      message = `must not have duplicate items (${e.error.replace(/^Duplicate items at /, '').replace(/\.$/, '')})`;
      break;
    case 'pattern':
      message = `must match pattern ${JSON.stringify(s.pattern)}`;
      break;
    case 'format':
      message = `must match format ${JSON.stringify(s.format)}`;
      break;
    case 'propertyNames':
      path += `/${quoted}`;
      message = 'is not an allowed property name';
      break;
    case 'dependentRequired':
    case 'dependencies': {
      const needs = /but does not have "([^"]*)"/.exec(e.error)?.[1];
      message = `must have property ${JSON.stringify(needs)} when ${JSON.stringify(quoted)} is present`;
      break;
    }
    case 'contains':
    case 'minContains':
    case 'maxContains':
      message = 'must contain the required number of matching items';
      break;
    default:
      message = e.error.replace(/^Instance /, '').replace(/\.$/, '');
  }
  return { location, path, message };
}

/** `#/a~1b/0` → `/a~1b/0`: issue paths are JSON pointers, as the interpreter's are minus the leading `#`. */
function decodePath(instanceLocation: string): string {
  return instanceLocation.replace(/^#/, '');
}
