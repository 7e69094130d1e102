// A small real OAuth2 server on loopback for tests: token endpoint (client_credentials, refresh_token with rotation
// and optional grant revocation on reuse), a login endpoint (POST /login, for `action` logins), a protected resource
// that checks bearer tokens, and counters for every request.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OAuthServerOptions {
  /** client_id → client_secret. @default { 'client-1': 'secret-1' } */
  clients?: Record<string, string>;
  /** Lifetime given to access tokens, seconds; null omits expires_in. @default 3600 */
  expiresIn?: number | null;
  /** Issue a new refresh token on every refresh and revoke the old one. @default true */
  rotate?: boolean;
  /** Refresh tokens valid from the start. */
  refreshTokens?: string[];
  /** Delay before answering a token request (lets concurrent callers pile up). @default 0 */
  delayMs?: number;
  /**
   * Reuse detection (OAuth 2.0 Security BCP §4.14.2): a refresh token presented again after it was rotated away
   * revokes the whole grant: every refresh and access token descended from the same original one. @default false
   */
  revokeGrantOnReuse?: boolean;
  /** Told of every token request as it arrives (before any delay or hold). */
  onTokenRequest?: (log: TokenRequestLog) => void;
}

export interface TokenRequestLog {
  grant: string;
  clientId: string | undefined;
  /** 'basic' | 'body' | 'none' */
  clientAuth: string;
  scope: string | undefined;
  refreshToken: string | undefined;
  params: Record<string, string>;
  status: number;
}

export interface OAuthServer {
  url: string;
  tokenUrl: string;
  /** Every token request, in order. */
  tokenRequests: TokenRequestLog[];
  /** How many times POST /login was called (each answers { token } with a new access token). */
  readonly logins: number;
  /** Requests the protected resource received, with the Authorization header they carried. */
  resourceRequests: { authorization: string | undefined; status: number }[];
  /** Refresh tokens currently valid. */
  validRefreshTokens: Set<string>;
  /** Rotated-away refresh tokens that were presented again (each one revoked its grant when revokeGrantOnReuse). */
  reusedRefreshTokens: string[];
  /** Lifetime of access tokens issued from now on, seconds (null: no expires_in). */
  setExpiresIn(seconds: number | null): void;
  /** Holds token requests (they wait, unanswered) until `release()`; with `onHeld`, told of each one held. */
  holdTokenRequests(onHeld?: () => void): { release(): void };
  /** Makes every issued access token invalid (the next resource call answers 401). */
  revokeAccessTokens(): void;
  /** While on, the protected resource refuses every token with 401. */
  refuseAll(on: boolean): void;
  /** Whether an access token is issued and unexpired. */
  isValidAccessToken(token: string): boolean;
  close(): Promise<void>;
}

