// OAuth2 token manager: client_credentials and refresh_token grants (RFC 6749 §4.4, §6), cached, single-flight, rotated;
// end users' tokens (authorization_code connections) are refreshed through the same cache, keyed per owner.
import { request, type Dispatcher } from 'undici';
import { DuctapeError } from '../../errors.js';
import { fingerprint } from '../../model/keys.js';
import { redactUrl, registerSecret } from '../../model/redact.js';
import type { AuthEntry } from './apply.js';
import type { OAuth2Auth } from './forms.js';
import { createTokenCache, type HeldToken, type TokenCacheDeps } from './token-cache.js';

export const OAUTH_TOKEN_KIND = 'oauth-token';

/** Everything one token request needs, with placeholders resolved. */
export interface OAuth2Params {
  grant: 'client_credentials' | 'refresh_token' | 'authorization_code';
  tokenUrl: string;
  clientId: string;
  clientSecret?: string;
  scopes: string[];
  /** The refresh token as configured; a rotated one, once issued, is kept in the store and used instead. */
  refreshToken?: string;
  clientAuth: 'basic' | 'body';
  params?: Record<string, string>;
}

export interface OAuth2Token {
  access_token: string;
  token_type?: string;
  refresh_token?: string;
  /** Fingerprint of the configured secret and refresh token the token descends from (sealed with it). */
  origin: string;
}

export interface OAuth2ManagerDeps extends TokenCacheDeps {
  /** undici dispatcher (the runtime's pool). @default undici's global dispatcher */
  dispatcher?: Dispatcher;
  /** Per token request. @default 30_000 */
  timeoutMs?: number;
}

/**
 * One end user's token of an authorization_code connection (src/connections/). The token was stored by
 * connections.complete; here it is only refreshed, with the refresh token it carries.
 */
export interface TokenOwner {
  /** The owner's token record key. */
  key: string;
  /** The id of the owner's current connection: a token from an earlier connection of the same owner is not used. */
  origin: string;
  /** Before a refresh: throws AUTH_FAILED when the connection is no longer active (another process revoked or expired it). */
  ensureActive(): Promise<void>;
  /** Nothing to refresh with, or the provider refused the refresh: marks the connection expired and throws AUTH_FAILED. */
  refused(reason: string, cause?: unknown): Promise<never>;
}

export interface OAuth2Manager {
  /**
   * A fresh access token: cached until shortly before expiry; concurrent callers share one token request, in this
   * process and across processes (a caller waits up to `waitMs` for another process's request, then TIMEOUT). With
   * `owner`, the token of that end user (refreshed with their refresh token, never fetched anew).
   */
  getAccessToken(p: OAuth2Params, waitMs?: number, owner?: TokenOwner): Promise<string>;
  /**
   * The 401 hook: the upstream refused `rejected`. Marks it stale and returns the token to retry with (a new one,
   * fetched once however many runs were refused with the same token).
   */
  refreshAfterUnauthorized(p: OAuth2Params, rejected: string, waitMs?: number, owner?: TokenOwner): Promise<string>;
  /** The store key under which a parameter set's token is kept: a hash of its non-secret parts only. */
  tokenKey(p: OAuth2Params): string;
}

/** Builds token parameters from a compiled entry and its resolved form. */
export function oauth2Params(entry: AuthEntry, form: OAuth2Auth): OAuth2Params {
  return {
    grant: form.grant,
    tokenUrl: form.token_url ?? entry.tokenUrl!,
    clientId: form.client_id,
    clientSecret: form.client_secret,
    scopes: form.scopes ?? entry.scopes ?? [],
    refreshToken: form.refresh_token,
    clientAuth: form.client_auth ?? 'basic',
    params: form.params,
  };
}

