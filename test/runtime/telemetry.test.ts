// OpenTelemetry spans (API.md §12) with the SDK's in-memory exporter: one run span, one client span per attempt.
import { AsyncLocalStorage } from 'node:async_hooks';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type ContextManager } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import type { Ductape } from '../../src/index.js';
import { detectTelemetry } from '../../src/runtime/telemetry.js';
import { newClient } from '../helpers/client.js';
import { errorOf } from '../helpers/errors.js';
import { refusedPort } from '../helpers/ports.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

const SECRET = 'sk_live_very_secret_token_42';
const QUERY_KEY = 'qk_also_secret_99';
let up: Upstream;
let ductape: Ductape;
let exporter: InMemorySpanExporter;

function register(): void {
  exporter = new InMemorySpanExporter();
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
}

afterEach(async () => {
  await ductape?.close();
  await up?.close();
  trace.disable();
  propagation.disable();
  context.disable();
});

/** The context manager the Node SDK registers (AsyncLocalStorage), in a few lines. */
class AlsContextManager implements ContextManager {
  readonly #als = new AsyncLocalStorage<Context>();
  active = () => this.#als.getStore() ?? ROOT_CONTEXT;
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(ctx: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    return this.#als.run(ctx, () => fn.apply(thisArg, args));
  }
  bind<T>(_ctx: Context, target: T): T {
    return target;
  }
  enable = () => this;
  disable = () => this;
}

/** Answers 503 to the first `failures` requests, then 200; each answer after `delayMs`. */
async function setup(failures: number, delayMs = 0): Promise<void> {
  let n = 0;
  up = await startUpstream(async (_req, res) => {
    n++;
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
    res.writeHead(n <= failures ? 503 : 200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ n }));
  });
  ductape = newClient();
  await ductape.secrets.set({ key: 'API_KEY', value: SECRET });
  await ductape.secrets.set({ key: 'QUERY_KEY', value: QUERY_KEY });
  await ductape.apps.create({ tag: 'api', envs: [{ slug: 'prd', base_url: `${up.url}/v1` }] });
  await ductape.apps.actions.create({ app: 'api', event: 'get_item', method: 'GET', path: '/items/{id}' });
  await ductape.products.create({ tag: 'shop', envs: ['prd'] });
  await ductape.products.apps.connect({ product: 'shop', app: 'api' });
  await ductape.products.apps.configure({
    product: 'shop', app: 'api', env: 'prd',
    auth: [{ type: 'bearer', token: '$Secret{API_KEY}' }, { type: 'apiKey', in: 'query', name: 'api_key', value: '$Secret{QUERY_KEY}' }],
  });
}

const run = (extra: object = {}) => ductape.actions.run({ env: 'prd', product: 'shop', app: 'api', event: 'get_item', input: { params: { id: 'it_1' } }, ...extra });

