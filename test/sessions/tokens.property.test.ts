// Property: random mutations of a valid session token are always rejected as SESSION_INVALID, and never crash.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DuctapeError } from '../../src/errors.js';
import { openSessionToken, sealSessionToken, sessionKey } from '../../src/sessions/tokens.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ ~\u00e9\u0000';
const char = fc.constantFrom(...ALPHABET.split(''));

type Mutation = { kind: 'replace' | 'insert' | 'delete'; at: number; c: string } | { kind: 'truncate'; at: number } | { kind: 'swap'; a: number; b: number } | { kind: 'repeat'; at: number; n: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constantFrom('replace', 'insert', 'delete'), at: fc.nat(), c: char }),
  fc.record({ kind: fc.constant('truncate'), at: fc.nat() }),
  fc.record({ kind: fc.constant('swap'), a: fc.nat(4), b: fc.nat(4) }),
  fc.record({ kind: fc.constant('repeat'), at: fc.nat(), n: fc.integer({ min: 1, max: 40 }) }),
) as fc.Arbitrary<Mutation>;

function apply(token: string, muts: Mutation[]): string {
  let t = token;
  for (const m of muts) {
    switch (m.kind) {
      case 'replace': {
        const i = m.at % Math.max(t.length, 1);
        t = t.slice(0, i) + m.c + t.slice(i + 1);
        break;
      }
      case 'insert': {
        const i = m.at % (t.length + 1);
        t = t.slice(0, i) + m.c + t.slice(i);
        break;
      }
      case 'delete': {
        const i = m.at % Math.max(t.length, 1);
        t = t.slice(0, i) + t.slice(i + 1);
        break;
      }
      case 'truncate':
        t = t.slice(0, m.at % Math.max(t.length, 1));
        break;
      case 'swap': {
        const p = t.split('.');
        if (p.length > Math.max(m.a, m.b)) [p[m.a], p[m.b]] = [p[m.b], p[m.a]];
        t = p.join('.');
        break;
      }
      case 'repeat': {
        const i = m.at % Math.max(t.length, 1);
        t = t.slice(0, i) + t.slice(i, i + m.n) + t.slice(i);
        break;
      }
    }
  }
  return t;
}

describe('session tokens (property)', () => {
  it('rejects 1,000 random mutations of a valid token as SESSION_INVALID without crashing', async () => {
    const scope = { workspace: 'acme', product: 'dashboard', env: 'prd', tag: 'user-session' };
    const key = await sessionKey('pk', scope);
    const now = Date.UTC(2030, 0, 1);
    const iat = Math.floor(now / 1000);
    const token = await sealSessionToken(key, { sid: 's', data: { user: { id: '42', roles: ['a', 'b'] } }, iat, exp: iat + 3600 });
    expect((await openSessionToken(key, token, now)).sid).toBe('s');
    let checked = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 4 }), async (muts) => {
        const t = apply(token, muts);
        fc.pre(t !== token);
        checked++;
        try {
          await openSessionToken(key, t, now);
        } catch (err) {
          return err instanceof DuctapeError && err.code === 'SESSION_INVALID';
        }
        return false;
      }),
      { numRuns: 1000 },
    );
    // fc.pre skips the rare mutation that changes nothing; nearly all runs must be real checks.
    expect(checked).toBeGreaterThan(950);
  });
});
