// Postman request URLs (structured or raw) → base, `{name}` path template, path and query parameters.
import type { ParamDef } from '../../model/action.js';
import { describe, hasReference, type VariableTable } from './variables.js';

type Obj = Record<string, unknown>;

export interface ParsedUrl {
  /** The origin part as written: `{{baseUrl}}`, `https://maps.googleapis.com`, `https://{{region}}.api.test`. */
  base: string;
  path: string;
  params: ParamDef[];
  /** Set when the URL has no protocol and `https` was assumed. */
  assumedHttps?: boolean;
  /** Set when credentials written in the URL (`user:password@`) were left out. */
  userinfo?: boolean;
}

/** A parsed URL, or a reason why the request cannot become an action. */
export function parseRequestUrl(url: unknown, vars: VariableTable): ParsedUrl | { invalid: string } {
  const parts = typeof url === 'string' ? fromRaw(url) : url && typeof url === 'object' ? fromObject(url as Obj) : undefined;
  if (!parts || !parts.host) return { invalid: 'the request has no URL.' };
  const { protocol, host, port } = parts;
  const shown = `${protocol ? `${protocol}://` : ''}${host}${port ? `:${port}` : ''}`;
  if (protocol && !/^https?$/i.test(protocol) && !hasReference(protocol)) {
    return { invalid: `URL "${shown}" is not an http(s) URL.` };
  }
  if (port && !/^\d+$/.test(port) && !hasReference(port)) {
    return { invalid: `URL "${host}:${port}" is not an http(s) URL (Postman scripts that rewrite such URLs are not run).` };
  }
  let base: string;
  let assumedHttps = false;
  if (!protocol && hasReference(host)) {
    // `{{baseUrl}}`, `{{host}}:{{port}}`: the variables' values may hold the protocol (resolveBase decides).
    base = `${host}${port ? `:${port}` : ''}`;
  } else {
    assumedHttps = !protocol;
    base = `${protocol ? protocol.toLowerCase() : 'https'}://${host}${port ? `:${port}` : ''}`;
  }

  const params: ParamDef[] = [];
  const seen = new Set<string>();
  const described = new Map(parts.variables.map((v) => [String(v.key), v]));
  const segments = parts.path.map((segment) => {
    if (segment.startsWith(':') && segment.length > 1) {
      const name = segment.slice(1);
      if (!seen.has(name)) {
        seen.add(name);
        // `:userId` worth `{{userId}}` is filled in by Postman from the variable: the same default as a `{{userId}}`
        // segment, instead of a required parameter whose example is the text `{{userId}}`.
        const value = described.get(name)?.value;
        const placeholder = typeof value === 'string' && hasReference(value) ? vars.toPlaceholders(value) : undefined;
        const p = pathParam(name, described.get(name), placeholder === undefined);
        if (placeholder !== undefined) p.value = placeholder;
        params.push(p);
      }
      return `{${name}}`;
    }
    return segment.replace(/\{\{([^{}]+)\}\}/g, (_, raw: string) => {
      const name = raw.trim();
      vars.use(name);
      if (!seen.has(name)) {
        seen.add(name);
        // Filled from the connection variable unless the caller passes params[name].
        const p = pathParam(name, described.get(name), false);
        p.value = `$Variable{${name}}`;
        params.push(p);
      }
      return `{${name}}`;
    });
  });
  // Postman sends the path as written, so a trailing slash stays (`/items/` and `/items` are different resources
  // to Django, Rails and many proxies: a 301, or a 404/405 for a POST). Other empty segments are dropped.
  const kept = segments.filter((s) => s !== '');
  const trailing = kept.length > 0 && segments[segments.length - 1] === '' ? '/' : '';
  const path = `/${kept.join('/')}${trailing}`;

  const queryNames = new Set<string>();
  for (const q of parts.query) {
    if (q.disabled === true || typeof q.key !== 'string' || q.key === '' || queryNames.has(q.key)) continue;
    queryNames.add(q.key);
    params.push(valueParam(q.key, 'query', q, vars));
  }
  return { base, path, params, ...(assumedHttps ? { assumedHttps } : {}), ...(parts.userinfo ? { userinfo: true } : {}) };
}

function pathParam(name: string, described: Obj | undefined, required: boolean): ParamDef {
  const p: ParamDef = { name, in: 'path', required, style: 'simple', explode: false };
  // A value made of variables (`{{userId}}`, `{{$randomInt}}`) is no example of what to send.
  const example = described && !(typeof described.value === 'string' && hasReference(described.value)) ? exampleOf(described.value) : undefined;
  p.schema = example === undefined ? { type: 'string' } : { type: 'string', examples: [example] };
  const description = described ? describe(described.description) : undefined;
  if (description) p.description = description;
  return p;
}

