// Unknown option names: refused with the accepted list, and a hint only for a name we know was meant as another.
import { describe, expect, it } from 'vitest';
import { normalizeRunInput } from '../../src/options.js';

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