export async function startOAuthServer(opts: OAuthServerOptions = {}): Promise<OAuthServer> {
  const clients = opts.clients ?? { 'client-1': 'secret-1' };
  const rotate = opts.rotate ?? true;
  let expiresIn = opts.expiresIn === undefined ? 3600 : opts.expiresIn;
  const access = new Map<string, number>(); // token → expiry (ms), Infinity without expires_in
  const validRefreshTokens = new Set(opts.refreshTokens ?? []);
  // Grants: every refresh token (valid or rotated away) and access token maps to the refresh token it descends from.
  const grantOf = new Map<string, string>((opts.refreshTokens ?? []).map((t) => [t, t]));
  const reusedRefreshTokens: string[] = [];
  let hold: { promise: Promise<void>; onHeld?: () => void } | undefined;
  const tokenRequests: TokenRequestLog[] = [];
  const resourceRequests: OAuthServer['resourceRequests'] = [];
  let refusing = false;
  let logins = 0;

  const issue = (grant?: string) => {
    const token = `at_${randomBytes(12).toString('hex')}`;
    access.set(token, expiresIn === null ? Infinity : Date.now() + expiresIn * 1000);
    if (grant) grantOf.set(token, grant);
    return token;
  };
  const revokeGrant = (grant: string) => {
    for (const [token, g] of grantOf) {
      if (g !== grant) continue;
      validRefreshTokens.delete(token);
      access.delete(token);
    }
  };

  async function token(req: IncomingMessage, res: ServerResponse) {
    const form = new URLSearchParams(await readBody(req));
    const params = Object.fromEntries(form);
    let clientId = form.get('client_id') ?? undefined;
    let clientSecret = form.get('client_secret') ?? undefined;
    let clientAuth = clientSecret !== undefined ? 'body' : 'none';
    const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '');
    if (basic) {
      const [id, secret] = Buffer.from(basic[1], 'base64').toString('utf8').split(':');
      clientId = decodeForm(id);
      clientSecret = decodeForm(secret ?? '');
      clientAuth = 'basic';
    }
    const log: TokenRequestLog = { grant: form.get('grant_type') ?? '', clientId, clientAuth, scope: form.get('scope') ?? undefined, refreshToken: form.get('refresh_token') ?? undefined, params, status: 0 };
    tokenRequests.push(log);
    opts.onTokenRequest?.(log);
    if (hold) {
      hold.onHeld?.();
      await hold.promise;
    }
    if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
    // A client that went away while the request was held never sees an answer: the server acts as if it never came.
    if (req.socket.destroyed) {
      log.status = 499;
      return;
    }
    const fail = (status: number, error: string) => {
      log.status = status;
      send(res, status, { error, error_description: `test server says ${error}` });
    };
    const known = clientId !== undefined && clientId in clients;
    const secretOk = known && (clientSecret === clients[clientId!] || (clientAuth === 'none' && log.grant === 'refresh_token'));
    if (!known || !secretOk) return fail(401, 'invalid_client');
    // Tokens added to validRefreshTokens by a test start a grant of their own.
    const grant = log.refreshToken === undefined ? undefined : grantOf.get(log.refreshToken) ?? log.refreshToken;
    const body: Record<string, unknown> = { token_type: 'bearer' };
    if (log.grant === 'client_credentials') {
      body.access_token = issue();
    } else if (log.grant === 'refresh_token') {
      if (!log.refreshToken || !validRefreshTokens.has(log.refreshToken)) {
        if (grantOf.has(log.refreshToken!)) {
          reusedRefreshTokens.push(log.refreshToken!);
          if (opts.revokeGrantOnReuse) revokeGrant(grant!);
        }
        return fail(400, 'invalid_grant');
      }
      body.access_token = issue(grant);
      if (rotate) {
        validRefreshTokens.delete(log.refreshToken);
        const next = `rt_${randomBytes(12).toString('hex')}`;
        validRefreshTokens.add(next);
        grantOf.set(next, grant!);
        body.refresh_token = next;
      }
    } else {
      return fail(400, 'unsupported_grant_type');
    }
    if (expiresIn !== null) body.expires_in = expiresIn;
    if (log.scope) body.scope = log.scope;
    log.status = 200;
    send(res, 200, body);
  }

  function resource(req: IncomingMessage, res: ServerResponse) {
    const authorization = req.headers.authorization;
    const m = /^Bearer (.+)$/.exec(authorization ?? '');
    const ok = !refusing && m !== null && (access.get(m[1]) ?? 0) > Date.now();
    resourceRequests.push({ authorization, status: ok ? 200 : 401 });
    req.resume();
    if (!ok) return send(res, 401, { error: 'invalid_token' }, { 'www-authenticate': 'Bearer error="invalid_token"' });
    send(res, 200, { ok: true, path: req.url });
  }

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method === 'POST' && path === '/oauth/token') {
      token(req, res).catch((err) => send(res, 500, { error: String(err) }));
    } else if (req.method === 'POST' && path === '/login') {
      logins++;
      req.resume();
      const delay = opts.delayMs ?? 0;
      setTimeout(() => send(res, 200, { token: issue() }), delay);
    } else {
      resource(req, res);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    tokenUrl: `${url}/oauth/token`,
    tokenRequests,
    resourceRequests,
    validRefreshTokens,
    reusedRefreshTokens,
    get logins() {
      return logins;
    },
    setExpiresIn: (seconds) => {
      expiresIn = seconds;
    },
    holdTokenRequests(onHeld) {
      let release!: () => void;
      const promise = new Promise<void>((r) => (release = r));
      hold = { promise, onHeld };
      return {
        release: () => {
          hold = undefined;
          release();
        },
      };
    },
    revokeAccessTokens: () => access.clear(),
    refuseAll: (on) => {
      refusing = on;
    },
    isValidAccessToken: (t) => (access.get(t) ?? 0) > Date.now(),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The request body as text. */
export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** A JSON answer that no cache keeps. */
export function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
}

const decodeForm = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
