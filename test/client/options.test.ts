// Unknown option names: refused with the accepted list, and a hint only for a name we know was meant as another.
import { describe, expect, it } from 'vitest';
import { DuctapeError } from '../../src/errors.js';
import { normalizeOptions, normalizeRunInput } from '../../src/options.js';

const run = { env: 'prd', product: 'p', app: 'api', event: 'e' };

describe('unknown run options', () => {
  it('suggests the right name for a known misspelling', () => {
    expect(() => normalizeRunInput({ ...run, retry: 2 } as never)).toThrow(/Unknown run option "retry"\. Did you mean "retries"\?/);
  });

  it('gives no hint for a name that is only a property of every object ("toString", "constructor")', () => {
    for (const name of ['toString', 'constructor', 'hasOwnProperty']) {
      let message = '';
      try {
        normalizeRunInput({ ...run, [name]: 1 } as never);
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toMatch(new RegExp(`^Unknown run option "${name}"\\. Accepted: `));
    }
  });
});

describe('optional run options given as null', () => {
  // Callers that write every optional field (JSON from another language, spread defaults) pass null; `session: null`
  // and `cache: null` used to end in raw TypeErrors ("Cannot read properties of null").
  it('refuses session: null with SESSION_INVALID and cache: null (or a non-string tag) with CONFIG_ERROR naming the option', () => {
    const errorOf = (extra: object) => {
      try {
        normalizeRunInput({ ...run, ...extra } as never);
      } catch (err) {
        return err as DuctapeError;
      }
      throw new Error('expected a refusal');
    };
    expect(errorOf({ session: null })).toMatchObject({ code: 'SESSION_INVALID', message: expect.stringMatching(/session must be \{ tag, token \}/) });
    // A field beside the token was accepted and silently ignored (the token's sealed data is what a run reads).
    expect(errorOf({ session: { tag: 'user-session', token: 't', data: { user: { id: 1 } } } })).toMatchObject({
      code: 'CONFIG_ERROR',
      option: 'data',
      message: 'Unknown session option "data". Accepted: tag, token.',
    });
    for (const cache of [null, 5, '']) {
      const err = errorOf({ cache });
      expect(err).toBeInstanceOf(DuctapeError);
      expect(err).toMatchObject({ code: 'CONFIG_ERROR', option: 'cache' });
    }
  });
});

describe('client options of the wrong type', () => {
  // A number private_key reached scrypt, whose raw TypeError ERR_INVALID_ARG_TYPE printed the key ("Received type
  // number (12345678)"); a number workspace_id went on to the store.
  it('refuses a private_key or workspace_id that is not a string with CONFIG_ERROR naming the option, never the value', () => {
    for (const [raw, option] of [
      [{ workspace_id: 'acme', private_key: 12345678 }, 'private_key'],
      [{ workspace_id: 12345678, private_key: 'long-enough-key' }, 'workspace_id'],
    ] as const) {
      let err: DuctapeError | undefined;
      try {
        normalizeOptions(raw as never, {});
      } catch (e) {
        err = e as DuctapeError;
      }
      expect(err).toMatchObject({ code: 'CONFIG_ERROR', details: { option } });
      if (option === 'private_key') expect(err!.message).not.toContain('12345678');
    }
  });

  it('refuses a cache_max_bytes that is not a whole number with CONFIG_ERROR (it was a raw RangeError at first use)', () => {
    const base = { workspace_id: 'acme', private_key: 'long-enough-key' };
    for (const bad of [2048.5, 1e300]) {
      expect(() => normalizeOptions({ ...base, cache_max_bytes: bad }, {})).toThrow(
        expect.objectContaining({ code: 'CONFIG_ERROR', details: { option: 'cache_max_bytes' }, message: expect.stringMatching(/whole number of bytes ≥ 1024/) }),
      );
    }
    expect(normalizeOptions({ ...base, cache_max_bytes: 4096 }, {}).cacheMaxBytes).toBe(4096);
  });
});
