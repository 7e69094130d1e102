// RunContext: the one object every pipeline stage reads and writes (each stage only its own fields).
import type { Issue } from '../errors.js';
import type { Plan } from './plan.js';
import type { RetryStopReason } from './retry-policy.js';
import type { Runtime } from './runtime.js';

/** What the caller may send, per location (the seed's IActionRequest). */
export interface IActionRequest {
  query?: Record<string, unknown>;
  params?: Record<string, unknown>;
  body?: Record<string, unknown> | unknown;
  headers?: Record<string, unknown>;
  /** Cookie parameters the action declares (Ductape's addition to the seed's type). */
  cookies?: Record<string, unknown>;
}

export interface ISession {
  tag: string;
  token: string;
}

/** The seed's run input. `timeout` (ms) is Ductape's addition from API.md §4. */
export interface IActionProcessorInput {
  env: string;
  product: string;
  app: string;
  event: string;
  input?: IActionRequest;
  cache?: string;
  retries?: number;
  session?: ISession | string;
  /** Per-attempt timeout in ms, or per phase: `{ attempt, headers, body, run }` (see docs/retries.md). */
  timeout?: number | RunTimeoutOptions;
}

/** The object form of `run({ timeout })`, all in ms. */
export interface RunTimeoutOptions {
  /** Bound on one whole attempt (a free connection, connect, headers and body). @default the action's, else the app's, else 30 s */
  attempt?: number;
  /** Bound on waiting for the response headers once the request is sent. @default attempt */
  headers?: number;
  /** Longest silence between two chunks of the response body. @default attempt */
  body?: number;
  /** Deadline for the whole run: every attempt and every wait between them. @default none */
  run?: number;
}

/** Run input after options.ts normalized it. */
export interface RunInput {
  env: string;
  product: string;
  app: string;
  event: string;
  input: IActionRequest;
  cache?: string;
  retries?: number;
  session?: ISession;
  timeoutMs?: number;
  /** Per-phase overrides and the run deadline from the object form of `timeout`. */
  timeouts?: { headersMs?: number; bodyMs?: number; runMs?: number };
  /** execute(): return the body as a stream instead of decoding it. */
  stream?: boolean;
  /** paginate() with `link` pagination: the next page's absolute URL, sent instead of the encoded path and query. */
  pageUrl?: string;
}

export interface OutgoingRequest {
  method: string;
  origin: string;
  /** Path and query, already encoded. */
  path: string;
  headers: Record<string, string>;
  body: string | Uint8Array | Blob | FormData | import('node:stream').Readable | null;
  /** Identity of the credentials applied (a hash, never the value): part of the cache key. */
  credentialId?: string;
}

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[]>;
  /** Bytes; UTF-8 text already decoded (JSON and text types: send.ts); or the stream of `execute()`. */
  body: Uint8Array | string | import('node:stream').Readable;
}

export interface RunResult {
  status: number;
  headers: Record<string, string | string[]>;
  data: unknown;
}

export interface RunContext {
  readonly runtime: Runtime;
  readonly run: RunInput;
  /** Wall-clock start (ms since epoch) and its monotonic twin for durations. */
  readonly startedAt: number;
  readonly perfStart: number;
  plan?: Plan;
  /** Verified session data (sessions stage). */
  session?: { data: unknown; sessionId: string };
  /** The end user whose connection the credentials come from (authenticate stage; per-user connections only). */
  owner?: string;
  /** Input after placeholders are resolved. */
  bound?: IActionRequest;
  /** Media type chosen for the body. */
  mediaType?: string;
  /** The caller's own Content-Type, when it names a type inside the declared range chosen (`*\/*`, `image/*`). */
  contentType?: string;
  request?: OutgoingRequest;
  response?: UpstreamResponse;
  result?: RunResult;
  attempts: number;
  cached: boolean;
  /** The run span's OpenTelemetry context (trace stage): parent of the attempt spans. */
  traceContext?: import('@opentelemetry/api').Context;
  /** Time spent waiting for rate limit slots, in ms (limit stage); undefined when the run never waited. */
  waitMs?: number;
  /** Why the retry stage sent no further attempt after a retryable failure (retry stage); undefined otherwise. */
  retryStop?: RetryStopReason;
  issues?: Issue[];
  error?: unknown;
  /** Set on the run an `action` login starts (authenticate stage), which must not log in itself. */
  readonly isLogin?: boolean;
}

/**
 * A run's context with every field present from the start: one object shape for all runs (its fields stay in the
 * object, no property store grows as stages fill them in), which V8 then handles as one fast hidden class.
 */
export function newRunContext(runtime: Runtime, run: RunInput, isLogin = false): RunContext {
  return {
    runtime,
    run,
    startedAt: Date.now(),
    perfStart: performance.now(),
    plan: undefined,
    session: undefined,
    owner: undefined,
    bound: undefined,
    mediaType: undefined,
    contentType: undefined,
    request: undefined,
    response: undefined,
    result: undefined,
    attempts: 0,
    cached: false,
    traceContext: undefined,
    waitMs: undefined,
    retryStop: undefined,
    issues: undefined,
    error: undefined,
    isLogin,
  };
}
