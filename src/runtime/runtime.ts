// The Runtime: everything a run needs that outlives one call (store, pools, compiled plans, log writer).
import type { Agent } from 'undici';
import type { AttemptSignal } from './attempt-signal.js';
import type { Cache } from '../cache/cache.js';
import type { Store } from '../store/store.js';
import type { LogWriter } from './log-writer.js';
import type { Plan } from './plan.js';
import type { RuntimeState } from './state.js';
import type { RateLimits } from './limits/index.js';
import type { Telemetry } from './telemetry.js';

export interface Runtime {
  readonly workspace: string;
  readonly actor: string;
  readonly store: Store;
  readonly dispatcher: Agent;
  readonly plans: PlanCache;
  readonly logs: LogWriter;
  /** Response cache for `run({ cache })` (memory or Redis). */
  readonly cache: Cache;
  /** Aborted by close(): waits (retry back-off) end instead of keeping the process alive. */
  readonly closing: AbortSignal;
  /** Attempts in flight, so that close() can end them after its grace period. */
  readonly inFlight: Set<AttemptSignal>;
  /** The application's OpenTelemetry tracer, found once when the client opened; undefined: no tracing work at all. */
  readonly telemetry?: Telemetry;
  /** Rate limiters per connection (limit stage). */
  readonly limits: RateLimits;
  /** Kept off enumerable fields so that a runtime never prints its key. */
  readonly privateKey: string;
  /** Client option secrets_in_input: whether `$Secret{…}` in run input is resolved (bind stage). */
  readonly secretsInInput: boolean;
  /** What the stages keep between runs (verifier, token managers, caches of compiled pieces): see state.ts. */
  readonly state: RuntimeState;
}

/** Compiled plans by key, with concurrent compiles of one key coalesced. */
export class PlanCache {
  private readonly plans = new Map<string, Plan>();
  private readonly pending = new Map<string, Promise<Plan>>();
  private gen = 0;

  get(key: string): Plan | undefined {
    return this.plans.get(key);
  }

  async getOrCompile(key: string, compile: () => Promise<Plan>): Promise<Plan> {
    const hit = this.plans.get(key);
    if (hit) return hit;
    let p = this.pending.get(key);
    if (!p) {
      const gen = this.gen;
      p = compile().then(
        (plan) => {
          this.pending.delete(key);
          // A definition changed while compiling: use the plan for this run but do not keep it.
          if (gen === this.gen) this.plans.set(key, plan);
          return plan;
        },
        (err) => {
          this.pending.delete(key);
          throw err;
        },
      );
      this.pending.set(key, p);
    }
    return p;
  }

  /** Drops every plan: called after any definition change. */
  clear(): void {
    this.gen++;
    this.plans.clear();
    this.pending.clear();
  }

  /** Changes whenever plans are cleared; caches derived from definitions key on it. */
  get generation(): number {
    return this.gen;
  }

  get size(): number {
    return this.plans.size;
  }
}