export function createOAuth2Manager(deps: OAuth2ManagerDeps): OAuth2Manager {
  const cache = createTokenCache<OAuth2Token>(deps, OAUTH_TOKEN_KIND, 'the OAuth2 token of this connection');
  const now = deps.now ?? Date.now;

  // The key holds no secret and does not depend on private_key, so rotate-key can re-seal a token in place. Secret
  // parts go into `origin`, sealed with the token: new credentials configured → the old token (and its chain of
  // rotated refresh tokens) no longer counts.
  const tokenKey = (p: OAuth2Params) => fingerprint(p.grant, p.tokenUrl, p.clientId, JSON.stringify([...p.scopes].sort()), JSON.stringify(p.params ?? {}));
  const originOf = (p: OAuth2Params) => fingerprint('oauth2-origin', p.clientSecret ?? '', p.refreshToken ?? '');

  const obtain = (p: OAuth2Params) => async (previous: HeldToken<OAuth2Token> | undefined): Promise<HeldToken<OAuth2Token>> => {
    // A rotated refresh token replaces the configured one (RFC 6749 §6: the old one may be revoked on use).
    const refreshToken = p.grant === 'refresh_token' ? previous?.value.refresh_token ?? p.refreshToken : undefined;
    // A rotated one read from the store is known to no redaction yet in this process (see refreshFor).
    registerSecret(refreshToken);
    const obtainedAt = now();
    const body = await requestToken(deps, p, p.grant === 'refresh_token' ? { refresh_token: refreshToken ?? '' } : {});
    return {
      value: { access_token: body.access_token, token_type: body.token_type, refresh_token: body.refresh_token ?? refreshToken, origin: originOf(p) },
      expiresAt: body.expires_in === undefined ? null : obtainedAt + body.expires_in * 1000,
      obtainedAt,
    };
  };

  // An owner's token is only ever refreshed: a new one takes the owner's consent (connections.authorize).
  const refreshFor = (p: OAuth2Params, owner: TokenOwner) => async (previous: HeldToken<OAuth2Token> | undefined): Promise<HeldToken<OAuth2Token>> => {
    await owner.ensureActive();
    const refreshToken = previous?.value.refresh_token;
    if (!refreshToken) return owner.refused(previous ? 'the access token expired and the provider gave no refresh token' : 'no token is stored for this owner');
    // Registered before it is sent: in a process that only read it from the store, a provider whose refusal echoes it
    // (error_description) would otherwise put the owner's refresh token into the error message and the run log.
    registerSecret(refreshToken);
    const obtainedAt = now();
    let body: TokenResponse;
    try {
      // No scope parameter: RFC 6749 §6 keeps the scopes the owner granted.
      body = await requestToken(deps, { ...p, grant: 'refresh_token', scopes: [] }, { refresh_token: refreshToken });
    } catch (err) {
      // invalid_grant (RFC 6749 §5.2) is about the owner's grant: revoked, expired, rotated away. invalid_client and
      // the like are the app's credentials, and 5xx or network errors may pass: those leave the connection active.
      if (isGrantRefused(err)) return owner.refused(refusalReason(err as DuctapeError), err);
      throw err;
    }
    return {
      value: { access_token: body.access_token, token_type: body.token_type, refresh_token: body.refresh_token ?? refreshToken, origin: owner.origin },
      expiresAt: body.expires_in === undefined ? null : obtainedAt + body.expires_in * 1000,
      obtainedAt,
    };
  };

  const fetchFresh = async (p: OAuth2Params, waitMs?: number, owner?: TokenOwner) => {
    registerSecret(p.clientSecret);
    registerSecret(p.refreshToken);
    const origin = owner ? owner.origin : originOf(p);
    const held = await cache.get(owner ? owner.key : tokenKey(p), owner ? refreshFor(p, owner) : obtain(p), (t) => t.origin === origin, waitMs);
    registerSecret(held.value.access_token);
    registerSecret(held.value.refresh_token);
    return held.value.access_token;
  };

  return {
    getAccessToken: fetchFresh,
    async refreshAfterUnauthorized(p, rejected, waitMs, owner) {
      cache.invalidate(owner ? owner.key : tokenKey(p), (t) => t.access_token === rejected);
      return fetchFresh(p, waitMs, owner);
    },
    tokenKey,
  };
}

function isGrantRefused(err: unknown): boolean {
  if (!(err instanceof DuctapeError) || err.code !== 'AUTH_FAILED') return false;
  const oauthError = err.details.oauthError;
  return oauthError === 'invalid_grant' || (oauthError === null && err.details.status === 400);
}

function refusalReason(err: DuctapeError): string {
  const oauthError = err.details.oauthError;
  return `the provider refused the refresh with ${err.details.status}${typeof oauthError === 'string' ? ` ${oauthError}` : ''}`;
}

/** The longest token lifetime taken as given (100 years, in seconds); longer ones count as none. */
const MAX_EXPIRES_IN_S = 100 * 365 * 24 * 3600;

export interface TokenResponse {
  access_token: string;
  token_type?: string;
  expires_in?: number;
  refresh_token?: string;
  /** The scopes granted, when the provider says (RFC 6749 §5.1: absent means as requested). */
  scope?: string;
}

/** The client's side of a token or revocation request: endpoint and client authentication. */
type ClientParams = Pick<OAuth2Params, 'clientId' | 'clientSecret' | 'clientAuth'>;

/**
 * One token request (RFC 6749 §3.2) for `p.grant` with the grant's own fields (refresh_token; code, redirect_uri and
 * code_verifier). Refusals become AUTH_FAILED naming the RFC 6749 §5.2 error, never the body.
 */
