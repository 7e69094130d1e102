// Resolves where a run goes: connection override, else the app env (or the action's own server), with server variables.
import { ConfigError } from '../errors.js';
import type { ActionDef } from '../model/action.js';
import type { AppDef, AppEnv, ConnectionConfig } from '../model/app.js';
import { serverPlaceholderProblem } from '../model/definitions.js';

export interface Target {
  /** scheme://host[:port], the only origin a run may reach. */
  origin: string;
  /** Path prefix of the server URL without a trailing slash ('' or '/v1'). */
  basePath: string;
}

/** Picks the app env for a product env: the configured mapping, the same slug, or the app's only env. */
export function pickAppEnv(app: AppDef, productEnv: string, config: ConnectionConfig | undefined): AppEnv | undefined {
  const slug = config?.app_env ?? productEnv;
  const hit = app.envs.find((e) => e.slug === slug);
  if (hit || config?.app_env) return hit;
  return app.envs.length === 1 ? app.envs[0] : undefined;
}

export function resolveTarget(app: AppDef, action: Pick<ActionDef, 'server'>, productEnv: string, config: ConnectionConfig | undefined): Target {
  const appEnv = pickAppEnv(app, productEnv, config);
  if (config?.app_env && !appEnv) {
    throw new ConfigError(
      `App "${app.tag}" has no env "${config.app_env}" (configured as app_env). Its envs: ${app.envs.map((e) => e.slug).join(', ') || 'none'}.`,
    );
  }
  const vars = { ...defaultsOf(app), ...appEnv?.variables, ...config?.server_variables };
  // The action's server is filled in before it is told absolute from relative: `{authUrl}` (a Postman origin whose
  // variable has no value) or `{scheme}://…` is absolute once filled, and must not be joined to the env's URL.
  const server = action.server && !config?.base_url ? substitute(action.server, vars) : undefined;
  let url: string | undefined;
  if (config?.base_url) url = substitute(config.base_url, vars);
  else if (server && isAbsolute(server)) url = server;
  else if (server && appEnv) url = joinRelative(substitute(appEnv.base_url, vars), server);
  else url = appEnv && substitute(appEnv.base_url, vars);
  if (!url) {
    throw new ConfigError(
      `No base URL for app "${app.tag}" in env "${productEnv}". Set one with products.apps.configure({ env: '${productEnv}', base_url }) or map an app env with app_env (app envs: ${app.envs.map((e) => e.slug).join(', ') || 'none'}).`,
    );
  }
  // Stored before configure refused them, or imported: never sent as literal text.
  const problem = serverPlaceholderProblem(url);
  if (problem) throw new ConfigError(`The server URL of app "${app.tag}" in env "${productEnv}" ${problem}.`, { field: 'base_url' });
  return parseBase(url, app.tag);
}

function defaultsOf(app: AppDef): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(app.variables ?? {})) if (v.default !== undefined) out[k] = String(v.default);
  return out;
}

function substitute(url: string, vars: Record<string, string>): string {
  return url.replace(/\{([^{}]+)\}/g, (m, name: string) => {
    const v = vars[name];
    if (v === undefined) throw new ConfigError(`Server URL ${url} needs a value for {${name}}: set it with products.apps.configure({ server_variables: { ${name}: … } }).`);
    return v;
  });
}

const isAbsolute = (u: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(u);

/**
 * A relative server URL ('/v2', 'v2') is resolved against the env's base URL, keeping its origin. A relative env base
 * URL (a spec whose servers are all relative) has no origin to keep: it is returned for parseBase to report.
 */
function joinRelative(base: string, rel: string): string {
  if (!isAbsolute(base)) return base;
  if (rel.startsWith('/')) return new URL(base).origin + rel;
  return base.replace(/\/+$/, '') + '/' + rel;
}

/**
 * A URL of the app's definition that may be relative (an OAuth2 flow's `tokenUrl: /oauth/token`, as Mastodon,
 * PeerTube and Dracoon declare it), resolved against the server URL the connection uses: OAS 3.0.3 and 3.1,
 * "Relative References in URLs", resolve them with the Server Object's URL as base URI (RFC 3986 §5.2).
 * Absolute URLs, and text that is no URL reference at all, are returned unchanged.
 */
export function resolveSpecUrl(url: string, target: Target | (() => Target)): string {
  if (isAbsolute(url)) return url;
  const base = typeof target === 'function' ? target() : target;
  try {
    return new URL(url, base.origin + base.basePath).href;
  } catch {
    return url;
  }
}

export function parseBase(url: string, appTag: string): Target {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError(
      `Base URL "${url}" of app "${appTag}" is not an absolute URL (a spec's relative server is kept as written). Set one with apps.envs.upsert or the connection's base_url (products.apps.configure).`,
    );
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new ConfigError(`Base URL "${url}" of app "${appTag}" must use http or https.`);
  if (u.search || u.hash) throw new ConfigError(`Base URL "${url}" of app "${appTag}" must not contain a query or fragment.`);
  return { origin: u.origin, basePath: u.pathname.replace(/\/+$/, '') };
}
