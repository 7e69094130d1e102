// The retry decision (API.md §4 "Retries, timeouts") and the one mapping from an upstream outcome to a DuctapeError.
import { STATUS_CODES } from 'node:http';
import { DuctapeError } from '../errors.js';
import { sliceText } from '../model/json.js';
import { redact, redactUrl } from '../model/redact.js';
import { retryAfterMs } from './retry-after.js';

/** How one attempt ended. `reachedServer: false` only when the request provably never left (e.g. ECONNREFUSED). */
export type AttemptOutcome =
  | { kind: 'status'; status: number; headers: Record<string, string | string[] | undefined> }
  | { kind: 'network'; code: string; reachedServer: boolean }
  | { kind: 'timeout'; phase: 'connect' | 'headers' | 'body' };

export interface RetryPolicy {
  /** First backoff window in ms; window n is baseMs·2^(n-1), capped. @default 200 */
  baseMs: number;
  /** Largest backoff window in ms. @default 10_000 */
  capMs: number;
  /** Longest Retry-After honoured, in ms; longer requests wait this long. @default 60_000 */
  retryAfterCeilingMs: number;
}

export const RETRY_POLICY_DEFAULTS: Readonly<RetryPolicy> = { baseMs: 200, capMs: 10_000, retryAfterCeilingMs: 60_000 };

/** Statuses that may succeed later (API.md §4). */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 425, 429, 500, 502, 503, 504]);

// RFC 9110 §9.2.2: these methods are idempotent, so repeating them is as safe as sending them once.
const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

// Network failures that happen before a single byte of the request is written: repeating cannot double an effect.
const NEVER_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);

export interface RetryInput {
  /** The attempt that just ended, counting from 1. */
  attempt: number;
  /** Extra attempts allowed (`retries`). */
  maxRetries: number;
  method: string;
  /** The action marks its method as state-changing even though it is GET-like. */
  unsafe?: boolean;
  hasIdempotencyKey: boolean;
  outcome: AttemptOutcome;
  policy: RetryPolicy;
  /** Time left before the run's overall deadline, in ms; a wait that would pass it stops instead. */
  remainingMs?: number;
  /** In [0, 1); injectable so tests can seed it. @default Math.random */
  random?: () => number;
  /** Epoch ms, for Retry-After dates. @default Date.now */
  now?: () => number;
}

export type RetryStopReason = 'not-retryable' | 'exhausted' | 'unsafe' | 'deadline' | 'not-replayable' | 'rate-limit';
export type RetryDecision = { retry: true; delayMs: number } | { retry: false; reason: RetryStopReason };

/**
 * Whether to try again after an attempt, and how long to wait first.
 * @example decideRetry({ attempt: 1, maxRetries: 3, method: 'GET', hasIdempotencyKey: false,
 *   outcome: { kind: 'status', status: 503, headers: {} }, policy: RETRY_POLICY_DEFAULTS }) // { retry: true, delayMs: 0..199 }
 */
export function decideRetry(input: RetryInput): RetryDecision {
  const { outcome, policy } = input;
  if (!isTransient(outcome)) return { retry: false, reason: 'not-retryable' };
  if (input.attempt > input.maxRetries) return { retry: false, reason: 'exhausted' };
  if (!isSafeToRepeat(outcome, input)) return { retry: false, reason: 'unsafe' };

  const asked = outcome.kind === 'status' ? retryAfterMs(outcome.headers, (input.now ?? Date.now)()) : undefined;
  const delayMs =
    asked !== undefined
      ? Math.min(asked, policy.retryAfterCeilingMs)
      : fullJitterMs(input.attempt, policy, input.random ?? Math.random);
  if (input.remainingMs !== undefined && delayMs >= input.remainingMs) return { retry: false, reason: 'deadline' };
  return { retry: true, delayMs };
}

/**
 * "Full jitter" backoff (AWS Architecture Blog, "Exponential Backoff and Jitter"): uniform in
 * [0, min(cap, base·2^(attempt-1))). Spreading retries over the whole window keeps clients that failed together
 * from retrying together.
 */
export function fullJitterMs(attempt: number, policy: Pick<RetryPolicy, 'baseMs' | 'capMs'>, random: () => number): number {
  const window = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
  return Math.floor(random() * window);
}

/** A failure that may go away if the same request is sent again later. */
export function isTransient(outcome: AttemptOutcome): boolean {
  if (outcome.kind === 'status') return RETRYABLE_STATUSES.has(outcome.status);
  // A certificate problem, or an answer over max_response_bytes, will not fix itself between attempts.
  if (outcome.kind === 'network') return !/CERT|^ERR_TLS|SELF_SIGNED|UNABLE_TO_VERIFY|UND_ERR_RES_EXCEEDED_MAX_SIZE/.test(outcome.code);
  return true;
}

