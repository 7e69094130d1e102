// Compiles an action's JSON Schemas into validators once per plan, and turns their errors into issues.
//
// Two engines, chosen per schema: Ajv generates code (fastest per call, but compiling a large schema such as a Stripe
// request body takes 20–100 ms), while @cfworker/json-schema interprets (no compile step, ~10 µs per call on large
// schemas). Small self-contained schemas use Ajv; large ones and those that reach shared components are interpreted,
// so that the first run of any action compiles its plan in a few milliseconds. Ajv compiles
// at roughly 0.1 ms per schema node (more with anyOf), so the cut-off keeps a compile near 5 ms.
import { Validator as Interpreter, type OutputUnit } from '@cfworker/json-schema';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { Issue } from '../errors.js';
import type { JsonSchema } from '../model/action.js';

// ajv-formats is CommonJS; its default export arrives wrapped under ESM.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv) => Ajv;

type Location = Issue['location'];
export type LocationValidator = (value: unknown, issues: Issue[]) => void;

/** Schemas with more nodes than this (their referenced components included) are interpreted, not compiled. */
export const COMPILE_NODE_LIMIT = 48;
const REF_PREFIX = 'components#/schemas/';

/** Per app definition: the shared schemas of an imported spec (refs look like `components#/schemas/X`, cycles included). */
export interface AppValidators {
  readonly components: Record<string, JsonSchema>;
}

export function createAppValidators(components?: { schemas?: Record<string, JsonSchema> } | Record<string, unknown>): AppValidators {
  return { components: ((components as { schemas?: Record<string, JsonSchema> } | undefined)?.schemas ?? {}) as Record<string, JsonSchema> };
}

// Ajv only ever sees small, self-contained schemas (no refs), so one pair of instances serves every app: registering
// a spec's components with Ajv costs ~15 ms per app (it walks them all), which the interpreter does not need.
let coercingAjv: Ajv | undefined;
let strictAjv: Ajv | undefined;
function ajvFor(coerce: boolean): Ajv {
  if (coerce) return (coercingAjv ??= makeAjv(true));
  return (strictAjv ??= makeAjv(false));
}

function makeAjv(coerce: boolean): Ajv {
  const ajv = new Ajv({
    strict: false,
    allErrors: true,
    coerceTypes: coerce ? 'array' : false,
    validateSchema: false,
    // Formats a spec invents (Stripe's 'unix-time') are documentation, not rules: ignored without a warning.
    logger: false,
    // Codegen optimization halves compile time and barely changes validation speed.
    code: { optimize: false },
  });
  addFormats(ajv);
  // 'binary' and 'byte' strings carry files and bytes (Buffer, Blob, streams), checked by the encoder instead.
  ajv.addFormat('binary', true);
  ajv.addFormat('byte', true);
  ajv.addKeyword({ keyword: 'discriminator' });
  return ajv;
}

/** Compiles one location's schema. `coerce` is for text-on-the-wire locations (params, query, headers, cookies). */
export function compileValidator(v: AppValidators, schema: JsonSchema, location: Location, where: string, coerce = false): LocationValidator {
  const closure = refClosure(schema, v.components);
  if (closure.refs.size === 0 && closure.nodes <= COMPILE_NODE_LIMIT) return compileWithAjv(ajvFor(coerce), schema, location, where);
  const check = interpret(schema, closure.refs, v.components, location);
  return coerce ? (value, issues) => check(coerceText(value, schema), issues) : check;
}

/**
 * Parameters travel as text, so '10' is a fine integer and 'true' a fine boolean; a lone value is a fine one-item
 * array. Ajv does this with coerceTypes; for interpreted schemas the top-level properties are coerced here.
 */
function coerceText(value: unknown, schema: JsonSchema): unknown {
  const props = typeof schema === 'object' ? (schema.properties as Record<string, { type?: unknown }> | undefined) : undefined;
  if (!props || !value || typeof value !== 'object') return value;
  const out = { ...(value as Record<string, unknown>) };
  for (const k in out) {
    const type = props[k]?.type;
    const types = Array.isArray(type) ? type : [type];
    const v = out[k];
    if (typeof v === 'string') {
      if ((types.includes('integer') || types.includes('number')) && v.trim() !== '' && !Number.isNaN(Number(v))) out[k] = Number(v);
      else if (types.includes('boolean') && (v === 'true' || v === 'false')) out[k] = v === 'true';
    }
    if (types.includes('array') && !types.includes('string') && v !== undefined && !Array.isArray(v)) out[k] = [v];
  }
  return out;
}

