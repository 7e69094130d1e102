// DuctapeError and its family: one stable `code` per failure kind, fields as API.md §4 lists them.
import { redactText } from './model/redact.js';

export type ErrorCode =
  | 'NOT_FOUND'
  | 'INVALID_INPUT'
  | 'SESSION_INVALID'
  | 'SESSION_EXPIRED'
  | 'AUTH_FAILED'
  | 'UPSTREAM_ERROR'
  | 'TIMEOUT'
  | 'NETWORK_ERROR'
  | 'RATE_LIMITED'
  | 'CONFIG_ERROR'
  | 'STORE_ERROR'
  // `ductape serve` only (API.md §6): no or unknown API key, and a key used outside its scope.
  | 'UNAUTHORIZED'
  | 'FORBIDDEN';

/** One validation problem, as data (zod-style). */
export interface Issue {
  location: 'body' | 'query' | 'params' | 'headers' | 'cookies' | 'session';
  path: string;
  message: string;
}

// Branded with Symbol.for so `instanceof` holds across two installed copies (as undici does).
const kDuctapeError = Symbol.for('ductape.error');

// Fields that carry the upstream's answer or our request: bulky and possibly sensitive, so (as got's RequestError does)
// they stay readable as err.body / err.headers and in toJSON(), but console.log(err) and util.inspect do not print them.
const QUIET_FIELDS = new Set(['body', 'headers', 'request', 'response']);

export class DuctapeError extends Error {
  readonly code: ErrorCode;
  /** Extra structured fields (issues, status, …); also readable on the error itself (non-enumerable, see below). */
  declare readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(redactText(message), options);
    this.name = 'DuctapeError';
    this.code = code;
    // STYLE.md §3: attachments are non-enumerable; the small documented fields (status, attempts, issues…) stay
    // enumerable so that a printed error still says what happened.
    Object.defineProperty(this, 'details', { value: details, enumerable: false });
    Object.defineProperty(this, kDuctapeError, { value: true });
    for (const [k, v] of Object.entries(details)) {
      if (!(k in this)) Object.defineProperty(this, k, { value: v, enumerable: !QUIET_FIELDS.has(k) });
    }
  }

  /**
   * `instanceof DuctapeError` holds for an error of any copy of Ductape (the brand). A subclass inherits this method, so
   * it must check its own prototype chain: without that, `err instanceof ConfigError` held for a StoreError too.
   */
  static [Symbol.hasInstance](value: unknown): boolean {
    if (typeof value !== 'object' || value === null || (value as Record<symbol, unknown>)[kDuctapeError] !== true) return false;
    return this === DuctapeError || Function.prototype[Symbol.hasInstance].call(this, value);
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, ...this.details };
  }
}

export class NotFoundError extends DuctapeError {
  /**
   * @param kind what was looked up ('product', 'env', 'app', 'event', 'cache', 'session type')
   * @param scope where, e.g. 'in app "stripe"'
   */
  constructor(kind: string, name: string, available: string[], hint?: string, scope?: string) {
    const list = available.length ? ` Known: ${available.slice(0, 20).map((a) => `"${a}"`).join(', ')}${available.length > 20 ? ', …' : ''}.` : ` None exist yet.`;
    const suggestion = closest(name, available);
    super(
      'NOT_FOUND',
      `No ${kind} "${name}"${scope ? ` ${scope}` : ''}${suggestion ? ` (did you mean "${suggestion}"?)` : ''}.${list}${hint ? ` ${hint}` : ''}`,
      { kind, name, available },
    );
  }
}

export class InvalidInputError extends DuctapeError {
  declare readonly issues: Issue[];
  readonly #prefix: string;
  constructor(issues: Issue[], prefix = 'Invalid input') {
    const summary = issues
      .slice(0, 5)
      .map((i) => `${i.location}${i.path ? i.path : ''}: ${i.message.replace(/\.$/, '')}`)
      .join('; ');
    super('INVALID_INPUT', `${prefix}: ${summary}${issues.length > 5 ? `; and ${issues.length - 5} more` : ''}.`, { issues });
    this.#prefix = prefix;
  }

  /**
   * The same refusal with each `body` issue's location chosen by its top-level field: a workspace function sees its
   * arguments as one object, while over HTTP a field may have come from the path or the query string.
   */
  relocate(locate: (field: string) => Issue['location']): InvalidInputError {
    const field = (i: Issue) => i.path.split('/')[1];
    const issues = this.issues.map((i) => (i.location === 'body' && field(i) ? { ...i, location: locate(field(i)) } : i));
    return new InvalidInputError(issues, this.#prefix);
  }
}

export class ConfigError extends DuctapeError {
  constructor(message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super('CONFIG_ERROR', message, details, options);
  }
}

/** Why the store failed: `busy` and `unreachable` pass with time; the others need someone to look. */
export type StoreErrorReason = 'busy' | 'unreachable' | 'read_only' | 'full' | 'corrupt' | 'closed' | 'failed';

/**
 * The store (SQLite file or PostgreSQL) could not do what was asked. Every driver error becomes one of these, so
 * callers never see a raw `SqliteError` or `pg` error; the driver's own code is kept in `driverCode`.
 */
export class StoreError extends DuctapeError {
  declare readonly reason: StoreErrorReason;
  declare readonly retryable: boolean;
  constructor(message: string, details: { reason: StoreErrorReason; dialect: 'sqlite' | 'postgres'; driverCode?: string }, options?: { cause?: unknown }) {
    super('STORE_ERROR', message, { ...details, retryable: details.reason === 'busy' || details.reason === 'unreachable' }, options);
  }
}

/** Levenshtein-based suggestion for typos in names (only when close enough to help). */
export function closest(name: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = distance(name, c);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(name.length / 4)) && bestD > 0 ? best : undefined;
}

function distance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 5) return 99;
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}
