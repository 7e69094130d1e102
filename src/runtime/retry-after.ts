// Retry-After parsing (RFC 9110 §10.2.3): delay-seconds or an HTTP-date, turned into a wait in ms.

// A delay too large to represent is read as 2^31 s, as RFC 9111 §1.2.2 has caches read delta-seconds: a wait still
// absurdly long, but a number ("9" × 400 is Infinity to Number(), which serve's Retry-After and JSON cannot carry).
const MAX_DELAY_MS = 2 ** 31 * 1000;

/**
 * The wait an upstream asked for, in ms from `now`, or undefined when it asked for none (or sent garbage).
 * Reads `Retry-After` (seconds or HTTP-date) and, failing that, `retry-after-ms` (sent by Azure and OpenAI-style
 * APIs). A date in the past means "now" (0).
 * @example retryAfterMs({ 'retry-after': '120' }) // 120_000
 */
export function retryAfterMs(
  headers: Record<string, string | string[] | undefined> | undefined,
  now: number = Date.now(),
): number | undefined {
  if (!headers) return undefined;
  const standard = parseRetryAfter(header(headers, 'retry-after'), now);
  if (standard !== undefined) return standard;
  const ms = header(headers, 'retry-after-ms')?.trim();
  return ms && /^\d+(\.\d+)?$/.test(ms) ? Math.min(Math.round(Number(ms)), MAX_DELAY_MS) : undefined;
}

/** One Retry-After value → ms from `now`, or undefined when it is neither delay-seconds nor a date. */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  const v = value?.trim();
  if (!v) return undefined;
  // RFC 9110 allows only whole seconds; fractions are accepted because some servers send them.
  if (/^\d+(\.\d+)?$/.test(v)) return Math.min(Math.round(Number(v) * 1000), MAX_DELAY_MS);
  // A bare number that failed the test above (e.g. "-5") is not a date either; Date.parse would invent one.
  if (!/[a-z]/i.test(v)) return undefined;
  // HTTP-dates are always GMT; the obsolete asctime form says so nowhere, and Date.parse would read it as local time.
  const at = Date.parse(/GMT|UTC|[+-]\d{4}$/i.test(v) ? v : `${v} GMT`);
  return Number.isNaN(at) ? undefined : Math.min(Math.max(0, at - now), MAX_DELAY_MS);
}

/** Header lookup by case-insensitive name; the first value of a repeated header. */
function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  let value = headers[name];
  if (value === undefined) {
    for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) value = v;
  }
  return Array.isArray(value) ? value[0] : value;
}
