// A compiled yes-check for the schemas most actions have, run before the interpreter.
//
// The JSON Schema interpreter (validators.ts) builds a JSON pointer string for every property it visits, valid or not:
// on a warm run it was the largest piece of the pipeline. Most request schemas are plain: objects of typed properties,
// arrays, enums, lengths, bounds, patterns. For those, compiling turns the schema into nested closures that answer one
// question, "is this value certainly valid?", without building anything.
//
// The check is one-sided by design: `true` means the interpreter would accept the value too; `false` means "not sure",
// and the interpreter then runs and reports the issues exactly as before. So a value is never judged differently from
// the interpreter, only faster when it is valid. A schema using any keyword the interpreter knows and this file does
// not (oneOf, not, if, patternProperties, multipleOf, …) gets no fast check at all (`undefined`).
import { format as FORMATS, ucs2length } from '@cfworker/json-schema';
import type { JsonSchema } from '../model/action.js';

/** True: the interpreter accepts the value too. False: not certain (the interpreter decides). */
export type Accept = (value: unknown) => boolean;
type Check = (value: unknown) => boolean;

/** Keywords the interpreter acts on and this compiler does not: a schema using one is left to the interpreter. */
const UNSUPPORTED = new Set([
  '$recursiveRef', '$recursiveAnchor', 'not', 'oneOf', 'if', 'then', 'else', 'patternProperties', 'unevaluatedProperties',
  'propertyNames', 'dependentRequired', 'dependentSchemas', 'dependencies', 'prefixItems', 'additionalItems',
  'unevaluatedItems', 'contains', 'minContains', 'maxContains', 'multipleOf', '__absolute_ref__', '__absolute_recursive_ref__',
]);

/** Values nested deeper than this are left to the interpreter (and cyclic values end here). */
const MAX_DEPTH = 32;

type Obj = Record<string, unknown>;

/**
 * Compiles `schema` (with its `$ref` table, as validators.ts resolved it) into a yes-check, or `undefined` when the
 * schema uses a construct the check does not cover.
 */
export function compileAccept(schema: JsonSchema, refs: Record<string, JsonSchema>): Accept | undefined {
  const memo = new Map<unknown, Check | null>();
  try {
    const check = compile(schema, refs, memo);
    if (check === null) return undefined;
    // The interpreter throws on an `undefined`, a function, a symbol or a bigint anywhere it looks, and an anyOf
    // branch may look where the branch that passed did not: only values with none of them anywhere are judged here.
    // A schema that refers to itself without descending (A: allOf [A]) would recurse forever: not certain, then.
    return (value) => {
      if (!isPlainJson(value, 0)) return false;
      try {
        return check(value);
      } catch {
        return false;
      }
    };
  } catch {
    // A schema shape this compiler did not expect (an `enum` that is not an array…): the interpreter judges it.
    return undefined;
  }
}

function compile(schema: unknown, refs: Record<string, JsonSchema>, memo: Map<unknown, Check | null>): Check | null {
  if (schema === true) return anyJson;
  if (!schema || typeof schema !== 'object' || Array.isArray(schema)) return null;
  const known = memo.get(schema);
  if (known !== undefined) return known;
  // Recursive schemas (a tree node whose children are nodes) refer to themselves through this slot.
  let compiled: Check | null = null;
  const self: Check = (v) => compiled!(v);
  memo.set(schema, self);
  compiled = build(schema as Obj, refs, memo);
  memo.set(schema, compiled);
  return compiled;
}

/** The empty schema. Checks only ever see plain JSON values (compileAccept tests that first), all of them valid here. */
const anyJson: Check = () => true;

