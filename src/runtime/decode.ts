// Stage: after the response arrives, bytes → body by content type; a non-2xx answer becomes an UPSTREAM_ERROR.
import type { DuctapeError } from '../errors.js';
import type { RunContext, UpstreamResponse } from './context.js';
import type { Next } from './pipeline.js';
import { contentTypeOf, decodeBody } from './decode-body.js';
import { hasIdempotencyKey } from './retry.js';
import { classifyUpstreamError } from './retry-policy.js';

export function decode(ctx: RunContext, next: Next): Promise<void> {
  return next(ctx).then(() => {
    if (ctx.result) return; // answered by the cache
    const res = ctx.response!;
    const ok = res.status >= 200 && res.status < 300;
    if (ok && ctx.run.stream) {
      ctx.result = { status: res.status, headers: res.headers, data: res.body };
      return;
    }
    // A streamed error answer is read whole: the error carries the decoded body like any other.
    if (typeof res.body !== 'string' && !(res.body instanceof Uint8Array)) return readAll(res.body).then((bytes) => finish(ctx, { ...res, body: bytes }, ok));
    finish(ctx, res, ok);
  });
}

function finish(ctx: RunContext, res: UpstreamResponse, ok: boolean): void {
  const data = decodeResponse(res);
  if (!ok) throw upstreamError(ctx, res, data);
  ctx.result = { status: res.status, headers: res.headers, data };
}

async function readAll(stream: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const c of stream) chunks.push(c);
  return Buffer.concat(chunks);
}

export function decodeResponse(res: UpstreamResponse): unknown {
  if (typeof res.body !== 'string' && !(res.body instanceof Uint8Array)) return res.body;
  return decodeBody(contentTypeOf(res.headers), res.body);
}

/** A non-2xx answer as an error, through the one mapping in retry-policy.ts (429 → RATE_LIMITED). */
export function upstreamError(ctx: RunContext, res: UpstreamResponse, body: unknown): DuctapeError {
  const req = ctx.request!;
  return classifyUpstreamError({
    outcome: { kind: 'status', status: res.status, headers: res.headers },
    attempts: ctx.attempts,
    request: { method: req.method, url: req.origin + req.path, unsafe: ctx.plan!.action.unsafe, hasIdempotencyKey: hasIdempotencyKey(ctx) },
    body,
    hasCredentials: req.credentialId !== undefined,
    retryStop: ctx.retryStop,
    sensitiveNames: ctx.runtime.state.sensitiveNames,
  });
}
