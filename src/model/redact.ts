// One redaction function for logs, errors, envelopes and CLI output: secrets never leave through any of them.
import { setOwn } from './json.js';

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

/**
 * Query parameters that carry a signed URL's credentials (AWS SigV4 and S3 query auth, CloudFront, Azure SAS, Google
 * Cloud Storage): the keys OpenTelemetry's `url.full` convention says to redact. In URLs only: in a body or header a
 * field named "signature" is usually data, not a credential.
 */
const SIGNED_URL_PARAMS = new Set(['x-amz-signature', 'x-amz-credential', 'x-amz-security-token', 'awsaccesskeyid', 'signature', 'sig', 'x-goog-signature']);

export const REDACTED = '[REDACTED]';

// Values known to be secret (unsealed secrets, credential values, tokens), in least-recently-used order: a value in
// use is refreshed on every registration, so only values nobody has used for a long time fall out. Each value is
// matched in every form it travels in: raw, and each way runtime/encode/percent.ts writes text into a URL or a form
// (component, strict RFC 3986, reserved expansion for allowReserved, form with '+' for spaces, form under
// allowReserved); test/model/redact.property.test.ts checks the two stay in step. A value is replaced where it stands
// as a whole token (#11): "othello" is not cut by a secret "hello", while "key=hello" and "Bearer hello" are.
// Matching goes through an index by each form's first two characters, rebuilt only when the set changes: at each
// position of the text a table read says whether any form may start there (no string is cut out to ask), so a
// redaction costs a few nanoseconds per character however many secrets are known. Every run's URL passes here.
const known = new Map<string, true>();
interface SecretIndex {
  /** Forms of two or more characters by their first two (pairKey), longest first. */
  long: Map<number, string[]>;
  /** One bit per pairKey hash: 0 means no form starts with that pair. */
  maybe: Uint8Array;
  /** One-character forms. */
  short: Set<string>;
}
let index: SecretIndex | null = null;
const MAX_KNOWN = 10_000;
/** Grows whenever a new secret value is registered: text redacted at one generation needs no second pass at it. */
let generation = 0;

/** The registry's generation (see registerSecret): a caller that kept redacted text redacts it again only if it moved. */
export function secretsGeneration(): number {
  return generation;
}

const pairKey = (text: string, at: number) => (text.charCodeAt(at) << 16) | text.charCodeAt(at + 1);
const slotOf = (key: number) => (key ^ (key >>> 15)) & 0xffff;

/** Remembers a secret value so that every later redaction removes it (wherever it stands as a whole token). */
export function registerSecret(value: unknown): void {
  if (typeof value !== 'string' || value.length === 0) return;
  if (known.has(value)) {
    // Refresh its place; the matcher does not change.
    known.delete(value);
    known.set(value, true);
    return;
  }
  known.set(value, true);
  if (known.size > MAX_KNOWN) known.delete(known.keys().next().value as string);
  index = null;
  generation++;
}

