// Every option is normalized here, once, at the edge: client config, run input, and env fallbacks.
import { availableParallelism } from 'node:os';
import { ConfigError, DuctapeError, InvalidInputError } from './errors.js';
import type { AppDef } from './model/app.js';
import { MAX_TIMER_MS } from './model/definitions.js';
import type { IActionProcessorInput, ISession, RunInput, RunTimeoutOptions } from './runtime/context.js';
import { RETRY_POLICY_DEFAULTS, type RetryPolicy } from './runtime/retry-policy.js';

/** Defaults, with units in the names. */
export const DEFAULTS = {
  /** Store URL when neither the option nor DUCTAPE_STORE is set. */
  store: 'sqlite:./.ductape/ductape.db',
  /** Cache URL when neither the option nor DUCTAPE_CACHE is set. */
  cache: 'memory',
  /** Per-attempt timeout when the call, action and app say nothing. */
  timeoutMs: 30_000,
  /** Bound on opening a connection to an upstream (part of every attempt). */
  connectTimeoutMs: 10_000,
  /** Connections kept per upstream origin. */
  connectionsPerOrigin: 128,
  /** Largest response body read into memory (bytes): a runaway upstream cannot exhaust the process. */
  maxResponseBytes: 64 * 1024 * 1024,
  /** Run logs are written in batches of at most this many rows… */
  logBatchSize: 200,
  /** …or after this long, whichever comes first. */
  logFlushMs: 250,
  /** How long close() lets in-flight attempts finish before destroying their connections. */
  closeGraceMs: 1_000,
  /**
   * How often a process checks the store for definition changes made by other processes: with one store read, this
   * bounds how late a change is honoured, and API.md §6 promises 1 s.
   */
  revisionPollMs: 250,
  /** How long a store write waits for other processes' writes before failing with STORE_ERROR (API.md §6). */
  storeBusyTimeoutMs: 10_000,
  /** Run logs older than this many days are deleted (checked at most once an hour per process). */
  logsRetentionDays: 30,
  /** `ductape serve`: largest request body accepted (an imported spec travels in one), in bytes. */
  serveMaxBodyBytes: 32 * 1024 * 1024,
  /** `ductape serve`: how long SIGTERM lets requests in flight finish before exiting. */
  serveDrainMs: 10_000,
  /** `ductape serve`: address and port when neither the option nor DUCTAPE_HOST / DUCTAPE_PORT is set. */
  serveHost: '127.0.0.1',
  servePort: 8080,
} as const;

export interface DuctapeOptions {
  /** Selects (and on first use creates) the workspace in the store. Env: DUCTAPE_WORKSPACE. */
  workspace_id?: string;
  /** The actor written into run logs. Env: DUCTAPE_USER. */
  user_id?: string;
  /** Workspace secret: seals stored credentials and session tokens; never stored. Env: DUCTAPE_PRIVATE_KEY. */
  private_key?: string;
  /** 'sqlite:<path>' (default './.ductape/ductape.db'), a path, ':memory:', or 'postgres://…'. Env: DUCTAPE_STORE. */
  store?: string;
  /** 'memory' (default) or 'redis://…'. Env: DUCTAPE_CACHE. */
  cache?: string;
  /** Upper bound for the in-memory cache, in bytes. @default 64 MiB */
  cache_max_bytes?: number;
  /** Connections kept per upstream origin. @default 128 */
  connections?: number;
  /** Largest response body read into memory, in bytes; a larger answer fails the run (NETWORK_ERROR). @default 64 MiB */
  max_response_bytes?: number;
  /** How often (ms) to look for definition and secret changes made by other processes (bounds how late they are honoured). 0 disables. @default 250 */
  revision_poll_ms?: number;
  /** Run logs older than this many days are deleted; 0 keeps them forever. @default 30 */
  logs_retention_days?: number;
  /**
   * Resolve `$Secret{…}` in run input. Off by default: run input often carries end users' text, and a user who types
   * `$Secret{STRIPE_KEY}` into a field would otherwise have the secret sent upstream. Turn it on only when your code
   * builds every input itself. `$Auth{…}` is never read from run input. @default false
   * @example new Ductape({ ...options, secrets_in_input: true })
   */
  secrets_in_input?: boolean;
}

