// Request bodies (every media type with its encoding, a preferred default) and responses (status → media → schema).
import type { ActionDef, BodyDef, EncodingDef, JsonSchema, MediaDef, ParamStyle } from '../../model/action.js';
import { collectionStyle, exampleOf, swaggerSchema, type ParamContext } from './params.js';
import { isObject } from './refs.js';

type Obj = Record<string, unknown>;

const FORM = 'application/x-www-form-urlencoded';
const MULTIPART = 'multipart/form-data';

function baseType(mediaType: string): string {
  return mediaType.split(';')[0].trim().toLowerCase();
}

export function isJsonMediaType(mediaType: string): boolean {
  const t = baseType(mediaType);
  return t === 'application/json' || t.endsWith('+json') || t.endsWith('/json');
}

/** The media type used when the caller picks none: JSON, then form, then multipart, then the first listed. */
export function pickDefaultMediaType(types: string[]): string {
  return (
    types.find((t) => baseType(t) === 'application/json') ??
    types.find(isJsonMediaType) ??
    types.find((t) => baseType(t) === FORM) ??
    types.find((t) => baseType(t) === MULTIPART) ??
    types.find((t) => baseType(t).startsWith('multipart/')) ??
    types[0]
  );
}

/** OpenAPI 3.x requestBody. */
export function readRequestBody(raw: unknown, ctx: ParamContext): BodyDef | undefined {
  const rb = ctx.resolver.deref<Obj>(raw);
  if (!isObject(rb) || !isObject(rb.content)) return undefined;
  const media: Record<string, MediaDef> = {};
  for (const [type, value] of Object.entries(rb.content)) {
    const m = ctx.resolver.deref<Obj>(value);
    const def: MediaDef = {};
    if (isObject(m)) {
      if (m.schema !== undefined) def.schema = ctx.schemas.normalize(m.schema, ctx.where);
      if (isObject(m.encoding)) def.encoding = readEncoding(m.encoding, ctx);
      const example = exampleOf(m, ctx);
      if (example !== undefined) def.example = example;
    }
    media[type] = def;
  }
  const types = Object.keys(media);
  if (types.length === 0) return undefined;
  return { required: rb.required === true, media, default: pickDefaultMediaType(types) };
}

function readEncoding(encoding: Obj, ctx: ParamContext): Record<string, EncodingDef> {
  const out: Record<string, EncodingDef> = {};
  for (const [prop, value] of Object.entries(encoding)) {
    if (!isObject(value)) continue;
    const def: EncodingDef = {};
    if (typeof value.contentType === 'string') def.contentType = value.contentType;
    if (typeof value.style === 'string') def.style = value.style as ParamStyle;
    if (typeof value.explode === 'boolean') def.explode = value.explode;
    if (typeof value.allowReserved === 'boolean') def.allowReserved = value.allowReserved;
    if (isObject(value.headers)) {
      const headers: Record<string, JsonSchema> = {};
      for (const [name, h] of Object.entries(value.headers)) {
        const header = ctx.resolver.deref<Obj>(h);
        if (name.toLowerCase() !== 'content-type' && isObject(header)) headers[name] = ctx.schemas.normalize(header.schema ?? {}, ctx.where);
      }
      if (Object.keys(headers).length) def.headers = headers;
    }
    out[prop] = def;
  }
  return out;
}

/**
 * Swagger 2.0: an `in: body` parameter is the body for each non-form media type the operation consumes;
 * `in: formData` parameters become an object schema sent form-urlencoded, or multipart when the operation
 * consumes it or uploads a `type: file`.
 */
export function readSwaggerBody(params: Obj[], consumes: string[], ctx: ParamContext): BodyDef | undefined {
  const bodyParam = params.find((p) => p.in === 'body');
  if (bodyParam) {
    // Form types in a shared `consumes` are for formData operations; an operation that consumes only form types
    // sends its body parameter that way (as swagger2openapi converts it), not as JSON.
    const nonForm = consumes.filter((t) => baseType(t) !== FORM && baseType(t) !== MULTIPART);
    const types = nonForm.length ? nonForm : consumes.length ? consumes : ['application/json'];
    const schema = ctx.schemas.normalize(bodyParam.schema ?? {}, ctx.where);
    const media: Record<string, MediaDef> = {};
    for (const type of types) media[type] = { schema };
    return { required: bodyParam.required === true, media, default: pickDefaultMediaType(Object.keys(media)) };
  }
  const fields = params.filter((p) => p.in === 'formData');
  if (fields.length === 0) return undefined;
  const hasFile = fields.some((p) => p.type === 'file');
  const declared = consumes.filter((t) => baseType(t) === FORM || baseType(t) === MULTIPART);
  const types = declared.length ? declared.filter((t) => !hasFile || baseType(t) === MULTIPART) : [];
  if (types.length === 0) types.push(hasFile ? MULTIPART : FORM);

  const properties: Obj = {};
  const required: string[] = [];
  const encoding: Record<string, EncodingDef> = {};
  for (const p of fields) {
    const name = p.name as string;
    properties[name] = swaggerSchema(p, true);
    if (p.required === true) required.push(name);
    if (p.type === 'array') encoding[name] = collectionStyle(p.collectionFormat, 'formData');
  }
  const schema = ctx.schemas.normalize({ type: 'object', properties, ...(required.length ? { required } : {}) }, ctx.where);
  const media: Record<string, MediaDef> = {};
  for (const type of types) media[type] = Object.keys(encoding).length ? { schema, encoding } : { schema };
  return { required: required.length > 0, media, default: pickDefaultMediaType(types) };
}

/** '4xx' → '4XX' (the spec's own spelling); 'default' stays as it is. */
function statusKey(status: string): string {
  return status === 'default' ? status : status.toUpperCase();
}

/** OpenAPI 3.x responses; a response without content maps to `{}`, a media type without schema to null. */
export function readResponses(raw: unknown, ctx: ParamContext): ActionDef['responses'] {
  if (!isObject(raw)) return undefined;
  const out: NonNullable<ActionDef['responses']> = {};
  for (const [status, value] of Object.entries(raw)) {
    if (status.startsWith('x-')) continue;
    const response = ctx.resolver.deref<Obj>(value);
    const media: Record<string, JsonSchema | null> = {};
    if (isObject(response) && isObject(response.content)) {
      for (const [type, m] of Object.entries(response.content)) {
        const mediaObj = ctx.resolver.deref<Obj>(m);
        media[type] = isObject(mediaObj) && mediaObj.schema !== undefined ? ctx.schemas.normalize(mediaObj.schema, ctx.where) : null;
      }
    }
    out[statusKey(status)] = media;
  }
  return out;
}

/** Swagger 2.0 responses: the one schema applies to every media type the operation produces. */
export function readSwaggerResponses(raw: unknown, produces: string[], ctx: ParamContext): ActionDef['responses'] {
  if (!isObject(raw)) return undefined;
  const out: NonNullable<ActionDef['responses']> = {};
  for (const [status, value] of Object.entries(raw)) {
    if (status.startsWith('x-')) continue;
    const response = ctx.resolver.deref<Obj>(value);
    const media: Record<string, JsonSchema | null> = {};
    if (isObject(response) && response.schema !== undefined) {
      const schema = ctx.schemas.normalize(response.schema, ctx.where);
      for (const type of produces.length ? produces : ['application/json']) media[type] = schema;
    }
    out[statusKey(status)] = media;
  }
  return out;
}
