// Sessions under concurrency and tampering (#11): refresh racing revoke, revocation atomicity, sealed data binding.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { listActiveSessions, refreshSession, revokeSession, startSession, verifySession } from '../../src/sessions/index.js';
import { SESSION_KIND } from '../../src/sessions/sessions.js';
import { REVOKED_KIND } from '../../src/sessions/revocations.js';
import { createSessionVerifier } from '../../src/sessions/verifier.js';
import { openPostgresStore } from '../../src/store/postgres.js';
import type { Store } from '../../src/store/store.js';
import { hasPostgres, startPostgresServer, type PostgresServer } from '../helpers/postgres-server.js';
import { codeOf, setup, type Setup } from './setup.js';

const args = { product: 'dashboard', env: 'prd', tag: 'user-session' };
let s: Setup;
afterEach(async () => s?.store.close());

/** Starts `n` sessions, then runs a refresh and a revoke of each at once; checks no revoked session survives. */
async function raceRefreshAndRevoke(s: Setup, n: number, revokeDeps = s.deps): Promise<number> {
  const verifier = createSessionVerifier(s.deps, { revocationCheckMs: 0 });
  const started = await Promise.all(Array.from({ length: n }, (_, i) => startSession(s.deps, { ...args, data: { user: { id: `u${i}` } } })));
  const outcomes = await Promise.all(
    started.map(async (st) => {
      const [refreshed, revoked] = await Promise.all([
        refreshSession(s.deps, { ...args, refreshToken: st.refreshToken }).catch((e: { code: string }) => e.code),
        revokeSession(revokeDeps, { ...args, sessionId: st.sessionId }),
      ]);
      return { st, refreshed, revoked };
    }),
  );
  const active = new Set((await listActiveSessions(s.deps, { product: 'dashboard' })).map((a) => a.sessionId));
  let refreshedToo = 0;
  for (const { st, refreshed, revoked } of outcomes) {
    expect(revoked).toEqual({ revoked: 1 });
    expect(active.has(st.sessionId)).toBe(false);
    expect(await verifySession(s.deps, { ...args, token: st.token })).toMatchObject({ valid: false });
    expect(await codeOf(verifier.verify(args.product, args.env, args.tag, st.token))).toBe('SESSION_INVALID');
    if (typeof refreshed === 'string') {
      expect(refreshed).toBe('SESSION_INVALID');
      continue;
    }
    // The refresh committed before the revoke: what it issued is revoked with the rest of the session.
    refreshedToo++;
    expect(await verifySession(s.deps, { ...args, token: refreshed.token })).toMatchObject({ valid: false });
    expect(await codeOf(verifier.verify(args.product, args.env, args.tag, refreshed.token))).toBe('SESSION_INVALID');
    expect(await codeOf(refreshSession(s.deps, { ...args, refreshToken: refreshed.refreshToken }))).toBe('SESSION_INVALID');
  }
  verifier.close();
  return refreshedToo;
}

