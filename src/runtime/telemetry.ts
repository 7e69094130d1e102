// OpenTelemetry (API.md §12): found once per client, through @opentelemetry/api only; absent means no work at all.
import { propagation, ProxyTracerProvider, ROOT_CONTEXT, trace, type SpanContext, type Tracer } from '@opentelemetry/api';

const NOOP_PROVIDER = new ProxyTracerProvider().getDelegate();

export interface Telemetry {
  readonly tracer: Tracer;
  /** Writes the trace context of `span` into outgoing headers (W3C `traceparent`, or the registered propagator's). */
  inject(span: SpanContext, headers: Record<string, string>): void;
}

/**
 * The application's tracer, or undefined when no tracer provider is registered. Asked once when a client opens (not
 * per run), so a run without telemetry pays one property check per tracing stage. Register the provider before the
 * first run (as OpenTelemetry's own setup does, at start-up).
 *
 * The test is the API's own: until a provider is registered, the global proxy delegates to the API's one no-op
 * provider, the same object any fresh ProxyTracerProvider hands out. No span is started to find out.
 */
export function detectTelemetry(): Telemetry | undefined {
  const global = trace.getTracerProvider();
  const provider = global instanceof ProxyTracerProvider ? global.getDelegate() : global;
  if (provider === NOOP_PROVIDER) return undefined;
  const tracer = provider.getTracer('ductape');
  // No propagator registered (the API's default injects nothing): send W3C Trace Context ourselves, since passing
  // the trace to the upstream is part of the contract. A registered one (B3, Jaeger, W3C…) is the application's choice.
  const ownW3C = propagation.fields().length === 0;
  return {
    tracer,
    inject: ownW3C
      ? (span, headers) => {
          headers.traceparent = `00-${span.traceId}-${span.spanId}-${(span.traceFlags & 1).toString(16).padStart(2, '0')}`;
          if (span.traceState) headers.tracestate = span.traceState.serialize();
        }
      : (span, headers) => propagation.inject(trace.setSpanContext(ROOT_CONTEXT, span), headers),
  };
}


