// Request encoders, compiled once per action and called per request: path, query, header, cookie and body.
import type { Readable } from 'node:stream';

/** A compiled encoder: pure, no I/O, throws INVALID_INPUT (issues with location and path) for unencodable values. */
export type ValueEncoder<T> = (value: unknown) => T;

/** A request body ready for undici. */
export interface EncodedBody {
  /** Text, bytes, a FormData (undici writes it), a Blob (sent from memory, reusable across retries) or a stream. */
  body: string | Uint8Array | FormData | Blob | Readable | null;
  /** The full Content-Type header value; undefined for FormData (undici sets it with the boundary) and for no body. */
  contentType?: string;
}

export { compilePathParam } from './path.js';
export { compileQueryParam } from './query.js';
export { compileHeaderParam, compileCookieParam } from './headers.js';
export { compileBodyEncoder } from './body.js';
export { forDispatcher } from './multipart.js';
export { isReplayable } from './binary.js';
export { encodePathLiteral } from './percent.js';
