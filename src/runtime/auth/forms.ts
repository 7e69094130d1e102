// The credential forms of API.md §3 as data, and their shape check (run once, when a connection is configured).
import { ConfigError, type Issue } from '../../errors.js';
import { HEADER_NAME } from '../../model/header.js';
import type { IActionRequest } from '../context.js';

/** Every form may name the declared scheme it is for, when the type alone cannot tell (two bearer schemes). */
interface Pinned {
  scheme?: string;
}

export interface BearerAuth extends Pinned {
  type: 'bearer';
  token: string;
}
export interface BasicAuth extends Pinned {
  type: 'basic';
  username: string;
  password: string;
}
export interface ApiKeyAuth extends Pinned {
  type: 'apiKey';
  /** Defaults from the app's apiKey scheme. */
  in?: 'header' | 'query' | 'cookie';
  /** Defaults from the app's apiKey scheme. */
  name?: string;
  value: string;
}
export interface OAuth2Auth extends Pinned {
  type: 'oauth2';
  /** `authorization_code`: each end user connects their own account (needs `per_user` on the connection, docs/connections.md). */
  grant: 'client_credentials' | 'refresh_token' | 'authorization_code';
  /** Defaults from the app's oauth2 scheme flows. */
  token_url?: string;
  /** authorization_code: the provider's consent page. Defaults from the app's authorizationCode flow. */
  authorize_url?: string;
  /** authorization_code: where the provider sends the user back (your callback, or `ductape serve`'s /v1/oauth/callback). */
  redirect_uri?: string;
  /** authorization_code: the provider's RFC 7009 revocation endpoint, called by connections.revoke. */
  revoke_url?: string;
  /** authorization_code: where `ductape serve`'s /v1/oauth/callback sends the browser once the consent is complete. */
  return_url?: string;
  client_id: string;
  /** Required for client_credentials; public clients may omit it for refresh_token. */
  client_secret?: string;
  /** Defaults to the scopes the security requirement lists (authorization_code: every scope of the app's authorizationCode flow). */
  scopes?: string[];
  refresh_token?: string;
  /** How the client authenticates at the token endpoint (RFC 6749 §2.3.1). @default 'basic' */
  client_auth?: 'basic' | 'body';
  /** Extra token request parameters (e.g. audience). */
  params?: Record<string, string>;
}
/** Raw templates: sent as given (after placeholders resolve). */
export interface RawAuth {
  type?: 'raw';
  headers?: Record<string, string>;
  query?: Record<string, string>;
  body?: Record<string, unknown>;
}
/** Log in by running one of the app's actions; its response is `$Auth{path}` inside the templates (and elsewhere). */
export interface ActionAuth extends Omit<RawAuth, 'type'> {
  type: 'action';
  event: string;
  input?: IActionRequest;
  /** Seconds the login result stays valid. @default 3600 */
  expiry?: number;
}

export type AuthForm = BearerAuth | BasicAuth | ApiKeyAuth | OAuth2Auth | RawAuth | ActionAuth;
/** What `products.apps.configure({ auth })` accepts: one form, or several when a requirement ANDs schemes. */
export type AuthConfig = AuthForm | AuthForm[];

const FIELDS: Record<string, { required: string[]; optional: string[] }> = {
  bearer: { required: ['token'], optional: ['scheme'] },
  basic: { required: ['username', 'password'], optional: ['scheme'] },
  apiKey: { required: ['value'], optional: ['in', 'name', 'scheme'] },
  oauth2: {
    required: ['grant', 'client_id'],
    optional: ['token_url', 'client_secret', 'scopes', 'refresh_token', 'client_auth', 'params', 'scheme', 'authorize_url', 'redirect_uri', 'revoke_url', 'return_url'],
  },
  raw: { required: [], optional: ['headers', 'query', 'body'] },
  action: { required: ['event'], optional: ['input', 'expiry', 'headers', 'query', 'body'] },
};

/** The form's kind; a form without `type` is raw templates. */
export const formType = (f: AuthForm): keyof typeof FIELDS => f.type ?? 'raw';

/** Forms the app's declared schemes cannot describe: always sent, whatever requirement is chosen. */
export const isOpaque = (f: AuthForm) => formType(f) === 'raw' || formType(f) === 'action';


/**
 * Checks an `auth` value's shape and returns it as a list of forms. Strings may still hold placeholders.
 * @example normalizeAuth({ type: 'bearer', token: '$Secret{STRIPE_KEY}' })
 */
