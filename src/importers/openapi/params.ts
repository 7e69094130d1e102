// Parameters: path-level and operation-level merged (operation wins), OAS 3 style/explode, Swagger collectionFormat.
import type { JsonSchema, ParamDef, ParamLocation, ParamStyle } from '../../model/action.js';
import { isObject, type Resolver } from './refs.js';
import type { SchemaNormalizer } from './schema.js';

type Obj = Record<string, unknown>;

const LOCATIONS = new Set(['path', 'query', 'header', 'cookie']);
// OAS 3 §4.8.12: these header parameters are ignored; content negotiation and auth own them. Swagger 2.0 is
// read the same way: consumes/produces and securityDefinitions own them, and a kept required `Authorization`
// would make every run fail validation while the connection's credentials set that very header.
// One exception (see `negotiationHeader`): an Accept or Content-Type declared with a single value.
export const IGNORED_HEADERS = new Set(['accept', 'content-type', 'authorization']);
const NEGOTIATION_HEADERS = new Set(['accept', 'content-type']);
// Framing headers belong to the HTTP client, which computes them from the body it sends (RFC 9110 §7.6.1, §8.6):
// a declared `Content-Length` or `Transfer-Encoding: chunked` parameter (Azure, PeerTube) is not the caller's to give.
const FRAMING_HEADERS = new Set(['content-length', 'transfer-encoding', 'host', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer']);
// Swagger 2.0 keywords that describe a non-body parameter's value, i.e. its schema.
const SWAGGER_SCHEMA_KEYS = ['type', 'format', 'items', 'default', 'enum', 'maximum', 'exclusiveMaximum', 'minimum', 'exclusiveMinimum', 'maxLength', 'minLength', 'pattern', 'maxItems', 'minItems', 'uniqueItems', 'multipleOf', 'x-nullable'];

export interface ParamContext {
  resolver: Resolver;
  schemas: SchemaNormalizer;
  /** Names the operation in warnings and dropped-keyword notes. */
  where: string;
}

/**
 * Resolved parameter objects of a path item and an operation; the operation's win by (name, in). With
 * `refDescriptions` (OpenAPI 3.1), a `description` beside a parameter's `$ref` overrides the referenced one's, as the
 * 3.1 Reference Object says; 3.0 and Swagger ignore siblings of `$ref`.
 */
export function mergeParameters(pathLevel: unknown, opLevel: unknown, resolver: Resolver, refDescriptions = false): Obj[] {
  const merged = new Map<string, Obj>();
  for (const list of [pathLevel, opLevel]) {
    if (!Array.isArray(list)) continue;
    for (const raw of list) {
      const target = resolver.deref<Obj>(raw);
      const p = refDescriptions && isObject(target) && isObject(raw) && typeof raw.$ref === 'string' && typeof raw.description === 'string' ? { ...target, description: raw.description } : target;
      if (!isObject(p) || typeof p.name !== 'string' || typeof p.in !== 'string') continue;
      // Header names are case-insensitive (RFC 9110 §5.1).
      const key = `${p.in}:${p.in === 'header' ? p.name.toLowerCase() : p.name}`;
      merged.set(key, p);
    }
  }
  return [...merged.values()];
}

export function defaultStyle(location: ParamLocation): ParamStyle {
  return location === 'path' || location === 'header' ? 'simple' : 'form';
}

/** An OpenAPI 3.x parameter; undefined for ones the spec says to ignore. */
export function readParameter(p: Obj, ctx: ParamContext): ParamDef | undefined {
  const location = p.in as ParamLocation;
  if (!LOCATIONS.has(location)) return undefined;
  const name = p.name as string;
  if (location === 'header' && FRAMING_HEADERS.has(name.toLowerCase())) return undefined;
  if (location === 'header' && IGNORED_HEADERS.has(name.toLowerCase())) {
    return NEGOTIATION_HEADERS.has(name.toLowerCase()) && p.schema !== undefined ? negotiationHeader(p, ctx.schemas.normalize(p.schema, ctx.where), ctx) : undefined;
  }
  const def: ParamDef = { name, in: location, required: location === 'path' ? true : p.required === true };
  let example = exampleOf(p, ctx);
  if (isObject(p.content)) {
    const [contentType, media] = Object.entries(p.content)[0] ?? [];
    if (contentType) {
      def.contentType = contentType;
      if (isObject(media) && media.schema !== undefined) def.schema = ctx.schemas.normalize(media.schema, ctx.where);
      if (isObject(media)) example ??= exampleOf(media, ctx);
    }
  } else {
    if (p.schema !== undefined) def.schema = ctx.schemas.normalize(p.schema, ctx.where);
    def.style = (typeof p.style === 'string' ? p.style : defaultStyle(location)) as ParamStyle;
    def.explode = typeof p.explode === 'boolean' ? p.explode : def.style === 'form';
    if (location === 'query') def.allowReserved = p.allowReserved === true;
  }
  // The parameter's own example (OAS 3 puts it there, not in the schema) is what describe's example input starts from.
  if (example !== undefined && isObject(def.schema) && def.schema.example === undefined && def.schema.examples === undefined) def.schema = { ...def.schema, example };
  return annotate(def, p);
}

/** `example`, else the first `examples` entry with a value, of a parameter or media type object. */
export function exampleOf(o: Obj, ctx: ParamContext): unknown {
  if (o.example !== undefined) return o.example;
  if (!isObject(o.examples)) return undefined;
  for (const value of Object.values(o.examples)) {
    const ex = ctx.resolver.deref<Obj>(value);
    if (isObject(ex) && ex.value !== undefined) return ex.value;
  }
  return undefined;
}

/** A Swagger 2.0 path/query/header parameter (body and formData are bodies, see body.ts). */
export function readSwaggerParameter(p: Obj, ctx: ParamContext): ParamDef | undefined {
  const location = p.in as ParamLocation;
  if (!LOCATIONS.has(location) || location === 'cookie') return undefined;
  if (location === 'header' && FRAMING_HEADERS.has(String(p.name).toLowerCase())) return undefined;
  if (location === 'header' && IGNORED_HEADERS.has(String(p.name).toLowerCase())) {
    return NEGOTIATION_HEADERS.has(String(p.name).toLowerCase()) ? negotiationHeader(p, ctx.schemas.normalize(swaggerSchema(p, false), ctx.where), ctx) : undefined;
  }
  const def: ParamDef = { name: p.name as string, in: location, required: location === 'path' ? true : p.required === true };
  def.schema = ctx.schemas.normalize(swaggerSchema(p, false), ctx.where);
  const { style, explode } = p.type === 'array' ? collectionStyle(p.collectionFormat, location) : { style: defaultStyle(location), explode: defaultStyle(location) === 'form' };
  def.style = style;
  def.explode = explode;
  if (location === 'query') def.allowReserved = false;
  return annotate(def, p);
}

/**
 * The schema a Swagger 2.0 non-body parameter (or its `items`) describes inline. The description goes into the
 * schema only for formData fields, which become properties of a body schema.
 */
export function swaggerSchema(p: Obj, withDescription: boolean): Obj {
  const schema: Obj = {};
  for (const key of SWAGGER_SCHEMA_KEYS) {
    if (p[key] === undefined) continue;
    schema[key] = key === 'items' && isObject(p.items) ? swaggerSchema(p.items, false) : p[key];
  }
  if (withDescription && typeof p.description === 'string' && p.description) schema.description = p.description;
  return schema;
}

/**
 * Swagger 2.0 collectionFormat → OAS 3 style/explode (csv is the default). csv is `form` with explode false
 * in a query and `simple` in a path or header; `tsv` has no OAS 3 style, hence Ductape's own 'tabDelimited'.
 * ssv, tsv and pipes keep their delimited style in a path or header too (the encoders join items with it there).
 */
export function collectionStyle(format: unknown, location: ParamLocation | 'formData'): { style: ParamStyle; explode: boolean } {
  switch (format) {
    case 'multi':
      // Swagger 2.0: multi "is valid only for parameters in query or formData"; elsewhere it is read as csv.
      return location === 'query' || location === 'formData' ? { style: 'form', explode: true } : { style: 'simple', explode: false };
    case 'ssv':
      return { style: 'spaceDelimited', explode: false };
    case 'pipes':
      return { style: 'pipeDelimited', explode: false };
    case 'tsv':
      return { style: 'tabDelimited', explode: false };
    default:
      return { style: location === 'path' || location === 'header' ? 'simple' : 'form', explode: false };
  }
}

/**
 * APIs that version through a vendor media type (`Accept: application/vnd.acme+json;version=2`) declare Accept or
 * Content-Type as a parameter with one allowed value (an `enum` or `const` of one, a `default`, or for a required one
 * an `example`), and refuse a
 * request without it, GETs included. Such a header is kept, with that value sent when the caller gives none.
 * Anything else stays ignored as OAS 3 says (content negotiation owns it). For Content-Type, an operation's body
 * wins: the importer drops this parameter when the operation has one (the body's media type is sent).
 */
function negotiationHeader(p: Obj, schema: JsonSchema, ctx: ParamContext): ParamDef | undefined {
  // A required one with only an example states the value too (`Content-Type: application/json` on a bodiless POST).
  const example = p.required === true ? [p.example, isObject(schema) ? schema.example : undefined].find((x) => typeof x === 'string' && x !== '') : undefined;
  const value = singleValue(schema, ctx.schemas.components) ?? (example as string | undefined);
  if (value === undefined) return undefined;
  return annotate({ name: p.name as string, in: 'header', required: false, schema, style: 'simple', explode: false, value }, p);
}

function singleValue(schema: JsonSchema, components: Record<string, JsonSchema>): string | undefined {
  let s: unknown = schema;
  for (let i = 0; i < 8 && isObject(s) && typeof s.$ref === 'string'; i++) s = components[decodeURIComponent(s.$ref.replace(/^components#\/schemas\//, ''))];
  if (!isObject(s)) return undefined;
  if (typeof s.const === 'string') return s.const;
  if (typeof s.default === 'string' && s.default !== '') return s.default;
  const values = Array.isArray(s.enum) ? s.enum.filter((v) => typeof v === 'string' && v !== '') : [];
  return values.length === 1 ? (values[0] as string) : undefined;
}

function annotate(def: ParamDef, p: Obj): ParamDef {
  if (typeof p.description === 'string' && p.description) def.description = p.description;
  if (p.deprecated === true) def.deprecated = true;
  return def;
}
