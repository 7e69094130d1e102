// The Ductape client: opens the store, checks the workspace key, and exposes apps/products/actions/logs.
import { Agent } from 'undici';
import { openCache, type Cache } from './cache/index.js';
import { ConfigError, DuctapeError } from './errors.js';
import { operationList, type OperationNamespaces } from './operations/index.js';
import { buildNamespaces } from './operations/invoke.js';
import type { Services } from './operations/services.js';
import { createWorkspaceKey, type WorkspaceKey } from './model/keys.js';
import { redact, redactUrl } from './model/redact.js';
import { DEFAULTS, normalizeOptions, normalizeRunInput, type DuctapeOptions, type NormalizedOptions } from './options.js';
import { newRunContext, type IActionProcessorInput, type RunContext, type RunInput } from './runtime/context.js';
import { InFlight } from './runtime/attempt-signal.js';
import { recordRefused } from './runtime/log.js';
import { createLogWriter } from './runtime/log-writer.js';
import { RateLimits } from './runtime/limits/index.js';
import { detectTelemetry } from './runtime/telemetry.js';
import { paginate, type PaginateInput } from './runtime/paginate.js';
import { runPipeline } from './runtime/pipeline.js';
import { PlanCache, type Runtime } from './runtime/runtime.js';
import { RuntimeState } from './runtime/state.js';
import { openStore } from './store/index.js';
import { createApps } from './workspace/apps.js';
import type { ActionDef } from './model/action.js';
import type { ActionDescription } from './workspace/describe.js';
import { explainUnopened, type WorkspaceDeps } from './workspace/deps.js';
import { createProducts } from './workspace/products.js';
import { applyWorkspace, type ApplyResult } from './workspace/apply.js';
import { readWorkspaceFile } from './workspace/apply-file.js';
import { openKey } from './workspace/open-key.js';
import { rotateKey, type RotateKeyResult } from './workspace/rotate-key.js';
import { createConnectionsApi } from './connections/index.js';
import { createSessionsApi, createSessionTypesApi } from './sessions/api.js';
import { createKeys } from './workspace/keys.js';
import { createSecrets } from './workspace/secrets.js';
import type { ExecuteFunction, RunFunction } from './types/registry.js';

/** What actions.execute resolves to. */
export interface RunEnvelope<T = unknown> {
  status: number;
  headers: Record<string, string | string[]>;
  data: T;
  attempts: number;
  cached: boolean;
  durationMs: number;
  request: { method: string; url: string };
}

/** `apps.actions.fetch`: the stored definition, or with `resolve: true` its description (docs/types.md). */
export interface FetchAction {
  (args: { app: string; event: string; resolve: true }): Promise<ActionDescription>;
  (args: { app: string; event: string; resolve?: false }): Promise<ActionDef>;
}

/** One run of the pipeline on a runtime; resolves to `finish(ctx)`. */
function runOn<R>(runtime: Runtime, run: RunInput, finish: (ctx: RunContext) => R): Promise<R> {
  const ctx = newRunContext(runtime, run);
  return runPipeline(ctx).then(
    () => finish(ctx),
    (err: unknown) =>
      explainUnopened(err, runtime.store, runtime).then((e) => {
        throw e;
      }),
  );
}

/** What actions.run resolves to. */
const resultData = (ctx: RunContext): unknown => ctx.result!.data;
const itself = (ctx: RunContext): RunContext => ctx;

export class Ductape {
  readonly options: Omit<NormalizedOptions, 'privateKey'>;
  // Every definition method below is derived from one entry of the operation table (src/operations/), which also
  // gives the CLI its commands and `ductape serve` its routes.
  readonly apps: { actions: { fetch: FetchAction } } & OperationNamespaces['apps'];
  readonly products: OperationNamespaces['products'];
  readonly sessions: OperationNamespaces['sessions'];
  readonly secrets: OperationNamespaces['secrets'];
  readonly keys: OperationNamespaces['keys'];
  /** End users' own connections (per_user, OAuth2 authorization code with PKCE): docs/connections.md. */
  readonly connections: OperationNamespaces['connections'];
  /**
   * Run actions. With a file from `ductape types` in the compilation, run and execute are typed by its
   * ActionRegistry (docs/types.md); without it, `run<T>()` and `execute<T>()` are typed as before.
   */
  readonly actions: {
    run: RunFunction;
    execute: ExecuteFunction;
    /**
     * The pages of a list action, each the parsed body, per the action's `pagination` (docs/pagination.md).
     * @example for await (const page of ductape.actions.paginate({ env, product, app, event, max_pages: 10 })) …
     */
    paginate: <T = unknown>(input: PaginateInput) => AsyncGenerator<T, void, undefined>;
  };
  /** Typed actions: `generate({ out, product? })` writes the declaration file that fills ActionRegistry. */
  readonly types: OperationNamespaces['types'];
  readonly logs: OperationNamespaces['logs'] & { flush: () => Promise<void> };
  /** Product response caches: `clear({ product, tag })` removes a cache's entries (every cache of the product without `tag`). */
  readonly caches: OperationNamespaces['caches'];
  /** What operation handlers call (the server uses it to serve the same operations). @internal */
  readonly services: Services;

