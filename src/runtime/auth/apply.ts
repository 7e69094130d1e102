// compileAuth: picks what to send for one action once, then applies resolved credential values to each request.
import { createHmac } from 'node:crypto';
import { ConfigError, InvalidInputError } from '../../errors.js';
import type { ActionDef } from '../../model/action.js';
import { HEADER_NAME, headerValueProblem } from '../../model/header.js';
import type { AppDef, AuthSchemeDef } from '../../model/app.js';
import { deriveKey } from '../../model/keys.js';
import { registerSecret } from '../../model/redact.js';
import { resolveSpecUrl, type Target } from '../base-url.js';
import type { OutgoingRequest } from '../context.js';
import { encodeForm } from '../encode/percent.js';
import { formType, normalizeAuth, type AuthConfig, type AuthForm, type OAuth2Auth } from './forms.js';
import { selectRequirement } from './select.js';

export type AuthKind = 'bearer' | 'basic' | 'apiKey' | 'oauth2' | 'raw' | 'action';

/** One form to send, with the defaults its scheme supplied. */
export interface AuthEntry {
  kind: AuthKind;
  /** As configured (placeholders unresolved). */
  form: AuthForm;
  schemeName?: string;
  /** apiKey: where and under which name. */
  location?: 'header' | 'query' | 'cookie';
  name?: string;
  /** oauth2: token endpoint and scopes to ask for. */
  tokenUrl?: string;
  scopes?: string[];
}

/** An entry's values for one run: the form with placeholders resolved, plus the token fetched for oauth2. */
export interface ResolvedCredential {
  form: AuthForm;
  accessToken?: string;
  /** authorization_code: the end user whose token this is (connections, API.md §13). */
  owner?: string;
  /** action: the login result the templates were resolved with (kept to recognize it after a 401). */
  auth?: unknown;
}

export interface CompiledAuth {
  /** Scheme names of the chosen requirement; null when the app declares none. */
  readonly requirement: string[] | null;
  readonly entries: readonly AuthEntry[];
  /** Header and query names that carry these credentials: sensitive for redaction, on this client only (#11). */
  readonly sensitiveNames: readonly string[];
  /**
   * Writes credentials into the request (headers, query in `path`, cookie, body) and sets `credentialId`.
   * `values[i]` belongs to `entries[i]`. `idKey` keys the credential fingerprint (see credentialIdKey).
   */
  apply(request: OutgoingRequest, values: readonly ResolvedCredential[], idKey: Buffer): void;
}

/** The key that turns applied credentials into `credentialId`: keyed, so a fingerprint cannot be brute-forced offline. */
export function credentialIdKey(privateKey: string, workspace: string): Buffer {
  return deriveKey(privateKey, 'credential-id', workspace);
}

/**
 * Compiles the auth of one action: requirement selection and scheme defaults happen here, once per plan. `server` is
 * the base URL the run goes to, against which a relative token URL of the app's scheme is resolved.
 * @example const auth = compileAuth(app, action, { type: 'bearer', token: '$Secret{STRIPE_KEY}' });
 */
export function compileAuth(app: AppDef, action: ActionDef, credentials: AuthConfig | undefined, server?: Target): CompiledAuth {
  const forms = credentials === undefined ? [] : normalizeAuth(credentials);
  const selection = selectRequirement(app, action, forms);
  const names: string[] = [];
  const entries = selection.assignments.map(({ form, schemeName, scheme, scopes }) => compileEntry(app, form, schemeName, scheme, scopes, names, server));
  return {
    requirement: selection.requirement,
    entries,
    sensitiveNames: names,
    apply(request, values, idKey) {
      if (values.length !== entries.length) throw new Error(`auth: ${entries.length} entries but ${values.length} values`);
      const applied: string[][] = [];
      entries.forEach((e, i) => applyEntry(request, e, values[i], applied));
      request.credentialId = applied.length ? createHmac('sha256', idKey).update(JSON.stringify(applied)).digest('base64url').slice(0, 22) : undefined;
    },
  };
}

