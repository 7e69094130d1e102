// Stage (outermost): sees every outcome and queues one run-log row; the write happens later, in a batch.
import { randomUUID } from 'node:crypto';
import { DuctapeError } from '../errors.js';
import { redactUrl } from '../model/redact.js';
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

function record(ctx: RunContext): void {
  const { run, runtime } = ctx;
  const err = ctx.error;
  const status = ctx.result?.status ?? ctx.response?.status ?? (err instanceof DuctapeError ? (err.details.status as number | undefined) : undefined);
  runtime.logs.push({
    id: randomUUID(),
    time: new Date(ctx.startedAt).toISOString(),
    actor: runtime.actor,
    product: run.product,
    env: run.env,
    app: run.app,
    event: run.event,
    status: status ?? null,
    ok: !err,
    attempts: ctx.attempts,
    cached: ctx.cached,
    durationMs: Math.round((performance.now() - ctx.perfStart) * 100) / 100,
    errorCode: err ? (err instanceof DuctapeError ? err.code : 'INTERNAL') : null,
    // Summaries only; redaction removes credentials from the URL (query API keys) and known secret values.
    request: ctx.request ? { method: ctx.request.method, url: redactUrl(ctx.request.origin + ctx.request.path) } : undefined,
    response: err
      ? { error: err instanceof DuctapeError ? err.message : 'internal error' }
      : ctx.result
        ? { status: ctx.result.status, contentType: ctx.result.headers['content-type'] ?? null }
        : undefined,
  });
}