  #opts: NormalizedOptions;
  #runtime?: Runtime;
  /** The workspace key this client opened with (master key and key check), for rotateKey. */
  #key?: WorkspaceKey;
  #ready?: Promise<Runtime>;
  #closed = false;
  #poll?: NodeJS.Timeout;
  #unwatch?: () => void;
  readonly #closing = new AbortController();

  constructor(options: DuctapeOptions = {}) {
    this.#opts = normalizeOptions(options);
    const { privateKey: _hidden, ...visible } = this.#opts;
    this.options = visible;
    const deps = this.#deps();
    const ready = () => this.#open();
    // The registry-typed signatures are conditional types; the implementation is the same untyped function.
    this.actions = {
      run: (<T>(input: IActionProcessorInput) => this.#run(input, 'run', resultData) as Promise<T>) as RunFunction,
      paginate: <T>(input: PaginateInput) => paginate<T>((page, url) => this.#run(page, 'run', itself, url), input),
      execute: (async <T>(input: IActionProcessorInput & { stream?: boolean }): Promise<RunEnvelope<T>> => {
        const ctx = await this.#run(input, 'execute', itself);
        const r = ctx.result!;
        return {
          status: r.status,
          // Upstreams echo credentials in headers now and then (Set-Cookie, a reflected Authorization).
          headers: redact(r.headers, ctx.runtime.state.sensitiveNames),
          data: r.data as T,
          attempts: ctx.attempts,
          cached: ctx.cached,
          durationMs: Math.round((performance.now() - ctx.perfStart) * 100) / 100,
          request: { method: ctx.request!.method, url: redactUrl(ctx.request!.origin + ctx.request!.path, ctx.runtime.state.sensitiveNames) },
        };
      }) as ExecuteFunction,
    };
    this.services = {
      apps: createApps(deps),
      products: createProducts(deps),
      sessionTypes: createSessionTypesApi(deps),
      sessions: createSessionsApi(deps),
      secrets: createSecrets(deps),
      keys: createKeys(deps),
      connections: createConnectionsApi(ready),
      runtime: ready,
      execute: (input) => this.actions.execute(input),
    };
    Object.defineProperty(this, 'services', { enumerable: false });
    const ns = buildNamespaces(operationList(), this.services, ready);
    this.apps = ns.apps;
    this.products = ns.products;
    this.sessions = ns.sessions;
    this.secrets = ns.secrets;
    this.keys = ns.keys;
    this.connections = ns.connections;
    this.types = ns.types;
    this.caches = ns.caches;
    this.logs = { ...ns.logs, flush: async () => (await this.#open()).logs.flush() };
  }

  /** Store and workspace deps for definition operations; each opens the workspace lazily. */
  #deps(): WorkspaceDeps {
    const self = this;
    return {
      get store() {
        return self.#runtime!.store;
      },
      workspace: this.#opts.workspaceId,
      // The master key derived at open (never the private_key as given): definition calls open the workspace first.
      get privateKey() {
        return self.#runtime!.privateKey;
      },
      get keyCheck() {
        return self.#key?.keyCheck;
      },
      changed: () => this.#runtime?.plans.clear(),
    } as WorkspaceDeps;
  }

  // Promise chains rather than async/await here: this is the hot path, and every await is a few microtask hops.
  // `finish` turns the finished context into what the method resolves to, in the pipeline's own last hop.
  #run<R>(raw: IActionProcessorInput & { stream?: boolean }, method: 'run' | 'execute', finish: (ctx: RunContext) => R, pageUrl?: string): Promise<R> {
    let run: RunInput;
    try {
      run = normalizeRunInput(raw, method);
      if (pageUrl !== undefined) run.pageUrl = pageUrl;
    } catch (err) {
      // Logged like any run (API.md §5), also when it is this client's first call: the runtime opens for it, without
      // the caller waiting on that (an unreachable store would hold the refusal for its connect timeout). A client
      // that cannot open (closed, wrong key) has no log to write to; its next call says why.
      if (this.#runtime) recordRefused(this.#runtime, raw, err);
      else this.#open().then((runtime) => recordRefused(runtime, raw, err), () => {});
      return Promise.reject(err);
    }
    // After close() the runtime is still referenced but its pool is gone: fail as every other method does (#open).
    if (this.#runtime && !this.#closed) return runOn(this.#runtime, run, finish);
    return this.#open().then((runtime) => runOn(runtime, run, finish));
  }

  /** Opens the store and checks the private key against the workspace (once). */
  #open(): Promise<Runtime> {
    if (this.#closed) return Promise.reject(new ConfigError('This Ductape client is closed: close() was called on it. Create a new Ductape client to keep working.'));
    this.#ready ??= this.#init().catch((err) => {
      this.#ready = undefined;
      throw err;
    });
    return this.#ready;
  }

  async #init(): Promise<Runtime> {
    const o = this.#opts;
    const store = await openStore(o.store);
    let key: WorkspaceKey;
    try {
      // scrypt runs here, once per client: the master key is then kept on the runtime for every later call.
      key = await openKey(store, o.workspaceId, o.privateKey);
    } catch (err) {
      await store.close();
      throw err;
    }
    let cache: Cache;
    try {
      cache = openCache(o.cache, { memory: { maxBytes: o.cacheMaxBytes }, onWarn: (m) => process.emitWarning(`ductape: ${m}`) });
    } catch (err) {
      await store.close();
      throw err;
    }
    const runtime: Runtime = {
      workspace: o.workspaceId,
      actor: o.userId,
      store,
      dispatcher: new Agent({ connections: o.connections, keepAliveTimeout: 10_000, connect: { timeout: DEFAULTS.connectTimeoutMs }, maxResponseSize: o.maxResponseBytes }),
      cache,
      plans: new PlanCache(),
      logs: createLogWriter(store, o.workspaceId, (err) => process.emitWarning(`ductape: writing run logs failed: ${(err as Error).message}`), o.logsRetentionDays),
      privateKey: key.material,
      keyCheck: key.keyCheck,
      closing: this.#closing.signal,
      inFlight: new InFlight(),
      state: new RuntimeState(),
      secretsInInput: o.secretsInInput,
      limits: new RateLimits(o.cache, (m) => process.emitWarning(`ductape: ${m}`)),
      telemetry: detectTelemetry(),
    };
    Object.defineProperty(runtime, 'privateKey', { enumerable: false });
    this.#key = key;
    this.#runtime = runtime;
    if (o.revisionPollMs > 0) this.#watchRevision(runtime, await store.getRevision(o.workspaceId));
    return runtime;
  }

  /**
   * Other processes may change definitions: drop plans when the workspace revision moves. The poll bounds how late
   * that is seen; a store that can push (PostgreSQL NOTIFY) makes it immediate.
   */
  #watchRevision(runtime: Runtime, initial: number): void {
    let seen = initial;
    let busy = false;
    let again = false;
    const check = (): void => {
      // A notice that arrives during a read is checked again after it: that read may predate the change.
      if (busy) return void (again = true);
      busy = true;
      runtime.store
        .getRevision(runtime.workspace)
        .then((rev) => {
          if (rev !== seen) {
            seen = rev;
            runtime.plans.clear();
          }
        })
        .catch(() => {})
        .finally(() => {
          busy = false;
          if (again) {
            again = false;
            check();
          }
        });
    };
    this.#poll = setInterval(() => busy || check(), this.#opts.revisionPollMs);
    this.#poll.unref();
    this.#unwatch = runtime.store.watchRevision?.(runtime.workspace, check);
  }