function compileEntry(
  app: AppDef,
  form: AuthForm,
  schemeName: string | undefined,
  scheme: AuthSchemeDef | undefined,
  scopes: string[],
  names: string[],
  server: Target | undefined,
): AuthEntry {
  const kind = formType(form) as AuthKind;
  const entry: AuthEntry = { kind, form, schemeName };
  if (form.type === 'apiKey') {
    const fromScheme = scheme?.type === 'apiKey' ? scheme : undefined;
    entry.location = form.in ?? fromScheme?.in ?? 'header';
    entry.name = form.name ?? fromScheme?.name;
    if (!entry.name) {
      throw new ConfigError(`The apiKey credentials of app ${app.tag} need a name: no apiKey scheme of the app declares one. Add name (and in) to auth.`, { app: app.tag });
    }
    // A scheme's name comes from an imported definition (a Postman key such as "Api Key"); the HTTP client would refuse
    // it as a raw invalid-argument error, reported as a network failure.
    if (entry.location !== 'query' && !HEADER_NAME.test(entry.name)) {
      throw new ConfigError(
        `The apiKey scheme ${schemeName ?? ''} of app ${app.tag} names its ${entry.location} ${JSON.stringify(entry.name)}, which is not a valid ${entry.location} name. Give the name the API expects in auth ({ type: 'apiKey', name, value${schemeName ? `, scheme: '${schemeName}'` : ''} }).`,
        { app: app.tag },
      );
    }
    names.push(entry.name);
  } else if (form.type === 'oauth2') {
    const fromScheme = tokenUrlFrom(scheme, form.grant);
    // The spec's URL may be relative to its server (`/oauth/token`); a configured token_url is taken as given.
    entry.tokenUrl = form.token_url ?? (fromScheme && server ? resolveSpecUrl(fromScheme, server) : fromScheme);
    // An owner's token carries the scopes granted at consent; a requirement's scopes cannot widen it.
    entry.scopes = form.scopes ?? (form.grant === 'authorization_code' ? [] : scopes);
    if (!entry.tokenUrl) {
      throw new ConfigError(`The oauth2 credentials of app ${app.tag} need token_url: the app's scheme declares no token endpoint for ${form.grant}.`, { app: app.tag });
    }
  } else if (kind === 'raw' || kind === 'action') {
    const raw = form as Extract<AuthForm, { headers?: unknown }>;
    names.push(...Object.keys(raw.headers ?? {}), ...Object.keys(raw.query ?? {}));
  }
  return entry;
}

function tokenUrlFrom(scheme: AuthSchemeDef | undefined, grant: OAuth2Auth['grant']): string | undefined {
  const flows = scheme?.type === 'oauth2' ? scheme.flows ?? {} : {};
  if (grant === 'client_credentials') return flows.clientCredentials?.tokenUrl;
  // At run time this URL only refreshes owners' tokens (the code is exchanged by connections.complete, at tokenUrl):
  // OpenAPI's refreshUrl is "the URL to be used for obtaining refresh tokens" when the flow declares one.
  if (grant === 'authorization_code') return flows.authorizationCode?.refreshUrl ?? flows.authorizationCode?.tokenUrl;
  for (const f of [flows.authorizationCode, flows.password, flows.clientCredentials, ...Object.values(flows)]) {
    const url = f?.refreshUrl ?? f?.tokenUrl;
    if (url) return url;
  }
  return undefined;
}

function applyEntry(req: OutgoingRequest, e: AuthEntry, v: ResolvedCredential, identity: string[][]): void {
  const f = v.form;
  // The identity of fetched credentials is who they were fetched for, not the short-lived token: a refreshed token
  // or a new login keeps the same credentialId (and cache entries).
  const applied: string[][] = e.kind === 'oauth2' || e.kind === 'action' ? [] : identity;
  if (e.kind === 'oauth2') {
    const o = f as Extract<AuthForm, { type: 'oauth2' }>;
    // An owner's token is theirs alone: without the owner, two users' requests would share a cache entry.
    identity.push(['o', o.grant, e.tokenUrl ?? '', o.client_id, JSON.stringify(e.scopes ?? []), o.client_secret ?? '', o.refresh_token ?? '', v.owner ?? '']);
  } else if (e.kind === 'action') {
    identity.push(['a', (f as { event: string }).event, JSON.stringify((f as { input?: unknown }).input ?? null)]);
  }
  const header = (name: string, value: unknown) => {
    const text = headerValue(name, value);
    req.headers[name.toLowerCase()] = text;
    applied.push(['h', name.toLowerCase(), text]);
  };
  switch (e.kind) {
    case 'bearer':
      return header('authorization', `Bearer ${secretText((f as { token: unknown }).token, 'token')}`);
    case 'oauth2':
      if (!v.accessToken) throw new Error('auth: oauth2 entry applied without an access token');
      return header('authorization', `Bearer ${secretText(v.accessToken, 'access token')}`);
    case 'basic': {
      const { username, password } = f as { username: unknown; password: unknown };
      const user = secretText(username, 'username');
      // RFC 7617 §2: the user-id cannot contain a colon, or the server would split it wrongly.
      if (user.includes(':')) throw new ConfigError('The basic auth username contains ":", which RFC 7617 forbids.');
      const encoded = Buffer.from(`${user}:${secretText(password, 'password')}`, 'utf8').toString('base64');
      registerSecret(encoded);
      return header('authorization', `Basic ${encoded}`);
    }
    case 'apiKey': {
      const value = secretText((f as { value: unknown }).value, 'value');
      if (e.location === 'header') return header(e.name!, value);
      if (e.location === 'query') return setQuery(req, e.name!, value, applied);
      return setCookie(req, e.name!, value, applied);
    }
    default: {
      const raw = f as { headers?: Record<string, unknown>; query?: Record<string, unknown>; body?: Record<string, unknown> };
      for (const [n, val] of Object.entries(raw.headers ?? {})) header(n, secretText(val, `headers.${n}`));
      for (const [n, val] of Object.entries(raw.query ?? {})) setQuery(req, n, secretText(val, `query.${n}`), applied);
      if (raw.body && Object.keys(raw.body).length) mergeBody(req, raw.body, applied);
    }
  }
}

