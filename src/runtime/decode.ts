// Stage: after the response arrives, bytes → body by content type; a non-2xx answer becomes an UPSTREAM_ERROR.
import { DuctapeError } from '../errors.js';
import type { RunContext, UpstreamResponse } from './context.js';
import { decodeBody } from './decode-body.js';

export async function decode(ctx: RunContext, next: () => Promise<void>): Promise<void> {
  await next();
  if (ctx.result) return; // answered by the cache
  const res = ctx.response!;
  const ok = res.status >= 200 && res.status < 300;
  if (ok && ctx.run.stream) {
    ctx.result = { status: res.status, headers: res.headers, data: res.body };
    return;
  }
  const data = decodeResponse(res);
  if (!ok) throw upstreamError(ctx, res, data);
  ctx.result = { status: res.status, headers: res.headers, data };
}

export function decodeResponse(res: UpstreamResponse): unknown {
  if (!(res.body instanceof Uint8Array)) return res.body;
  const ct = res.headers['content-type'];
  return decodeBody(Array.isArray(ct) ? ct[0] : ct, res.body);
}

/** The one place an upstream non-2xx becomes an error (429 → RATE_LIMITED). */
export function upstreamError(ctx: RunContext, res: UpstreamResponse, body: unknown, retryable = false): DuctapeError {
  const plan = ctx.plan!;
  const where = `${plan.app.tag}.${plan.action.event}`;
  const fields = { status: res.status, headers: res.headers, body, retryable, attempts: ctx.attempts };
  if (res.status === 429) {
    const retryAfterMs = retryAfterToMs(res.headers['retry-after']);
    return new DuctapeError('RATE_LIMITED', `${where} was rate limited (HTTP 429)${retryAfterMs !== undefined ? `; retry after ${retryAfterMs} ms` : ''}.`, {
      ...fields,
      retryAfterMs,
    });
  }
  return new DuctapeError('UPSTREAM_ERROR', `${where} answered HTTP ${res.status}${summary(body)}.`, fields);
}

function retryAfterToMs(value: string | string[] | undefined): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - Date.now());
}

function summary(body: unknown): string {
  if (body == null) return '';
  const text = typeof body === 'string' ? body : body instanceof Uint8Array ? '' : JSON.stringify(body);
  return text ? `: ${text.length > 200 ? text.slice(0, 200) + '…' : text}` : '';
}
