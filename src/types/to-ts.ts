// JSON Schema → TypeScript type text, for the declaration file `ductape types` writes (small, and ours on purpose).
//
// Schemas arrive resolved (schema/resolve.ts with every component named), so a `$ref` is always `#/$defs/<name>`
// and becomes that component's type name. The mapping follows what a run accepts: `additionalProperties` absent or
// false gives a closed object (so a misspelt key is an excess-property error), text locations (query, params,
// headers) also take numbers and booleans as strings, and `format: binary` takes the file forms the encoder takes.
import type { JsonSchema } from '../model/action.js';

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface TsContext {
  /** The type name of a named component (`#/$defs/<name>`). */
  refName: (name: string) => string;
  /** Text locations accept `'10'` for 10 and `'true'` for true, as the validators coerce them. */
  text?: boolean;
  /** Request side: binary strings accept files and bytes. */
  input?: boolean;
}

/** Property names that need no quotes. */
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
export const propertyKey = (name: string) => (IDENTIFIER.test(name) ? name : JSON.stringify(name));

/** The file forms a request body accepts where a schema says `format: binary` (see docs/running.md, multipart). */
export const BINARY_INPUT = 'string | Blob | Uint8Array | { data: Blob | Uint8Array | string; filename?: string; contentType?: string }';

const MAX_DEPTH = 40;

export function schemaToTs(schema: JsonSchema | undefined, ctx: TsContext, indent = '', depth = 0): string {
  if (schema === undefined || schema === true) return 'unknown';
  if (schema === false) return 'never';
  if (!isObject(schema) || depth > MAX_DEPTH) return 'unknown';
  const next = (s: unknown, i = indent) => schemaToTs(s as JsonSchema, ctx, i, depth + 1);

  if (typeof schema.$ref === 'string') {
    const m = /^#\/\$defs\/([^/]+)$/.exec(schema.$ref);
    const base = m ? ctx.refName(m[1].replace(/~1/g, '/').replace(/~0/g, '~')) : 'unknown';
    const { $ref: _r, ...rest } = schema;
    return hasConstraints(rest) ? `${base} & ${paren(next(rest))}` : base;
  }
  if (schema.const !== undefined) return literal(schema.const);
  if (Array.isArray(schema.enum)) return schema.enum.length ? unique(schema.enum.map(literal)).join(' | ') : 'never';
  const parts: string[] = [];
  for (const k of ['anyOf', 'oneOf'] as const) {
    if (Array.isArray(schema[k])) {
      const { [k]: branches, ...rest } = schema;
      const union = unique((branches as unknown[]).map((b) => paren(next(b))));
      parts.push(hasConstraints(rest) ? `(${union.join(' | ')}) & ${paren(next(rest))}` : union.join(' | '));
      return parts[0];
    }
  }
  if (Array.isArray(schema.allOf)) {
    const { allOf, ...rest } = schema;
    const all = [...(allOf as unknown[]), ...(hasConstraints(rest) ? [rest] : [])].map((b) => paren(next(b)));
    return unique(all).join(' & ');
  }
  const types = typesOf(schema);
  if (types.length === 0) return 'unknown';
  return unique(types.map((t) => single(t, schema, ctx, indent, depth))).join(' | ');
}

function single(type: string, schema: Obj, ctx: TsContext, indent: string, depth: number): string {
  const next = (s: unknown, i = indent) => schemaToTs(s as JsonSchema, ctx, i, depth + 1);
  switch (type) {
    case 'string':
      return ctx.input && (schema.format === 'binary' || schema.format === 'byte') ? BINARY_INPUT : 'string';
    case 'integer':
    case 'number':
      return ctx.text ? 'number | `${number}`' : 'number';
    case 'boolean':
      return ctx.text ? "boolean | 'true' | 'false'" : 'boolean';
    case 'null':
      return 'null';
    case 'array': {
      const item = paren(next(schema.items ?? true));
      // A lone value is a fine one-item array in a query string (the validators coerce it).
      return ctx.text ? `${item}[] | ${item}` : `${item}[]`;
    }
    case 'object':
      return objectType(schema, ctx, indent, depth);
    default:
      return 'unknown';
  }
}

function objectType(schema: Obj, ctx: TsContext, indent: string, depth: number): string {
  const props = isObject(schema.properties) ? schema.properties : {};
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  const inner = indent + '  ';
  const lines: string[] = [];
  for (const [name, s] of Object.entries(props)) {
    const doc = docOf(s);
    if (doc) lines.push(`${inner}/** ${doc} */`);
    lines.push(`${inner}${propertyKey(name)}${required.has(name) ? '' : '?'}: ${schemaToTs(s as JsonSchema, ctx, inner, depth + 1)};`);
  }
  // Required names without a schema of their own still must be there.
  for (const name of required) if (!Object.hasOwn(props, name)) lines.push(`${inner}${propertyKey(name)}: unknown;`);
  const extra = schema.additionalProperties;
  const patterned = isObject(schema.patternProperties);
  const body = lines.length ? `{\n${lines.join('\n')}\n${indent}}` : undefined;
  if ((extra === undefined || extra === false) && !patterned) return body ?? (extra === false ? 'Record<string, never>' : '{}');
  const value = extra === undefined || extra === true || patterned ? 'unknown' : schemaToTs(extra as JsonSchema, ctx, indent, depth + 1);
  const map = `{ [key: string]: ${value} }`;
  return body ? `${body} & ${map}` : map;
}

function typesOf(schema: Obj): string[] {
  const t = schema.type;
  if (typeof t === 'string') return [t];
  if (Array.isArray(t)) return t as string[];
  if (schema.properties || schema.additionalProperties !== undefined || schema.required || schema.patternProperties) return ['object'];
  if (schema.items) return ['array'];
  return [];
}

/** Keywords that change the type (annotations and validation-only keywords do not). */
function hasConstraints(rest: Obj): boolean {
  return ['type', 'properties', 'items', 'enum', 'const', 'anyOf', 'oneOf', 'allOf', 'additionalProperties', 'required'].some((k) => rest[k] !== undefined);
}

function literal(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return JSON.stringify(v);
  return 'unknown';
}

const paren = (t: string) => (/^[\w$."'`[\]<>]+$/.test(t) || t.startsWith('{') && balancedObject(t) ? t : `(${t})`);
const balancedObject = (t: string) => t.endsWith('}') && !/\}\s*[&|]/.test(t);
const unique = (xs: string[]) => [...new Set(xs)];

/** First line of the description, made safe inside a JSDoc comment. */
export function docOf(s: unknown): string | undefined {
  if (!isObject(s)) return undefined;
  const d = typeof s.description === 'string' ? s.description : typeof s.title === 'string' ? s.title : undefined;
  if (!d) return undefined;
  const line = d.split('\n').find((l) => l.trim())?.trim() ?? '';
  const short = line.length > 160 ? `${line.slice(0, 157)}…` : line;
  return short.replace(/\*\//g, '* /') + (s.deprecated ? ' @deprecated' : '');
}