function build(s: Obj, refs: Record<string, JsonSchema>, memo: Map<unknown, Check | null>): Check | null {
  for (const k in s) if (UNSUPPORTED.has(k)) return null;
  const checks: Check[] = [];
  const add = (c: Check | null | undefined): boolean => {
    if (c === null) return false;
    if (c !== undefined && c !== anyJson) checks.push(c);
    return true;
  };

  if (s.$ref !== undefined) {
    const target = typeof s.$ref === 'string' ? refs[s.$ref] : undefined;
    if (target === undefined || !add(compile(target, refs, memo))) return null;
  }
  if (s.type !== undefined && !add(typeCheck(s.type))) return null;
  if (s.const !== undefined && !add(equalsOneOf([s.const]))) return null;
  if (s.enum !== undefined && !add(Array.isArray(s.enum) ? equalsOneOf(s.enum) : null)) return null;
  for (const key of ['allOf', 'anyOf'] as const) {
    if (s[key] === undefined) continue;
    if (!Array.isArray(s[key])) return null;
    const parts = (s[key] as unknown[]).map((x) => compile(x, refs, memo));
    if (parts.some((p) => p === null)) return null;
    const ps = parts as Check[];
    // anyOf: one branch certainly valid is enough; a branch this check cannot prove sends the value to the interpreter.
    add(key === 'allOf' ? (v) => ps.every((p) => p(v)) : (v) => ps.some((p) => p(v)));
  }
  if (!add(objectCheck(s, refs, memo))) return null;
  if (!add(arrayCheck(s, refs, memo))) return null;
  if (!add(numberCheck(s))) return null;
  if (!add(stringCheck(s))) return null;

  if (checks.length === 0) return anyJson;
  if (checks.length === 1) return checks[0];
  return (v) => {
    for (let i = 0; i < checks.length; i++) if (!checks[i](v)) return false;
    return true;
  };
}

