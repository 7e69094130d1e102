// Stage: one HTTP client span per attempt, after the rate limit wait, with OpenTelemetry's HTTP semantic conventions;
// its trace context goes upstream in `traceparent`.
import { context, createContextKey, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { DuctapeError } from '../errors.js';
import { redactUrl } from '../model/redact.js';
import type { RunContext } from './context.js';
import type { Next } from './pipeline.js';

/**
 * The SDK's "suppress tracing" flag (@opentelemetry/core's suppressTracing): createContextKey is Symbol.for, so this is
 * the very key the SDK's tracers and propagators read. The attempt's send runs under it: an undici/fetch or http
 * instrumentation the application registered (auto-instrumentations do) would otherwise record a second client span
 * for the same request, parented beside the run span, and add a second `traceparent` header, which makes the upstream
 * drop the trace context altogether (W3C Trace Context: several traceparent headers are invalid).
 */
const SUPPRESS_TRACING = createContextKey('OpenTelemetry SDK Context Key SUPPRESS_TRACING');

export function traceAttempt(ctx: RunContext, next: Next): Promise<void> {
  const telemetry = ctx.runtime.telemetry;
  if (telemetry === undefined) return next(ctx);
  const plan = ctx.plan!;
  const req = ctx.request!;
  const url = new URL(req.origin);
  // The path template relative to the origin (base path included), e.g. /v1/customers/{id}: low-cardinality names.
  const template = plan.basePath + plan.action.path;
  const span = telemetry.tracer.startSpan(
    `${req.method} ${template}`,
    {
      kind: SpanKind.CLIENT,
      attributes: {
        'http.request.method': req.method,
        'url.template': template,
        // Credentials in the query are redacted exactly as in logs and envelopes.
        'url.full': redactUrl(req.origin + req.path),
        // An IPv6 literal is the address itself (::1), not its bracketed URL form ([::1]), as the conventions ask.
        'server.address': url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
        'server.port': Number(url.port) || (url.protocol === 'https:' ? 443 : 80),
        // Semantic conventions: set from the second attempt on (the count of resends).
        ...(ctx.attempts > 0 ? { 'http.request.resend_count': ctx.attempts } : {}),
      },
    },
    ctx.traceContext,
  );
  const headers = { ...req.headers };
  telemetry.inject(span.spanContext(), headers);
  ctx.request = { ...req, headers };
  const sending = trace.setSpan(ctx.traceContext ?? context.active(), span).setValue(SUPPRESS_TRACING, true);
  return context.with(sending, next, undefined, ctx).then(
    () => {
      const status = ctx.response!.status;
      span.setAttribute('http.response.status_code', status);
      // For client spans every 4xx and 5xx is an error (HTTP semantic conventions, "Status").
      if (status >= 400) {
        span.setAttribute('error.type', String(status));
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
    },
    (err: unknown) => {
      const d = err instanceof DuctapeError ? err.details : {};
      // A transport failure names itself by its errno (ECONNREFUSED) or timeout phase, as the conventions suggest.
      const type = typeof d.errno === 'string' ? d.errno : err instanceof DuctapeError ? (d.phase ? `${err.code}.${String(d.phase)}` : err.code) : 'INTERNAL';
      span.setAttribute('error.type', type);
      span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof DuctapeError ? err.message : 'internal error' });
      span.end();
      throw err;
    },
  );
}
