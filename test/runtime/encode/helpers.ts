// Shared by the encoder tests: catch an encoder's INVALID_INPUT error and read its issues.
import { expect } from 'vitest';
import { DuctapeError, type Issue } from '../../../src/errors.js';

export function issuesOf(run: () => unknown): Issue[] {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(DuctapeError);
    expect((err as DuctapeError).code).toBe('INVALID_INPUT');
    return (err as DuctapeError & { issues: Issue[] }).issues;
  }
  throw new Error('expected the encoder to throw INVALID_INPUT');
}