/** A credential value as text; registered for redaction before it goes anywhere. */
function secretText(value: unknown, what: string): string {
  if (value === undefined || value === null || value === '') throw new ConfigError(`The credential ${what} resolved to nothing; check the placeholder or secret it comes from.`);
  const text = typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
  registerSecret(text);
  return text;
}

// CR/LF would split the header (request smuggling), and undici refuses any other character a header cannot carry
// (a secret pasted as "sk_live_…") only at send time, as a misleading NETWORK_ERROR. Refuse rather than strip,
// naming the header and the character, never the value.
function headerValue(name: string, value: unknown): string {
  const text = String(value);
  const problem = headerValueProblem(text, 'check the credential and the secret or variable it comes from');
  if (problem) throw new InvalidInputError([{ location: 'headers', path: `/${name.toLowerCase()}`, message: problem }], 'Invalid credentials');
  return text;
}

function setQuery(req: OutgoingRequest, name: string, value: string, applied: string[][]): void {
  const q = req.path.indexOf('?');
  const base = q < 0 ? req.path : req.path.slice(0, q);
  // A caller's param of the same name is dropped: the credential is what the scheme says is sent.
  const kept = q < 0 ? [] : req.path.slice(q + 1).split('&').filter((p) => p !== '' && decodePart(p.split('=')[0]) !== name);
  kept.push(`${encodeURIComponent(name)}=${encodeURIComponent(value)}`);
  req.path = `${base}?${kept.join('&')}`;
  applied.push(['q', name, value]);
}

function setCookie(req: OutgoingRequest, name: string, value: string, applied: string[][]): void {
  // RFC 6265 §4.1.1 cookie-octet excludes controls, space, DQUOTE, comma, semicolon and backslash: encode those.
  const octets = /^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*$/.test(value) ? value : encodeURIComponent(value);
  const others = (req.headers.cookie ?? '').split(/;\s*/).filter((c) => c !== '' && c.split('=')[0] !== name);
  req.headers.cookie = [...others, `${name}=${octets}`].join('; ');
  applied.push(['c', name, value]);
}

function mergeBody(req: OutgoingRequest, fields: Record<string, unknown>, applied: string[][]): void {
  for (const v of Object.values(fields)) if (typeof v === 'string') registerSecret(v);
  applied.push(['b', JSON.stringify(fields)]);
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  delete req.headers['content-length'];
  if (req.body === null || req.body === undefined) {
    req.body = JSON.stringify(fields);
    req.headers['content-type'] = 'application/json';
  } else if (typeof req.body === 'string' && (type === 'application/json' || type.endsWith('+json'))) {
    const parsed: unknown = req.body === '' ? {} : JSON.parse(req.body);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError('Auth body templates need a JSON object body to merge into.');
    req.body = JSON.stringify({ ...parsed, ...fields });
  } else if (typeof req.body === 'string' && type === 'application/x-www-form-urlencoded') {
    req.body = setFormFields(req.body, fields);
  } else if (req.body instanceof FormData) {
    for (const [k, v] of Object.entries(fields)) req.body.set(k, typeof v === 'string' ? v : JSON.stringify(v));
  } else {
    throw new ConfigError(`Auth body templates can only be merged into JSON, form or multipart bodies (this request sends ${type || 'bytes'}).`);
  }
}

/**
 * Sets fields of an encoded form body as URLSearchParams.set would (the first pair of a name replaced in place, later
 * ones dropped, new names appended), but leaves every other pair as the encode stage wrote it: re-serializing the
 * whole body through URLSearchParams turned its bracketed names (`list[x]`) into `list%5Bx%5D`.
 */
function setFormFields(body: string, fields: Record<string, unknown>): string {
  const pair = (k: string, v: unknown) => `${encodeForm(k)}=${encodeForm(typeof v === 'string' ? v : JSON.stringify(v))}`;
  const done = new Set<string>();
  const out: string[] = [];
  for (const p of body.split('&')) {
    if (p === '') continue;
    const name = decodePart(p.split('=', 1)[0]);
    if (!Object.hasOwn(fields, name)) {
      out.push(p);
    } else if (!done.has(name)) {
      out.push(pair(name, fields[name]));
      done.add(name);
    }
  }
  for (const [k, v] of Object.entries(fields)) if (!done.has(k)) out.push(pair(k, v));
  return out.join('&');
}

function decodePart(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}