describe('telemetry', () => {
  it('a run with 2 retries is 1 run span and 3 attempt spans with HTTP attributes, and no secret anywhere', async () => {
    register();
    await setup(2);
    await expect(run({ retries: 2 })).resolves.toEqual({ n: 3 });
    const spans = exporter.getFinishedSpans();
    const runSpan = spans.find((s) => s.name === 'ductape.run')!;
    const attempts = spans.filter((s) => s.kind === SpanKind.CLIENT);
    expect(spans).toHaveLength(4);
    expect(runSpan.attributes).toMatchObject({ 'ductape.product': 'shop', 'ductape.env': 'prd', 'ductape.app': 'api', 'ductape.event': 'get_item', 'ductape.cached': false, 'ductape.attempts': 3 });
    expect(attempts).toHaveLength(3);
    for (const [i, span] of attempts.entries()) {
      expect(span.name).toBe('GET /v1/items/{id}');
      expect(span.parentSpanContext?.spanId).toBe(runSpan.spanContext().spanId);
      expect(span.spanContext().traceId).toBe(runSpan.spanContext().traceId);
      expect(span.attributes).toMatchObject({
        'http.request.method': 'GET',
        'url.template': '/v1/items/{id}',
        'server.address': '127.0.0.1',
        'server.port': up.port,
        'http.response.status_code': i < 2 ? 503 : 200,
      });
      expect(span.attributes['url.full']).toMatch(new RegExp(`^${up.url}/v1/items/it_1\\?api_key=`));
      expect(span.attributes['http.request.resend_count']).toBe(i === 0 ? undefined : i);
      expect(span.attributes['error.type']).toBe(i < 2 ? '503' : undefined);
      expect(span.status.code).toBe(i < 2 ? SpanStatusCode.ERROR : SpanStatusCode.UNSET);
    }
    // The upstream got each attempt's own trace context.
    const sent = up.requests.map((r) => r.headers.traceparent);
    expect(sent).toEqual(attempts.map((s) => `00-${s.spanContext().traceId}-${s.spanContext().spanId}-01`));
    // The secret reached the upstream (so it was really in play), but no span holds it.
    expect(up.requests[0].headers.authorization).toBe(`Bearer ${SECRET}`);
    expect(up.requests[0].url).toContain(QUERY_KEY);
    const dump = JSON.stringify(spans.map((s) => ({ name: s.name, attributes: s.attributes, status: s.status, events: s.events, links: s.links, resource: s.resource.attributes })));
    expect(dump).not.toContain(SECRET);
    expect(dump).not.toContain(QUERY_KEY);
  });

  it('names an IPv6 upstream by its address, without the brackets of its URL form', async () => {
    // Before: server.address was "[::1]" (URL.hostname); the conventions ask for the IP address itself.
    register();
    await setup(0);
    await ductape.products.apps.configure({ product: 'shop', app: 'api', env: 'prd', base_url: `http://[::1]:${await refusedPort()}/v1` });
    await errorOf(run());
    const attempt = exporter.getFinishedSpans().find((s) => s.kind === SpanKind.CLIENT)!;
    expect(attempt.attributes['server.address']).toBe('::1');
    expect(attempt.attributes['url.full']).toMatch(/^http:\/\/\[::1\]:\d+\/v1\/items\/it_1/);
  });

  it("redacts a signed URL's credentials in url.full and in the run log", async () => {
    // Before: an X-Amz-Signature given in the run's query went into url.full and the log's request URL as sent.
    register();
    await setup(0);
    await run({ input: { params: { id: 'it_1' }, query: { 'X-Amz-Signature': 'f00dfeed', 'X-Amz-Date': '20260101' } } });
    const attempt = exporter.getFinishedSpans().find((s) => s.kind === SpanKind.CLIENT)!;
    expect(up.requests[0].url).toContain('X-Amz-Signature=f00dfeed');
    expect(attempt.attributes['url.full']).toMatch(/\?X-Amz-Signature=\[REDACTED\]&X-Amz-Date=20260101&api_key=\[REDACTED\]$/);
    const [row] = await ductape.logs.query({});
    expect(row.request?.url).toBe(attempt.attributes['url.full']);
  });

  it('a failed run sets error.type on the run span', async () => {
    register();
    await setup(5);
    expect((await errorOf(run())).code).toBe('UPSTREAM_ERROR');
    const runSpan = exporter.getFinishedSpans().find((s) => s.name === 'ductape.run')!;
    expect(runSpan.attributes['error.type']).toBe('UPSTREAM_ERROR');
    expect(runSpan.status.code).toBe(SpanStatusCode.ERROR);
    expect(JSON.stringify(runSpan.status)).not.toContain(SECRET);
  });

  it('a run that waited for the rate limit and then gave up has the wait on its span', async () => {
    // Before: ductape.rate_limit.wait_ms was set on successful runs only, while the run log kept the wait of both.
    register();
    await setup(0, 600);
    await ductape.products.apps.configure({ product: 'shop', app: 'api', env: 'prd', rate_limit: { concurrency: 1, max_wait_ms: 150 } });
    const first = run();
    expect((await errorOf(run())).code).toBe('RATE_LIMITED');
    await first;
    const failed = exporter.getFinishedSpans().find((s) => s.name === 'ductape.run' && s.attributes['error.type'] === 'RATE_LIMITED')!;
    expect(failed.attributes['ductape.rate_limit.wait_ms']).toBeGreaterThanOrEqual(140);
    const [row] = await ductape.logs.query({ status: 'error' });
    expect(row.waitMs).toBeGreaterThanOrEqual(140);
  });

  it('a cache hit is a run span with cached: true and no attempt span', async () => {
    register();
    await setup(0);
    await ductape.products.caches.create({ product: 'shop', tag: 'items', expiry: 60_000 });
    await run({ cache: 'items' });
    exporter.reset();
    await run({ cache: 'items' });
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => [s.name, s.attributes['ductape.cached']])).toEqual([['ductape.run', true]]);
  });

  it("an `action` login's run span is a child of the run that needed it, in the same trace", async () => {
    // Before: the login run's span took the caller's active context (none here) and started a trace of its own.
    register();
    up = await startUpstream((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(req.url === '/v1/login' ? { token: 'sess_login_token_1234567' } : { ok: true }));
    });
    ductape = newClient();
    await ductape.apps.create({ tag: 'api', envs: [{ slug: 'prd', base_url: `${up.url}/v1` }] });
    await ductape.apps.actions.create({ app: 'api', event: 'get_item', method: 'GET', path: '/items/{id}' });
    await ductape.apps.actions.create({ app: 'api', event: 'login', method: 'POST', path: '/login' });
    await ductape.products.create({ tag: 'shop', envs: ['prd'] });
    await ductape.products.apps.connect({ product: 'shop', app: 'api' });
    await ductape.products.apps.configure({ product: 'shop', app: 'api', env: 'prd', auth: { type: 'action', event: 'login', input: { body: {} }, headers: { 'X-Session': '$Auth{token}' } } });
    await run();
    const spans = exporter.getFinishedSpans();
    const runSpan = spans.find((s) => s.name === 'ductape.run' && s.attributes['ductape.event'] === 'get_item')!;
    const loginSpan = spans.find((s) => s.name === 'ductape.run' && s.attributes['ductape.event'] === 'login')!;
    const loginAttempt = spans.find((s) => s.name === 'POST /v1/login')!;
    expect(loginSpan.parentSpanContext?.spanId).toBe(runSpan.spanContext().spanId);
    expect(loginAttempt.parentSpanContext?.spanId).toBe(loginSpan.spanContext().spanId);
    expect(new Set(spans.map((s) => s.spanContext().traceId))).toEqual(new Set([runSpan.spanContext().traceId]));
    // The login request carried the same trace upstream.
    expect(up.requests[0].headers.traceparent).toBe(`00-${runSpan.spanContext().traceId}-${loginAttempt.spanContext().spanId}-01`);
  });

  it('an application instrumenting undici (as auto-instrumentations do) adds no second client span or traceparent', async () => {
    // Before: the app's undici instrumentation saw Ductape's request too: a second client span beside the run span,
    // and a second traceparent header ("00-…, 00-…"), with which the upstream drops the trace context altogether.
    register();
    context.setGlobalContextManager(new AlsContextManager());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    // What @opentelemetry/instrumentation-undici does when undici creates a request.
    const instrumentation = trace.getTracer('app-undici');
    const onRequest = (message: unknown) => {
      const { request } = message as { request: { method: string; path: string; addHeader(k: string, v: string): void } };
      const span = instrumentation.startSpan(`${request.method} ${request.path}`, { kind: SpanKind.CLIENT }, context.active());
      const added: Record<string, string> = {};
      propagation.inject(trace.setSpan(context.active(), span), added);
      for (const [k, v] of Object.entries(added)) request.addHeader(k, v);
      span.end();
    };
    subscribe('undici:request:create', onRequest);
    try {
      up = await startUpstream((req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(req.url === '/token' ? { access_token: 'at_instrumented_1234567', token_type: 'bearer', expires_in: 3600 } : { ok: true }));
      });
      ductape = newClient();
      await ductape.apps.create({ tag: 'api', envs: [{ slug: 'prd', base_url: `${up.url}/v1` }] });
      await ductape.apps.actions.create({ app: 'api', event: 'get_item', method: 'GET', path: '/items/{id}' });
      await ductape.products.create({ tag: 'shop', envs: ['prd'] });
      await ductape.products.apps.connect({ product: 'shop', app: 'api' });
      await ductape.products.apps.configure({ product: 'shop', app: 'api', env: 'prd', auth: { type: 'oauth2', grant: 'client_credentials', token_url: `${up.url}/token`, client_id: 'c', client_secret: 'cs_instrumented_1' } });
      await trace.getTracer('app').startActiveSpan('caller', async (caller) => {
        await run();
        caller.end();
      });
    } finally {
      unsubscribe('undici:request:create', onRequest);
    }
    const spans = exporter.getFinishedSpans();
    const runSpan = spans.find((s) => s.name === 'ductape.run')!;
    const attempt = spans.find((s) => s.name === 'GET /v1/items/{id}')!;
    // The one request Ductape makes outside its attempts (the token request) is the app's to record, under the run.
    expect(spans.filter((s) => s.instrumentationScope.name === 'app-undici').map((s) => [s.name, s.parentSpanContext?.spanId])).toEqual([['POST /token', runSpan.spanContext().spanId]]);
    expect(runSpan.parentSpanContext?.spanId).toBe(spans.find((s) => s.name === 'caller')!.spanContext().spanId);
    expect(up.requests[1].headers.traceparent).toBe(`00-${attempt.spanContext().traceId}-${attempt.spanContext().spanId}-01`);
  });

  it('uses the registered propagator when there is one', async () => {
    register();
    propagation.setGlobalPropagator({
      inject: (_ctx, carrier, setter) => setter.set(carrier, 'x-trace', 'custom'),
      extract: (ctx) => ctx,
      fields: () => ['x-trace'],
    });
    await setup(0);
    await run();
    expect(up.requests[0].headers['x-trace']).toBe('custom');
    expect(up.requests[0].headers.traceparent).toBeUndefined();
  });

  it('does nothing without a registered provider: no tracer, no traceparent', async () => {
    expect(detectTelemetry()).toBeUndefined();
    await setup(0);
    await run();
    expect(up.requests[0].headers.traceparent).toBeUndefined();
  });
});