export function normalizeAuth(raw: unknown): AuthForm[] {
  const list = Array.isArray(raw) ? raw : [raw];
  const issues: Issue[] = [];
  const add = (path: string, message: string) => issues.push({ location: 'body', path: `/auth${Array.isArray(raw) ? path : path.replace(/^\/\d+/, '')}`, message });
  if (list.length === 0) add('', 'must hold at least one form');
  list.forEach((f, i) => checkForm(f, (p, m) => add(`/${i}${p}`, m)));
  // A credential form is a definition: refused with CONFIG_ERROR naming the field, the issues as data.
  if (issues.length) {
    const summary = issues.map((i) => `${i.path.slice(1).replace(/\//g, '.')}: ${i.message}`).join('; ');
    throw new ConfigError(`Invalid auth: ${summary}.`, { field: 'auth', reason: summary, issues });
  }
  return list as AuthForm[];
}

function checkForm(f: unknown, add: (path: string, message: string) => void): void {
  if (!f || typeof f !== 'object' || Array.isArray(f)) return add('', 'must be an object');
  const form = f as Record<string, unknown>;
  const type = form.type === undefined ? 'raw' : form.type;
  const spec = typeof type === 'string' ? FIELDS[type] : undefined;
  if (!spec) return add('/type', `must be one of ${Object.keys(FIELDS).join(', ')} (or omitted for raw templates)`);
  const accepted = new Set(['type', ...spec.required, ...spec.optional]);
  for (const k of Object.keys(form)) if (!accepted.has(k)) add(`/${k}`, `is not accepted for ${type} (accepted: ${[...accepted].join(', ')})`);
  for (const k of spec.required) if (form[k] === undefined || form[k] === '') add(`/${k}`, 'is required');
  const str = (k: string) => form[k] === undefined || typeof form[k] === 'string' || add(`/${k}`, 'must be a string');
  for (const k of ['token', 'username', 'password', 'value', 'name', 'scheme', 'token_url', 'client_id', 'client_secret', 'refresh_token', 'event', 'authorize_url', 'redirect_uri', 'revoke_url', 'return_url']) str(k);
  if (form.in !== undefined && !['header', 'query', 'cookie'].includes(form.in as string)) add('/in', 'must be header, query or cookie');
  if (typeof form.name === 'string' && form.in !== 'query' && !HEADER_NAME.test(form.name)) add('/name', 'must be a valid header or cookie name');
  if (type === 'oauth2') {
    if (!['client_credentials', 'refresh_token', 'authorization_code'].includes(form.grant as string)) add('/grant', 'must be client_credentials, refresh_token or authorization_code');
    if (form.grant === 'client_credentials' && !form.client_secret) add('/client_secret', 'is required for client_credentials');
    if (form.grant === 'refresh_token' && !form.refresh_token) add('/refresh_token', 'is required for the refresh_token grant');
    if (form.client_auth !== undefined && !['basic', 'body'].includes(form.client_auth as string)) add('/client_auth', 'must be basic or body');
    if (form.scopes !== undefined && !(Array.isArray(form.scopes) && form.scopes.every((s) => typeof s === 'string'))) add('/scopes', 'must be a list of strings');
    for (const k of ['token_url', 'authorize_url', 'redirect_uri', 'revoke_url', 'return_url']) {
      if (typeof form[k] === 'string' && !/^(https?:\/\/|\$)/i.test(form[k] as string)) add(`/${k}`, 'must be an absolute http(s) URL');
    }
    if (form.grant === 'authorization_code') {
      // The owner's tokens come from the consent flow, never from the config (docs/connections.md).
      if (form.refresh_token !== undefined) add('/refresh_token', 'is not accepted for authorization_code: each owner gets their own when they connect');
      if (!form.redirect_uri) add('/redirect_uri', 'is required for authorization_code (where the provider sends the user back)');
    } else {
      for (const k of ['authorize_url', 'redirect_uri', 'revoke_url', 'return_url']) if (form[k] !== undefined) add(`/${k}`, 'is only accepted for the authorization_code grant');
    }
    checkStringMap(form.params, '/params', add);
  }
  if (type === 'action' && form.expiry !== undefined && !(typeof form.expiry === 'number' && form.expiry > 0)) add('/expiry', 'must be a positive number of seconds');
  if (type === 'raw' || type === 'action') {
    checkStringMap(form.headers, '/headers', add);
    for (const name of Object.keys((form.headers as object) ?? {})) if (!HEADER_NAME.test(name)) add(`/headers/${name}`, 'is not a valid header name');
    checkStringMap(form.query, '/query', add);
    if (form.body !== undefined && (typeof form.body !== 'object' || form.body === null || Array.isArray(form.body))) add('/body', 'must be an object');
    if (type === 'raw' && !form.headers && !form.query && !form.body) add('', 'raw templates need headers, query or body');
  }
}

function checkStringMap(v: unknown, path: string, add: (path: string, message: string) => void): void {
  if (v === undefined) return;
  if (!v || typeof v !== 'object' || Array.isArray(v)) return add(path, 'must be an object of strings');
  for (const [k, x] of Object.entries(v)) if (typeof x !== 'string') add(`${path}/${k}`, 'must be a string');
}
