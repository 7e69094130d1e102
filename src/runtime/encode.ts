// Stage: builds the outgoing request (path, query, headers, cookies, body) with the plan's precompiled encoders.
import { InvalidInputError } from '../errors.js';
import type { ParamDef } from '../model/action.js';
import { setOwn } from '../model/json.js';
import type { IActionRequest, OutgoingRequest, RunContext } from './context.js';
import type { Runtime } from './runtime.js';
import { compileBodyEncoder, compileCookieParam, compileHeaderParam, compileQueryParam, type EncodedBody, type ValueEncoder } from './encode/index.js';
import { essence } from './encode/media-type.js';
import { isEmptyCollection } from './encode/text.js';

const USER_AGENT = 'ductape/0.1';
// Hop-by-hop and framing headers belong to the HTTP client, never to the caller (RFC 9110 §7.6.1).
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const RESERVED_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer']);

export function encode(ctx: RunContext): void {
  const plan = ctx.plan!;
  const input = (ctx.bound ?? ctx.run.input) as IActionRequest;

  // Path: literals are the spec's text; every value is encoded as exactly one segment by its encoder.
  const params = input.params ?? {};
  let path = plan.basePath + plan.pathLiterals[0];
  for (let i = 0; i < plan.pathParams.length; i++) {
    const p = plan.pathParams[i];
    const value = params[p.name];
    if (value === undefined || value === null) {
      throw new InvalidInputError([{ location: 'params', path: `/${p.name}`, message: 'is required' }]);
    }
    path += p.encode(value) + plan.pathLiterals[i + 1];
  }

  // Query: fixed values, declared params by their style, then anything else the caller sent with form rules.
  let pieces: string[] | undefined = plan.fixedQuery.length ? plan.fixedQuery.slice() : undefined;
  const query = input.query;
  // Connection values are defaults: a caller's value of the same name replaces them (as for headers).
  for (const [name, piece] of plan.connectionQuery) if (query?.[name] === undefined) (pieces ??= []).push(piece);
  if (query) {
    for (const q of plan.queryParams) {
      const value = query[q.inputKey];
      if (value !== undefined) (pieces ??= []).push(...q.encode(value));
    }
    for (const name in query) {
      if (plan.declaredQuery.has(name) || query[name] === undefined) continue;
      (pieces ??= []).push(...defaultQueryEncoder(ctx.runtime, name)(query[name]));
    }
  }
  if (pieces && pieces.length) path += '?' + pieces.join('&');

  // Headers: ours, then static connection headers, then the caller's (declared ones encoded by style).
  const headers: Record<string, string> = { 'user-agent': USER_AGENT };
  if (plan.accept) headers.accept = plan.accept;
  for (const k in plan.staticHeaders) headers[k] = plan.staticHeaders[k];
  const given = input.headers;
  if (given) {
    for (const k in given) {
      const value = given[k];
      if (value === undefined || value === null) continue;
      const lower = k.toLowerCase();
      if (RESERVED_HEADERS.has(lower)) continue;
      // RFC 9110 §5.1: a field name is a token; anything else would be refused by the HTTP client after retries.
      if (!TOKEN.test(k)) throw new InvalidInputError([{ location: 'headers', path: `/${k}`, message: 'is not a valid header name' }]);
      if (plan.declaredHeaders.has(lower) || isEmptyCollection(value)) continue;
      // A header named __proto__ is a valid token: assigned, it would set the object's prototype and never be sent.
      setOwn(headers, lower, defaultHeaderEncoder(ctx.runtime, lower)(value));
    }
    for (const h of plan.headerParams) {
      // Declared or not, framing headers are the HTTP client's (a hand-made action may declare Content-Length).
      if (RESERVED_HEADERS.has(h.inputKey)) continue;
      const value = given[h.name] ?? given[h.inputKey] ?? findHeader(given, h.inputKey);
      if (value !== undefined && value !== null && !isEmptyCollection(value)) setOwn(headers, h.inputKey, h.encode(value));
    }
  }
  if (input.cookies) {
    const parts: string[] = [];
    for (const c of plan.cookieParams) {
      const value = input.cookies[c.inputKey];
      if (value !== undefined && !isEmptyCollection(value)) parts.push(c.encode(value));
    }
    // Cookies the action does not declare are sent like undeclared headers (form style), never silently dropped.
    for (const name in input.cookies) {
      const value = input.cookies[name];
      if (value === undefined || isEmptyCollection(value) || plan.declaredCookies.has(name)) continue;
      parts.push(defaultCookieEncoder(ctx.runtime, name)(value));
    }
    if (parts.length) headers.cookie = headers.cookie ? `${headers.cookie}; ${parts.join('; ')}` : parts.join('; ');
  }

  // Body by the chosen media type (validate picked it). A concrete type the caller named inside a declared range, or
  // for an action that declares no body, is written by that type's rules and sent as given; otherwise undeclared
  // bodies go out as JSON.
  let body: OutgoingRequest['body'] = null;
  if (input.body !== undefined) {
    const media = plan.body?.media.get(ctx.mediaType ?? plan.body.defaultMedia);
    const named = media ? ctx.contentType : headers['content-type'];
    const encoded = (named ? rangeEncoder(ctx.runtime, named) : (media?.encode ?? undeclaredJson))(input.body);
    body = encoded.body;
    if (encoded.contentType) headers['content-type'] = sentType(headers['content-type'], encoded.contentType, body);
    else delete headers['content-type'];
  }

  ctx.request = { method: plan.method, origin: plan.origin, path, headers, body };
}