/** The interpreter's name for a plain JSON value's type. */
function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function isPlain(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function typeCheck(type: unknown): Check | null {
  const types = typeof type === 'string' ? [type] : Array.isArray(type) ? type : null;
  if (!types || !types.every((t) => typeof t === 'string')) return null;
  // The common single types get a direct test; a list is looked up.
  if (types.length === 1) {
    switch (types[0]) {
      case 'string':
      case 'boolean':
        return (v) => typeof v === types[0];
      case 'number':
        return (v) => typeof v === 'number';
      case 'integer':
        return (v) => Number.isInteger(v);
      case 'object':
        return (v) => typeof v === 'object' && v !== null && !Array.isArray(v);
      case 'array':
        return (v) => Array.isArray(v);
      case 'null':
        return (v) => v === null;
    }
  }
  const set = new Set(types as string[]);
  const integer = set.has('integer') && !set.has('number');
  return (v) => set.has(kindOf(v)) || (integer && Number.isInteger(v));
}

/** const / enum for scalar values; an object or array compared against them is left to the interpreter. */
function equalsOneOf(values: unknown[]): Check {
  return (v) => {
    if (v !== null && typeof v === 'object') return false;
    for (let i = 0; i < values.length; i++) if (values[i] === v) return true;
    return false;
  };
}

function objectCheck(s: Obj, refs: Record<string, JsonSchema>, memo: Map<unknown, Check | null>): Check | null | undefined {
  const { properties, required, additionalProperties, minProperties, maxProperties } = s;
  if (properties === undefined && required === undefined && additionalProperties === undefined && minProperties === undefined && maxProperties === undefined) return undefined;
  if (required !== undefined && !(Array.isArray(required) && required.every((r) => typeof r === 'string'))) return null;
  if (!optionalCount(minProperties) || !optionalCount(maxProperties)) return null;
  const names: string[] = [];
  const checks: Check[] = [];
  if (properties !== undefined) {
    if (!properties || typeof properties !== 'object') return null;
    for (const name of Object.keys(properties)) {
      const c = compile((properties as Obj)[name], refs, memo);
      if (c === null) return null;
      names.push(name);
      checks.push(c);
    }
  }
  const known = new Set(names);
  let extra: Check | null | undefined;
  if (additionalProperties !== undefined) {
    extra = additionalProperties === false ? undefined : compile(additionalProperties, refs, memo);
    if (extra === null) return null;
  }
  const closed = additionalProperties === false;
  const req = (required ?? []) as string[];
  const min = minProperties as number | undefined;
  const max = maxProperties as number | undefined;
  return (v) => {
    // Constraints on objects say nothing about other types; the type keyword (if any) decides those.
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return true;
    const o = v as Obj;
    // An `undefined` member counts as absent (the validator's JSON view drops it), so it never satisfies `required`.
    for (let i = 0; i < req.length; i++) if (o[req[i]] === undefined || !Object.hasOwn(o, req[i])) return false;
    for (let i = 0; i < names.length; i++) {
      if (!Object.hasOwn(o, names[i])) continue;
      if (!checks[i](o[names[i]])) return false;
    }
    // for…in, as the interpreter iterates for additionalProperties; Object.keys, as it counts for min/maxProperties.
    if (closed || extra !== undefined) {
      for (const k in o) {
        if (known.has(k)) continue;
        if (closed) return false;
        if (!extra!(o[k])) return false;
      }
    }
    if (min !== undefined || max !== undefined) {
      // The interpreter counts `undefined` members, the JSON view does not: with one present, let them decide.
      const keys = Object.keys(o);
      if ((min !== undefined && keys.length < min) || (max !== undefined && keys.length > max)) return false;
      for (let i = 0; i < keys.length; i++) if (o[keys[i]] === undefined) return false;
    }
    return true;
  };
}

function arrayCheck(s: Obj, refs: Record<string, JsonSchema>, memo: Map<unknown, Check | null>): Check | null | undefined {
  const { items, minItems, maxItems, uniqueItems } = s;
  if (items === undefined && minItems === undefined && maxItems === undefined && uniqueItems === undefined) return undefined;
  if (uniqueItems !== undefined && uniqueItems !== false) return null;
  if (!optionalCount(minItems) || !optionalCount(maxItems)) return null;
  if (Array.isArray(items)) return null; // tuple form
  const each = items === undefined ? undefined : compile(items, refs, memo);
  if (each === null) return null;
  const min = minItems as number | undefined;
  const max = maxItems as number | undefined;
  return (v) => {
    if (!Array.isArray(v)) return true;
    if ((min !== undefined && v.length < min) || (max !== undefined && v.length > max)) return false;
    if (each !== undefined) for (let i = 0; i < v.length; i++) if (!each(v[i])) return false;
    return true;
  };
}

function numberCheck(s: Obj): Check | null | undefined {
  const { minimum, maximum, exclusiveMinimum, exclusiveMaximum } = s;
  if (minimum === undefined && maximum === undefined && exclusiveMinimum === undefined && exclusiveMaximum === undefined) return undefined;
  for (const b of [minimum, maximum, exclusiveMinimum, exclusiveMaximum]) if (b !== undefined && typeof b !== 'number') return null;
  const lo = minimum as number | undefined;
  const hi = maximum as number | undefined;
  const xlo = exclusiveMinimum as number | undefined;
  const xhi = exclusiveMaximum as number | undefined;
  return (v) => {
    if (typeof v !== 'number') return true;
    return !((lo !== undefined && v < lo) || (hi !== undefined && v > hi) || (xlo !== undefined && v <= xlo) || (xhi !== undefined && v >= xhi));
  };
}

function stringCheck(s: Obj): Check | null | undefined {
  const { minLength, maxLength, pattern, format } = s;
  // The interpreter looks a format up on its table object, inherited names included: only its own entries are known here.
  if (typeof format === 'string' && format in FORMATS && !Object.hasOwn(FORMATS, format)) return null;
  const formatFn = typeof format === 'string' && Object.hasOwn(FORMATS, format) ? (FORMATS as Record<string, (s: string) => boolean>)[format] : undefined;
  if (minLength === undefined && maxLength === undefined && pattern === undefined && formatFn === undefined) return undefined;
  if (!optionalCount(minLength) || !optionalCount(maxLength)) return null;
  if (pattern !== undefined && typeof pattern !== 'string') return null;
  const re = pattern === undefined ? undefined : new RegExp(pattern, 'u');
  const min = minLength as number | undefined;
  const max = maxLength as number | undefined;
  return (v) => {
    if (typeof v !== 'string') return true;
    if (min !== undefined || max !== undefined) {
      // Lengths count code points, as the interpreter does (a surrogate pair is one character).
      const n = v.length <= 1 ? v.length : ucs2length(v);
      if ((min !== undefined && n < min) || (max !== undefined && n > max)) return false;
    }
    if (re !== undefined && !re.test(v)) return false;
    return formatFn === undefined || formatFn(v);
  };
}

/** JSON values only, to MAX_DEPTH: no `undefined` (member or item), function, symbol, bigint, NaN or class instance. */
function isPlainJson(v: unknown, depth: number): boolean {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(v);
    case 'object': {
      if (v === null) return true;
      if (depth >= MAX_DEPTH) return false;
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) if (!isPlainJson(v[i], depth + 1)) return false;
        return true;
      }
      if (!isPlain(v)) return false;
      for (const k in v) if (!isPlainJson((v as Obj)[k], depth + 1)) return false;
      return true;
    }
    default:
      return false;
  }
}

function optionalCount(n: unknown): boolean {
  return n === undefined || (typeof n === 'number' && Number.isFinite(n));
}
