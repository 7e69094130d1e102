// What the stages keep between runs, held by the runtime (never by a module): two clients in one process share
// nothing, close() can release it, and a stage under test gets it from the context it is handed.
import type { CachedResponse } from '../cache/cache.js';
import { createCoalescer, type Coalescer } from '../cache/coalesce.js';
import type { SessionVerifier } from '../sessions/verifier.js';
import { AttemptClock } from './attempt-signal.js';
import type { PlanAuth, RuntimeAuth } from './authenticate.js';
import type { EncodedBody, ValueEncoder } from './encode/index.js';
import type { Plan } from './plan.js';
import type { AppValidators } from './validators.js';

export interface SecretEntry {
  value: string;
  expiresAt: number | null;
}

export class RuntimeState {
  /** session stage: derived keys, verified tokens and the revocation view (created on the first run with a session). */
  sessionVerifier?: SessionVerifier;
  /** bind/authenticate: resolved $Secret values, dropped whenever the plans are (see secret-cache.ts). */
  secrets: { generation: number; entries: Map<string, SecretEntry> } = { generation: -1, entries: new Map() };
  /** authenticate: OAuth2 tokens and logins, and the key that fingerprints credentials. */
  auth?: RuntimeAuth;
  /** authenticate: end users known connected (per-user connections), for one plan generation (see auth/owner-token.ts). */
  owners: { generation: number; ids: Map<string, string> } = { generation: -1, ids: new Map() };
  /** connections.authorize: consents started by this client (every 100th sweeps abandoned ones from the store). */
  consentsStarted = 0;
  /** authenticate: header/query names carrying this client's credentials (apiKey schemes, raw templates), lowercase. */
  readonly sensitiveNames = new Set<string>();
  /** authenticate: credentials compiled per plan; a definition change drops the plan and with it this entry. */
  readonly planAuth = new WeakMap<Plan, PlanAuth>();
  /** resolve: Ajv instances per app, shared by that app's plans, for one plan generation. */
  validators: { generation: number; byApp: Map<string, Promise<AppValidators>> } = { generation: -1, byApp: new Map() };
  /** cache stage: concurrent identical misses share one upstream call. */
  readonly cacheInflight: Coalescer<CachedResponse> = createCoalescer<CachedResponse>();
  /**
   * caches.clear through this client: the clear's number per cleared key prefix (runtime/cache.ts). A miss fetched
   * across a clear of its prefix is neither stored nor joined by runs that start after the clear.
   */
  readonly cacheClears = { seq: 0, byPrefix: new Map<string, number>() };
  /** cache stage: HMAC key of cache keys, derived from the workspace key once. */
  cacheKeySecret?: Buffer;
  /** cache stage: HMACs of recent canonical requests (cache/key.ts bounds it). */
  readonly cacheKeyMemo = new Map<string, string>();
  /** encode: encoders for query, header and cookie names an action does not declare, compiled once per name (bounded). */
  readonly queryEncoders = new Map<string, ValueEncoder<string[]>>();
  readonly headerEncoders = new Map<string, ValueEncoder<string>>();
  readonly cookieEncoders = new Map<string, ValueEncoder<string>>();
  /** encode: body encoders for concrete types callers name inside a declared media range, once per type (bounded). */
  readonly bodyEncoders = new Map<string, ValueEncoder<EncodedBody>>();
  /** send: the one timer bounding every attempt in flight (attempt-signal.ts). */
  readonly attemptClock = new AttemptClock();

  /** Releases what outlives a run (the verifier's revocation subscription); called by close(). */
  close(): void {
    this.sessionVerifier?.close();
    this.sessionVerifier = undefined;
  }
}
