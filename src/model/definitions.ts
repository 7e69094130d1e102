// Pure checks and normalization of user-supplied definitions; every refusal is a CONFIG_ERROR naming field and reason.
import { ConfigError } from '../errors.js';
import { HTTP_METHODS, type ActionDef, type HttpMethod, type JsonSchema, type ParamDef } from './action.js';
import type { AppEnv } from './app.js';
import { checkPagination, type PaginationDef } from './pagination.js';
import { findPlaceholders, PLACEHOLDER_KINDS } from './placeholders.js';

/** Tags (apps, products, caches, access tags…) and env slugs; operations/schemas.ts refuses the same at the edge. */
export const TAG = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;
export const TAG_RULE = "expected 1–100 ASCII letters, digits, '_', '.' or '-', starting with a letter or digit";
export const SLUG = /^[a-z0-9][a-z0-9_-]{0,62}$/;
export const SLUG_RULE = 'expected a lowercase slug like "dev" or "prd"';
/** The longest delay a Node timer holds (2^31-1 ms): a timeout or wait above it would fire after 1 ms instead. */
export const MAX_TIMER_MS = 2_147_483_647;

export function fail(field: string, reason: string): never {
  throw new ConfigError(`Invalid ${field}: ${reason}.`, { field, reason });
}

export function checkTag(field: string, value: unknown): string {
  if (typeof value !== 'string' || !TAG.test(value)) fail(field, `${TAG_RULE} (got ${JSON.stringify(value)})`);
  return value;
}

export function checkSlug(field: string, value: unknown): string {
  if (typeof value !== 'string' || !SLUG.test(value)) fail(field, `${SLUG_RULE} (got ${JSON.stringify(value)})`);
  return value;
}

export function checkKnownKeys(what: string, given: object, accepted: string[]): void {
  for (const k of Object.keys(given)) if (!accepted.includes(k)) fail(`${what}.${k}`, `unknown field; accepted: ${accepted.join(', ')}`);
}

/**
 * Server URLs and server variables are not templates: a placeholder in one was sent as literal text (server_variables
 * { tenant: '$Secret{T}' } requested /$Secret%7BT%7D/…), where docs/placeholders.md promises a placeholder never is.
 * The reason a value holding one is refused, or undefined. (`$batch`, `$metadata` and the like are not placeholders.)
 */
export function serverPlaceholderProblem(value: string): string | undefined {
  const found = value.indexOf('$') === -1 ? [] : findPlaceholders(value, PLACEHOLDER_KINDS);
  if (!found.length) return undefined;
  return `holds ${found[0].text}, but placeholders are not resolved in server URLs or server variables; give the value itself (credentials belong in auth)`;
}

/** Server variables of an app env or a connection: strings, with no placeholders. */
export function checkServerVariables(field: string, value: unknown): Record<string, string> {
  const out = checkStringMap(field, value);
  for (const [k, v] of Object.entries(out)) {
    const problem = serverPlaceholderProblem(v);
    if (problem) fail(`${field}.${k}`, problem);
  }
  return out;
}

