// Stage (outermost): sees every outcome and queues one run-log entry; formatting and the write happen later, in a batch.
import { redactUrl, secretsGeneration } from '../model/redact.js';
import { DuctapeError } from '../errors.js';
import type { RunContext } from './context.js';
import { contentTypeOf } from './decode-body.js';
import type { Next } from './pipeline.js';

export function log(ctx: RunContext, next: Next): Promise<void> {
  // then() rather than async/await: one promise hop instead of three, on every run.
  return next(ctx).then(
    () => record(ctx),
    (err: unknown) => {
      ctx.error = err;
      record(ctx);
      throw err;
    },
  );
}

/**
 * Captures primitives only (no reference to the run's input, result or error): entries wait up to a batch in memory,
 * and holding whole runs that long would push them out of the young GC generation.
 */
function record(ctx: RunContext): void {
  const err = ctx.error;
  const { run, request } = ctx;
  const ductapeError = err instanceof DuctapeError ? err : undefined;
  ctx.runtime.logs.push({
    actor: ctx.runtime.actor,
    product: run.product,
    env: run.env,
    app: run.app,
    event: run.event,
    startedAt: ctx.startedAt,
    durationMs: performance.now() - ctx.perfStart,
    status: ctx.result?.status ?? ctx.response?.status ?? (ductapeError?.details.status as number | undefined),
    attempts: ctx.attempts,
    cached: ctx.cached,
    ok: err === undefined,
    errorCode: err === undefined ? undefined : (ductapeError?.code ?? 'INTERNAL'),
    errorMessage: err === undefined ? undefined : (ductapeError?.message ?? 'internal error'),
    method: request?.method,
    // Redacted here with this client's credential names too (toTuple knows only the process-wide ones), and again when
    // stored only if a secret was registered in between.
    url: request ? redactUrl(request.origin + request.path, ctx.runtime.state.sensitiveNames) : undefined,
    urlRedactedAt: secretsGeneration(),
    contentType: ctx.result ? contentTypeOf(ctx.result.headers) : undefined,
    owner: ctx.owner,
    waitMs: ctx.waitMs,
  });
}

/** A run refused before its pipeline started (bad shape, bad options) is still a run, and still logged. */
export function recordRefused(runtime: RunContext['runtime'], raw: unknown, err: unknown): void {
  const r = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === 'string' ? v : '');
  runtime.logs.push({
    actor: runtime.actor,
    product: text(r.product),
    env: text(r.env),
    app: text(r.app),
    event: text(r.event),
    startedAt: Date.now(),
    durationMs: 0,
    status: undefined,
    attempts: 0,
    cached: false,
    ok: false,
    errorCode: err instanceof DuctapeError ? err.code : 'INTERNAL',
    errorMessage: err instanceof DuctapeError ? err.message : 'internal error',
    method: undefined,
    url: undefined,
    contentType: undefined,
  });
}