export interface NormalizedOptions {
  workspaceId: string;
  userId: string;
  privateKey: string;
  store: string;
  cache: string;
  cacheMaxBytes: number;
  connections: number;
  maxResponseBytes: number;
  revisionPollMs: number;
  logsRetentionDays: number;
  secretsInInput: boolean;
}

const CLIENT_KEYS = ['workspace_id', 'user_id', 'private_key', 'store', 'cache', 'cache_max_bytes', 'connections', 'max_response_bytes', 'revision_poll_ms', 'logs_retention_days', 'secrets_in_input'];
const RENAMED: Record<string, string> = {
  workspaceId: 'workspace_id',
  workspace: 'workspace_id',
  userId: 'user_id',
  privateKey: 'private_key',
  key: 'private_key',
  storeUrl: 'store',
  cacheUrl: 'cache',
  logRetentionDays: 'logs_retention_days',
  logs_retention: 'logs_retention_days',
  log_retention_days: 'logs_retention_days',
};

export function checkKeys(what: string, given: object, accepted: string[], renamed: Record<string, string> = {}): void {
  for (const k of Object.keys(given)) {
    if (accepted.includes(k)) continue;
    const hint = Object.hasOwn(renamed, k) ? ` Did you mean "${renamed[k]}"?` : '';
    throw new ConfigError(`Unknown ${what} option "${k}".${hint} Accepted: ${accepted.join(', ')}.`, { option: k });
  }
}

function bool(v: unknown, name: string, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw new ConfigError(`${name} must be true or false.`, { option: name });
  return v;
}

export function normalizeOptions(raw: DuctapeOptions = {}, env: NodeJS.ProcessEnv = process.env): NormalizedOptions {
  if (raw === null || typeof raw !== 'object') throw new ConfigError('Ductape options must be an object.');
  checkKeys('Ductape', raw, CLIENT_KEYS, RENAMED);
  const workspaceId = raw.workspace_id ?? env.DUCTAPE_WORKSPACE;
  const privateKey = raw.private_key ?? env.DUCTAPE_PRIVATE_KEY;
  if (!workspaceId) throw new ConfigError('workspace_id is required (or set DUCTAPE_WORKSPACE).', { option: 'workspace_id' });
  if (typeof workspaceId !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(workspaceId)) {
    throw new ConfigError(`workspace_id "${workspaceId}" must be 1–128 ASCII letters, digits, '.', '_' or '-', starting with a letter or digit.`, { option: 'workspace_id' });
  }
  if (!privateKey) throw new ConfigError('private_key is required (or set DUCTAPE_PRIVATE_KEY): it seals credentials and session tokens.', { option: 'private_key' });
  // A number passed the length check (it has none) and reached scrypt, whose raw TypeError printed the key itself.
  if (typeof privateKey !== 'string') throw new ConfigError('private_key must be a string, such as one printed by "ductape keygen".', { option: 'private_key' });
  if (privateKey.length < 8) throw new ConfigError('private_key must be at least 8 characters long.', { option: 'private_key' });
  const num = (v: unknown, name: string, dflt: number, min: number) => {
    if (v === undefined) return dflt;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min) throw new ConfigError(`${name} must be a number ≥ ${min}.`, { option: name });
    return v;
  };
  // A byte count: 2048.5 or 1e300 passed num() and reached the memory cache, which threw a raw RangeError at first use.
  const bytes = (v: unknown, name: string, dflt: number, min: number) => {
    const n = num(v, name, dflt, min);
    if (!Number.isSafeInteger(n)) throw new ConfigError(`${name} must be a whole number of bytes ≥ ${min}.`, { option: name });
    return n;
  };
  return {
    workspaceId,
    userId: raw.user_id ?? env.DUCTAPE_USER ?? 'anonymous',
    privateKey,
    store: raw.store ?? env.DUCTAPE_STORE ?? DEFAULTS.store,
    cache: raw.cache ?? env.DUCTAPE_CACHE ?? DEFAULTS.cache,
    cacheMaxBytes: bytes(raw.cache_max_bytes, 'cache_max_bytes', 64 * 1024 * 1024, 1024),
    connections: num(raw.connections, 'connections', DEFAULTS.connectionsPerOrigin, 1),
    maxResponseBytes: num(raw.max_response_bytes, 'max_response_bytes', DEFAULTS.maxResponseBytes, 1),
    revisionPollMs: num(raw.revision_poll_ms, 'revision_poll_ms', DEFAULTS.revisionPollMs, 0),
    logsRetentionDays: num(raw.logs_retention_days, 'logs_retention_days', DEFAULTS.logsRetentionDays, 0),
    secretsInInput: bool(raw.secrets_in_input, 'secrets_in_input', false),
  };
}

