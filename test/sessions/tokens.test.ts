// Session token sealing and opening: tampering, foreign scopes, other keys, expiry, malformed input.
import { describe, expect, it } from 'vitest';
import { DuctapeError } from '../../src/errors.js';
import {
  hashRefreshToken,
  newRefreshToken,
  openJson,
  openSessionToken,
  sealJson,
  sealSessionToken,
  sessionKey,
  type SessionScope,
} from '../../src/sessions/tokens.js';

const PK = 'private-key-one';
const scope: SessionScope = { workspace: 'acme', product: 'dashboard', env: 'prd', tag: 'user-session' };
const NOW = Date.UTC(2030, 0, 1);
const iat = Math.floor(NOW / 1000);

async function sealed(extra: Partial<{ exp: number; data: unknown }> = {}) {
  const key = await sessionKey(PK, scope);
  const token = await sealSessionToken(key, { sid: 'sid-1', data: extra.data ?? { user: { id: '42' } }, iat, exp: extra.exp ?? iat + 3600 });
  return { key, token };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(DuctapeError);
    return (err as DuctapeError).code;
  }
  return 'resolved';
}

// Replaces the character at i with another base64url character.
function flip(s: string, i: number): string {
  const c = s[i] === 'A' ? 'B' : 'A';
  return s.slice(0, i) + c + s.slice(i + 1);
}

