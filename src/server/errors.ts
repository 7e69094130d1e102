// The one code → HTTP status table of `ductape serve` (API.md §6), and the error body every route answers with.
import { DuctapeError, type ErrorCode } from '../errors.js';
import { toWire } from '../model/json.js';
import { redact } from '../model/redact.js';

export const STATUS: Record<ErrorCode, number> = {
  INVALID_INPUT: 400,
  UNAUTHORIZED: 401,
  SESSION_INVALID: 401,
  SESSION_EXPIRED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  UPSTREAM_ERROR: 424,
  AUTH_FAILED: 424,
  RATE_LIMITED: 429,
  NETWORK_ERROR: 502,
  TIMEOUT: 504,
  CONFIG_ERROR: 500,
  // Not in API.md §6's table (the code came later): the store is busy or unreachable, which is the server's state.
  STORE_ERROR: 503,
};

export interface ErrorReply {
  status: number;
  headers: Record<string, string>;
  body: { error: Record<string, unknown> };
}

/**
 * `{ error: { code, message, …fields } }` through the error's toJSON(), redacted like the CLI's output. Anything that
 * is not a DuctapeError is a bug or a driver failure: its message may hold internals, so it is not echoed.
 */
export function errorReply(err: unknown): ErrorReply {
  const e = err instanceof DuctapeError ? err : new DuctapeError('CONFIG_ERROR', 'The server failed to handle this request; see its log.');
  const headers: Record<string, string> = {};
  const retryAfterMs = (e.details as { retryAfterMs?: unknown }).retryAfterMs;
  if (e.code === 'RATE_LIMITED' && typeof retryAfterMs === 'number' && retryAfterMs >= 0) headers['retry-after'] = String(Math.ceil(retryAfterMs / 1000));
  return { status: STATUS[e.code] ?? 500, headers, body: { error: toWire(redact(e.toJSON())) as Record<string, unknown> } };
}

