// Response bytes → the value `actions.run` resolves to, chosen by the response's Content-Type.
import { essence, mediaKind } from './encode/media-type.js';

// Textual types that do not say so in their type name.
const TEXTUAL_APPLICATION_TYPES: ReadonlySet<string> = new Set([
  'application/x-www-form-urlencoded',
  'application/javascript',
  'application/ecmascript',
  'application/yaml',
  'application/x-yaml',
  'application/x-ndjson',
  'application/graphql',
]);

const CHARSET = /;\s*charset\s*=\s*"?([^";\s]+)"?/i;

/**
 * Decodes a response body (API.md §4: "JSON parsed, text/* as a string, anything else as bytes; an empty body as
 * null"):
 *
 * - empty body (a 204, a HEAD answer, Content-Length: 0) → `null`, whatever the type says;
 * - JSON and `+json` types → the parsed value. Text that is not valid JSON is returned as the string itself, so the
 *   caller still sees what the server sent (an error page behind a JSON type, say) and decides what it means;
 * - `text/*`, XML types, form-urlencoded and a few textual application types → a string, decoded with the
 *   `charset` parameter when it names one the runtime knows (UTF-8 otherwise; a BOM is dropped);
 * - anything else, and no Content-Type at all → a Buffer over the same bytes (no copy).
 *
 * @example decodeBody('application/json; charset=utf-8', Buffer.from('{"a":1}')) // { a: 1 }
 */
export function decodeBody(contentType: string | undefined, body: Uint8Array | Buffer | string): unknown {
  // A string is a body already read as UTF-8 text (send.ts, for the types isUtf8Text() names), BOM dropped.
  if (typeof body === 'string') {
    if (body.length === 0) return null;
    return contentType !== undefined && mediaKind(contentType) === 'json' ? parseJson(body) : body;
  }
  if (body.byteLength === 0) return null;
  if (contentType === undefined || contentType === '') return asBuffer(body);
  const kind = mediaKind(contentType);
  if (kind === 'json') return parseJson(decodeText(contentType, body));
  if (isTextual(contentType, kind)) return decodeText(contentType, body);
  return asBuffer(body);
}

/**
 * What decodeBody makes of a body of this declared media type: a JSON value, a string, bytes, or (for a range such as
 * `*\/*`, where the server's actual type decides) any of them. The types `ductape types` writes follow it.
 */
export function decodedAs(mediaType: string): 'json' | 'text' | 'bytes' | 'any' {
  const kind = mediaKind(mediaType);
  if (kind === 'json') return 'json';
  if (kind === 'wildcard') return 'any';
  return isTextual(mediaType, kind) ? 'text' : 'bytes';
}

/**
 * Whether decodeBody turns this type into UTF-8 text (a JSON value or a string): then the body can be read as text
 * straight from the socket's chunks (undici's text(): no copy into a fresh ArrayBuffer, as bytes() makes).
 */
export function isUtf8Text(contentType: string | undefined): boolean {
  if (contentType === undefined || contentType === '') return false;
  const kind = mediaKind(contentType);
  if (kind !== 'json' && !isTextual(contentType, kind)) return false;
  const charset = CHARSET.exec(contentType)?.[1]?.toLowerCase();
  return charset === undefined || charset === 'utf-8' || charset === 'utf8';
}

/** The Content-Type of a response's headers (the first, when a server sent several). */
export function contentTypeOf(headers: Record<string, string | string[] | undefined>): string | undefined {
  const ct = headers['content-type'];
  return Array.isArray(ct) ? ct[0] : ct;
}

function isTextual(contentType: string, kind: string): boolean {
  return kind === 'text' || kind === 'xml' || kind === 'form' || TEXTUAL_APPLICATION_TYPES.has(essence(contentType));
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function decodeText(contentType: string, bytes: Uint8Array): string {
  const charset = CHARSET.exec(contentType)?.[1]?.toLowerCase();
  if (charset && charset !== 'utf-8' && charset !== 'utf8') {
    try {
      return new TextDecoder(charset).decode(bytes);
    } catch {
      // An unknown label (RangeError): UTF-8 is the best guess and never throws.
    }
  }
  return utf8(bytes);
}

/**
 * UTF-8 as TextDecoder('utf-8') decodes it (a leading BOM dropped, bad sequences → U+FFFD: the same WHATWG rules), at
 * a fraction of its cost for the small bodies of most answers.
 */
function utf8(bytes: Uint8Array): string {
  const start = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  return asBuffer(bytes).toString('utf8', start);
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
