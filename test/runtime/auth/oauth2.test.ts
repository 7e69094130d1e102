import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { redactText } from '../../../src/model/redact.js';
import { createOAuth2Manager, OAUTH_TOKEN_KIND, type OAuth2Params } from '../../../src/runtime/auth/oauth2.js';
import { openSqliteStore } from '../../../src/store/sqlite.js';
import type { Store } from '../../../src/store/store.js';
import { startOAuthServer, type OAuthServer } from '../../helpers/oauth-server.js';
import { errorOf as failure } from '../../helpers/errors.js';

const PK = 'pk_oauth_tests';


describe('OAuth2 token manager', () => {
  let server: OAuthServer;
  let store: Store;
  let clock: number;
  let dir: string;
  const deps = () => ({ store, workspace: 'acme', privateKey: PK, now: () => clock });
  const cc = (over: Partial<OAuth2Params> = {}): OAuth2Params => ({
    grant: 'client_credentials',
    tokenUrl: server.tokenUrl,
    clientId: 'client-1',
    clientSecret: 'secret-1',
    scopes: ['read', 'write'],
    clientAuth: 'basic',
    ...over,
  });

  beforeEach(async () => {
    clock = Date.now();
    dir = mkdtempSync(join(tmpdir(), 'ductape-oauth-'));
    store = await openSqliteStore(join(dir, 'ws.db'));
    await store.createWorkspace('acme', 'kcv');
  });
  afterEach(async () => {
    await store.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('fetches a client_credentials token once and serves it from cache until shortly before expiry', async () => {
    server = await startOAuthServer({ expiresIn: 600 });
    const m = createOAuth2Manager(deps());
    const t1 = await m.getAccessToken(cc());
    expect(server.isValidAccessToken(t1)).toBe(true);
    expect(await m.getAccessToken(cc())).toBe(t1);
    expect(server.tokenRequests).toHaveLength(1);
    expect(server.tokenRequests[0]).toMatchObject({ grant: 'client_credentials', clientId: 'client-1', clientAuth: 'basic', scope: 'read write' });
    clock += 600_000 - 31_000; // still outside the 30 s margin
    expect(await m.getAccessToken(cc())).toBe(t1);
    clock += 2_000; // inside it
    const t2 = await m.getAccessToken(cc());
    expect(t2).not.toBe(t1);
    expect(server.tokenRequests).toHaveLength(2);
  });

  it('sends client credentials in the body when client_auth is body, with extra params', async () => {
    server = await startOAuthServer();
    const m = createOAuth2Manager(deps());
    await m.getAccessToken(cc({ clientAuth: 'body', scopes: [], params: { audience: 'https://api.acme.test' } }));
    expect(server.tokenRequests[0]).toMatchObject({ clientAuth: 'body', scope: undefined, params: { audience: 'https://api.acme.test', client_id: 'client-1' } });
  });

  it('makes exactly one token request for 100 concurrent callers with an expired token', async () => {
    server = await startOAuthServer({ expiresIn: 60, delayMs: 30 });
    const m = createOAuth2Manager(deps());
    const first = await m.getAccessToken(cc());
    clock += 61_000;
    const tokens = await Promise.all(Array.from({ length: 100 }, () => m.getAccessToken(cc())));
    expect(server.tokenRequests).toHaveLength(2);
    expect(new Set(tokens).size).toBe(1);
    expect(tokens[0]).not.toBe(first);
  });

  it('refreshes once after a 401 however many runs were refused with the same token', async () => {
    server = await startOAuthServer();
    const m = createOAuth2Manager(deps());
    const rejected = await m.getAccessToken(cc());
    server.revokeAccessTokens();
    const retried = await Promise.all(Array.from({ length: 20 }, () => m.refreshAfterUnauthorized(cc(), rejected)));
    expect(server.tokenRequests).toHaveLength(2);
    expect(new Set(retried).size).toBe(1);
    expect(server.isValidAccessToken(retried[0])).toBe(true);
    // A late 401 for the old token does not refresh again: the new token is already held.
    expect(await m.refreshAfterUnauthorized(cc(), rejected)).toBe(retried[0]);
    expect(server.tokenRequests).toHaveLength(2);
  });

  it('uses and persists rotated refresh tokens so they survive a restart', async () => {
    server = await startOAuthServer({ refreshTokens: ['rt_initial'], expiresIn: 60 });
    const params = cc({ grant: 'refresh_token', refreshToken: 'rt_initial', scopes: [] });
    const m1 = createOAuth2Manager(deps());
    const t1 = await m1.getAccessToken(params);
    expect(server.tokenRequests[0].refreshToken).toBe('rt_initial');
    expect(server.validRefreshTokens.has('rt_initial')).toBe(false); // rotated away
    await store.close();

    // "Restart": a new store handle on the same file and a new manager with an empty memory.
    store = await openSqliteStore(join(dir, 'ws.db'));
    clock += 120_000;
    const m2 = createOAuth2Manager(deps());
    const t2 = await m2.getAccessToken(params);
    expect(t2).not.toBe(t1);
    expect(server.tokenRequests).toHaveLength(2);
    expect(server.tokenRequests[1].refreshToken).not.toBe('rt_initial');
    expect(server.tokenRequests[1].status).toBe(200);
  });

  it('does not reuse a stored token once the configured client secret changed', async () => {
    server = await startOAuthServer();
    await createOAuth2Manager(deps()).getAccessToken(cc());
    // Same client id, scopes and endpoint but another secret: the fresh stored token must not be handed out.
    const err = await failure(createOAuth2Manager(deps()).getAccessToken(cc({ clientSecret: 'revoked-secret' })));
    expect(err.code).toBe('AUTH_FAILED');
    expect(server.tokenRequests.map((r) => r.status)).toEqual([200, 401]);
  });

  it('drops a rotated refresh-token chain when a new refresh token is configured', async () => {
    server = await startOAuthServer({ refreshTokens: ['rt_a', 'rt_b'], expiresIn: 60 });
    const m = createOAuth2Manager(deps());
    await m.getAccessToken(cc({ grant: 'refresh_token', refreshToken: 'rt_a' }));
    clock += 120_000;
    await createOAuth2Manager(deps()).getAccessToken(cc({ grant: 'refresh_token', refreshToken: 'rt_b' }));
    expect(server.tokenRequests.map((r) => r.refreshToken)).toEqual(['rt_a', 'rt_b']);
  });

  it('reuses a fresh token persisted by another manager instead of fetching', async () => {
    server = await startOAuthServer();
    const a = createOAuth2Manager(deps());
    const b = createOAuth2Manager(deps());
    const t = await a.getAccessToken(cc());
    expect(await b.getAccessToken(cc())).toBe(t);
    expect(server.tokenRequests).toHaveLength(1);
  });

  it('keeps tokens sealed at rest under a key-hash record key', async () => {
    server = await startOAuthServer({ refreshTokens: ['rt_sealed_check'] });
    const m = createOAuth2Manager(deps());
    const token = await m.getAccessToken(cc({ grant: 'refresh_token', refreshToken: 'rt_sealed_check' }));
    const records = await store.listRecords<{ sealed: string }>('acme', OAUTH_TOKEN_KIND);
    expect(records).toHaveLength(1);
    expect(records[0].key).not.toContain('client-1');
    expect(records[0].key).toBe(m.tokenKey(cc({ grant: 'refresh_token', refreshToken: 'rt_sealed_check' })));
    await store.close();
    const bytes = Buffer.concat(['', '-wal'].map((s) => { try { return readFileSync(join(dir, 'ws.db') + s); } catch { return Buffer.alloc(0); } }));
    for (const secret of [token, 'secret-1', ...server.validRefreshTokens]) expect(bytes.includes(Buffer.from(secret))).toBe(false);
    store = await openSqliteStore(join(dir, 'ws.db'));
  });

  it('fails with AUTH_FAILED naming the OAuth error when the client is refused, without leaking the secret', async () => {
    server = await startOAuthServer();
    const m = createOAuth2Manager(deps());
    const err = await failure(m.getAccessToken(cc({ clientSecret: 'wrong-secret-value' })));
    expect(err.code).toBe('AUTH_FAILED');
    expect(err.message).toContain('invalid_client');
    expect(err.details).toMatchObject({ status: 401, oauthError: 'invalid_client' });
    expect(JSON.stringify(err.toJSON())).not.toContain('wrong-secret-value');
    const grant = await failure(m.getAccessToken(cc({ grant: 'refresh_token', refreshToken: 'rt_unknown' })));
    expect(grant.message).toContain('invalid_grant');
  });

  it('fails with NETWORK_ERROR when the token endpoint is unreachable', async () => {
    server = await startOAuthServer();
    const url = server.tokenUrl;
    await server.close();
    const err = await failure(createOAuth2Manager(deps()).getAccessToken(cc({ tokenUrl: url })));
    expect(err.code).toBe('NETWORK_ERROR');
  });

  it('registers fetched tokens for redaction', async () => {
    server = await startOAuthServer();
    const token = await createOAuth2Manager(deps()).getAccessToken(cc());
    expect(redactText(`Bearer ${token}`)).toBe('Bearer [REDACTED]');
    expect(redactText('secret-1 leaked')).toBe('[REDACTED] leaked');
  });

  it('serves the protected resource only with a valid token (helper self-check)', async () => {
    server = await startOAuthServer();
    const token = await createOAuth2Manager(deps()).getAccessToken(cc());
    const ok = await request(`${server.url}/r`, { headers: { authorization: `Bearer ${token}` } });
    const bad = await request(`${server.url}/r`, { headers: { authorization: 'Bearer nope' } });
    await ok.body.dump();
    await bad.body.dump();
    expect([ok.statusCode, bad.statusCode]).toEqual([200, 401]);
  });
});