const RUN_KEYS = ['env', 'product', 'app', 'event', 'input', 'cache', 'retries', 'session', 'timeout', 'stream'];
const INPUT_KEYS = ['query', 'params', 'body', 'headers', 'cookies'];

// Module constants rather than literals in the loops below: a literal array is allocated on every call, every run.
const RUN_NAMES = ['env', 'product', 'app', 'event'] as const;
const NAMED_LOCATIONS = ['query', 'params', 'headers', 'cookies'] as const;
const RUN_RENAMED: Record<string, string> = { retry: 'retries', timeoutMs: 'timeout', params: 'input.params', body: 'input.body', query: 'input.query', headers: 'input.headers' };
// paginate takes a run's options (a page is a decoded body, so not `stream`) plus max_pages.
const PAGINATE_KEYS = [...RUN_KEYS.filter((k) => k !== 'stream'), 'max_pages'];
const PAGINATE_RENAMED: Record<string, string> = { ...RUN_RENAMED, max_page: 'max_pages', maxPages: 'max_pages', pages: 'max_pages', limit: 'max_pages' };

/** actions.paginate's own keys: a misspelt max_pages is named as such, not refused as an unknown run option. */
export function checkPaginateKeys(raw: object): void {
  checkKeys('paginate', raw, PAGINATE_KEYS, PAGINATE_RENAMED);
}

/**
 * Expands shorthands ('tag:token' sessions) and checks the run input's shape. `stream` belongs to `execute`: `run`
 * resolves to the decoded body, so a stream there would be a body nobody reads.
 */
export function normalizeRunInput(raw: IActionProcessorInput & { stream?: boolean }, method: 'run' | 'execute' = 'execute'): RunInput {
  if (raw === null || typeof raw !== 'object') throw new DuctapeError('INVALID_INPUT', 'actions.run expects an object.', { issues: [] });
  checkKeys('run', raw, RUN_KEYS, RUN_RENAMED);
  if (method === 'run' && raw.stream === true) {
    throw new InvalidInputError(
      [{ location: 'body', path: '', message: '"stream" is an option of actions.execute, which resolves to the envelope with the body as a stream' }],
      'Invalid run',
    );
  }
  for (const k of RUN_NAMES) {
    if (typeof raw[k] !== 'string' || raw[k] === '') {
      throw new InvalidInputError([{ location: 'params', path: '', message: `"${k}" is required and must be a non-empty string` }], 'Invalid run');
    }
  }
  const input = raw.input ?? {};
  if (typeof input !== 'object' || Array.isArray(input)) throw new InvalidInputError([{ location: 'body', path: '', message: 'input must be an object with query, params, body or headers' }], 'Invalid run');
  checkKeys('input', input, INPUT_KEYS);
  for (const loc of NAMED_LOCATIONS) {
    const v = (input as Record<string, unknown>)[loc];
    if (v !== undefined && (v === null || typeof v !== 'object' || Array.isArray(v))) {
      throw new InvalidInputError([{ location: loc, path: '', message: `must be an object of ${loc === 'params' ? 'path values' : 'names to values'}` }], 'Invalid run');
    }
  }
  if (raw.retries !== undefined && (!Number.isInteger(raw.retries) || raw.retries < 0 || raw.retries > 20)) {
    throw new ConfigError('retries must be an integer from 0 to 20.', { option: 'retries' });
  }
  // A cache tag that is not a string (null from a caller that writes every optional field) would reach the cache
  // stage's "did you mean" lookup and end there in a raw TypeError.
  if (raw.cache !== undefined && (typeof raw.cache !== 'string' || raw.cache === '')) {
    throw new ConfigError('cache must be the tag of one of the product\'s caches (a non-empty string); leave it out to run uncached.', { option: 'cache' });
  }
  const timeout = normalizeTimeout(raw.timeout);
  return {
    env: raw.env,
    product: raw.product,
    app: raw.app,
    event: raw.event,
    input,
    cache: raw.cache,
    retries: raw.retries,
    session: normalizeSession(raw.session),
    timeoutMs: timeout.attemptMs,
    timeouts: timeout.phases,
    stream: raw.stream === true,
  };
}

