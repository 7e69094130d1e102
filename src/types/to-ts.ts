// JSON Schema → TypeScript type text, for the declaration file `ductape types` writes (small, and ours on purpose).
//
// Schemas arrive resolved (schema/resolve.ts with every component named), so a `$ref` is always `#/$defs/<name>`
// and becomes that component's type name. The mapping follows what a run accepts: `additionalProperties` absent or
// false gives a closed object (so a misspelt key is an excess-property error), text locations (query, params,
// headers) take numbers and booleans as strings and the other way round, as the validators coerce them, and in a
// multipart body `format: binary` takes the file forms the encoder takes.
//
// The text never names a global type (`Record`, `Blob`, `Uint8Array`): it sits inside namespaces holding the spec's
// own names, and a component or event called `Record` or `Blob` would shadow it there. The file-level aliases below
// stand for them, and the generator keeps their names free.
import type { JsonSchema } from '../model/action.js';
import { sliceText } from '../model/json.js';

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface TsContext {
  /** The type name of a named component (`#/$defs/<name>`). */
  refName: (name: string) => string;
  /** Text locations accept `'10'` for 10 and `'true'` for true, as the validators coerce them. */
  text?: boolean;
  /**
   * Where in a multipart request body the schema is read: at the `body` itself, or at one of its `field`s. A binary
   * string field (or an array of them) takes files and bytes; deeper objects are JSON parts, as OpenAPI serializes
   * them, so they take none.
   */
  files?: 'body' | 'field';
  /** The type name of a component read at that multipart level (it may read differently there). */
  filesRefName?: (name: string, level: 'body' | 'field') => string;
}

/** Property names that need no quotes. */
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
export const propertyKey = (name: string) => (IDENTIFIER.test(name) ? name : JSON.stringify(name));

/** Type aliases the generated file declares at its top level, for the globals the types need (see above). */
export const FILE_ALIASES = {
  /**
   * What the encoder takes as a file or a raw body (encode/binary.ts): bytes or a Blob, a file object wrapping them,
   * or text; a file object wrapping text names its filename or content type (else it is an ordinary object).
   */
  DuctapeBinary:
    'string | Blob | Uint8Array | ArrayBuffer | { data: Blob | Uint8Array | ArrayBuffer; filename?: string; contentType?: string } | { data: string; filename: string; contentType?: string } | { data: string; filename?: string; contentType: string }',
  /** A response body that is neither JSON nor text. */
  DuctapeBytes: 'Uint8Array',
};

const MAX_DEPTH = 40;

export function schemaToTs(schema: JsonSchema | undefined, ctx: TsContext, indent = '', depth = 0): string {
  if (schema === undefined || schema === true) return 'unknown';
  if (schema === false) return 'never';
  if (!isObject(schema) || depth > MAX_DEPTH) return 'unknown';
  const next = (s: unknown, i = indent) => schemaToTs(s as JsonSchema, ctx, i, depth + 1);

  if (typeof schema.$ref === 'string') {
    const m = /^#\/\$defs\/([^/]+)$/.exec(schema.$ref);
    const name = m?.[1].replace(/~1/g, '/').replace(/~0/g, '~');
    const base = name === undefined ? 'unknown' : ctx.files && ctx.filesRefName ? ctx.filesRefName(name, ctx.files) : ctx.refName(name);
    const { $ref: _r, ...rest } = schema;
    return hasConstraints(rest) ? `${base} & ${paren(next(rest))}` : base;
  }
  // The validators turn text into a number or boolean only where the schema's `type` names one.
  // A typeless `enum: [1, 2]` (OpenAPI 3.1) in a text location takes '1' too, as the validators match it by its text.
  const declared = typesOf(schema);
  const lit = (v: unknown) => literal(v, ctx.text === true && (declared.length === 0 || declared.some((t) => t === (typeof v === 'boolean' ? 'boolean' : 'number') || (t === 'integer' && Number.isInteger(v)))));
  if (schema.const !== undefined) return lit(schema.const);
  if (Array.isArray(schema.enum)) return schema.enum.length ? unique(schema.enum.map(lit)).join(' | ') : 'never';
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
      if (ctx.files === 'field' && (schema.format === 'binary' || schema.format === 'byte')) return 'DuctapeBinary';
      // '42' is sent for 42 and 'true' for true: text locations take both.
      return ctx.text ? 'string | number | boolean' : 'string';
    case 'integer':
    case 'number':
      return ctx.text ? 'number | `${number}`' : 'number';
    case 'boolean':
      return ctx.text ? "boolean | 'true' | 'false'" : 'boolean';
    case 'null':
      return 'null';
    case 'array': {
      // Items of a multipart field are parts of their own (several files); a body that is an array is not multipart.
      const list = arrayType(schema, ctx.files === 'body' ? (s) => schemaToTs(s as JsonSchema, { ...ctx, files: undefined }, indent, depth + 1) : next);
      // A lone value is a fine one-item array in a query string (the validators coerce it).
      return ctx.text ? `${list} | ${paren(next(schema.items ?? true))}` : list;
    }
    case 'object':
      return objectType(schema, ctx, indent, depth);
    default:
      return 'unknown';
  }
}

