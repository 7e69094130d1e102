// Stage: waits for the connection's rate limit before each attempt, and lets the upstream's answer pause it.
//
// It sits between retry and send, not above retry: the upstream counts every request, retries included, so each
// attempt takes its own slot (and a retry after a 429 waits out the pause like any other request). Being below cache
// means cache hits never count. Waiting happens before the attempt's timeout starts, so time in the queue is bounded
// by max_wait_ms (and the run's own deadline), never by the attempt timeout.
import { finished } from 'node:stream';
import { resolveTimeouts } from '../options.js';
import type { RunContext } from './context.js';
import type { Next } from './pipeline.js';
import { limiterKey, pauseFromResponse, type Grant, type KeyLimiter } from './limits/index.js';

// A concurrency slot held in Redis by a process that died mid-attempt lapses this long after the attempt's timeout.
const LEASE_SLACK_MS = 5_000;

export function limit(ctx: RunContext, next: Next): Promise<void> {
  const rl = ctx.plan!.rateLimit;
  // No limit: no frame of our own on the hot path.
  if (rl === undefined) return next(ctx);
  const { runtime } = ctx;
  const plan = ctx.plan!;
  const t = resolveTimeouts(ctx.run, plan.timeoutMs, ctx.startedAt);
  const limiter = runtime.limits.get(
    // A per-user connection (API.md §13) limits each end user's runs on their own: each uses the user's own token.
    limiterKey({ workspace: runtime.workspace, product: plan.product, env: plan.env, accessTag: plan.accessTag, owner: ctx.owner }),
    rl.limit,
    rl.signature,
    plan,
  );
  const leaseMs = t.attemptMs + LEASE_SLACK_MS;
  const now = performance.now();
  const runLeft = t.deadlineAt === undefined ? Infinity : t.deadlineAt - Date.now();
  // The run's deadline, when it comes first, is what the message of a run that gives up must name.
  const grant =
    runLeft < rl.limit.maxWaitMs
      ? limiter.acquire(now + runLeft, leaseMs, { by: 'run', runMs: ctx.run.timeouts!.runMs! })
      : limiter.acquire(now + rl.limit.maxWaitMs, leaseMs);
  if (!(grant instanceof Promise)) return attempt(ctx, next, limiter, grant);
  return grant.then(
    (g) => {
      ctx.waitMs = (ctx.waitMs ?? 0) + (performance.now() - now);
      return attempt(ctx, next, limiter, g);
    },
    (err: unknown) => {
      ctx.waitMs = (ctx.waitMs ?? 0) + (performance.now() - now);
      throw err;
    },
  );
}

function attempt(ctx: RunContext, next: Next, limiter: KeyLimiter, grant: Grant): Promise<void> {
  return next(ctx).then(
    () => {
      const res = ctx.response;
      // A streamed body (execute({ stream: true })) is still in flight at the upstream until its last byte: the slot is
      // held until the stream ends or is destroyed (by its reader, a retry, or undici's body timeout).
      const body = res?.body;
      if (body !== undefined && typeof body !== 'string' && !(body instanceof Uint8Array)) finished(body, () => grant.release());
      else grant.release();
      if (res) {
        const ms = pauseFromResponse(res.status, res.headers, limiter.limit);
        if (ms !== undefined && ms > 0) limiter.pause(ms);
      }
    },
    (err: unknown) => {
      grant.release();
      throw err;
    },
  );
}
