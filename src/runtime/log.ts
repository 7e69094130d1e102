// Stage (outermost): sees every outcome and queues one run-log entry; formatting and the write happen later, in a batch.
import { DuctapeError } from '../errors.js';
import type { RunContext } from './context.js';

export async function log(ctx: RunContext, next: () => Promise<void>): Promise<void> {
  try {
    await next();
  } catch (err) {
    ctx.error = err;
    throw err;
  } finally {
    record(ctx);
  }
}

/** Captures only references and numbers here; log-writer.ts turns them into rows off the request path. */
function record(ctx: RunContext): void {
  const err = ctx.error;
  ctx.runtime.logs.push({
    run: ctx.run,
    startedAt: ctx.startedAt,
    durationMs: performance.now() - ctx.perfStart,
    status: ctx.result?.status ?? ctx.response?.status ?? (err instanceof DuctapeError ? (err.details.status as number | undefined) : undefined),
    attempts: ctx.attempts,
    cached: ctx.cached,
    error: err,
    method: ctx.request?.method,
    url: ctx.request ? ctx.request.origin + ctx.request.path : undefined,
    contentType: ctx.result?.headers['content-type'],
  });
}
