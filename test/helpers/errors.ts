// Awaits a promise that must reject with a DuctapeError and returns that error (anything else fails the test).
import { DuctapeError } from '../../src/errors.js';

export async function errorOf(p: Promise<unknown>): Promise<DuctapeError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof DuctapeError) return err;
    throw err;
  }
  throw new Error('expected a DuctapeError');
}
