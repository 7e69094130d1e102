// Stage (outermost): sees every outcome and queues one run-log entry; formatting and the write happen later, in a batch.
import { DuctapeError } from '../errors.js';
import type { RunContext } from './context.js';

export function log(ctx: RunContext, next: () => Promise<void>): Promise<void> {
  // then() rather than async/await: one promise hop instead of three, on every run.
  return next().then(
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
  const contentType = ctx.result?.headers['content-type'];
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
    url: request ? request.origin + request.path : undefined,
    contentType: Array.isArray(contentType) ? contentType[0] : contentType,
  });
}
