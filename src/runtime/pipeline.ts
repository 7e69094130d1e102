// The run pipeline: stages in one list, folded like undici interceptors / hono middleware.
import { authenticate } from './authenticate.js';
import { bind } from './bind.js';
import { cache } from './cache.js';
import type { RunContext } from './context.js';
import { decode } from './decode.js';
import { encode } from './encode.js';
import { followLink } from './follow-link.js';
import { limit } from './limit.js';
import { log } from './log.js';
import { resolve } from './resolve.js';
import { retry } from './retry.js';
import { send } from './send.js';
import { session } from './session.js';
import { trace } from './trace.js';
import { traceAttempt } from './trace-attempt.js';
import { validate } from './validate.js';

/** The rest of the pipeline after a stage; it takes the run's context, so no stage needs a closure per run. */
export type Next = (ctx: RunContext) => Promise<void>;
export type Stage = (ctx: RunContext, next: Next) => Promise<void>;

/** Lifts a stage that only prepares something (no `next`) into a pipeline entry; stays sync when it can. */
export function step(fn: (ctx: RunContext) => void | Promise<void>): Stage {
  return (ctx, next) => {
    const r = fn(ctx);
    return r instanceof Promise ? r.then(() => next(ctx)) : next(ctx);
  };
}

/** Wraps a stage that does not call next (the innermost one). */
const last = (fn: (ctx: RunContext) => Promise<void>): Stage => (ctx) => fn(ctx);

// Read top to bottom: the FIRST entry runs first and wraps everything below it; `send` runs last.
export const stages: Stage[] = [
  log, //               outermost: sees every outcome; records status, attempts, cache hit, duration, code
  trace, //             a `ductape.run` span when the application registered an OpenTelemetry tracer provider
  step(session), //     the session token is verified before anything else; its data becomes ctx.session
  step(resolve), //     product/env/app/event → compiled plan, reused until the definition changes
  step(bind), //        $Session{..}, $Secret{..}, $Variable{..} … in the input → values, resolved exactly once
  step(validate), //    the plan's compiled Ajv validators; every issue reported at once
  step(encode), //      path, query, headers, body per the plan's style rules
  step(followLink), //  `link` pagination: the next page's URL (same origin only) replaces path and query
  authenticate, //      the connection's credentials; OAuth tokens/logins one at a time; a 401 refreshes once, retries once
  decode, //            after next(): bytes → body by content type; a non-2xx answer becomes an error
  cache, //             may answer without calling next(); stores 2xx only; one upstream call per key
  retry, //             calls next() again while retry-policy.ts says so; one idempotency key per run
  limit, //             each attempt waits for the connection's rate limit; a 429 / Retry-After pauses it
  traceAttempt, //      one HTTP client span per attempt (after the wait); traceparent goes upstream
  last(send), //        one attempt over undici, bounded per phase and as a whole
];

/**
 * Chains the stages once, at load: stage i gets stage i+1 as its `next`. A run then allocates no dispatch closures,
 * and a stage that throws synchronously (a sync fast path) still yields a rejected promise.
 */
export function compose(list: Stage[]): Next {
  let next: Next = () => Promise.resolve();
  for (let i = list.length - 1; i >= 0; i--) {
    const stage = list[i];
    const after = next;
    next = (ctx) => {
      try {
        return stage(ctx, after);
      } catch (err) {
        return Promise.reject(err);
      }
    };
  }
  return next;
}

export const runPipeline = compose(stages);