describe('refresh racing revoke', () => {
  it('#11: of 1,000 concurrent refresh/revoke pairs, no session survives a successful revoke', async () => {
    s = await setup();
    // Both orders happened, so both paths of the check were exercised.
    expect(await raceRefreshAndRevoke(s, 1000)).toBeGreaterThan(0);
  }, 120_000);

  describe.runIf(hasPostgres)('on PostgreSQL, refreshes and revokes through two store handles (as two processes)', () => {
    let server: PostgresServer;
    beforeAll(async () => {
      server = await startPostgresServer();
    }, 60_000);
    afterAll(async () => server?.stop());

    it('#11: no session survives a successful revoke', async () => {
      const store = await openPostgresStore(server.url);
      const other = await openPostgresStore(server.url);
      s = await setup({ store, init: true });
      try {
        await raceRefreshAndRevoke(s, 200, { ...s.deps, store: other });
      } finally {
        await other.close();
      }
    }, 120_000);
  });

  it('#11: a revoke whose revocation record cannot be written leaves the session valid everywhere (one transaction)', async () => {
    s = await setup();
    const st = await startSession(s.deps, { ...args, data: { user: { id: '1' } } });
    // A store whose revocation-record writes fail: the second half of the old two-transaction revoke.
    const failing = failRevocationWrites(s.store);
    const err = await revokeSession({ ...s.deps, store: failing }, { ...args, sessionId: st.sessionId }).catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    // Nothing committed: sessions.verify and the run-path verifier agree that the session is still valid ...
    expect(await verifySession(s.deps, { ...args, token: st.token })).toMatchObject({ valid: true });
    const verifier = createSessionVerifier(s.deps, { revocationCheckMs: 0 });
    await expect(verifier.verify(args.product, args.env, args.tag, st.token)).resolves.toMatchObject({ sessionId: st.sessionId });
    // ... and revoking again is not a no-op: it revokes, for both.
    expect(await revokeSession(s.deps, { ...args, sessionId: st.sessionId })).toEqual({ revoked: 1 });
    expect(await verifySession(s.deps, { ...args, token: st.token })).toMatchObject({ valid: false });
    expect(await codeOf(verifier.verify(args.product, args.env, args.tag, st.token))).toBe('SESSION_INVALID');
    verifier.close();
  });
});

describe('sealed session data', () => {
  it('#11: a sealed blob copied onto another session row of the same type does not open there', async () => {
    s = await setup();
    const victim = await startSession(s.deps, { ...args, data: { user: { id: 'admin', role: 'owner' } } });
    const attacker = await startSession(s.deps, { ...args, data: { user: { id: 'mallory' } } });
    const key = (sid: string) => `dashboard/prd/user-session/${sid}`;
    const from = (await s.store.getRecord<{ sealed: string }>('acme', SESSION_KIND, key(victim.sessionId)))!;
    const to = (await s.store.getRecord<{ sealed: string }>('acme', SESSION_KIND, key(attacker.sessionId)))!;
    await s.store.putRecord('acme', SESSION_KIND, to.key, { ...to.data, sealed: from.data.sealed }, { ref: to.ref, expiresAt: to.expiresAt });
    const err = await refreshSession(s.deps, { ...args, refreshToken: attacker.refreshToken }).catch((e) => e);
    expect(err.code).toBe('SESSION_INVALID');
    // The victim's own session still refreshes to its own data.
    const ok = await refreshSession(s.deps, { ...args, refreshToken: victim.refreshToken });
    expect((await verifySession(s.deps, { ...args, token: ok.token })).data).toEqual({ user: { id: 'admin', role: 'owner' } });
  });
});

describe('refresh token reuse', () => {
  it('#11: a reused refresh token says it was already used and that the session was revoked, not "invalid session token"', async () => {
    s = await setup();
    const st = await startSession(s.deps, { ...args, data: { user: { id: '1' } } });
    await refreshSession(s.deps, { ...args, refreshToken: st.refreshToken });
    const err = await refreshSession(s.deps, { ...args, refreshToken: st.refreshToken }).catch((e) => e);
    expect(err.code).toBe('SESSION_INVALID');
    expect(err.message).toMatch(/refresh token was already used/);
    expect(err.message).toMatch(/revoked/);
    expect(err.message).toMatch(/sessions\.start\(\)/);
    expect(err.message).not.toMatch(/session token is not valid/);
  });
});

/** The same store, except that writing a revocation record throws (inside whatever transaction it is in). */
function failRevocationWrites(store: Store): Store {
  const wrap = (inner: Store): Store =>
    new Proxy(inner, {
      get(target, prop, receiver) {
        if (prop === 'putRecord') {
          return (ws: string, kind: string, ...rest: unknown[]) =>
            kind === REVOKED_KIND ? Promise.reject(new Error('disk full')) : (target.putRecord as (...a: unknown[]) => Promise<void>)(ws, kind, ...rest);
        }
        if (prop === 'transaction') return <T>(fn: (tx: Store) => Promise<T>) => target.transaction((tx) => fn(wrap(tx)));
        const v = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
  return wrap(store);
}
