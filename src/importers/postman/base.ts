// Postman request origins ({{baseUrl}}, https://{{region}}.api.test, {{host}}:{{port}}) → an env base URL or a server.
import type { AppEnv } from '../../model/app.js';
import { envSlug } from '../naming.js';
import type { VariableTable } from './variables.js';

const REFERENCE = /\{\{([^{}]+)\}\}/g;

export interface ResolvedBase {
  /** The URL with `{name}` server variables: `https://{region}.api.test`; '' when it is a lone variable without value. */
  url: string;
  /** The server variables of `url` that the collection gives a value (the others have no default: see baseEnv). */
  variables: Record<string, string>;
  /** The lone `{{name}}` the origin is, when the collection gives it no value. */
  missing?: string;
  /** Set when no protocol is written, even in the variables' values: https is put in front, as for literal hosts. */
  assumedHttps?: boolean;
  /** Collection variables whose values went into the URL (they are no app variables). */
  names: string[];
}

/**
 * The origin as written by the request (`parseRequestUrl`'s `base`). A lone `{{baseUrl}}` stands for its value, which
 * may itself hold variables. Postman fills in variables before it reads the protocol, so `{{host}}` worth
 * `api.test` (or `{{host}}:{{port}}`) has none: https is assumed for it as for a literal `api.test`.
 */
export function resolveBase(base: string, vars: VariableTable): ResolvedBase {
  const only = /^\{\{([^{}]+)\}\}$/.exec(base);
  let text = base;
  const names: string[] = [];
  if (only) {
    const name = only[1].trim();
    const value = vars.values.get(name)?.trim().replace(/\/+$/, '');
    if (!value) return { url: '', variables: {}, missing: name, names: [] };
    names.push(name);
    text = value;
  }
  const variables: Record<string, string> = {};
  let url = text.replace(REFERENCE, (_, raw: string) => {
    const name = raw.trim();
    names.push(name);
    const value = vars.values.get(name);
    if (value !== undefined) variables[name] = value;
    return `{${name}}`;
  });
  const filled = url.replace(/\{([^{}]+)\}/g, (_, name: string) => variables[name] ?? '');
  const assumedHttps = !url.includes('://') && !filled.includes('://');
  if (assumedHttps) url = `https://${url}`;
  return { url, variables, names, ...(assumedHttps ? { assumedHttps } : {}) };
}

/** The app env of the origin most requests use; its variables are consumed (they live on the env). */
export function baseEnv(resolved: ResolvedBase, warnings: string[], consumed: Set<string>): AppEnv {
  for (const name of resolved.names) consumed.add(name);
  if (resolved.missing) {
    consumed.add(resolved.missing);
    warnings.push(`Base URL variable "{{${resolved.missing}}}" has no value in the collection; set the env's base URL with apps.envs.upsert or a connection base_url.`);
  }
  // An empty default would be filled in as '' (`https://.api.test`, or `/v2` dropped from the path) instead of asking.
  const empty = resolved.names.filter((name) => resolved.url.includes(`{${name}}`) && resolved.variables[name] === undefined);
  if (empty.length) {
    warnings.push(`Base URL ${resolved.url} uses ${empty.map((n) => `{{${n}}}`).join(', ')}, which the collection gives no value; set them per connection with products.apps.configure({ server_variables }).`);
  }
  const env: AppEnv = { slug: resolved.url ? envSlug(resolved.url) : 'default', base_url: resolved.url };
  if (Object.keys(resolved.variables).length) env.variables = resolved.variables;
  return env;
}

/**
 * The `server` of a request on another origin. Variables with a value are filled in (as an OpenAPI operation's server
 * takes its variables' defaults); the others stay `{name}`, for the connection's `server_variables`: the env's
 * variables and a connection `base_url` belong to the other origin, and without a server the request would go there.
 */
export function ownServer(resolved: ResolvedBase, consumed: Set<string>): string {
  if (resolved.missing) return `{${resolved.missing}}`;
  for (const name of resolved.names) if (resolved.variables[name] !== undefined) consumed.add(name);
  return resolved.url.replace(/\{([^{}]+)\}/g, (m, name: string) => resolved.variables[name] || m);
}
