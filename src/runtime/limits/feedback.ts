// What an upstream answer says about its limit: how long this connection's limiter should hold every request back.
import type { NormalizedRateLimit } from '../../model/rate-limit.js';
import { retryAfterMs } from '../retry-after.js';

// A reset further away than a day is more likely garbage than a real window.
const MAX_PAUSE_MS = 86_400_000;
// Reset values above this are epoch seconds (GitHub's X-RateLimit-Reset); smaller ones are seconds from now.
const EPOCH_SECONDS_FROM = 1_000_000_000;
// …and above this epoch milliseconds, which some APIs send: read as seconds, they were 55,000 years away, and the
// connection was paused for the one-day cap. Epoch seconds reach this in the year 33658.
const EPOCH_MS_FROM = 1_000_000_000_000;

/**
 * The pause an answer asks for, in ms, or undefined:
 * - `Retry-After` (or `retry-after-ms`) on a 429 or 503: exactly what it asks (RFC 9110 §10.2.3);
 * - a 429 without it, or `remaining: 0`, with a reset header: until the reset.
 * @example pauseFromResponse(429, { 'retry-after': '2' }, limit) // 2000
 */
export function pauseFromResponse(
  status: number,
  headers: Record<string, string | string[] | undefined>,
  limit: Pick<NormalizedRateLimit, 'remainingHeader' | 'resetHeader'>,
  now: number = Date.now(),
): number | undefined {
  if (status === 429 || status === 503) {
    const asked = retryAfterMs(headers, now);
    if (asked !== undefined) return clamp(asked);
  }
  const remaining = first(headers[limit.remainingHeader])?.trim();
  // Only a number says "none left": an empty or garbled header ('', 'n/a') must not hold every run until the reset.
  if (status !== 429 && !(remaining && /^-?\d+(\.\d+)?$/.test(remaining) && Number(remaining) <= 0)) return undefined;
  const reset = resetMs(first(headers[limit.resetHeader]), now);
  return reset === undefined ? undefined : clamp(reset);
}

/** `X-RateLimit-Reset`: epoch milliseconds (huge values), epoch seconds (large ones) or seconds from now (small ones). */
export function resetMs(value: string | undefined, now: number): number | undefined {
  const v = value?.trim();
  if (!v || !/^\d+(\.\d+)?$/.test(v)) return undefined;
  const n = Number(v);
  if (n >= EPOCH_MS_FROM) return Math.max(0, Math.round(n - now));
  return n >= EPOCH_SECONDS_FROM ? Math.max(0, n * 1000 - now) : Math.round(n * 1000);
}

const clamp = (ms: number) => Math.min(Math.max(0, ms), MAX_PAUSE_MS);
const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