/**
 * A query or header entry. Values with `{{var}}` become values to send holding `$Variable{var}` placeholders that
 * resolve at run time; literal query values are examples (Postman fills them in to try a request), literal
 * header values are sent (Accept, versions and the like are meant to be sent).
 */
export function valueParam(name: string, location: 'query' | 'header', entry: Obj, vars: VariableTable): ParamDef {
  const p: ParamDef =
    location === 'query'
      ? { name, in: 'query', required: false, style: 'form', explode: true, allowReserved: false }
      : { name, in: 'header', required: false, style: 'simple', explode: false };
  const value = typeof entry.value === 'string' ? entry.value : entry.value == null ? undefined : String(entry.value);
  const schema: Record<string, unknown> = {};
  if (value !== undefined && hasReference(value)) {
    const placeholder = vars.toPlaceholders(value);
    if (placeholder !== undefined) p.value = placeholder;
  } else if (value !== undefined && location === 'header') {
    p.value = value;
  } else {
    const example = exampleOf(value);
    if (example !== undefined) schema.examples = [example];
  }
  p.schema = schema;
  const description = describe(entry.description);
  if (description) p.description = description;
  return p;
}

/** Postman's generated `<string>` / `<integer>` stand-ins say nothing about real values. */
function exampleOf(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' && !/^<[^<>]*>$/.test(value) ? value : undefined;
}

interface UrlParts {
  protocol?: string;
  host: string;
  port?: string;
  path: string[];
  query: Obj[];
  variables: Obj[];
  /** The raw URL had `user:password@`, which was left out. */
  userinfo?: boolean;
}

function fromObject(u: Obj): UrlParts | undefined {
  const host = Array.isArray(u.host) ? u.host.map(String).join('.') : typeof u.host === 'string' ? u.host : '';
  if (!host) return typeof u.raw === 'string' ? fromRaw(u.raw) : undefined;
  const path = Array.isArray(u.path)
    ? u.path.map((s) => (s && typeof s === 'object' ? String((s as Obj).value ?? '') : String(s)))
    : typeof u.path === 'string' ? u.path.split('/') : [];
  // Generated collections may leave `protocol` out of the structured URL while `raw` says it (`http://localhost:3000`).
  const rawProtocol = typeof u.raw === 'string' ? /^\s*([a-z][a-z0-9+.-]*):\/\//i.exec(u.raw)?.[1] : undefined;
  return {
    protocol: typeof u.protocol === 'string' && u.protocol ? u.protocol.replace(/:?\/*$/, '') : rawProtocol,
    host,
    port: typeof u.port === 'string' && u.port ? u.port : typeof u.port === 'number' ? String(u.port) : undefined,
    path,
    query: Array.isArray(u.query) ? u.query.filter((q): q is Obj => !!q && typeof q === 'object') : [],
    variables: Array.isArray(u.variable) ? u.variable.filter((v): v is Obj => !!v && typeof v === 'object') : [],
  };
}

/** `{{baseUrl}}/users/:id?limit=10` or `https://api.test:8443/x?y=1` (Postman's raw form). */
function fromRaw(raw: string): UrlParts | undefined {
  const noHash = raw.trim().split('#')[0];
  const q = noHash.indexOf('?');
  const main = q === -1 ? noHash : noHash.slice(0, q);
  const query = q === -1 ? [] : noHash.slice(q + 1).split('&').filter(Boolean).map((pair) => {
    const eq = pair.indexOf('=');
    return { key: decode(eq === -1 ? pair : pair.slice(0, eq)), value: eq === -1 ? null : decode(pair.slice(eq + 1)) };
  });
  // A leading `{{baseUrl}}` may end with a slash of its own (`{{baseUrl}}users`), so it is the host by itself, with
  // the port that may follow it (`{{host}}:{{port}}/users`).
  const m =
    /^([a-z][a-z0-9+.-]*):\/\/([^/]*)(.*)$/i.exec(main) ?? /^()(\{\{[^{}]+\}\}(?::[^/]*)?)(.*)$/.exec(main) ?? /^()([^/]+)(.*)$/.exec(main);
  if (!m) return undefined;
  // `user:password@` is a credential: it is never kept (nor shown in a message), only reported.
  const at = m[2].lastIndexOf('@');
  const hostPort = m[2].slice(at + 1);
  // The port's colon is the last one outside `{{…}}` and `[…]` (an IPv6 address).
  const colon = hostPort.replace(/\{\{[^{}]*\}\}|\[[^\]]*\]/g, (x) => '_'.repeat(x.length)).lastIndexOf(':');
  return {
    protocol: m[1] || undefined,
    host: colon > -1 ? hostPort.slice(0, colon) : hostPort,
    port: colon > -1 ? hostPort.slice(colon + 1) : undefined,
    path: m[3].split('/'),
    query,
    variables: [],
    ...(at > -1 ? { userinfo: true } : {}),
  };
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}