export function isIdempotentMethod(method: string, unsafe = false): boolean {
  return !unsafe && IDEMPOTENT_METHODS.has(method.toUpperCase());
}

/** True for network error codes that prove the request never reached the server. */
export function neverReachedServer(code: string): boolean {
  return NEVER_SENT_CODES.has(code);
}

/**
 * Repeating is safe for idempotent methods and, for state-changing ones (POST, PATCH, `unsafe`), only when the
 * first try provably never arrived, when the server said it did not act (429, 503), or with an idempotency key.
 */
export function isSafeToRepeat(
  outcome: AttemptOutcome,
  req: { method: string; unsafe?: boolean; hasIdempotencyKey: boolean },
): boolean {
  if (isIdempotentMethod(req.method, req.unsafe) || req.hasIdempotencyKey) return true;
  if (outcome.kind === 'network') return !outcome.reachedServer;
  if (outcome.kind === 'timeout') return outcome.phase === 'connect';
  return outcome.status === 429 || outcome.status === 503;
}

export interface UpstreamFailure {
  outcome: AttemptOutcome;
  /** Attempts made in this run, the failing one included. */
  attempts: number;
  request: { method: string; url: string; unsafe?: boolean; hasIdempotencyKey?: boolean };
  /** The decoded response body, for status outcomes. */
  body?: unknown;
  /** The timeout that fired, in ms (timeout outcomes). */
  timeoutMs?: number;
  /** Set when the attempt was cut short by the run's deadline (`timeout: { run }`), in ms: the bound the caller set. */
  runDeadlineMs?: number;
  /** Names carrying this client's credentials (runtime.state.sensitiveNames), redacted in the URL and headers. */
  sensitiveNames?: ReadonlySet<string>;
  /** Why no further attempt was made although retries were allowed (the retry stage's decision), for the hint. */
  retryStop?: RetryStopReason;
  /** Whether the request carried the connection's credentials (a 401 then means they were refused: AUTH_FAILED). */
  hasCredentials?: boolean;
  cause?: unknown;
  now?: () => number;
}

/**
 * The one place an upstream outcome becomes an error (as Stripe's generateV1Error): 429 → RATE_LIMITED, other
 * statuses → UPSTREAM_ERROR, timeouts → TIMEOUT, network failures → NETWORK_ERROR. `retryable` says whether sending
 * the same request again later is both worthwhile and safe (see isSafeToRepeat).
 */
