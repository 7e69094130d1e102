// Stage: one `ductape.run` span per run (API.md §12), parent of every attempt's client span; nothing without a tracer.
import { context, SpanKind, SpanStatusCode, trace as otel, type Span } from '@opentelemetry/api';
import { DuctapeError } from '../errors.js';
import type { RunContext } from './context.js';
import type { Next } from './pipeline.js';

export function trace(ctx: RunContext, next: Next): Promise<void> {
  const telemetry = ctx.runtime.telemetry;
  if (telemetry === undefined) return next(ctx);
  const { run } = ctx;
  // The caller's active span (when it runs a context manager) is the parent; a login run started by another run's
  // authenticate stage comes with that run's context instead, which no context manager is needed to carry.
  const parent = ctx.traceContext ?? context.active();
  const span = telemetry.tracer.startSpan(
    'ductape.run',
    {
      kind: SpanKind.INTERNAL,
      attributes: { 'ductape.product': run.product, 'ductape.env': run.env, 'ductape.app': run.app, 'ductape.event': run.event },
    },
    parent,
  );
  ctx.traceContext = otel.setSpan(parent, span);
  // The run span is the active one while the run goes on (with a context manager registered): what the application's
  // instrumentations record for it, an OAuth2 token request say, is then a child of the run, not its sibling.
  return context.with(ctx.traceContext, next, undefined, ctx).then(
    () => {
      outcome(span, ctx);
      span.end();
    },
    (err: unknown) => {
      outcome(span, ctx);
      // Only the code and the (already redacted) message: never the error's request, headers or body.
      const code = err instanceof DuctapeError ? err.code : 'INTERNAL';
      span.setAttribute('error.type', code);
      span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof DuctapeError ? err.message : 'internal error' });
      span.end();
      throw err;
    },
  );
}

/** What the run did, failed or not: a run refused RATE_LIMITED after waiting its max_wait_ms waited all the same. */
function outcome(span: Span, ctx: RunContext): void {
  span.setAttribute('ductape.cached', ctx.cached);
  span.setAttribute('ductape.attempts', ctx.attempts);
  if (ctx.waitMs) span.setAttribute('ductape.rate_limit.wait_ms', Math.round(ctx.waitMs));
}
