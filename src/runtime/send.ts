// Stage (innermost): one attempt over the pooled undici Agent, bounded per phase and as a whole; reads the whole body.
import { errors as undiciErrors } from 'undici';
import { DuctapeError } from '../errors.js';
import { DEFAULTS, resolveTimeouts } from '../options.js';
import { AttemptSignal } from './attempt-signal.js';
import type { RunContext } from './context.js';
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
  let phase: 'headers' | 'body' = 'headers';
  try {
    const res = await ctx.runtime.dispatcher.request({
      origin: req.origin,
      path: req.path,
      method: req.method as 'GET',
      headers: req.headers,
      body: forDispatcher(req.body) as string,
      headersTimeout: t.headersMs,
      bodyTimeout: t.bodyMs,
      signal: signal as unknown as AbortSignal,
    });
    phase = 'body';
    // A streamed body belongs to the caller once headers are in; only the idle (bodyTimeout) bound stays.
    if (ctx.run.stream) signal.clear();
    // JSON and UTF-8 text are read as text, decoded straight from the socket's chunks; anything else as bytes.
    const body = ctx.run.stream ? res.body : isUtf8Text(contentTypeOf(res.headers)) ? await res.body.text() : await res.body.bytes();
    ctx.response = { status: res.statusCode, headers: res.headers as Record<string, string | string[]>, body };
  } catch (err) {
    if (err instanceof DuctapeError) throw err;
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
