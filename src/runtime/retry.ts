// Stage: wraps send; calls next(ctx) again while retry-policy.ts says so, and keeps one idempotency key per run.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { DuctapeError } from '../errors.js';
import { resolveRetryPolicy, resolveTimeouts, type ResolvedRetryPolicy } from '../options.js';
import type { RunContext } from './context.js';
import type { Next } from './pipeline.js';
import { isReplayable } from './encode/index.js';
import { pauseFromResponse } from './limits/index.js';
import type { Plan } from './plan.js';
import { decideRetry, isIdempotentMethod, RETRYABLE_STATUSES, type AttemptOutcome } from './retry-policy.js';

export function retry(ctx: RunContext, next: Next): Promise<void> {
  const plan = ctx.plan!;
  addIdempotencyKey(ctx, plan);
  // No retries: no async frame (nor policy object) of our own, so the stage costs nothing on the hot path.
  if ((ctx.run.retries ?? plan.app.retry?.retries ?? 0) === 0) return next(ctx);
  return retryLoop(ctx, next, plan, resolveRetryPolicy(ctx.run.retries, plan.app));
}

async function retryLoop(ctx: RunContext, next: Next, plan: Plan, policy: ResolvedRetryPolicy): Promise<void> {
  const { deadlineAt } = resolveTimeouts(ctx.run, plan.timeoutMs, ctx.startedAt);

  for (;;) {
    let outcome: AttemptOutcome;
    let failure: unknown;
    try {
      await next(ctx);
      const res = ctx.response!;
      if (!RETRYABLE_STATUSES.has(res.status)) return;
      outcome = { kind: 'status', status: res.status, headers: res.headers };
    } catch (err) {
      const o = outcomeOf(err);
      if (!o) throw err;
      outcome = o;
      failure = err;
    }
    let decision = decideRetry({
      attempt: ctx.attempts,
      maxRetries: policy.maxRetries,
      method: ctx.request!.method,
      unsafe: plan.action.unsafe,
      hasIdempotencyKey: hasIdempotencyKey(ctx),
      outcome,
      policy,
      remainingMs: deadlineAt === undefined ? undefined : deadlineAt - Date.now(),
    });
    if (decision.retry && pausedPastMaxWait(plan, outcome, decision.delayMs)) decision = { retry: false, reason: 'rate-limit' };
    if (!decision.retry || !isReplayable(ctx.request!.body)) {
      ctx.retryStop = decision.retry ? 'not-replayable' : decision.reason;
      if (failure) throw failure;
      return; // the last answer stands; decode turns it into the error
    }
    discardBody(ctx);
    // close() must not wait for (or be outlived by) a Retry-After wait: the wait ends and the run fails.
    await sleep(decision.delayMs, undefined, { signal: ctx.runtime.closing }).catch(() => {
      throw new DuctapeError('NETWORK_ERROR', 'The Ductape client was closed while this run waited to retry.', { attempts: ctx.attempts, retryable: false });
    });
  }
}

/**
 * The answer pauses the connection's rate limit (limit.ts) for longer than this retry's wait plus max_wait_ms: the
 * limiter would refuse the retry, but only after the run had sat out the whole retry wait (60 s for a Retry-After of
 * 120 s), where docs/rate-limits.md promises a run that cannot get a slot in time fails at once.
 */
function pausedPastMaxWait(plan: Plan, outcome: AttemptOutcome, delayMs: number): boolean {
  if (plan.rateLimit === undefined || outcome.kind !== 'status') return false;
  const pause = pauseFromResponse(outcome.status, outcome.headers, plan.rateLimit.limit);
  return pause !== undefined && pause - delayMs > plan.rateLimit.limit.maxWaitMs;
}

const IDEMPOTENCY_PARAM = /^(x-)?idempotency[-_]?key$/i;

/** The header that carries an idempotency key: the app's setting, else a header param the action declares (compiled into the plan). */
export function idempotencyHeaderOf(app: Pick<Plan['app'], 'idempotency_header'>, action: Pick<Plan['action'], 'parameters'>): string | undefined {
  const name = app.idempotency_header ?? action.parameters.find((p) => p.in === 'header' && IDEMPOTENCY_PARAM.test(p.name))?.name;
  return name?.toLowerCase();
}

export function hasIdempotencyKey(ctx: RunContext): boolean {
  const name = ctx.plan!.idempotencyHeader;
  if (!name) return false;
  for (const k in ctx.request!.headers) if (k.toLowerCase() === name && ctx.request!.headers[k] !== '') return true;
  return false;
}

/**
 * One generated key per run, set before the first attempt so every attempt carries the same one (the upstream
 * then applies the request at most once). Only state-changing requests get one; a caller's own key is kept.
 */
function addIdempotencyKey(ctx: RunContext, plan: Plan): void {
  const name = plan.idempotencyHeader;
  const req = ctx.request!;
  if (!name || isIdempotentMethod(req.method, plan.action.unsafe) || hasIdempotencyKey(ctx)) return;
  ctx.request = { ...req, headers: { ...req.headers, [name]: randomUUID() } };
}

/** The retry-relevant facts of an error thrown by send (which builds them with classifyUpstreamError). */
function outcomeOf(err: unknown): AttemptOutcome | undefined {
  if (!(err instanceof DuctapeError)) return undefined;
  const d = err.details;
  if (err.code === 'TIMEOUT' && (d.phase === 'connect' || d.phase === 'headers' || d.phase === 'body')) return { kind: 'timeout', phase: d.phase };
  if (err.code === 'NETWORK_ERROR' && typeof d.errno === 'string') return { kind: 'network', code: d.errno, reachedServer: d.reachedServer !== false };
  return undefined;
}

/** A streamed answer that will be retried must release its connection. */
function discardBody(ctx: RunContext): void {
  const body = ctx.response?.body;
  if (body && typeof body !== 'string' && !(body instanceof Uint8Array)) body.destroy();
  ctx.response = undefined;
}