export function checkBaseUrl(field: string, value: unknown): string {
  if (typeof value !== 'string') fail(field, 'expected an absolute http(s) URL');
  const problem = serverPlaceholderProblem(value);
  if (problem) fail(field, problem);
  // Server variables ({region}) are substituted at run time; check the shape with placeholders filled in.
  let u: URL;
  try {
    u = new URL(value.replace(/\{[^{}]+\}/g, 'x'));
  } catch {
    fail(field, `"${value}" is not an absolute URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') fail(field, `"${value}" must use http or https`);
  if (u.search || u.hash) fail(field, `"${value}" must not contain a query or fragment`);
  // Credentials belong in auth, sealed; in a URL they would be stored in clear (and undici drops them anyway).
  if (u.username || u.password) fail(field, 'must not contain a user name or password; configure them with auth');
  return value.replace(/\/+$/, '');
}

export function checkEnv(field: string, env: unknown): AppEnv {
  if (!env || typeof env !== 'object') fail(field, 'expected { slug, base_url }');
  const e = env as Record<string, unknown>;
  checkKnownKeys(field, e, ['slug', 'base_url', 'description', 'variables']);
  return {
    slug: checkSlug(`${field}.slug`, e.slug),
    base_url: checkBaseUrl(`${field}.base_url`, e.base_url),
    ...(e.description !== undefined ? { description: String(e.description) } : {}),
    ...(e.variables !== undefined ? { variables: checkServerVariables(`${field}.variables`, e.variables) } : {}),
  };
}

export function checkStringMap(field: string, value: unknown): Record<string, string> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) fail(field, 'expected an object of strings');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') fail(`${field}.${k}`, 'expected a string');
    out[k] = String(v);
  }
  return out;
}

/** Input of apps.actions.create. */
export interface ActionInput {
  app: string;
  event: string;
  method: string;
  path: string;
  summary?: string;
  description?: string;
  /** Request media type of the body (default application/json when a body schema is given). */
  content_type?: string;
  schemas?: { body?: JsonSchema; query?: JsonSchema; params?: JsonSchema; headers?: JsonSchema };
  /** Full parameter definitions (style, explode…), for what `schemas` cannot say. */
  parameters?: ParamDef[];
  timeout_ms?: number;
  /** How the action's list is walked by actions.paginate (docs/pagination.md); null removes it in update. */
  pagination?: PaginationDef | null;
  unsafe?: boolean;
  deprecated?: boolean;
  /** Send query and path keys the action does not declare instead of refusing them. @default false */
  allow_unknown_params?: boolean;
}

export const ACTION_INPUT_KEYS = ['app', 'event', 'method', 'path', 'summary', 'description', 'content_type', 'schemas', 'parameters', 'timeout_ms', 'unsafe', 'deprecated', 'pagination', 'allow_unknown_params'];

export function actionFromInput(input: ActionInput): ActionDef {
  if (!input || typeof input !== 'object') fail('action', 'expected an object');
  checkKnownKeys('action', input, ACTION_INPUT_KEYS);
  const event = checkTag('event', input.event);
  const method = String(input.method ?? '').toUpperCase() as HttpMethod;
  if (!HTTP_METHODS.includes(method)) fail('method', `expected one of ${HTTP_METHODS.join(', ')} (got ${JSON.stringify(input.method)})`);
  const path = normalizePath(input.path);
  const schemas = input.schemas ?? {};
  if (typeof schemas !== 'object') fail('schemas', 'expected { body?, query?, params?, headers? }');
  checkKnownKeys('schemas', schemas, ['body', 'query', 'params', 'headers']);
  const parameters: ParamDef[] = [...(input.parameters ?? [])];
  const has = (name: string, loc: string) => parameters.some((p) => p.name === name && p.in === loc);
  for (const [loc, key] of [['query', 'query'], ['header', 'headers'], ['path', 'params']] as const) {
    const s = schemas[key];
    if (s === undefined) continue;
    if (typeof s !== 'object' || (s as { type?: unknown }).type !== 'object') fail(`schemas.${key}`, 'expected an object schema ({ type: "object", properties })');
    const props = ((s as { properties?: Record<string, JsonSchema> }).properties ?? {}) as Record<string, JsonSchema>;
    const required = new Set(((s as { required?: string[] }).required ?? []) as string[]);
    for (const [name, schema] of Object.entries(props)) {
      if (!has(name, loc)) parameters.push({ name, in: loc, schema, required: loc === 'path' || required.has(name) });
    }
  }
  const templateNames = [...path.matchAll(/\{([^{}]+)\}/g)].map((m) => m[1]);
  for (const p of parameters) {
    if (!p || typeof p.name !== 'string' || !['path', 'query', 'header', 'cookie'].includes(p.in)) fail('parameters', `each needs a name and "in" (path, query, header or cookie)`);
    if (p.in === 'path' && !templateNames.includes(p.name)) fail(`parameters.${p.name}`, `path parameter is not in the path template "${path}"`);
  }
  const action: ActionDef = { event, method, path, parameters };
  if (schemas.body !== undefined || input.content_type) {
    const media = input.content_type ?? 'application/json';
    if (!/^[\w.+-]+\/[\w.+-]+/.test(media)) fail('content_type', `"${media}" is not a media type`);
    action.body = { required: schemas.body !== undefined, media: { [media]: schemas.body !== undefined ? { schema: schemas.body } : {} }, default: media };
  }
  if (input.summary !== undefined) action.summary = String(input.summary);
  if (input.description !== undefined) action.description = String(input.description);
  if (input.deprecated) action.deprecated = true;
  if (input.unsafe) action.unsafe = true;
  if (input.allow_unknown_params) action.allow_unknown_params = true;
  if (input.timeout_ms !== undefined) {
    if (!(typeof input.timeout_ms === 'number' && input.timeout_ms > 0)) fail('timeout_ms', 'expected a positive number of milliseconds');
    action.timeoutMs = input.timeout_ms;
  }
  const pagination = input.pagination === undefined ? null : checkPagination('pagination', input.pagination);
  if (pagination) action.pagination = pagination;
  return action;
}

/** `/users/:id` and `/users/{id}` both become `/users/{id}`; the path must be relative to the base URL. */
export function normalizePath(path: unknown): string {
  if (typeof path !== 'string' || !path.startsWith('/')) fail('path', `expected a path starting with "/" (got ${JSON.stringify(path)})`);
  if (/^\/\//.test(path) || /[?#\s]/.test(path)) fail('path', `"${path}" must be a plain path template without query, fragment, spaces or a leading "//"`);
  const out = path.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');
  const names = [...out.matchAll(/\{([^{}]*)\}/g)].map((m) => m[1]);
  for (const n of names) if (!n) fail('path', `"${path}" has an empty {} placeholder`);
  if (new Set(names).size !== names.length) fail('path', `"${path}" names a parameter twice`);
  return out;
}
