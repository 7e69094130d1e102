// Servers → app envs (top-level) and per-action server URLs (path- and operation-level); Swagger host/basePath.
import type { AppEnv, VariableDef } from '../../model/app.js';
import { createNamer, envSlug } from '../naming.js';
import { isObject } from './refs.js';

type Obj = Record<string, unknown>;

export interface ServerVariable {
  default: string;
  enum?: string[];
  description?: string;
}

export interface ServersResult {
  envs: AppEnv[];
  /** Server variables across all top-level servers (name → default, allowed values). */
  serverVariables: Record<string, ServerVariable>;
  /** Base URLs of the envs, to tell whether an operation's own server is just one of them. */
  baseUrls: Set<string>;
}

/** Trailing slashes are dropped so that `https://api.stripe.com/` + `/v1/customers` has one slash. */
export function trimUrl(url: string): string {
  return url.length > 1 ? url.replace(/\/+$/, '') : url;
}

export function isRelativeUrl(url: string): boolean {
  return !/^([a-z][a-z0-9+.-]*:)?\/\//i.test(url) && !/^\{[^}]+\}:\/\//.test(url);
}

export function readServers(doc: Obj, warnings: string[]): ServersResult {
  const list = Array.isArray(doc.servers) ? doc.servers.filter((s): s is Obj => isObject(s) && typeof s.url === 'string') : [];
  if (list.length === 0) {
    warnings.push('The spec declares no servers: the "default" env has base URL "/"; set the real one with apps.envs.upsert or a connection base_url.');
    return { envs: [{ slug: 'default', base_url: '/' }], serverVariables: {}, baseUrls: new Set(['/']) };
  }
  const slugs = createNamer(warnings, '-', 'Env slug');
  const serverVariables: Record<string, ServerVariable> = {};
  const envs: AppEnv[] = [];
  for (const server of list) {
    const url = trimUrl(server.url as string);
    const description = typeof server.description === 'string' && server.description ? server.description : undefined;
    const variables = readVariables(server.variables);
    for (const [name, v] of Object.entries(variables)) serverVariables[name] ??= v;
    const concrete = url.replace(/\{([^}]+)\}/g, (whole, name: string) => variables[name]?.default || whole);
    const slug = slugs.claim(envSlug(concrete, description), `the env for server ${url}`);
    const env: AppEnv = { slug, base_url: url };
    if (description) env.description = description;
    if (Object.keys(variables).length) env.variables = Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, v.default]));
    envs.push(env);
    if (isRelativeUrl(url)) {
      warnings.push(`Server "${url}" is relative: env "${slug}" keeps it as written; set an absolute base URL (apps.envs.upsert or a connection base_url) before running actions.`);
    }
  }
  return { envs, serverVariables, baseUrls: new Set(envs.map((e) => e.base_url)) };
}

function readVariables(value: unknown): Record<string, ServerVariable> {
  const out: Record<string, ServerVariable> = {};
  if (!isObject(value)) return out;
  for (const [name, v] of Object.entries(value)) {
    if (!isObject(v)) continue;
    const enumValues = Array.isArray(v.enum) ? v.enum.map(String) : undefined;
    const def: ServerVariable = { default: v.default !== undefined ? String(v.default) : (enumValues?.[0] ?? '') };
    if (enumValues?.length) def.enum = enumValues;
    if (typeof v.description === 'string' && v.description) def.description = v.description;
    out[name] = def;
  }
  return out;
}

/** Server variables as app variables (for `$Variable{name}` and documentation). */
export function serverVariableDefs(vars: Record<string, ServerVariable>): Record<string, VariableDef> {
  const out: Record<string, VariableDef> = {};
  for (const [name, v] of Object.entries(vars)) {
    const allowed = v.enum ? `One of: ${v.enum.join(', ')}.` : '';
    const description = [v.description, allowed].filter(Boolean).join(' ');
    out[name] = { type: 'string', default: v.default, ...(description ? { description } : {}) };
  }
  return out;
}

/**
 * The server an operation pins (its own `servers`, else its path item's), with variables set to their defaults.
 * A server that is one of the top-level ones pins nothing, so the env choice still applies.
 */
export function operationServer(
  servers: unknown,
  top: ServersResult,
  where: string,
  warnings: string[],
): string | undefined {
  if (!Array.isArray(servers)) return undefined;
  const list = servers.filter((s): s is Obj => isObject(s) && typeof s.url === 'string');
  if (list.length === 0) return undefined;
  const first = trimUrl(list[0].url as string);
  if (top.baseUrls.has(first)) return undefined;
  if (list.length > 1) {
    warnings.push(`${where} lists ${list.length} servers; its action uses the first (${first}). Override it with a connection base_url.`);
  }
  const vars = readVariables(list[0].variables);
  return first.replace(/\{([^}]+)\}/g, (whole, name: string) => vars[name]?.default ?? top.serverVariables[name]?.default ?? whole);
}

/** Swagger 2.0: one env from host + basePath, https preferred when several schemes are listed. */
export function readSwaggerHost(doc: Obj, warnings: string[]): ServersResult {
  const schemes = Array.isArray(doc.schemes) ? doc.schemes.map(String) : [];
  // Swagger 2.0 says host has no scheme and basePath starts with '/'; specs that break either (`host:
  // https://api.x.test`, `basePath: v1`) would otherwise give https://https://api.x.test, whose host is "https".
  const written = typeof doc.host === 'string' ? /^(?:([a-z][a-z0-9+.-]*):\/\/)?([^/]*)/i.exec(doc.host.trim())! : undefined;
  const scheme = schemes.includes('https') ? 'https' : (schemes[0] ?? written?.[1]?.toLowerCase() ?? 'https');
  const basePath = typeof doc.basePath === 'string' && doc.basePath ? doc.basePath.replace(/^\/*/, '/') : '';
  const host = written?.[2] || undefined;
  const url = trimUrl(host ? `${scheme}://${host}${basePath}` : basePath || '/');
  if (!host) {
    warnings.push(`The spec declares no host: the "default" env has base URL "${url}"; set the real one with apps.envs.upsert or a connection base_url.`);
  }
  const env: AppEnv = { slug: host ? envSlug(url) : 'default', base_url: url };
  return { envs: [env], serverVariables: {}, baseUrls: new Set([url]) };
}