function normalizeSession(session: ISession | string | undefined): ISession | undefined {
  if (session === undefined) return undefined;
  if (typeof session === 'string') {
    const i = session.indexOf(':');
    if (i <= 0) throw new DuctapeError('SESSION_INVALID', 'session must be { tag, token } or the string "<tag>:<token>".');
    return { tag: session.slice(0, i), token: session.slice(i + 1) };
  }
  // null included: `typeof null` is 'object', and reading its tag was a raw TypeError.
  if (session === null || typeof session !== 'object' || typeof session.tag !== 'string' || typeof session.token !== 'string') {
    throw new DuctapeError('SESSION_INVALID', 'session must be { tag, token } or the string "<tag>:<token>".');
  }
  // A field such as `data` or `user` next to the token is never read (only the token's sealed data counts): refused,
  // as every other unknown option is, rather than letting the caller think it reached the run.
  checkKeys('session', session, SESSION_KEYS);
  return session;
}

const SESSION_KEYS = ['tag', 'token'];
const TIMEOUT_KEYS = ['attempt', 'headers', 'body', 'run'];

/** `timeout: 10_000` or `timeout: { attempt, headers, body, run }` → ms values (each a positive number). */
function normalizeTimeout(raw: number | RunTimeoutOptions | undefined): { attemptMs?: number; phases?: RunInput['timeouts'] } {
  const ms = (v: unknown, name: string) => {
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v) || v > MAX_TIMER_MS) {
      throw new ConfigError(`${name} must be a positive number of milliseconds, at most ${MAX_TIMER_MS}.`, { option: name });
    }
    return v;
  };
  if (raw === undefined || typeof raw === 'number') return { attemptMs: ms(raw, 'timeout') };
  if (raw === null || typeof raw !== 'object') {
    throw new ConfigError('timeout must be a number of milliseconds or { attempt, headers, body, run }.', { option: 'timeout' });
  }
  checkKeys('timeout', raw, TIMEOUT_KEYS, { connect: 'attempt', total: 'run', deadline: 'run' });
  return {
    attemptMs: ms(raw.attempt, 'timeout.attempt'),
    phases: { headersMs: ms(raw.headers, 'timeout.headers'), bodyMs: ms(raw.body, 'timeout.body'), runMs: ms(raw.run, 'timeout.run') },
  };
}

export interface ResolvedTimeouts {
  /** Whole attempt. */
  attemptMs: number;
  headersMs: number;
  /** Longest silence between body chunks. */
  bodyMs: number;
  /** Epoch ms after which no attempt starts or continues; undefined when the run has no deadline. */
  deadlineAt?: number;
}

/**
 * The one place timeout precedence is decided: call → action → app → DEFAULTS.timeoutMs for the attempt
 * (`planTimeoutMs` already holds action → app → default), then per-phase call overrides.
 */
export function resolveTimeouts(run: RunInput, planTimeoutMs: number, startedAt: number): ResolvedTimeouts {
  const attemptMs = run.timeoutMs ?? planTimeoutMs;
  const t = run.timeouts;
  return {
    attemptMs,
    headersMs: Math.min(t?.headersMs ?? attemptMs, attemptMs),
    bodyMs: Math.min(t?.bodyMs ?? attemptMs, attemptMs),
    deadlineAt: t?.runMs === undefined ? undefined : startedAt + t.runMs,
  };
}

export interface ResolvedRetryPolicy extends RetryPolicy {
  maxRetries: number;
}

