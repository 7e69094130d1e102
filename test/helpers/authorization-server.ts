// A real OAuth 2.0 authorization server on loopback for end-user connection tests: consent page (authorize), token
// endpoint (authorization_code with PKCE S256, refresh_token with rotation), RFC 7009 revocation, and a protected
// resource (`GET /me`) that answers with the account a token belongs to. It refuses what a strict provider refuses.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readBody, send as json } from './oauth-server.js';

export interface AuthorizationServerOptions {
  clientId?: string;
  clientSecret?: string;
  /** Redirect URIs the client registered (exact match, RFC 6749 §3.1.2.3); others are refused. */
  redirectUris: string[];
  /** Access token lifetime in seconds. @default 3600 */
  expiresIn?: number;
  /** Lifetime of access tokens issued by a refresh, in seconds. @default expiresIn */
  refreshedExpiresIn?: number;
  /** Delay before answering a refresh (lets concurrent callers pile up). @default 0 */
  refreshDelayMs?: number;
  /** Delay between rotating the refresh token and answering (the new tokens exist before the client has them). @default 0 */
  refreshAnswerDelayMs?: number;
}

export interface TokenCall {
  grant: string;
  status: number;
  /** Why it was refused (test-side only). */
  refusal?: string;
}

export interface AuthorizationServer {
  url: string;
  authorizeUrl: string;
  tokenUrl: string;
  revokeUrl: string;
  tokenCalls: TokenCall[];
  revokeCalls: { token: string; hint: string | undefined }[];
  /** Every code, access token and refresh token it ever issued (for leak checks). */
  issued: Set<string>;
  /** Authorize requests as received (query parameters). */
  authorizeRequests: Record<string, string>[];
  /** Approves a consent as `account`, like the user clicking Allow: resolves to the redirect it answers with. */
  approve(consentUrl: string, account: string): Promise<{ location: string; code: string; state: string }>;
  /** Makes the refresh token(s) of `account` invalid: the next refresh is refused with invalid_grant. */
  revokeGrantsOf(account: string): void;
  /** Ends the access tokens of `account` early: the resource answers 401 until the client refreshes. */
  expireAccessTokensOf(account: string): void;
  isValidRefreshToken(token: string): boolean;
  close(): Promise<void>;
}

interface Grant {
  account: string;
  clientId: string;
  redirectUri: string;
  challenge: string;
  scope: string;
}

