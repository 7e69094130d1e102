// Percent-encoding for the three places text goes: URI components (RFC 3986), reserved expansion, and form bodies.
import { EncodeFailure } from './failure.js';

// Fast paths: most names and values are plain ASCII words and need no work at all.
const ONLY_UNRESERVED = /^[A-Za-z0-9\-._~]*$/;
const ONLY_FORM_SAFE = /^[A-Za-z0-9*\-._]*$/;
// encodeURIComponent leaves these raw, but RFC 3986 §2.2 counts them as reserved (sub-delims).
const SUB_DELIMS = /[!'()*]/g;
// encodeURI turns a literal '%' into %25; under reserved expansion an existing %XX triple must pass unchanged.
const ESCAPED_TRIPLE = /%25([0-9A-Fa-f]{2})/g;
// Reserved characters that stay encoded even with allowReserved: not allowed in a query ([ ] #) or meaningful to
// application/x-www-form-urlencoded (& = +). OAS 3.1.1 `allowReserved` and Appendix E.
const QUERY_UNSAFE_RESERVED = /[#&+=]/g;
const FORM_RAW_DIFFERENCES = /%20|[!'()~]/g;
const FORM_RESERVED_DIFFERENCES = /%20|[#&+=]/g;

function hex(ch: string): string {
  return '%' + ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0');
}

function uriComponent(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    // URIError: a lone UTF-16 surrogate has no UTF-8 form; silently replacing it would change the data.
    throw new EncodeFailure('contains an unpaired UTF-16 surrogate, which cannot be percent-encoded');
  }
}

function uri(text: string): string {
  try {
    return encodeURI(text);
  } catch {
    throw new EncodeFailure('contains an unpaired UTF-16 surrogate, which cannot be percent-encoded');
  }
}

/** RFC 3986 strict: everything but unreserved characters (A-Z a-z 0-9 - . _ ~) is percent-encoded. */
export function encodeStrict(text: string): string {
  if (ONLY_UNRESERVED.test(text)) return text;
  return uriComponent(text).replace(SUB_DELIMS, hex);
}

// RFC 3986 §3.3: what a path may hold raw (pchar and '/'), plus '%' that starts a %XX triple.
const PATH_TEXT = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*$/;
const NOT_PATH_TEXT = /%(?![0-9A-Fa-f]{2})|[^A-Za-z0-9\-._~!$&'()*+,;=:@/%]+/g;

/**
 * The literal text of a path template (`/files/my report`, `/café`), as a browser would send it: characters a path
 * cannot carry raw (space, `"`, non-ASCII, a `%` that starts no triple) are percent-encoded as UTF-8, everything
 * else (`/`, sub-delimiters, existing %XX triples) stays as the spec wrote it.
 */
export function encodePathLiteral(text: string): string {
  if (PATH_TEXT.test(text)) return text;
  return text.replace(NOT_PATH_TEXT, utf8Escapes);
}

// UTF-8 bytes as %XX; a lone surrogate in a spec's path key becomes U+FFFD rather than failing every run.
function utf8Escapes(run: string): string {
  let out = '';
  for (const byte of Buffer.from(run, 'utf8')) out += '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  return out;
}

/**
 * RFC 6570 reserved expansion (`allowReserved: true`): reserved characters and existing %XX triples pass through,
 * except those a query string cannot carry raw (`[ ] # & = +`).
 */
export function encodeReserved(text: string): string {
  if (ONLY_UNRESERVED.test(text)) return text;
  return uri(text).replace(ESCAPED_TRIPLE, '%$1').replace(QUERY_UNSAFE_RESERVED, hex);
}

/**
 * application/x-www-form-urlencoded (WHATWG URL §5.2): space as '+', only `* - . _` and alphanumerics raw. This is
 * what browsers, URLSearchParams and Stripe's SDK send, and every form parser decodes it.
 */
export function encodeForm(text: string): string {
  if (ONLY_FORM_SAFE.test(text)) return text;
  return uriComponent(text).replace(FORM_RAW_DIFFERENCES, formFix);
}

/** Form encoding under `allowReserved`: reserved characters raw except `# & = + [ ]`, space still '+'. */
export function encodeFormReserved(text: string): string {
  if (ONLY_FORM_SAFE.test(text)) return text;
  return uri(text).replace(ESCAPED_TRIPLE, '%$1').replace(FORM_RESERVED_DIFFERENCES, formFix);
}

function formFix(match: string): string {
  return match === '%20' ? '+' : hex(match);
}

/**
 * A name written by the spec author (`ids[]`, `filter[status]`): encoded, but with its brackets left readable, since
 * PHP, Rails and qs-style servers look for them and every parser decodes %5B the same way anyway.
 */
export function encodeBracketedName(name: string, encode: (text: string) => string): string {
  return encode(name).replace(/%5B/g, '[').replace(/%5D/g, ']');
}