const hex = (c: string) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;
/** The forms a value takes in URLs and forms (as runtime/encode/percent.ts writes them). */
function formsOf(v: string): Set<string> {
  const forms = new Set([v]);
  try {
    const component = encodeURIComponent(v);
    const strict = component.replace(/[!'()*]/g, hex);
    const reserved = encodeURI(v).replace(/%25([0-9A-Fa-f]{2})/g, '%$1').replace(/[#&+=]/g, hex);
    forms.add(component).add(strict).add(strict.replace(/%20/g, '+'));
    forms.add(component.replace(/%20|[!'()~]/g, (m) => (m === '%20' ? '+' : hex(m))));
    forms.add(reserved).add(reserved.replace(/%20/g, '+'));
  } catch {
    // A lone surrogate has no percent-encoded form, and the encoders refuse to send one: only the raw form exists.
  }
  return forms;
}

function buildIndex(): SecretIndex {
  const long = new Map<number, string[]>();
  const maybe = new Uint8Array(0x10000);
  const short = new Set<string>();
  for (const v of known.keys()) {
    for (const form of formsOf(v)) {
      if (form.length < 2) {
        short.add(form);
        continue;
      }
      const key = pairKey(form, 0);
      maybe[slotOf(key)] = 1;
      const list = long.get(key);
      if (!list) long.set(key, [form]);
      else if (!list.includes(form)) list.push(form);
    }
  }
  // Longest first, so that a secret containing another is replaced whole.
  for (const list of long.values()) list.sort((a, b) => b.length - a.length);
  return { long, maybe, short };
}

const WORD = /[\p{L}\p{N}]/u;
const isWord = (ch: string | undefined) => ch !== undefined && WORD.test(ch);
/** A form found at `at` is a whole token: no letter or digit glued to it on a side where it starts or ends with one. */
function standsAlone(text: string, at: number, form: string): boolean {
  const end = at + form.length;
  if (isWord(form[0]) && isWord(text[at - 1])) return false;
  return !(isWord(form[form.length - 1]) && isWord(text[end]));
}

/**
 * Whether a header, query or field name always holds a credential: the fixed list, plus `extra` (lowercase) for the
 * names one client's credentials use (runtime.state.sensitiveNames). There is no process-wide registry (#11): one
 * app's key named "id" must not blank every "id" of every client in the process.
 */
export function isSensitiveName(name: string, extra?: ReadonlySet<string>): boolean {
  const lower = name.toLowerCase();
  return SENSITIVE_NAMES.has(lower) || (extra !== undefined && extra.has(lower));
}

/** Replaces every known secret value inside a string, in any of its encoded forms, where it stands as a whole token. */
export function redactText(text: string): string {
  if (known.size === 0 || typeof text !== 'string' || text.length === 0) return text;
  const idx = (index ??= buildIndex());
  const last1 = text.length - 1;
  let out = '';
  let last = 0;
  for (let i = 0; i < text.length; ) {
    let hit: string | undefined;
    if (i < last1) {
      const key = pairKey(text, i);
      if (idx.maybe[slotOf(key)] === 1) hit = idx.long.get(key)?.find((c) => text.startsWith(c, i) && standsAlone(text, i, c));
    }
    if (hit === undefined && idx.short.size > 0 && idx.short.has(text[i]) && standsAlone(text, i, text[i])) hit = text[i];
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

/** Nesting redact() walks; anything deeper is replaced whole rather than returned unread (#11). */
export const MAX_REDACT_DEPTH = 20;

/** Deep copy with sensitive keys blanked and known secret values replaced; past MAX_REDACT_DEPTH, `[REDACTED]`. */
export function redact<T>(value: T, names?: ReadonlySet<string>): T {
  return redactAt(value, names, 0);
}

function redactAt<T>(value: T, names: ReadonlySet<string> | undefined, depth: number): T {
  if (depth > MAX_REDACT_DEPTH) return (value === null || value === undefined ? value : REDACTED) as T;
  if (typeof value === 'string') return redactText(value) as T;
  if (Array.isArray(value)) return value.map((v) => redactAt(v, names, depth + 1)) as T;
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    const src = value as Record<string, unknown>;
    for (const k of Object.keys(src)) {
      const v = src[k];
      const r = isSensitiveName(k, names) && v != null ? REDACTED : redactAt(v, names, depth + 1);
      setOwn(out, k, r); // a "__proto__" key of an upstream body stays a key
    }
    return out as T;
  }
  return value;
}

/** Redacts sensitive query params inside a URL string (credential names, and the parameters of signed URLs). */
export function redactUrl(url: string, names?: ReadonlySet<string>): string {
  const q = url.indexOf('?');
  if (q < 0) return known.size === 0 ? url : redactText(url);
  // Every run's URL passes here (run logs): scan the query in place and build a new string only when a value goes.
  let out: string | undefined;
  let copied = 0;
  for (let start = q + 1; start <= url.length; ) {
    let end = url.indexOf('&', start);
    if (end < 0) end = url.length;
    const eq = url.indexOf('=', start);
    if (eq >= 0 && eq < end) {
      const raw = url.slice(start, eq);
      const name = raw.includes('%') ? decodeSafe(raw) : raw;
      if (isSensitiveName(name, names) || SIGNED_URL_PARAMS.has(name.toLowerCase())) {
        out = (out ?? '') + url.slice(copied, eq + 1) + REDACTED;
        copied = end;
      }
    }
    start = end + 1;
  }
  const redacted = out === undefined ? url : out + url.slice(copied);
  return known.size === 0 ? redacted : redactText(redacted);
}

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