describe('session tokens', () => {
  it('opens what it sealed, with sid, data, iat and exp', async () => {
    const { key, token } = await sealed();
    expect(token.split('.')).toHaveLength(5);
    expect(token.split('.')[1]).toBe('');
    expect(JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString())).toEqual({ alg: 'dir', enc: 'A256GCM' });
    expect(await openSessionToken(key, token, NOW)).toEqual({ sid: 'sid-1', data: { user: { id: '42' } }, iat, exp: iat + 3600 });
  });

  it('does not show the data in the token', async () => {
    const { token } = await sealed({ data: { email: 'john@example.com' } });
    expect(Buffer.from(token.replace(/\./g, ''), 'base64url').toString('latin1')).not.toContain('john@example.com');
    expect(token).not.toContain('john');
  });

  const parts = ['protected header', 'encrypted key', 'iv', 'ciphertext', 'tag'];
  it.each(parts.map((name, i) => [name, i] as const))('rejects a token whose %s is altered', async (_name, i) => {
    const { key, token } = await sealed();
    const p = token.split('.');
    const variants: string[] = [];
    if (p[i] === '') variants.push('AAAA', 'A');
    else variants.push(flip(p[i], 0), flip(p[i], Math.floor(p[i].length / 2)), flip(p[i], p[i].length - 1), p[i].slice(1), p[i] + 'A', p[i] + 'AAAA');
    for (const v of variants) {
      const q = [...p];
      q[i] = v;
      expect(await codeOf(openSessionToken(key, q.join('.'), NOW))).toBe('SESSION_INVALID');
    }
  });

  it('rejects a header swapped for another valid-looking header', async () => {
    const { key, token } = await sealed();
    const p = token.split('.');
    for (const h of [{ alg: 'dir', enc: 'A128GCM' }, { alg: 'none', enc: 'A256GCM' }, { alg: 'dir', enc: 'A256GCM', zip: 'DEF' }, { enc: 'A256GCM', alg: 'dir' }]) {
      p[0] = Buffer.from(JSON.stringify(h)).toString('base64url');
      expect(await codeOf(openSessionToken(key, p.join('.'), NOW))).toBe('SESSION_INVALID');
    }
  });

  const foreign: [string, Partial<SessionScope>][] = [
    ['another product', { product: 'billing' }],
    ['another env', { env: 'dev' }],
    ['another session type', { tag: 'admin-session' }],
    ['another workspace', { workspace: 'globex' }],
  ];
  it.each(foreign)('rejects a token of %s', async (_n, change) => {
    const { token } = await sealed();
    const other = await sessionKey(PK, { ...scope, ...change });
    expect(await codeOf(openSessionToken(other, token, NOW))).toBe('SESSION_INVALID');
  });

  it('rejects a token sealed with another private_key', async () => {
    const { token } = await sealed();
    expect(await codeOf(openSessionToken(await sessionKey('private-key-two', scope), token, NOW))).toBe('SESSION_INVALID');
  });

  it('keeps token keys and data keys apart', async () => {
    const { token } = await sealed();
    expect(await codeOf(openSessionToken(await sessionKey(PK, scope, 'session-data'), token, NOW))).toBe('SESSION_INVALID');
  });

  it('says SESSION_EXPIRED for an authentic token past its exp, and from its exp second on', async () => {
    const { key, token } = await sealed({ exp: iat + 10 });
    expect(await codeOf(openSessionToken(key, token, NOW + 9_000))).toBe('resolved');
    expect(await codeOf(openSessionToken(key, token, NOW + 10_000))).toBe('SESSION_EXPIRED');
    expect(await codeOf(openSessionToken(key, token, NOW + 10_000_000))).toBe('SESSION_EXPIRED');
  });

  it('says SESSION_INVALID, not SESSION_EXPIRED, for an expired token that is also tampered or foreign', async () => {
    const { token } = await sealed({ exp: iat + 10 });
    const p = token.split('.');
    p[3] = flip(p[3], 0);
    expect(await codeOf(openSessionToken(await sessionKey(PK, scope), p.join('.'), NOW + 60_000))).toBe('SESSION_INVALID');
    expect(await codeOf(openSessionToken(await sessionKey('other', scope), token, NOW + 60_000))).toBe('SESSION_INVALID');
  });

  it('rejects a JWE that lacks the session claims', async () => {
    const key = await sessionKey(PK, scope);
    const bare = await sealJson(key, { hello: 'world' });
    expect(await codeOf(openSessionToken(key, bare, NOW))).toBe('SESSION_INVALID');
  });

  const malformed: [string, unknown][] = [
    ['an empty string', ''],
    ['a non-string', 42],
    ['undefined', undefined],
    ['three parts (a JWS)', 'eyJhbGciOiJIUzI1NiJ9.e30.ZRrHA1JJJW8opsbCGfG_HACGpVUMN_a9IV7pAx_Zmeo'],
    ['dots only', '....'],
    ['non-base64 characters', 'a+b.c.d.e.f'],
    ['a huge string', 'A'.repeat(100_000)],
  ];
  it.each(malformed)('rejects %s as SESSION_INVALID', async (_n, token) => {
    expect(await codeOf(openSessionToken(await sessionKey(PK, scope), token, NOW))).toBe('SESSION_INVALID');
  });

  it('gives messages that carry no detail about why', async () => {
    const { token } = await sealed();
    const key = await sessionKey(PK, scope);
    const messages = new Set<string>();
    for (const t of ['', token.slice(0, -2), token.replace(/^./, 'x')]) {
      try {
        await openSessionToken(key, t, NOW);
      } catch (err) {
        messages.add((err as Error).message);
        expect(Object.keys((err as DuctapeError).details)).toEqual([]);
      }
    }
    expect(messages.size).toBe(1);
  });
});

describe('refresh tokens', () => {
  it('are 32 random bytes in base64url, never twice the same', () => {
    const a = newRefreshToken();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(new Set(Array.from({ length: 100 }, newRefreshToken)).size).toBe(100);
  });

  it('hash differently per scope and never contain the token', () => {
    const t = newRefreshToken();
    const h = hashRefreshToken(t, scope);
    expect(h).not.toContain(t);
    expect(hashRefreshToken(t, scope)).toBe(h);
    expect(hashRefreshToken(t, { ...scope, env: 'dev' })).not.toBe(h);
    expect(hashRefreshToken(t, { ...scope, tag: 'x' })).not.toBe(h);
  });
});

describe('sealJson', () => {
  it('round-trips and refuses another key', async () => {
    const key = await sessionKey(PK, scope, 'session-data');
    const s = await sealJson(key, { a: [1, 'b'] });
    expect(await openJson(key, s)).toEqual({ a: [1, 'b'] });
    expect(await codeOf(openJson(await sessionKey(PK, { ...scope, env: 'dev' }, 'session-data'), s))).toBe('SESSION_INVALID');
  });
});
