// The run's own deadline (timeout.run) over a wait for work another run started and shares (token, login, cache miss).
import { DuctapeError } from '../errors.js';
import { resolveTimeouts } from '../options.js';
import type { RunContext } from './context.js';

/**
 * A token request, a login or a cache miss's upstream call is shared by every run that needs it at the same moment, so
 * one run's deadline does not cut it short (it goes on, bounded by its own timeout, and later runs use its result); but
 * no run waits for it past its own `timeout.run` ("every attempt and every wait of this run"). A slow token endpoint
 * held such runs for 30 s.
 */
export function withinRunDeadline<T>(ctx: RunContext, what: string, work: Promise<T>): Promise<T> {
  const { deadlineAt } = resolveTimeouts(ctx.run, ctx.plan!.timeoutMs, ctx.startedAt);
  if (deadlineAt === undefined) return work;
  const runMs = ctx.run.timeouts!.runMs!;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const message = `Waiting for ${what} passed the run's deadline of ${runMs} ms (timeout.run). It goes on without this run, and a later run uses its result; raise timeout.run if it is usually this slow.`;
      reject(new DuctapeError('TIMEOUT', message, { timeoutMs: runMs, deadline: true, attempts: ctx.attempts, retryable: true }));
    }, Math.max(0, deadlineAt - Date.now()));
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}
