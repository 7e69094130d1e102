// Stage: product/env/access tag/event → the compiled plan; the store is read only on the first run (or after a change).
import type { RunContext } from './context.js';
import { loadAndCompile } from './plan.js';

export function resolve(ctx: RunContext): void | Promise<void> {
  const { runtime, run } = ctx;
  const hit = runtime.plans.get(run.product, run.env, run.app, run.event);
  if (hit) {
    ctx.plan = hit;
    return;
  }
  return runtime.plans
    .getOrCompile(run.product, run.env, run.app, run.event, () => loadAndCompile(runtime, run.product, run.env, run.app, run.event))
    .then((plan) => {
      ctx.plan = plan;
    });
}
