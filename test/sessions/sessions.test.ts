// The session lifecycle over a real SQLite store: start, verify, refresh rotation and reuse, revoke, list.
import { afterEach, describe, expect, it } from 'vitest';
import {
  deleteSessionType,
  listActiveSessions,
  refreshSession,
  revokeAllSessions,
  revokeSession,
  startSession,
  verifySession,
} from '../../src/sessions/index.js';
import { removeSessionType } from '../../src/sessions/session-types.js';
import { SESSION_KIND } from '../../src/sessions/sessions.js';
import type { Store } from '../../src/store/store.js';
import { codeOf, setup, WS, type Setup } from './setup.js';

const args = { product: 'dashboard', env: 'prd', tag: 'user-session' };
let s: Setup;
afterEach(async () => s?.store.close());

describe('sessions', () => {
  it('starts a session whose token verifies to its data', async () => {
    s = await setup();
    const started = await startSession(s.deps, { ...args, data: { user: { id: '42', name: 'Jo' } } });
    expect(started).toEqual({
      token: expect.any(String),
      refreshToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      sessionId: expect.any(String),
      expiresAt: new Date(s.clock.now + 3600_000).toISOString(),
      refreshExpiresAt: new Date(s.clock.now + 86_400_000).toISOString(),
    });
    expect(await verifySession(s.deps, { ...args, token: started.token })).toEqual({
      valid: true,
      data: { user: { id: '42', name: 'Jo' } },
      sessionId: started.sessionId,
      expiresAt: started.expiresAt,
    });
  });

  it('refuses data that does not match the schema, reporting every issue at location session', async () => {
    s = await setup();
    const err = await startSession(s.deps, { ...args, data: { user: {} } }).catch((e) => e);
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.issues).toEqual([expect.objectContaining({ location: 'session', path: '/user' })]);
  });

  it('refuses data whose selector value is not a primitive', async () => {
    s = await setup();
    const err = await startSession(s.deps, { ...args, data: { user: { id: { deep: 1 } } } }).catch((e) => e);
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.issues[0]).toMatchObject({ location: 'session', path: '/user/id' });
    expect(err.message).toContain('$Session{user}{id}');
  });

  it('refuses data too large for a token instead of issuing a token that never verifies', async () => {
    s = await setup();
    // Tokens longer than 64 KiB are refused when opened; start used to issue one (80 kB here) all the same.
    const err = await startSession(s.deps, { ...args, data: { user: { id: '42' }, blob: 'x'.repeat(60_000) } }).catch((e) => e);
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.issues).toEqual([expect.objectContaining({ location: 'session', path: '', message: expect.stringContaining('more than the 65536') })]);
    expect(await listActiveSessions(s.deps, { product: 'dashboard' })).toEqual([]);
    // Data just under the bound still makes a token that verifies.
    const ok = await startSession(s.deps, { ...args, data: { user: { id: '42' }, blob: 'x'.repeat(45_000) } });
    expect((await verifySession(s.deps, { ...args, token: ok.token })).valid).toBe(true);
  });

  it('refuses data JSON cannot carry with INVALID_INPUT, and checks and keeps the JSON form of the rest', async () => {
    s = await setup();
    // Before: a BigInt threw a raw TypeError, a function a DataCloneError from sealing the token.
    for (const odd of [12n, () => 1]) {
      const err = await startSession(s.deps, { ...args, data: { user: { id: '42' }, odd } }).catch((e) => e);
      expect(err.code).toBe('INVALID_INPUT');
      expect(err.issues).toEqual([expect.objectContaining({ location: 'session', message: expect.stringContaining('is not JSON data') })]);
    }
    const at = new Date(Date.UTC(2030, 0, 1));
    const started = await startSession(s.deps, { ...args, data: { user: { id: '42' }, at } });
    expect((await verifySession(s.deps, { ...args, token: started.token })).data).toEqual({ user: { id: '42' }, at: at.toISOString() });
  });

  it('says NOT_FOUND for an unknown type or env', async () => {
    s = await setup();
    expect(await codeOf(startSession(s.deps, { ...args, tag: 'nope', data: { user: { id: '1' } } }))).toBe('NOT_FOUND');
    expect(await codeOf(startSession(s.deps, { ...args, env: 'staging', data: { user: { id: '1' } } }))).toBe('NOT_FOUND');
  });

  it('says NOT_FOUND for an env the product lacks, or a type that does not exist, in every call naming one', async () => {
    s = await setup();
    const { token, refreshToken, sessionId } = await startSession(s.deps, { ...args, data: { user: { id: '1' } } });
    const staging = { ...args, env: 'staging' };
    // Before: { valid: false }, SESSION_INVALID, { revoked: 0 }, { revoked: 0 } and [].
    expect(await codeOf(verifySession(s.deps, { ...staging, token }))).toBe('NOT_FOUND');
    expect(await codeOf(refreshSession(s.deps, { ...staging, refreshToken }))).toBe('NOT_FOUND');
    expect(await codeOf(revokeSession(s.deps, { ...staging, sessionId }))).toBe('NOT_FOUND');
    expect(await codeOf(revokeAllSessions(s.deps, { product: 'dashboard', tag: 'user-sesion' }))).toBe('NOT_FOUND');
    expect(await codeOf(listActiveSessions(s.deps, { product: 'dashboard', tag: 'user-sesion' }))).toBe('NOT_FOUND');
    expect((await verifySession(s.deps, { ...args, token })).valid).toBe(true);
  });

  it('gives no session to a type deleted while start was on its way', async () => {
    s = await setup();
    // A delete that commits between start's first read of the type and start's transaction (as a concurrent
    // products.sessions.delete does): start used to write a session of the deleted type that nothing revoked.
    const racing = new Proxy(s.store, {
      get(target, prop) {
        if (prop === 'transaction') {
          return async (fn: (tx: Store) => Promise<unknown>) => {
            await removeSessionType(target, WS, 'dashboard', 'user-session');
            return target.transaction(fn);
          };
        }
        const v = Reflect.get(target, prop, target);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    expect(await codeOf(startSession({ ...s.deps, store: racing }, { ...args, data: { user: { id: '42' } } }))).toBe('NOT_FOUND');
    expect(await s.store.listRecords(WS, SESSION_KIND)).toEqual([]);
  });

  it('leaves no live session of a deleted type when a start commits while the delete is under way', async () => {
    s = await setup();
    // The delete revoked the type's sessions, then removed the type in a second step: a start committing between the
    // two kept a session (and a token runs accept) of a type that no longer exists. Now both are one transaction.
    const racing = new Proxy(s.store, {
      get(target, prop) {
        if (prop === 'deleteRecord') {
          return async (ws: string, kind: string, key: string) => {
            if (kind === 'session_type') await startSession(s.deps, { ...args, data: { user: { id: '42' } } });
            return target.deleteRecord(ws, kind, key);
          };
        }
        const v = Reflect.get(target, prop, target);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    await deleteSessionType({ ...s.deps, store: racing }, { product: 'dashboard', tag: 'user-session' });
    expect(await codeOf(startSession(s.deps, { ...args, data: { user: { id: '42' } } }))).toBe('NOT_FOUND');
    const live = (await s.store.listRecords<{ revokedAt: number | null }>(WS, SESSION_KIND)).filter((r) => r.data.revokedAt === null);
    expect(live).toEqual([]);
  });

  it('never stores the session data in clear', async () => {
    s = await setup();
    await startSession(s.deps, { ...args, data: { user: { id: '42', email: 'john@example.com' } } });
    const rows = await s.store.listRecords(s.deps.workspace, 'session');
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain('john@example.com');
  });

  it('answers valid: false with a code for expired, foreign and other-key tokens', async () => {
    s = await setup();
    const { token } = await startSession(s.deps, { ...args, data: { user: { id: '1' } } });
    expect(await verifySession(s.deps, { ...args, env: 'dev', token })).toEqual({ valid: false, code: 'SESSION_INVALID' });
    expect(await verifySession(s.deps, { ...args, tag: 'admin-session', token })).toEqual({ valid: false, code: 'SESSION_INVALID' });
    expect(await verifySession(s.deps, { ...args, product: 'billing', tag: 'user-session', env: 'prd', token })).toEqual({ valid: false, code: 'SESSION_INVALID' });
    expect(await verifySession({ ...s.deps, workspace: 'globex' }, { ...args, token }).catch((e) => e.code)).toBe('NOT_FOUND');
    expect(await verifySession({ ...s.deps, privateKey: 'another-key' }, { ...args, token })).toEqual({ valid: false, code: 'SESSION_INVALID' });
    s.clock.now += 3600_000;
    expect(await verifySession(s.deps, { ...args, token })).toEqual({ valid: false, code: 'SESSION_EXPIRED' });
  });

  describe('refresh', () => {
    it('rotates: new token and refresh token, same session, later expiry', async () => {
      s = await setup();
      const first = await startSession(s.deps, { ...args, data: { user: { id: '1' } } });
      s.clock.now += 60_000;
      const second = await refreshSession(s.deps, { ...args, refreshToken: first.refreshToken });
      expect(second.sessionId).toBe(first.sessionId);
      expect(second.token).not.toBe(first.token);
      expect(second.refreshToken).not.toBe(first.refreshToken);
      expect(Date.parse(second.expiresAt)).toBe(Date.parse(first.expiresAt) + 60_000);
      expect(await verifySession(s.deps, { ...args, token: second.token })).toMatchObject({ valid: true, data: { user: { id: '1' } } });
      const third = await refreshSession(s.deps, { ...args, refreshToken: second.refreshToken });
      expect(third.sessionId).toBe(first.sessionId);
    });

    it('detects reuse of a used refresh token and revokes the whole session family', async () => {
      s = await setup();
      const first = await startSession(s.deps, { ...args, data: { user: { id: '1' } } });
      const second = await refreshSession(s.deps, { ...args, refreshToken: first.refreshToken });
      const other = await startSession(s.deps, { ...args, data: { user: { id: '2' } } });
      expect(await codeOf(refreshSession(s.deps, { ...args, refreshToken: first.refreshToken }))).toBe('SESSION_INVALID');
      // Every token of the family is dead: the original, the rotated one, and the rotated refresh token.
      expect((await verifySession(s.deps, { ...args, token: first.token })).valid).toBe(false);
      expect((await verifySession(s.deps, { ...args, token: second.token })).valid).toBe(false);
      expect(await codeOf(refreshSession(s.deps, { ...args, refreshToken: second.refreshToken }))).toBe('SESSION_INVALID');
      // Other sessions are untouched.
      expect((await verifySession(s.deps, { ...args, token: other.token })).valid).toBe(true);
    });

    it('lets exactly one of two concurrent refreshes win, treating the other as reuse', async () => {
      s = await setup();
      const first = await startSession(s.deps, { ...args, data: { user: { id: '1' } } });
      const results = await Promise.allSettled([refreshSession(s.deps, { ...args, refreshToken: first.refreshToken }), refreshSession(s.deps, { ...args, refreshToken: first.refreshToken })]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.code)).toEqual(['SESSION_INVALID']);
    });

    it('does not consume a refresh token presented for another scope', async () => {
      s = await setup();
      const first = await startSession(s.deps, { ...args, data: { user: { id: '1' } } });
      expect(await codeOf(refreshSession(s.deps, { ...args, env: 'dev', refreshToken: first.refreshToken }))).toBe('SESSION_INVALID');
      expect(await codeOf(refreshSession(s.deps, { ...args, tag: 'admin-session', refreshToken: first.refreshToken }))).toBe('SESSION_INVALID');
      expect(await codeOf(refreshSession(s.deps, args as never))).toBe('SESSION_INVALID');
      expect(await codeOf(refreshSession(s.deps, { ...args, refreshToken: first.refreshToken }))).toBe('resolved');
    });

    it('says SESSION_EXPIRED for a refresh token past refresh_expiry', async () => {
      s = await setup();
      const first = await startSession(s.deps, { ...args, data: { user: { id: '1' } } });
      s.clock.now += 86_400_000;
      expect(await codeOf(refreshSession(s.deps, { ...args, refreshToken: first.refreshToken }))).toBe('SESSION_EXPIRED');
    });

    it('refuses to refresh a revoked session', async () => {
      s = await setup();
      const first = await startSession(s.deps, { ...args, data: { user: { id: '1' } } });
      await revokeSession(s.deps, { ...args, sessionId: first.sessionId });
      expect(await codeOf(refreshSession(s.deps, { ...args, refreshToken: first.refreshToken }))).toBe('SESSION_INVALID');
    });
  });

  describe('revoke', () => {
    it('revokes one session by id', async () => {
      s = await setup();
      const a = await startSession(s.deps, { ...args, data: { user: { id: '1' } } });
      const b = await startSession(s.deps, { ...args, data: { user: { id: '1' } } });
      expect(await revokeSession(s.deps, { ...args, sessionId: a.sessionId })).toEqual({ revoked: 1 });
      expect(await revokeSession(s.deps, { ...args, sessionId: a.sessionId })).toEqual({ revoked: 0 });
      expect((await verifySession(s.deps, { ...args, token: a.token })).valid).toBe(false);
      expect((await verifySession(s.deps, { ...args, token: b.token })).valid).toBe(true);
    });

    it('revokes every session of one identifier (the selector value) in one scope', async () => {
      s = await setup();
      const a = await startSession(s.deps, { ...args, data: { user: { id: '1' } } });
      const b = await startSession(s.deps, { ...args, data: { user: { id: '1' } } });
      const c = await startSession(s.deps, { ...args, data: { user: { id: '2' } } });
      const d = await startSession(s.deps, { ...args, env: 'dev', data: { user: { id: '1' } } });
      expect(await revokeSession(s.deps, { ...args, identifier: '1' })).toEqual({ revoked: 2 });
      expect((await verifySession(s.deps, { ...args, token: a.token })).valid).toBe(false);
      expect((await verifySession(s.deps, { ...args, token: b.token })).valid).toBe(false);
      expect((await verifySession(s.deps, { ...args, token: c.token })).valid).toBe(true);
      expect((await verifySession(s.deps, { ...args, env: 'dev', token: d.token })).valid).toBe(true);
    });

    it('revokeAll logs an identifier out of every env and type of the product', async () => {
      s = await setup();
      await startSession(s.deps, { ...args, data: { user: { id: 7 } } });
      await startSession(s.deps, { ...args, env: 'dev', data: { user: { id: 7 } } });
      await startSession(s.deps, { ...args, tag: 'admin-session', data: { user: { id: '7' } } });
      const keep = await startSession(s.deps, { ...args, data: { user: { id: '8' } } });
      expect(await revokeAllSessions(s.deps, { product: 'dashboard', identifier: 7 })).toEqual({ revoked: 3 });
      expect((await listActiveSessions(s.deps, { product: 'dashboard' })).map((x) => x.sessionId)).toEqual([keep.sessionId]);
    });

    it('lists active sessions without their data, narrowed by env, tag and identifier', async () => {
      s = await setup();
      const a = await startSession(s.deps, { ...args, data: { user: { id: '1', secret: 'hidden-value' } } });
      await startSession(s.deps, { ...args, env: 'dev', data: { user: { id: '1' } } });
      await startSession(s.deps, { ...args, data: { user: { id: '2' } } });
      const list = await listActiveSessions(s.deps, { ...args, identifier: '1' });
      expect(list).toEqual([{ sessionId: a.sessionId, product: 'dashboard', env: 'prd', tag: 'user-session', identifier: '1', createdAt: expect.any(String), expiresAt: a.expiresAt, refreshExpiresAt: a.refreshExpiresAt }]);
      expect(JSON.stringify(await listActiveSessions(s.deps, { product: 'dashboard' }))).not.toContain('hidden-value');
      expect(await listActiveSessions(s.deps, { product: 'dashboard', env: 'prd' })).toHaveLength(2);
      expect(await listActiveSessions(s.deps, { product: 'dashboard', tag: 'user-session' })).toHaveLength(3);
      s.clock.now += 86_400_000;
      expect(await listActiveSessions(s.deps, { product: 'dashboard' })).toEqual([]);
    });
  });
});
