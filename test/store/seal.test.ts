import { describe, expect, it } from 'vitest';
import { DuctapeError } from '../../src/errors.js';
import { isSealed, openJson, openValue, sealJson, sealValue, type SealScope } from '../../src/store/seal.js';

const KEY = 'pk_test_0123456789abcdef';
const scope: SealScope = { workspace: 'acme', kind: 'secret', key: 'STRIPE_KEY|prd|*' };

function codeOf(fn: () => unknown): { code?: string; message: string } {
  try {
    fn();
  } catch (err) {
    return { code: err instanceof DuctapeError ? err.code : undefined, message: (err as Error).message };
  }
  throw new Error('expected a throw');
}

describe('seal', () => {
  it('round-trips a value when key and scope match', () => {
    const sealed = sealValue(KEY, scope, 'sk_live_abc ünïcode');
    expect(openValue(KEY, scope, sealed)).toBe('sk_live_abc ünïcode');
    expect(openJson(KEY, scope, sealJson(KEY, scope, { a: [1, 'x'] }))).toEqual({ a: [1, 'x'] });
  });

  it('writes a versioned base64url format that never contains the plaintext', () => {
    const sealed = sealValue(KEY, scope, 'sk_live_plaintext');
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain('sk_live');
    expect(isSealed(sealed)).toBe(true);
    expect(isSealed('sk_live_plaintext')).toBe(false);
  });

  it('uses a fresh nonce for every seal of the same value', () => {
    expect(sealValue(KEY, scope, 'same')).not.toBe(sealValue(KEY, scope, 'same'));
  });

  it('fails with CONFIG_ERROR naming the workspace when the private_key is wrong', () => {
    const sealed = sealValue(KEY, scope, 'v');
    const e = codeOf(() => openValue('another-key', scope, sealed));
    expect(e.code).toBe('CONFIG_ERROR');
    expect(e.message).toMatch(/^private_key does not open workspace acme/);
  });

  it('fails when any part of the sealed value is tampered with', () => {
    const sealed = sealValue(KEY, scope, 'some secret value');
    const parts = sealed.split('.');
    for (let i = 1; i < 4; i++) {
      const bytes = Buffer.from(parts[i], 'base64url');
      bytes[0] ^= 1;
      const tampered = [...parts];
      tampered[i] = bytes.toString('base64url');
      expect(codeOf(() => openValue(KEY, scope, tampered.join('.'))).code).toBe('CONFIG_ERROR');
    }
    // Truncated ciphertext too.
    expect(codeOf(() => openValue(KEY, scope, sealed.slice(0, -2))).code).toBe('CONFIG_ERROR');
  });

  it('fails when a sealed value is moved to another record, kind or workspace', () => {
    const sealed = sealValue(KEY, scope, 'v');
    for (const other of [
      { ...scope, key: 'OTHER|prd|*' },
      { ...scope, kind: 'oauth-token' },
      { ...scope, workspace: 'globex' },
    ]) {
      const e = codeOf(() => openValue(KEY, other, sealed));
      expect(e.code).toBe('CONFIG_ERROR');
    }
  });

  it('refuses an unknown format version with a clear message', () => {
    const sealed = sealValue(KEY, scope, 'v').replace(/^v1/, 'v9');
    expect(codeOf(() => openValue(KEY, scope, sealed)).message).toMatch(/unknown format/);
    expect(codeOf(() => openValue(KEY, scope, 'plaintext')).code).toBe('CONFIG_ERROR');
  });

  it('refuses to seal without a private_key', () => {
    expect(codeOf(() => sealValue('', scope, 'v')).message).toMatch(/No private_key/);
  });
});