export function classifyUpstreamError(f: UpstreamFailure): DuctapeError {
  const { outcome, attempts } = f;
  const method = f.request.method.toUpperCase();
  const url = redactUrl(f.request.url, f.sensitiveNames);
  const tries = `${attempts} attempt${attempts === 1 ? '' : 's'}`;
  const retryable = isTransient(outcome) && isSafeToRepeat(outcome, { ...f.request, hasIdempotencyKey: !!f.request.hasIdempotencyKey });
  const request = { method, url };
  const options = f.cause === undefined ? undefined : { cause: f.cause };

  if (outcome.kind === 'timeout' && f.runDeadlineMs !== undefined) {
    // #11: the attempt's own budget was what was left of the deadline; naming it ("after 96 ms") misled.
    return new DuctapeError(
      'TIMEOUT',
      `${method} ${url} did not finish within the run's deadline of ${f.runDeadlineMs} ms (timeout.run; ${tries}). ` +
        'Raise timeout.run, or allow fewer retries so that the attempts and the waits between them fit in it.',
      { phase: outcome.phase, timeoutMs: f.runDeadlineMs, deadline: true, attempts, retryable, request },
      options,
    );
  }
  if (outcome.kind === 'timeout') {
    const waited = f.timeoutMs === undefined ? '' : ` after ${f.timeoutMs} ms`;
    return new DuctapeError(
      'TIMEOUT',
      `${method} ${url} timed out waiting for the ${PHASE_TEXT[outcome.phase]}${waited} (${tries}). ` +
        `If the upstream is just slow, raise the timeout (per call with timeout, or on the action or app).`,
      { phase: outcome.phase, timeoutMs: f.timeoutMs, attempts, retryable, request },
      options,
    );
  }
  if (outcome.kind === 'network' && outcome.code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') {
    // #11: the upstream answered fine, only more than this client reads into memory; the base URL is not the problem.
    return new DuctapeError(
      'NETWORK_ERROR',
      `The response to ${method} ${url} is larger than max_response_bytes, so it was not read. Raise the client option ` +
        'max_response_bytes, or read it as a stream with actions.execute({ …, stream: true }).',
      { errno: outcome.code, reachedServer: true, attempts, retryable: false, request },
      options,
    );
  }
  if (outcome.kind === 'network') {
    return new DuctapeError(
      'NETWORK_ERROR',
      `Could not complete ${method} ${url}: ${outcome.code}${outcome.reachedServer ? '' : ' (the request was never sent)'} ` +
        `after ${tries}. Check the base URL and that the upstream is reachable from this host.`,
      { errno: outcome.code, reachedServer: outcome.reachedServer, attempts, retryable, request },
      options,
    );
  }
  const { status } = outcome;
  const headers = redact(outcome.headers, f.sensitiveNames);
  const body = redact(f.body, f.sensitiveNames);
  if (status === 429) {
    const wait = retryAfterMs(outcome.headers, (f.now ?? Date.now)());
    return new DuctapeError(
      'RATE_LIMITED',
      `${method} ${url} was rate limited (429) after ${tries}${summary(body)}. ` +
        (wait === undefined ? 'Slow down, or allow more retries.' : `Retry after ${Math.ceil(wait / 1000)} s.`),
      { status, retryAfterMs: wait, headers, body, attempts, retryable, request },
      options,
    );
  }
  if (status === 401 && f.hasCredentials) {
    // docs/errors.md: credentials that were refused are AUTH_FAILED, whatever the API's own wording.
    return new DuctapeError(
      'AUTH_FAILED',
      `${method} ${url} refused the connection's credentials (401 Unauthorized) after ${tries}${summary(body)}. ` +
        "Check the connection's auth (products.apps.configure) for this env: the key or token may be wrong, revoked or expired.",
      { status, headers, body, attempts, retryable, request },
      options,
    );
  }
  return new DuctapeError(
    'UPSTREAM_ERROR',
    `${method} ${url} failed with ${status} ${STATUS_CODES[status] ?? ''}`.trimEnd() +
      ` after ${tries}${summary(body)}. ${statusHint(outcome, method, retryable, attempts, f.retryStop)}`,
    { status, headers, body, attempts, retryable, request },
    options,
  );
}

/** The start of the upstream's own explanation (already redacted), so the message alone often says what went wrong. */
function summary(body: unknown): string {
  if (body === null || body === undefined || body instanceof Uint8Array) return '';
  let text: string | undefined;
  try {
    text = typeof body === 'string' ? body : JSON.stringify(body);
  } catch {
    return ''; // too deep or otherwise unprintable: the body stays on the error's `body` field
  }
  if (!text) return '';
  return text.length <= 200 ? `: ${text}` : `: ${sliceText(text, 200)}…`;
}

const PHASE_TEXT = { connect: 'connection', headers: 'response headers', body: 'response body' } as const;

function statusHint(outcome: AttemptOutcome & { kind: 'status' }, method: string, retryable: boolean, attempts: number, stop?: RetryStopReason): string {
  const { status } = outcome;
  if (status === 401 || status === 403) return "Check the connection's credentials and their scopes.";
  if (status === 404) return 'Check the path parameters and the base URL of the env.';
  // Retries were allowed: "pass retries: n" would send the caller after an option they already set.
  if (retryable && stop === 'deadline') {
    return "It was not retried again: the wait before the next attempt (the upstream's Retry-After, or the backoff) would pass the run's deadline (timeout.run).";
  }
  if (retryable && stop === 'not-replayable') return 'It was not retried: its body was a stream, which the first attempt consumed.';
  if (retryable && stop === 'rate-limit') {
    return "It was not retried: the upstream's wait (Retry-After, or its reset header) pauses the connection's rate limit for longer than the retry wait plus max_wait_ms, so the retry would be refused anyway. Retry after retryAfterMs.";
  }
  // #11: after retries, "pass retries: n" read as if none had been made.
  if (retryable && attempts > 1) return `It was retried ${attempts - 1} time${attempts === 2 ? '' : 's'} and still failed: the upstream may be down; try again later, or allow more retries.`;
  if (retryable) return 'This may be temporary: pass retries: n to try again automatically.';
  if (isTransient(outcome)) {
    return `This may be temporary, but repeating a ${method} could apply it twice; an idempotency key makes it safe to retry.`;
  }
  if (status >= 400 && status < 500) return 'The upstream rejected the request; its body (err.body) says why.';
  return 'The upstream failed; its body (err.body) may say why.';
}