export async function requestToken(deps: OAuth2ManagerDeps, p: OAuth2Params, fields: Record<string, string>): Promise<TokenResponse> {
  const url = endpointUrl(p.tokenUrl, 'token_url');
  const form = new URLSearchParams({ grant_type: p.grant, ...fields });
  if (p.scopes.length) form.set('scope', p.scopes.join(' '));
  for (const [k, v] of Object.entries(p.params ?? {})) form.set(k, v);
  const where = `the OAuth2 token endpoint ${url.origin}${url.pathname}`;
  const { res, text } = await post(deps, url, form, p, where);
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  if (res.statusCode < 200 || res.statusCode > 299 || !json || typeof json.access_token !== 'string' || json.access_token === '') {
    // RFC 6749 §5.2 error codes (invalid_client, invalid_grant…) name the fix; never echo the body otherwise.
    const oauthError = typeof json?.error === 'string' ? json.error : undefined;
    const detail = oauthError ? `: ${oauthError}${typeof json?.error_description === 'string' ? ` (${json.error_description})` : ''}` : '';
    const status = res.statusCode;
    const code = status >= 500 ? 'UPSTREAM_ERROR' : 'AUTH_FAILED';
    const what = status >= 200 && status <= 299 ? 'answered without an access_token' : `refused the ${p.grant} grant with ${status}${detail}`;
    throw new DuctapeError(code, `${cap(where)} ${what}. Check the app's oauth2 credentials.`, { status, oauthError: oauthError ?? null, retryable: status >= 500 });
  }
  const expires = typeof json.expires_in === 'string' ? Number(json.expires_in) : json.expires_in;
  return {
    access_token: json.access_token,
    token_type: typeof json.token_type === 'string' ? json.token_type : undefined,
    // A lifetime beyond any date (1e20 s) made expiry dates invalid: toISOString() threw a RangeError in complete
    // and in every later connections.list. Such a token is treated as one with no lifetime given.
    expires_in: typeof expires === 'number' && expires > 0 && expires <= MAX_EXPIRES_IN_S ? expires : undefined,
    refresh_token: typeof json.refresh_token === 'string' && json.refresh_token ? json.refresh_token : undefined,
    scope: typeof json.scope === 'string' ? json.scope : undefined,
  };
}

/**
 * Revokes a token at the provider's RFC 7009 endpoint. 200 means revoked (or already invalid, §2.2); anything else
 * is reported as AUTH_FAILED / UPSTREAM_ERROR like a token request.
 */
export async function revokeToken(deps: OAuth2ManagerDeps, revokeUrl: string, client: ClientParams, token: string, hint: 'refresh_token' | 'access_token'): Promise<void> {
  const url = endpointUrl(revokeUrl, 'revoke_url');
  const where = `the OAuth2 revocation endpoint ${url.origin}${url.pathname}`;
  const { res, text } = await post(deps, url, new URLSearchParams({ token, token_type_hint: hint }), client, where);
  if (res.statusCode === 200) return;
  let oauthError: string | undefined;
  try {
    const json = JSON.parse(text) as { error?: unknown };
    oauthError = typeof json.error === 'string' ? json.error : undefined;
  } catch {
    oauthError = undefined;
  }
  const status = res.statusCode;
  throw new DuctapeError(status >= 500 ? 'UPSTREAM_ERROR' : 'AUTH_FAILED', `${cap(where)} refused the revocation with ${status}${oauthError ? `: ${oauthError}` : ''}.`, {
    status,
    oauthError: oauthError ?? null,
    retryable: status >= 500,
  });
}

/** An endpoint of the client's config as a URL; CONFIG_ERROR naming the field when it is not an absolute http(s) one. */
export function endpointUrl(raw: string, field: string): URL {
  try {
    const url = new URL(raw);
    if (url.protocol === 'https:' || url.protocol === 'http:') return url;
  } catch {
    // reported below
  }
  throw new DuctapeError('CONFIG_ERROR', `The OAuth2 ${field} "${redactUrl(raw)}" is not an absolute http(s) URL.`);
}

/** POSTs a form with the client's authentication (RFC 6749 §2.3.1), bounded in time; network failures become errors. */
async function post(deps: OAuth2ManagerDeps, url: URL, form: URLSearchParams, client: ClientParams, where: string): Promise<{ res: Dispatcher.ResponseData; text: string }> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
  if (client.clientAuth === 'basic' && client.clientSecret !== undefined) {
    // RFC 6749 §2.3.1: id and secret are form-urlencoded before they are joined for Basic.
    const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
    const basic = Buffer.from(`${enc(client.clientId)}:${enc(client.clientSecret)}`).toString('base64');
    registerSecret(basic);
    headers.authorization = `Basic ${basic}`;
  } else {
    form.set('client_id', client.clientId);
    if (client.clientSecret !== undefined) form.set('client_secret', client.clientSecret);
  }
  const timeoutMs = deps.timeoutMs ?? 30_000;
  let res: Dispatcher.ResponseData;
  try {
    res = await request(url, { method: 'POST', headers, body: form.toString(), dispatcher: deps.dispatcher, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    if (/TIMEOUT/.test(code)) throw new DuctapeError('TIMEOUT', `No answer from ${where} within ${timeoutMs} ms.`, { timeoutMs }, { cause: err });
    throw new DuctapeError('NETWORK_ERROR', `Cannot reach ${where}: ${(err as Error).message}.`, {}, { cause: err });
  }
  return { res, text: await res.body.text() };
}

const cap = (s: string) => s[0].toUpperCase() + s.slice(1);
