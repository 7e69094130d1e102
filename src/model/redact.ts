// One redaction function for logs, errors, envelopes and CLI output: secrets never leave through any of them.

/** Header and query names whose values are always credentials. */
const SENSITIVE_NAMES = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'api-key',
  'apikey',
  'api_key',
  'x-auth-token',
  'access_token',
  'client_secret',
  'refresh_token',
  'password',
  'token',
]);

export const REDACTED = '[REDACTED]';

// Values known to be secret (unsealed secrets, credential values, tokens). Longest first so that a secret
// containing another is replaced whole. Bounded: old entries fall out first.
const known = new Map<string, true>();
let sorted: string[] | null = null;
const MAX_KNOWN = 10_000;

/** Remembers a secret value so that every later redaction removes it. Values under 4 chars are ignored (too noisy). */
export function registerSecret(value: unknown): void {
  if (typeof value !== 'string' || value.length < 4 || known.has(value)) return;
  known.set(value, true);
  if (known.size > MAX_KNOWN) known.delete(known.keys().next().value as string);
  sorted = null;
}

/** Extra names (e.g. an app's API-key header) to treat as sensitive. */
export function registerSensitiveName(name: string): void {
  SENSITIVE_NAMES.add(name.toLowerCase());
}

export function isSensitiveName(name: string): boolean {
  return SENSITIVE_NAMES.has(name.toLowerCase());
}

/** Replaces every known secret value inside a string. */
export function redactText(text: string): string {
  if (known.size === 0 || typeof text !== 'string') return text;
  sorted ??= [...known.keys()].sort((a, b) => b.length - a.length);
  let out = text;
  for (const s of sorted) {
    if (out.includes(s)) out = out.split(s).join(REDACTED);
    // Secrets also travel percent-encoded (query) or base64 (basic auth).
    const enc = encodeURIComponent(s);
    if (enc !== s && out.includes(enc)) out = out.split(enc).join(REDACTED);
  }
  return out;
}

/** Deep copy with sensitive keys blanked and known secret values replaced. */
export function redact<T>(value: T, depth = 0): T {
  if (depth > 20) return value;
  if (typeof value === 'string') return redactText(value) as T;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1)) as T;
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = isSensitiveName(k) && v != null ? REDACTED : redact(v, depth + 1);
    return out as T;
  }
  return value;
}

/** Redacts sensitive query params inside a URL string. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return known.size === 0 ? url : redactText(url);
  const base = url.slice(0, q);
  const parts = url
    .slice(q + 1)
    .split('&')
    .map((p) => {
      const eq = p.indexOf('=');
      const raw = eq < 0 ? p : p.slice(0, eq);
      const name = raw.includes('%') ? decodeSafe(raw) : raw;
      return eq >= 0 && isSensitiveName(name) ? `${p.slice(0, eq)}=${REDACTED}` : p;
    });
  return redactText(`${base}?${parts.join('&')}`);
}

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