export async function startAuthorizationServer(opts: AuthorizationServerOptions): Promise<AuthorizationServer> {
  const clientId = opts.clientId ?? 'app-client';
  const clientSecret = opts.clientSecret ?? 'app-client-secret-0042';
  const expiresIn = opts.expiresIn ?? 3600;
  const pendingConsents = new Map<string, Record<string, string>>(); // consent id → authorize params
  const codes = new Map<string, Grant & { used: boolean }>();
  const access = new Map<string, { account: string; expiresAt: number; refresh: string }>();
  const refresh = new Map<string, { account: string; scope: string }>();
  const tokenCalls: TokenCall[] = [];
  const revokeCalls: AuthorizationServer['revokeCalls'] = [];
  const authorizeRequests: Record<string, string>[] = [];
  const issued = new Set<string>();
  const mint = (prefix: string) => {
    const v = `${prefix}_${randomBytes(16).toString('hex')}`;
    issued.add(v);
    return v;
  };

  function authorizePage(url: URL, res: ServerResponse) {
    const q = Object.fromEntries(url.searchParams);
    authorizeRequests.push(q);
    // RFC 6749 §4.1.2.1: a bad client or redirect URI is shown to the user, never redirected to.
    if (q.client_id !== clientId) return html(res, 400, '<h1>Unknown client</h1>');
    if (!opts.redirectUris.includes(q.redirect_uri)) return html(res, 400, '<h1>Unregistered redirect_uri</h1>');
    const refuse = (error: string) => redirect(res, withQuery(q.redirect_uri, { error, state: q.state }));
    if (q.response_type !== 'code') return refuse('unsupported_response_type');
    if (!q.state) return refuse('invalid_request');
    if (q.code_challenge_method !== 'S256' || !/^[A-Za-z0-9_-]{43}$/.test(q.code_challenge ?? '')) return refuse('invalid_request');
    const id = randomBytes(8).toString('hex');
    pendingConsents.set(id, q);
    html(
      res,
      200,
      `<!doctype html><title>Consent</title><h1>Allow access to ${escape(q.scope ?? '')}?</h1>
<form method="post" action="/authorize/approve"><input type="hidden" name="consent" value="${id}">
<label>Account <input name="account" id="account"></label><button id="allow" type="submit">Allow</button></form>`,
    );
  }

  function approveConsent(form: URLSearchParams, res: ServerResponse) {
    const q = pendingConsents.get(form.get('consent') ?? '');
    const account = form.get('account') ?? '';
    if (!q || !account) return html(res, 400, '<h1>Unknown consent</h1>');
    pendingConsents.delete(form.get('consent')!);
    const code = mint('code');
    codes.set(code, { account, clientId, redirectUri: q.redirect_uri, challenge: q.code_challenge, scope: q.scope ?? '', used: false });
    redirect(res, withQuery(q.redirect_uri, { code, state: q.state }));
  }

  function issue(account: string, scope: string, lifetime = expiresIn) {
    const rt = mint('rt');
    refresh.set(rt, { account, scope });
    const at = mint('at');
    access.set(at, { account, expiresAt: Date.now() + lifetime * 1000, refresh: rt });
    return { access_token: at, token_type: 'Bearer', expires_in: lifetime, refresh_token: rt, scope };
  }

  async function token(req: IncomingMessage, form: URLSearchParams, res: ServerResponse) {
    const call: TokenCall = { grant: form.get('grant_type') ?? '', status: 0 };
    tokenCalls.push(call);
    const fail = (status: number, error: string, refusal: string) => {
      call.status = status;
      call.refusal = refusal;
      json(res, status, { error, error_description: refusal });
    };
    const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '');
    const [id, secret] = basic ? Buffer.from(basic[1], 'base64').toString().split(':').map((s) => decodeURIComponent(s.replace(/\+/g, ' '))) : [form.get('client_id'), form.get('client_secret')];
    if (id !== clientId || secret !== clientSecret) return fail(401, 'invalid_client', 'client authentication failed');
    if (call.grant === 'authorization_code') {
      const code = form.get('code') ?? '';
      const grant = codes.get(code);
      if (!grant) return fail(400, 'invalid_grant', 'unknown code');
      if (grant.used) return fail(400, 'invalid_grant', 'code reused');
      grant.used = true;
      if (form.get('redirect_uri') !== grant.redirectUri) return fail(400, 'invalid_grant', 'redirect_uri mismatch');
      const verifier = form.get('code_verifier') ?? '';
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier) || challenge !== grant.challenge) return fail(400, 'invalid_grant', 'PKCE verification failed');
      call.status = 200;
      return json(res, 200, issue(grant.account, grant.scope));
    }
    if (call.grant === 'refresh_token') {
      if (opts.refreshDelayMs) await new Promise((r) => setTimeout(r, opts.refreshDelayMs));
      const old = form.get('refresh_token') ?? '';
      const held = refresh.get(old);
      if (!held) return fail(400, 'invalid_grant', 'refresh token invalid');
      // Rotation: the refresh token is single use (RFC 9700 §4.14.2).
      refresh.delete(old);
      call.status = 200;
      const answer = issue(held.account, held.scope, opts.refreshedExpiresIn ?? expiresIn);
      if (opts.refreshAnswerDelayMs) await new Promise((r) => setTimeout(r, opts.refreshAnswerDelayMs));
      return json(res, 200, answer);
    }
    fail(400, 'unsupported_grant_type', call.grant);
  }

  function revoke(form: URLSearchParams, res: ServerResponse) {
    const tokenValue = form.get('token') ?? '';
    revokeCalls.push({ token: tokenValue, hint: form.get('token_type_hint') ?? undefined });
    refresh.delete(tokenValue);
    for (const [at, a] of access) if (at === tokenValue || a.refresh === tokenValue) access.delete(at);
    res.writeHead(200).end();
  }

  function me(req: IncomingMessage, res: ServerResponse) {
    const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    const a = m ? access.get(m[1]) : undefined;
    if (!a || a.expiresAt <= Date.now()) return json(res, 401, { error: 'invalid_token' }, { 'www-authenticate': 'Bearer error="invalid_token"' });
    json(res, 200, { account: a.account });
  }

  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const body = new URLSearchParams(await readBody(req));
      if (req.method === 'GET' && url.pathname === '/authorize') return authorizePage(url, res);
      if (req.method === 'POST' && url.pathname === '/authorize/approve') return approveConsent(body, res);
      if (req.method === 'POST' && url.pathname === '/token') return await token(req, body, res);
      if (req.method === 'POST' && url.pathname === '/revoke') return revoke(body, res);
      if (req.method === 'GET' && url.pathname === '/me') return me(req, res);
      json(res, 404, { error: 'not_found' });
    } catch (err) {
      json(res, 500, { error: String(err) });
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    authorizeUrl: `${url}/authorize`,
    tokenUrl: `${url}/token`,
    revokeUrl: `${url}/revoke`,
    tokenCalls,
    revokeCalls,
    issued,
    authorizeRequests,
    async approve(consentUrl, account) {
      const page = await fetch(consentUrl, { redirect: 'manual' });
      const text = await page.text();
      const consent = /name="consent" value="([0-9a-f]+)"/.exec(text)?.[1];
      if (page.status !== 200 || !consent) throw new Error(`consent page refused (${page.status}): ${page.headers.get('location') ?? text}`);
      const answer = await fetch(`${url}/authorize/approve`, { method: 'POST', body: new URLSearchParams({ consent, account }), redirect: 'manual' });
      const location = answer.headers.get('location') ?? '';
      const back = new URL(location);
      return { location, code: back.searchParams.get('code') ?? '', state: back.searchParams.get('state') ?? '' };
    },
    revokeGrantsOf(account) {
      for (const [rt, r] of refresh) if (r.account === account) refresh.delete(rt);
    },
    expireAccessTokensOf(account) {
      for (const [at, a] of access) if (a.account === account) access.delete(at);
    },
    isValidRefreshToken: (t) => refresh.has(t),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

function html(res: ServerResponse, status: number, body: string) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
  res.end(body);
}

function redirect(res: ServerResponse, location: string) {
  res.writeHead(302, { location });
  res.end();
}

function withQuery(base: string, params: Record<string, string | undefined>): string {
  const u = new URL(base);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) u.searchParams.set(k, v);
  return u.toString();
}

const escape = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
