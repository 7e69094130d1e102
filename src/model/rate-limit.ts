// Rate limit definitions (API.md §11): the shapes users write on apps and connections, checked and normalized here.
import { fail, MAX_TIMER_MS } from './definitions.js';

/**
 * One window, plus the options that apply to the whole limit. Several windows at once are written as an array:
 * `[{ requests: 100, per_ms: 10_000 }, { requests: 10_000, per_ms: 86_400_000, concurrency: 4 }]`.
 * @example { requests: 10, per_ms: 1000, concurrency: 2, max_wait_ms: 5000 }
 */
export interface RateLimitWindowDef {
  /** Requests allowed in any window of `per_ms` (a sliding window: never more than this in any such span). */
  requests?: number;
  /** Window length in ms. */
  per_ms?: number;
  /** Requests in flight at once. @default unlimited */
  concurrency?: number;
  /** Longest a run waits for its turn before failing with RATE_LIMITED. @default 30_000 */
  max_wait_ms?: number;
  /** Response headers that tell how many requests are left and when the window resets. */
  headers?: { remaining?: string; reset?: string };
}

export type RateLimitDef = RateLimitWindowDef | RateLimitWindowDef[];

/** What the limiter works with: every window, and the options merged from all elements. */
export interface NormalizedRateLimit {
  windows: { requests: number; perMs: number }[];
  /** Undefined: no cap on requests in flight. */
  concurrency?: number;
  maxWaitMs: number;
  /** Lowercase header names. */
  remainingHeader: string;
  resetHeader: string;
}

export const RATE_LIMIT_DEFAULTS = {
  maxWaitMs: 30_000,
  remainingHeader: 'x-ratelimit-remaining',
  resetHeader: 'x-ratelimit-reset',
} as const;

// A window keeps one timestamp per request it allows (an exact sliding log), so its size is bounded.
export const MAX_WINDOW_REQUESTS = 100_000;
const KEYS = ['requests', 'per_ms', 'concurrency', 'max_wait_ms', 'headers'];
const HEADER = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Checks a `rate_limit` as written (CONFIG_ERROR naming the field) and returns it unchanged; null stays null (removal). */
export function checkRateLimit(field: string, raw: unknown): RateLimitDef | null {
  if (raw === null) return null;
  normalizeRateLimit(field, raw as RateLimitDef);
  return raw as RateLimitDef;
}

/** `{ requests, per_ms, … }` or an array of them → one normalized limit; the tightest concurrency and max wait win. */
export function normalizeRateLimit(field: string, raw: RateLimitDef): NormalizedRateLimit {
  const list = Array.isArray(raw) ? raw : [raw];
  if (list.length === 0) fail(field, 'expected { requests, per_ms } or a non-empty array of them');
  const out: NormalizedRateLimit = { windows: [], maxWaitMs: RATE_LIMIT_DEFAULTS.maxWaitMs, ...headerNames(undefined) };
  let maxWait: number | undefined;
  let headersSeen = false;
  list.forEach((w, i) => {
    const at = Array.isArray(raw) ? `${field}[${i}]` : field;
    if (!w || typeof w !== 'object' || Array.isArray(w)) fail(at, 'expected an object like { requests: 10, per_ms: 1000 }');
    for (const k of Object.keys(w)) if (!KEYS.includes(k)) fail(`${at}.${k}`, `unknown field; accepted: ${KEYS.join(', ')}`);
    if ((w.requests === undefined) !== (w.per_ms === undefined)) fail(at, 'requests and per_ms go together');
    if (w.requests !== undefined) {
      const requests = int(`${at}.requests`, w.requests, 1, MAX_WINDOW_REQUESTS);
      const perMs = int(`${at}.per_ms`, w.per_ms, 1, MAX_TIMER_MS);
      out.windows.push({ requests, perMs });
    }
    if (w.concurrency !== undefined) out.concurrency = Math.min(out.concurrency ?? Infinity, int(`${at}.concurrency`, w.concurrency, 1, 1_000_000));
    if (w.max_wait_ms !== undefined) maxWait = Math.min(maxWait ?? Infinity, int(`${at}.max_wait_ms`, w.max_wait_ms, 0, MAX_TIMER_MS));
    if (w.headers !== undefined) {
      if (headersSeen) fail(`${at}.headers`, 'give headers once');
      headersSeen = true;
      Object.assign(out, headerNames(w.headers, `${at}.headers`));
    }
  });
  if (out.windows.length === 0 && out.concurrency === undefined) fail(field, 'needs at least one window ({ requests, per_ms }) or a concurrency');
  if (maxWait !== undefined) out.maxWaitMs = maxWait;
  return out;
}

function headerNames(h: RateLimitWindowDef['headers'], field = 'headers'): Pick<NormalizedRateLimit, 'remainingHeader' | 'resetHeader'> {
  if (h !== undefined && (!h || typeof h !== 'object' || Array.isArray(h))) fail(field, 'expected { remaining?, reset? } header names');
  for (const k of Object.keys(h ?? {})) if (k !== 'remaining' && k !== 'reset') fail(`${field}.${k}`, 'unknown field; accepted: remaining, reset');
  const name = (k: 'remaining' | 'reset', dflt: string) => {
    const v = h?.[k];
    if (v === undefined) return dflt;
    if (typeof v !== 'string' || !HEADER.test(v)) fail(`${field}.${k}`, `expected a header name (got ${JSON.stringify(v)})`);
    return v.toLowerCase();
  };
  return { remainingHeader: name('remaining', RATE_LIMIT_DEFAULTS.remainingHeader), resetHeader: name('reset', RATE_LIMIT_DEFAULTS.resetHeader) };
}

function int(field: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) fail(field, `expected a whole number from ${min} to ${max} (got ${JSON.stringify(v)})`);
  return v;
}
