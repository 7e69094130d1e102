// The run-path verifier: cached opens, expiry on every call, revocations in-process at once and cross-process within the bound.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createSessionVerifier, refreshSession, revokeSession, startSession, type SessionVerifier } from '../../src/sessions/index.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { codeOf, setup, type Setup } from './setup.js';

const args = { product: 'dashboard', env: 'prd', tag: 'user-session' };
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function withVerifier(opts: { revocationCheckMs?: number } = {}): Promise<Setup & { verifier: SessionVerifier }> {
  const s = await setup();
  const verifier = createSessionVerifier(s.deps, opts);
  cleanups.push(() => s.store.close(), () => verifier.close());
  return { ...s, verifier };
}

describe('createSessionVerifier', () => {
  it('returns the data and session id of a valid token, frozen', async () => {
    const s = await withVerifier();
    const { token, sessionId } = await startSession(s.deps, { ...args, data: { user: { id: '42' } } });
    const v = await s.verifier.verify('dashboard', 'prd', 'user-session', token);
    expect(v).toEqual({ data: { user: { id: '42' } }, sessionId, expiresAt: s.clock.now + 3600_000 });
    expect(Object.isFrozen((v.data as { user: object }).user)).toBe(true);
    expect((await s.verifier.verify('dashboard', 'prd', 'user-session', token)).data).toBe(v.data);
  });

  it('rejects foreign scopes, other keys, garbage and tampered tokens even after the token was cached', async () => {
    const s = await withVerifier();
    const { token } = await startSession(s.deps, { ...args, data: { user: { id: '42' } } });
    await s.verifier.verify('dashboard', 'prd', 'user-session', token);
    expect(await codeOf(s.verifier.verify('dashboard', 'dev', 'user-session', token))).toBe('SESSION_INVALID');
    expect(await codeOf(s.verifier.verify('dashboard', 'prd', 'admin-session', token))).toBe('SESSION_INVALID');
    expect(await codeOf(s.verifier.verify('billing', 'prd', 'user-session', token))).toBe('SESSION_INVALID');
    expect(await codeOf(s.verifier.verify('dashboard', 'prd', 'user-session', token + 'A'))).toBe('SESSION_INVALID');
    expect(await codeOf(s.verifier.verify('dashboard', 'prd', 'user-session', ''))).toBe('SESSION_INVALID');
    const other = createSessionVerifier({ ...s.deps, privateKey: 'another-key' });
    cleanups.push(() => other.close());
    expect(await codeOf(other.verify('dashboard', 'prd', 'user-session', token))).toBe('SESSION_INVALID');
    const otherWs = createSessionVerifier({ ...s.deps, workspace: 'globex' });
    cleanups.push(() => otherWs.close());
    expect(await codeOf(otherWs.verify('dashboard', 'prd', 'user-session', token))).toBe('SESSION_INVALID');
  });

  it('checks expiry on every call, cached or not', async () => {
    const s = await withVerifier();
    const { token } = await startSession(s.deps, { ...args, data: { user: { id: '42' } } });
    await s.verifier.verify('dashboard', 'prd', 'user-session', token);
    s.clock.now += 3600_000;
    expect(await codeOf(s.verifier.verify('dashboard', 'prd', 'user-session', token))).toBe('SESSION_EXPIRED');
    expect(await codeOf(s.verifier.verify('dashboard', 'prd', 'user-session', token))).toBe('SESSION_EXPIRED');
  });

  it('enforces a revocation made through the same store at once, whatever the window', async () => {
    const s = await withVerifier({ revocationCheckMs: 3_600_000 });
    const a = await startSession(s.deps, { ...args, data: { user: { id: '1' } } });
    const b = await startSession(s.deps, { ...args, data: { user: { id: '2' } } });
    await s.verifier.verify('dashboard', 'prd', 'user-session', a.token);
    await revokeSession(s.deps, { ...args, identifier: '1' });
    expect(await codeOf(s.verifier.verify('dashboard', 'prd', 'user-session', a.token))).toBe('SESSION_INVALID');
    expect(await codeOf(s.verifier.verify('dashboard', 'prd', 'user-session', b.token))).toBe('resolved');
  });

  it('enforces refresh-reuse revocation of the family at once', async () => {
    const s = await withVerifier({ revocationCheckMs: 3_600_000 });
    const first = await startSession(s.deps, { ...args, data: { user: { id: '1' } } });
    const second = await refreshSession(s.deps, { ...args, refreshToken: first.refreshToken });
    expect(await codeOf(s.verifier.verify('dashboard', 'prd', 'user-session', second.token))).toBe('resolved');
    await refreshSession(s.deps, { ...args, refreshToken: first.refreshToken }).catch(() => undefined);
    expect(await codeOf(s.verifier.verify('dashboard', 'prd', 'user-session', second.token))).toBe('SESSION_INVALID');
    expect(await codeOf(s.verifier.verify('dashboard', 'prd', 'user-session', first.token))).toBe('SESSION_INVALID');
  });

  describe('across processes sharing one SQLite file', () => {
    async function twoStores(window: number) {
      const dir = mkdtempSync(join(tmpdir(), 'ductape-sessions-'));
      const file = join(dir, 'ductape.db');
      const a = await setup({ file });
      const storeB = await openSqliteStore(file);
      const b = await setup({ store: storeB });
      b.clock.now = a.clock.now;
      const verifierB = createSessionVerifier(b.deps, { revocationCheckMs: window });
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }), () => a.store.close(), () => storeB.close(), () => verifierB.close());
      return { a, b, verifierB };
    }

    it('enforces a revocation from another store within the window, and no later', async () => {
      const { a, b, verifierB } = await twoStores(1000);
      const { token, sessionId } = await startSession(a.deps, { ...args, data: { user: { id: '1' } } });
      expect(await codeOf(verifierB.verify('dashboard', 'prd', 'user-session', token))).toBe('resolved');
      await revokeSession(a.deps, { ...args, sessionId });
      // Inside the window B may still accept the token (this is the documented bound)...
      b.clock.now += 999;
      expect(await codeOf(verifierB.verify('dashboard', 'prd', 'user-session', token))).toBe('resolved');
      // ...and once the window has passed it reads the new epoch and refuses it.
      b.clock.now += 1;
      expect(await codeOf(verifierB.verify('dashboard', 'prd', 'user-session', token))).toBe('SESSION_INVALID');
    });

    it('enforces it on the very next run with a window of 0', async () => {
      const { a, verifierB } = await twoStores(0);
      const { token, sessionId } = await startSession(a.deps, { ...args, data: { user: { id: '1' } } });
      expect(await codeOf(verifierB.verify('dashboard', 'prd', 'user-session', token))).toBe('resolved');
      await revokeSession(a.deps, { ...args, sessionId });
      expect(await codeOf(verifierB.verify('dashboard', 'prd', 'user-session', token))).toBe('SESSION_INVALID');
    });

    it('loads revocations made before it started', async () => {
      const { a, verifierB } = await twoStores(60_000);
      const { token, sessionId } = await startSession(a.deps, { ...args, data: { user: { id: '1' } } });
      await revokeSession(a.deps, { ...args, sessionId });
      expect(await codeOf(verifierB.verify('dashboard', 'prd', 'user-session', token))).toBe('SESSION_INVALID');
    });
  });
});
