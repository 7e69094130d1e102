// How encoders report a value that cannot be serialized: thrown deep inside, turned into INVALID_INPUT at the edge.
import { InvalidInputError, type Issue } from '../../errors.js';

/**
 * Thrown by the inner helpers, which do not know where the value came from. `subpath` is a JSON Pointer relative to
 * the parameter or body (`/items/0/price`); the compiled encoder adds the location and the parameter name.
 */
export class EncodeFailure extends Error {
  constructor(
    message: string,
    readonly subpath = '',
  ) {
    super(message);
  }
}

/** Rethrows an EncodeFailure as the public InvalidInputError; anything else is a bug and passes through unchanged. */
export function toInvalidInput(err: unknown, location: Issue['location'], path: string): unknown {
  if (!(err instanceof EncodeFailure)) return err;
  return new InvalidInputError([{ location, path: path + err.subpath, message: err.message }], 'Cannot encode input');
}

/** `/name` as a JSON Pointer token (RFC 6901 escapes `~` and `/`). */
export function pointer(name: string): string {
  return '/' + name.replace(/~/g, '~0').replace(/\//g, '~1');
}
