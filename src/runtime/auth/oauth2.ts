// OAuth2 token manager: client_credentials and refresh_token grants (RFC 6749 §4.4, §6), cached, single-flight, rotated.
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
  grant: 'client_credentials' | 'refresh_token';
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

export interface OAuth2Manager {
  /**
   * A fresh access token: cached until shortly before expiry; concurrent callers share one token request, in this
   * process and across processes (a caller waits up to `waitMs` for another process's request, then TIMEOUT).
   */
  getAccessToken(p: OAuth2Params, waitMs?: number): Promise<string>;
  /**
   * The 401 hook: the upstream refused `rejected`. Marks it stale and returns the token to retry with (a new one,
   * fetched once however many runs were refused with the same token).
   */
  refreshAfterUnauthorized(p: OAuth2Params, rejected: string, waitMs?: number): Promise<string>;
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
    const obtainedAt = now();
    const body = await requestToken(deps, p, refreshToken);
    return {
      value: { access_token: body.access_token, token_type: body.token_type, refresh_token: body.refresh_token ?? refreshToken, origin: originOf(p) },
      expiresAt: body.expires_in === undefined ? null : obtainedAt + body.expires_in * 1000,
      obtainedAt,
    };
  };

  const fetchFresh = async (p: OAuth2Params, waitMs?: number) => {
    registerSecret(p.clientSecret);
    registerSecret(p.refreshToken);
    const origin = originOf(p);
    const held = await cache.get(tokenKey(p), obtain(p), (t) => t.origin === origin, waitMs);
    registerSecret(held.value.access_token);
    registerSecret(held.value.refresh_token);
    return held.value.access_token;
  };

  return {
    getAccessToken: fetchFresh,
    async refreshAfterUnauthorized(p, rejected, waitMs) {
      cache.invalidate(tokenKey(p), (t) => t.access_token === rejected);
      return fetchFresh(p, waitMs);
    },
    tokenKey,
  };
}

interface TokenResponse {
  access_token: string;
  token_type?: string;
  expires_in?: number;
  refresh_token?: string;
}

async function requestToken(deps: OAuth2ManagerDeps, p: OAuth2Params, refreshToken: string | undefined): Promise<TokenResponse> {
  let url: URL;
  try {
    url = new URL(p.tokenUrl);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('protocol');
  } catch {
    throw new DuctapeError('CONFIG_ERROR', `The OAuth2 token_url "${redactUrl(p.tokenUrl)}" is not an absolute http(s) URL.`);
  }
  const form = new URLSearchParams({ grant_type: p.grant });
  if (p.grant === 'refresh_token') form.set('refresh_token', refreshToken ?? '');
  if (p.scopes.length) form.set('scope', p.scopes.join(' '));
  for (const [k, v] of Object.entries(p.params ?? {})) form.set(k, v);
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
  if (p.clientAuth === 'basic' && p.clientSecret !== undefined) {
    // RFC 6749 §2.3.1: id and secret are form-urlencoded before they are joined for Basic.
    const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
    const basic = Buffer.from(`${enc(p.clientId)}:${enc(p.clientSecret)}`).toString('base64');
    registerSecret(basic);
    headers.authorization = `Basic ${basic}`;
  } else {
    form.set('client_id', p.clientId);
    if (p.clientSecret !== undefined) form.set('client_secret', p.clientSecret);
  }
  const where = `the OAuth2 token endpoint ${url.origin}${url.pathname}`;
  const timeoutMs = deps.timeoutMs ?? 30_000;
  let res: Dispatcher.ResponseData;
  try {
    res = await request(url, { method: 'POST', headers, body: form.toString(), dispatcher: deps.dispatcher, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    if (/TIMEOUT/.test(code)) throw new DuctapeError('TIMEOUT', `No answer from ${where} within ${timeoutMs} ms.`, { timeoutMs }, { cause: err });
    throw new DuctapeError('NETWORK_ERROR', `Cannot reach ${where}: ${(err as Error).message}.`, {}, { cause: err });
  }
  const text = await res.body.text();
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
    expires_in: typeof expires === 'number' && Number.isFinite(expires) && expires > 0 ? expires : undefined,
    refresh_token: typeof json.refresh_token === 'string' && json.refresh_token ? json.refresh_token : undefined,
  };
}

const cap = (s: string) => s[0].toUpperCase() + s.slice(1);