/** `retries` on the call overrides the app's default policy (AppDef.retry); timings come from the app or defaults. */
export function resolveRetryPolicy(retries: number | undefined, app: Pick<AppDef, 'retry'>): ResolvedRetryPolicy {
  const r = app.retry ?? {};
  return {
    maxRetries: retries ?? r.retries ?? 0,
    baseMs: r.baseMs ?? RETRY_POLICY_DEFAULTS.baseMs,
    capMs: r.capMs ?? RETRY_POLICY_DEFAULTS.capMs,
    retryAfterCeilingMs: r.retryAfterCeilingMs ?? RETRY_POLICY_DEFAULTS.retryAfterCeilingMs,
  };
}

/** `ductape serve` options as given on the command line; DUCTAPE_HOST / DUCTAPE_PORT fill the gaps. */
export interface ServeCliOptions {
  host?: string;
  port?: string | number;
  max_body_bytes?: string | number;
  /** Processes sharing the port (node:cluster); 'auto': one per core. @default 1 */
  workers?: string | number;
}

export function normalizeServeOptions(
  raw: ServeCliOptions,
  env: Record<string, string | undefined> = process.env,
): { host: string; port: number; maxBodyBytes: number; workers: number } {
  const host = raw.host ?? env.DUCTAPE_HOST ?? DEFAULTS.serveHost;
  const portText = raw.port ?? env.DUCTAPE_PORT ?? DEFAULTS.servePort;
  const port = Number(portText);
  // Port 0 asks the OS for a free port (tests, and running several on one machine); the chosen URL is printed.
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`--port must be a port number from 0 to 65535 (got "${portText}").`, { option: 'port' });
  const maxBodyBytes = Number(raw.max_body_bytes ?? DEFAULTS.serveMaxBodyBytes);
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes < 1024) throw new ConfigError('--max-body-bytes must be a whole number of bytes, at least 1024.', { option: 'max_body_bytes' });
  const workersText = String(raw.workers ?? env.DUCTAPE_WORKERS ?? 1);
  const workers = workersText === 'auto' ? Math.min(64, availableParallelism()) : Number(workersText);
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) {
    throw new ConfigError(`--workers must be a whole number from 1 to 64, or 'auto' (got "${workersText}").`, { option: 'workers' });
  }
  return { host, port, maxBodyBytes, workers };
}

/** `ductape mcp` / the MCP server (API.md §10), as given by the caller. */
export interface McpOptions {
  product: string;
  env: string;
  /** Access tags to offer. @default every connected app */
  apps?: string[];
  /** Events to offer. @default every action */
  events?: string[];
  /** `tools`: one tool per action; `search`: three tools for large catalogues. @default 'tools' */
  mode?: 'tools' | 'search';
  /** Results longer than this (bytes of JSON text) are cut, with a note. @default 100_000 */
  max_result_bytes?: number;
}

export interface NormalizedMcpOptions {
  product: string;
  env: string;
  apps?: string[];
  events?: string[];
  mode: 'tools' | 'search';
  maxResultBytes: number;
}

export const MCP_DEFAULTS = { mode: 'tools', maxResultBytes: 100_000 } as const;

export function normalizeMcpOptions(raw: McpOptions): NormalizedMcpOptions {
  if (!raw || typeof raw !== 'object') throw new ConfigError('MCP options must be an object with product and env.');
  checkKeys('MCP', raw, ['product', 'env', 'apps', 'events', 'mode', 'max_result_bytes'], { maxResultBytes: 'max_result_bytes' });
  for (const k of ['product', 'env'] as const) {
    if (typeof raw[k] !== 'string' || raw[k] === '') throw new ConfigError(`MCP option ${k} is required.`, { option: k });
  }
  const mode = raw.mode ?? MCP_DEFAULTS.mode;
  if (mode !== 'tools' && mode !== 'search') throw new ConfigError(`MCP mode must be "tools" or "search" (got ${JSON.stringify(mode)}).`, { option: 'mode' });
  const max = raw.max_result_bytes ?? MCP_DEFAULTS.maxResultBytes;
  if (!Number.isInteger(max) || max < 256) throw new ConfigError('max_result_bytes must be an integer of at least 256.', { option: 'max_result_bytes' });
  const list = (v: unknown, name: string) => {
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || !x)) throw new ConfigError(`MCP option ${name} must be a list of names.`, { option: name });
    return v as string[];
  };
  return { product: raw.product, env: raw.env, apps: list(raw.apps, 'apps'), events: list(raw.events, 'events'), mode, maxResultBytes: max };
}
