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

// Values known to be secret (unsealed secrets, credential values, tokens), in least-recently-used order: a value in
// use is refreshed on every registration, so only values nobody has used for a long time fall out. Each value is
// matched in every form it travels in (raw, percent-encoded as a component, strictly encoded as a path segment, form
// encoded with '+' for spaces). Matching goes through an index by each form's first four characters, rebuilt only when
// the set changes, so a redaction costs one lookup per character of the text however many secrets are known (a
// regular expression alternation or an includes() per secret would cost time per secret).
const known = new Map<string, true>();
let index: Map<string, string[]> | null = null;
const MAX_KNOWN = 10_000;
const PREFIX = 4;

/** Remembers a secret value so that every later redaction removes it. Values under 4 chars are ignored (too noisy). */
export function registerSecret(value: unknown): void {
  if (typeof value !== 'string' || value.length < 4) return;
  if (known.has(value)) {
    // Refresh its place; the matcher does not change.
    known.delete(value);
    known.set(value, true);
    return;
  }
  known.set(value, true);
  if (known.size > MAX_KNOWN) known.delete(known.keys().next().value as string);
  index = null;
}

const strict = (v: string) => encodeURIComponent(v).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

function buildIndex(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const v of known.keys()) {
    for (const form of new Set([v, encodeURIComponent(v), strict(v), strict(v).replace(/%20/g, '+')])) {
      const key = form.slice(0, PREFIX);
      const list = out.get(key);
      if (!list) out.set(key, [form]);
      else if (!list.includes(form)) list.push(form);
    }
  }
  // Longest first, so that a secret containing another is replaced whole.
  for (const list of out.values()) list.sort((a, b) => b.length - a.length);
  return out;
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
  if (known.size === 0 || typeof text !== 'string' || text.length < PREFIX) return text;
  const idx = (index ??= buildIndex());
  let out = '';
  let last = 0;
  for (let i = 0; i + PREFIX <= text.length; ) {
    const candidates = idx.get(text.slice(i, i + PREFIX));
    const hit = candidates?.find((c) => text.startsWith(c, i));
    if (hit === undefined) {
      i++;
      continue;
    }
    out += text.slice(last, i) + REDACTED;
    i += hit.length;
    last = i;
  }
  return last === 0 ? text : out + text.slice(last);
}

/** Deep copy with sensitive keys blanked and known secret values replaced. */
export function redact<T>(value: T, depth = 0): T {
  if (depth > 20) return value;
  if (typeof value === 'string') return redactText(value) as T;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1)) as T;
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    // defineProperty, not assignment: a key named "__proto__" (from an upstream body) must stay a plain key.
    for (const [k, v] of Object.entries(value)) {
      Object.defineProperty(out, k, { value: isSensitiveName(k) && v != null ? REDACTED : redact(v, depth + 1), enumerable: true, writable: true, configurable: true });
    }
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