/** `T[]`, or a tuple for `prefixItems` (3.1), open at the end unless `items: false`. */
function arrayType(schema: Obj, next: (s: unknown) => string): string {
  if (!Array.isArray(schema.prefixItems)) return `${paren(next(schema.items ?? true))}[]`;
  const head = (schema.prefixItems as unknown[]).map((s) => `${next(s)}?`);
  const min = typeof schema.minItems === 'number' ? schema.minItems : 0;
  for (let i = 0; i < Math.min(min, head.length); i++) head[i] = head[i].slice(0, -1);
  if (schema.items !== false) head.push(`...${paren(next(schema.items ?? true))}[]`);
  return `[${head.join(', ')}]`;
}

function objectType(schema: Obj, ctx: TsContext, indent: string, depth: number): string {
  const props = isObject(schema.properties) ? schema.properties : {};
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  const inner = indent + '  ';
  const lines: string[] = [];
  const propTypes: string[] = [];
  // The members of a multipart body are its fields; an object inside a field is one JSON part.
  const member: TsContext = ctx.files === 'body' ? { ...ctx, files: 'field' } : ctx.files === 'field' ? { ...ctx, files: undefined } : ctx;
  for (const [name, s] of Object.entries(props)) {
    const doc = docOf(s);
    if (doc) lines.push(`${inner}/** ${doc} */`);
    const type = schemaToTs(s as JsonSchema, member, inner, depth + 1);
    propTypes.push(paren(type));
    lines.push(`${inner}${propertyKey(name)}${required.has(name) ? '' : '?'}: ${type};`);
  }
  // Required names without a schema of their own still must be there.
  for (const name of required) if (!Object.hasOwn(props, name)) lines.push(`${inner}${propertyKey(name)}: unknown;`);
  const extra = schema.additionalProperties;
  const patterned = isObject(schema.patternProperties);
  const body = lines.length ? `{\n${lines.join('\n')}\n${indent}}` : undefined;
  if ((extra === undefined || extra === false) && !patterned) return body ?? (extra === false ? '{ [key: string]: never }' : '{}');
  const value = extra === undefined || extra === true || patterned ? 'unknown' : schemaToTs(extra as JsonSchema, member, indent, depth + 1);
  // TypeScript holds the declared properties to the index signature too, where JSON Schema's additionalProperties
  // covers only the others: the signature also takes the declared properties' types, or valid objects are refused.
  const map = `{ [key: string]: ${value === 'unknown' ? value : unique([paren(value), ...propTypes]).join(' | ')} }`;
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

/** A literal type; in a text location a number or boolean is also taken as its text (`2 | "2"`), as coerced. */
function literal(v: unknown, text = false): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return text ? `${JSON.stringify(v)} | "${v}"` : JSON.stringify(v);
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
  const short = line.length > 160 ? `${sliceText(line, 157)}…` : line;
  return short.replace(/\*\//g, '* /') + (s.deprecated ? ' @deprecated' : '');
}
