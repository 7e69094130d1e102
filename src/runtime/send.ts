// Stage (innermost): one attempt over the pooled undici Agent, bounded per phase and as a whole; reads the whole body
// (or hands execute({ stream: true }) undici's body stream).
import { errors as undiciErrors, util as undiciUtil, type Dispatcher } from 'undici';
import { DuctapeError } from '../errors.js';
import { DEFAULTS, resolveTimeouts } from '../options.js';
import { AttemptSignal } from './attempt-signal.js';
import type { RunContext, UpstreamResponse } from './context.js';
import { contentTypeOf, isUtf8Text } from './decode-body.js';
import { forDispatcher } from './encode/index.js';
import { hasIdempotencyKey } from './retry.js';
import { classifyUpstreamError, neverReachedServer, type AttemptOutcome } from './retry-policy.js';

export async function send(ctx: RunContext): Promise<void> {
  const req = ctx.request!;
  const t = resolveTimeouts(ctx.run, ctx.plan!.timeoutMs, ctx.startedAt);
  // The whole attempt is bounded too: headersTimeout and bodyTimeout alone let a trickling body run forever.
  const budgetMs = Math.max(0, Math.min(t.attemptMs, t.deadlineAt === undefined ? Infinity : t.deadlineAt - Date.now()));
  ctx.attempts++;
  const signal = new AttemptSignal(budgetMs);
  const { inFlight } = ctx.runtime;
  ctx.runtime.state.attemptClock.start(signal, inFlight);
  // Every answer is read whole but execute({ stream: true })'s, which hands the caller undici's body stream.
  const whole = ctx.run.stream ? undefined : new WholeAnswer(signal);
  let streamHeadersIn = false;
  try {
    const opts = {
      origin: req.origin,
      path: req.path,
      method: req.method as 'GET',
      headers: req.headers,
      body: forDispatcher(req.body) as string,
      headersTimeout: t.headersMs,
      bodyTimeout: t.bodyMs,
    };
    if (whole) {
      ctx.response = await whole.dispatch(ctx.runtime.dispatcher, opts);
    } else {
      const res = await ctx.runtime.dispatcher.request({ ...opts, signal: signal as unknown as AbortSignal });
      streamHeadersIn = true;
      // A streamed body belongs to the caller once headers are in; only the idle (bodyTimeout) bound stays.
      signal.clear();
      ctx.response = { status: res.statusCode, headers: res.headers as Record<string, string | string[]>, body: res.body };
    }
  } catch (err) {
    if (err instanceof DuctapeError) throw err;
    const phase = (whole ? whole.headersIn : streamHeadersIn) ? 'body' : 'headers';
    if (signal.closedBy) throw new DuctapeError('NETWORK_ERROR', signal.closedBy, { attempts: ctx.attempts, retryable: false }, { cause: err });
    const { outcome, timeoutMs } = attemptOutcome(err, signal.aborted ? { phase, ms: budgetMs } : undefined, t);
    throw classifyUpstreamError({
      outcome,
      attempts: ctx.attempts,
      request: { method: req.method, url: req.origin + req.path, unsafe: ctx.plan!.action.unsafe, hasIdempotencyKey: hasIdempotencyKey(ctx) },
      timeoutMs,
      // The run's deadline, not the attempt timeout, bounded this attempt: say so rather than "after 96 ms".
      sensitiveNames: ctx.runtime.state.sensitiveNames,
      runDeadlineMs: signal.aborted && budgetMs < t.attemptMs ? ctx.run.timeouts?.runMs : undefined,
      cause: err,
    });
  } finally {
    signal.clear();
    inFlight.delete(signal);
  }
}