/**
 * The caller's own Content-Type of the type being sent keeps its parameters (`application/json; artifactType=AVRO`, a
 * vendor's `; version=2`), unless it names a charset other than UTF-8 for text that was written as UTF-8. Multipart
 * never gets here: its boundary is the encoder's.
 */
function sentType(given: string | undefined, written: string, body: OutgoingRequest['body']): string {
  if (given === undefined || given === written || essence(given) !== essence(written)) return written;
  const charset = CHARSET.exec(given)?.[1];
  return charset === undefined || typeof body !== 'string' || /^utf-?8$/i.test(charset) ? given : written;
}
const CHARSET = /;\s*charset\s*=\s*"?([^";\s]+)/i;

function findHeader(given: Record<string, unknown>, lower: string): unknown {
  for (const k in given) if (k.toLowerCase() === lower) return given[k];
  return undefined;
}

// Bodies of actions that declare none go out as JSON, through the same encoder (BigInt & co. become INVALID_INPUT).
const undeclaredJson = compileBodyEncoder('application/json');

// Encoders for names the action does not declare are compiled once per name and kept on the runtime (bounded).
function defaultQueryEncoder(runtime: Runtime, name: string): ValueEncoder<string[]> {
  return memo(runtime.state.queryEncoders, name, () => compileQueryParam({ name, in: 'query' } satisfies ParamDef));
}
function defaultHeaderEncoder(runtime: Runtime, name: string): ValueEncoder<string> {
  return memo(runtime.state.headerEncoders, name, () => compileHeaderParam({ name, in: 'header' } satisfies ParamDef));
}
function defaultCookieEncoder(runtime: Runtime, name: string): ValueEncoder<string> {
  return memo(runtime.state.cookieEncoders, name, () => compileCookieParam({ name, in: 'cookie' } satisfies ParamDef));
}
function rangeEncoder(runtime: Runtime, contentType: string): ValueEncoder<EncodedBody> {
  return memo(runtime.state.bodyEncoders, contentType, () => compileBodyEncoder(contentType));
}
function memo<T>(map: Map<string, T>, key: string, make: () => T): T {
  let v = map.get(key);
  if (!v) {
    if (map.size > 1000) map.clear();
    map.set(key, (v = make()));
  }
  return v;
}