function compileWithAjv(ajv: Ajv, schema: JsonSchema, location: Location, where: string): LocationValidator {
  let fn: ValidateFunction;
  try {
    fn = ajv.compile(schema);
    // Ajv caches every compiled schema by identity; plans own their validators, so the cache would only grow.
    ajv.removeSchema(schema as object);
  } catch (err) {
    throw new Error(`cannot compile the ${location} schema of ${where}: ${(err as Error).message}`, { cause: err });
  }
  return (value, issues) => {
    if (!fn(value)) for (const e of fn.errors ?? []) issues.push(ajvIssue(e, location));
  };
}

function interpret(schema: JsonSchema, refs: Set<string>, components: Record<string, JsonSchema>, location: Location): LocationValidator {
  const validator = new Interpreter(schema as object, '2019-09', false);
  // Only the components this schema reaches are indexed: indexing all of Stripe's takes ~40 ms.
  if (refs.size) {
    const needed: Record<string, JsonSchema> = {};
    for (const name of refs) needed[name] = components[name];
    validator.addSchema({ schemas: needed } as object, 'components');
  }
  return (value, issues) => {
    const out = validator.validate(value);
    if (!out.valid) for (const e of leafErrors(out.errors)) issues.push(interpreterIssue(e, location));
  };
}

/** Counts schema nodes and collects the component names a schema reaches (transitively). */
export function refClosure(schema: JsonSchema, components: Record<string, JsonSchema>): { nodes: number; refs: Set<string> } {
  const refs = new Set<string>();
  let nodes = 0;
  const stack: unknown[] = [schema];
  while (stack.length) {
    const node = stack.pop();
    if (!node || typeof node !== 'object') continue;
    nodes++;
    if (Array.isArray(node)) {
      for (const x of node) stack.push(x);
      continue;
    }
    for (const [k, val] of Object.entries(node)) {
      if (k === '$ref' && typeof val === 'string' && val.startsWith(REF_PREFIX)) {
        const name = decodeURIComponent(val.slice(REF_PREFIX.length).split('/')[0]).replace(/~1/g, '/').replace(/~0/g, '~');
        if (!refs.has(name) && components[name] !== undefined) {
          refs.add(name);
          stack.push(components[name]);
        }
      } else if (val && typeof val === 'object' && k !== 'example' && k !== 'examples' && k !== 'enum' && k !== 'const' && k !== 'default') {
        stack.push(val);
      }
    }
  }
  return { nodes, refs };
}

function ajvIssue(e: ErrorObject, location: Location): Issue {
  let path = e.instancePath;
  let message = e.message ?? 'is invalid';
  if (e.keyword === 'required') {
    path += `/${(e.params as { missingProperty: string }).missingProperty}`;
    message = 'is required';
  } else if (e.keyword === 'additionalProperties') {
    path += `/${(e.params as { additionalProperty: string }).additionalProperty}`;
    message = 'is not allowed';
  } else if (e.keyword === 'enum') {
    message = `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  }
  return { location, path, message };
}

// The interpreter reports every level of a failure (the property, its parent, each anyOf branch); users want the
// innermost reasons, plus a single line for a failed anyOf/oneOf rather than every branch's complaint.
const WRAPPERS = new Set(['properties', 'items', 'allOf', '$ref', 'additionalItems', 'prefixItems', 'false', 'unevaluatedProperties']);
function leafErrors(errors: OutputUnit[]): OutputUnit[] {
  const branches = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf').map((e) => e.keywordLocation + '/');
  return errors.filter((e) => !WRAPPERS.has(e.keyword) && !branches.some((b) => e.keywordLocation.startsWith(b)));
}

function interpreterIssue(e: OutputUnit, location: Location): Issue {
  let path = e.instanceLocation.replace(/^#/, '');
  let message = e.error;
  const quoted = /"([^"]+)"/.exec(e.error)?.[1];
  if (e.keyword === 'required' && quoted) {
    path += `/${quoted}`;
    message = 'is required';
  } else if (e.keyword === 'additionalProperties' && quoted) {
    path += `/${quoted}`;
    message = 'is not allowed';
  } else if (e.keyword === 'anyOf' || e.keyword === 'oneOf') {
    message = `must match ${e.keyword === 'anyOf' ? 'at least one' : 'exactly one'} of the allowed shapes`;
  }
  return { location, path, message };
}
