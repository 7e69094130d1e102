// The Runtime: everything a run needs that outlives one call (store, pools, compiled plans, log writer).
import type { Agent } from 'undici';
import type { InFlight } from './attempt-signal.js';
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
  readonly inFlight: InFlight;
  /** The application's OpenTelemetry tracer, found once when the client opened; undefined: no tracing work at all. */
  readonly telemetry?: Telemetry;
  /** Rate limiters per connection (limit stage). */
  readonly limits: RateLimits;
  /** Kept off enumerable fields so that a runtime never prints its key. */
  readonly privateKey: string;
  /** The workspace key check privateKey was opened under: another process may rotate the key (workspace/deps.ts). */
  readonly keyCheck?: string;
  /** Client option secrets_in_input: whether `$Secret{…}` in run input is resolved (bind stage). */
  readonly secretsInInput: boolean;
  /** What the stages keep between runs (verifier, token managers, caches of compiled pieces): see state.ts. */
  readonly state: RuntimeState;
}

/**
 * Compiled plans by product → env → access tag → event, with concurrent compiles of one action coalesced. Nested maps
 * rather than one joined key: a run's four names are usually the caller's string constants, whose hashes V8 keeps,
 * while a joined key is a new string to build and hash on every run (~0.2 µs of a warm run).
 */
export class PlanCache {
  private plans = new Map<string, Map<string, Map<string, Map<string, Plan>>>>();
  private readonly pending = new Map<string, Promise<Plan>>();
  private gen = 0;
  private count = 0;

  get(product: string, env: string, accessTag: string, event: string): Plan | undefined {
    return this.plans.get(product)?.get(env)?.get(accessTag)?.get(event);
  }

  async getOrCompile(product: string, env: string, accessTag: string, event: string, compile: () => Promise<Plan>): Promise<Plan> {
    const hit = this.get(product, env, accessTag, event);
    if (hit) return hit;
    const key = `${product}\u0000${env}\u0000${accessTag}\u0000${event}`;
    let p = this.pending.get(key);
    if (!p) {
      const gen = this.gen;
      p = compile().then(
        (plan) => {
          this.pending.delete(key);
          // A definition changed while compiling: use the plan for this run but do not keep it.
          if (gen === this.gen) this.keep(product, env, accessTag, event, plan);
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

  private keep(product: string, env: string, accessTag: string, event: string, plan: Plan): void {
    const byEnv = this.plans.get(product) ?? this.plans.set(product, new Map()).get(product)!;
    const byTag = byEnv.get(env) ?? byEnv.set(env, new Map()).get(env)!;
    const byEvent = byTag.get(accessTag) ?? byTag.set(accessTag, new Map()).get(accessTag)!;
    if (!byEvent.has(event)) this.count++;
    byEvent.set(event, plan);
  }

  /** Drops every plan: called after any definition change. */
  clear(): void {
    this.gen++;
    this.plans = new Map();
    this.count = 0;
    this.pending.clear();
  }

  /** Changes whenever plans are cleared; caches derived from definitions key on it. */
  get generation(): number {
    return this.gen;
  }

  get size(): number {
    return this.count;
  }
}