/** What a transport failure means for retrying: which timeout fired, or whether the request provably never left. */
export function attemptOutcome(
  err: unknown,
  aborted: { phase: 'headers' | 'body'; ms: number } | undefined,
  t: { headersMs: number; bodyMs: number },
): { outcome: AttemptOutcome; timeoutMs?: number } {
  if (aborted) return { outcome: { kind: 'timeout', phase: aborted.phase }, timeoutMs: aborted.ms };
  if (err instanceof undiciErrors.ConnectTimeoutError) return { outcome: { kind: 'timeout', phase: 'connect' }, timeoutMs: DEFAULTS.connectTimeoutMs };
  if (err instanceof undiciErrors.HeadersTimeoutError) return { outcome: { kind: 'timeout', phase: 'headers' }, timeoutMs: t.headersMs };
  if (err instanceof undiciErrors.BodyTimeoutError) return { outcome: { kind: 'timeout', phase: 'body' }, timeoutMs: t.bodyMs };
  const e = err as { code?: string; cause?: { code?: string } };
  const code = e.code ?? e.cause?.code ?? 'UNKNOWN';
  return { outcome: { kind: 'network', code, reachedServer: !neverReachedServer(code) } };
}

/**
 * undici's dispatch handler for an answer read whole (every run but `execute({ stream: true })`): it keeps the body's
 * chunks and decodes them once, at the end. request() would wrap them in a Readable and hang an abort listener and a
 * 'close' listener on every request, none of which a whole read needs: about 5–7 µs of CPU per request at c=64
 * (bench/README.md). Aborted through the attempt's signal (its deadline, or close()), and unlike request() also while
 * it waits in undici's queue for a free connection: the attempt's bound counts from when the attempt started.
 */
class WholeAnswer implements Dispatcher.DispatchHandler {
  /** The final (non-1xx) status line and headers have arrived: a failure from here on is in the body phase. */
  headersIn = false;
  #status = 0;
  #headers: Record<string, string | string[]> = {};
  #chunks: Buffer[] = [];
  #length = 0;
  #body: unknown;
  /** undici's abort for this request, once it has a connection (onConnect). */
  #abort: ((err: Error) => void) | undefined;
  #resolve!: (res: UpstreamResponse) => void;
  #reject!: (err: unknown) => void;

  constructor(private readonly signal: AttemptSignal) {}

  dispatch(dispatcher: Dispatcher, opts: Dispatcher.DispatchOptions): Promise<UpstreamResponse> {
    this.#body = opts.body;
    return new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
      this.signal.addEventListener('abort', () => {
        // Still queued: fail the attempt now; undici drops the request when a connection picks it up (onConnect).
        if (this.#abort) this.#abort(this.signal.reason as Error);
        else reject(this.signal.reason);
      });
      // Errors thrown while dispatching (bad options, a closed pool) also reach onError.
      dispatcher.dispatch(opts, this);
    });
  }

  onConnect(abort: (err?: Error) => void): void {
    if (this.signal.aborted) abort(this.signal.reason as Error);
    else this.#abort = abort;
  }

  onHeaders(status: number, rawHeaders: Buffer[]): boolean {
    if (status < 200) return true; // 1xx: informational, the final answer follows
    this.#status = status;
    this.#headers = undiciUtil.parseHeaders(rawHeaders) as Record<string, string | string[]>;
    this.headersIn = true;
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.#chunks.push(chunk);
    this.#length += chunk.length;
    return true;
  }

  onComplete(): void {
    const headers = this.#headers;
    const body = isUtf8Text(contentTypeOf(headers)) ? utf8Text(this.#chunks, this.#length) : ownBytes(this.#chunks, this.#length);
    this.#resolve({ status: this.#status, headers, body });
  }

  onError(err: Error): void {
    // A streamed request body is not read any further: release its source, as request() does.
    const body = this.#body as { destroy?: (e: Error) => void; on?: (ev: string, f: () => void) => void } | null;
    if (body && typeof body.destroy === 'function' && typeof body.on === 'function') {
      body.on('error', () => {});
      body.destroy(err);
    }
    this.#reject(err);
  }
}

/** UTF-8 text of the chunks, a leading BOM dropped (what undici's text() and TextDecoder do). */
function utf8Text(chunks: Buffer[], length: number): string {
  if (length === 0) return '';
  const buf = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, length);
  const start = buf.length > 2 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
  return buf.toString('utf8', start);
}

/** The chunks copied into one array of their own: they are views into the socket's read buffers. */
function ownBytes(chunks: Buffer[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