  /** Resolves once the store is open and the key checked; definition calls do this implicitly. */
  async ready(): Promise<void> {
    await this.#open();
  }

  /**
   * Makes the workspace match a ductape.yaml (API.md §7): writes only what differs; `dry_run` reports without writing.
   * `$Env{NAME}` in the file reads `env` (default process.env).
   */
  async apply(args: { file: string; dry_run?: boolean; env?: Record<string, string | undefined> }): Promise<ApplyResult> {
    await this.#open();
    const doc = await readWorkspaceFile(args.file, args.env);
    return applyWorkspace(this.#deps(), doc, { dryRun: args.dry_run === true });
  }

  /**
   * Re-seals every stored credential, secret, token and session under `newPrivateKey` in one transaction, then closes
   * this client (it holds the old key): open a new one with the new key.
   */
  async rotateKey(newPrivateKey: string): Promise<RotateKeyResult> {
    if (typeof newPrivateKey !== 'string' || newPrivateKey.length < 8) throw new ConfigError('The new private_key must be at least 8 characters long. "ductape keygen" prints a good one.');
    if (newPrivateKey === this.#opts.privateKey) throw new ConfigError('The new private_key is the same as the current one.');
    const rt = await this.#open();
    await rt.logs.flush();
    const result = await rotateKey(rt, this.#key!, await createWorkspaceKey(newPrivateKey, rt.workspace));
    await this.close();
    return result;
  }

  /** Ends retry waits, lets in-flight attempts finish (1 s grace), flushes logs, closes pools and the store. Safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#poll) clearInterval(this.#poll);
    this.#unwatch?.();
    this.#closing.abort();
    const rt = this.#runtime ?? (this.#ready ? await this.#ready.catch(() => undefined) : undefined);
    if (!rt) return;
    // Runs waiting for a rate limit slot end now, like retry waits.
    const waiting = rt.limits.close();
    // In-flight attempts get a short grace to finish; after it their connections are destroyed rather than waited on
    // until their timeouts (30 s by default), and an unread streamed body cannot hold close() open.
    const closed = rt.dispatcher.close().then(
      () => true,
      () => true,
    );
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<false>((r) => (timer = setTimeout(() => r(false), DEFAULTS.closeGraceMs)));
    if (!(await Promise.race([closed, late]))) {
      for (const attempt of rt.inFlight.list()) attempt.abort('The Ductape client was closed while this attempt was in flight.');
      await rt.dispatcher.destroy().catch(() => {});
    }
    clearTimeout(timer);
    rt.state.close();
    await rt.logs.close();
    await waiting;
    await rt.cache.close();
    await rt.store.close();
  }
}

export { DuctapeError };
