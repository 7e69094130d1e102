// Recognizing the byte-like inputs a body or a multipart file may be given as.
import { Readable } from 'node:stream';
import { isPlainObject } from './text.js';

/** Bytes ready to send, with the media type the input itself carries (a Blob's type, a file object's contentType). */
export interface Bytes {
  body: Uint8Array | Blob | Readable | string;
  type?: string;
  filename?: string;
}

/**
 * Whether `value` is bytes or a stream of them (what `bytesOf` takes, file objects aside). A test only: it converts
 * nothing, since turning a web ReadableStream into a Node stream locks it, and bytesOf must still be able to.
 */
export function isBytes(value: unknown): boolean {
  return ArrayBuffer.isView(value) || value instanceof ArrayBuffer || value instanceof Blob || value instanceof Readable || value instanceof ReadableStream;
}

/** Whether `bytesOf(value)` would give bytes: bytes, a stream, or a `{ data, filename?, contentType? }` file object. */
export function isByteInput(value: unknown): boolean {
  return isBytes(value) || isFileObject(value);
}

/**
 * The byte content of `value` if it is byte-like: Buffer/Uint8Array (sent as is), ArrayBuffer or another view
 * (viewed, not copied), Blob/File, a Node Readable or web ReadableStream, or a file object
 * `{ data, filename?, contentType? }` wrapping one of those or a string. Anything else gives undefined.
 */
export function bytesOf(value: unknown): Bytes | undefined {
  if (value instanceof Uint8Array) return { body: value };
  if (value instanceof ArrayBuffer) return { body: new Uint8Array(value) };
  if (ArrayBuffer.isView(value)) return { body: new Uint8Array(value.buffer, value.byteOffset, value.byteLength) };
  if (value instanceof Blob) return { body: value, type: value.type || undefined, filename: fileName(value) };
  if (value instanceof Readable) return { body: value };
  if (value instanceof ReadableStream) return { body: Readable.fromWeb(value as import('node:stream/web').ReadableStream) };
  if (isFileObject(value)) {
    const inner = typeof value.data === 'string' ? { body: value.data } : (bytesOf(value.data) as Bytes);
    return { body: inner.body, type: value.contentType ?? inner.type, filename: value.filename ?? inner.filename };
  }
  return undefined;
}

interface FileObject {
  data: unknown;
  filename?: string;
  contentType?: string;
}

const FILE_KEYS: ReadonlySet<string> = new Set(['data', 'filename', 'contentType']);

/**
 * `{ data, filename, contentType }` as API.md describes file inputs. Only objects with no other keys qualify, and a
 * string `data` only with a filename or contentType, so that a JSON field that happens to be called `data` is not
 * mistaken for a file.
 */
function isFileObject(value: unknown): value is FileObject {
  if (!isPlainObject(value) || !('data' in value)) return false;
  for (const key in value) if (!FILE_KEYS.has(key)) return false;
  const { data, filename, contentType } = value;
  if (filename !== undefined && typeof filename !== 'string') return false;
  if (contentType !== undefined && typeof contentType !== 'string') return false;
  if (typeof data === 'string') return filename !== undefined || contentType !== undefined;
  return isBytes(data);
}

function fileName(blob: Blob): string | undefined {
  const name = (blob as { name?: unknown }).name;
  return typeof name === 'string' && name !== '' ? name : undefined;
}

/**
 * Whether a body can be sent a second time. A stream is consumed by its first attempt: a retry would send it empty
 * (and a PUT would store nothing), so runs with stream bodies are never retried.
 */
export function isReplayable(body: unknown): boolean {
  if (body === null || body === undefined || typeof body === 'string' || body instanceof Uint8Array) return true;
  if (typeof Blob !== 'undefined' && body instanceof Blob) return true;
  if (typeof FormData !== 'undefined' && body instanceof FormData) return true;
  return !(typeof (body as { pipe?: unknown }).pipe === 'function' || typeof (body as { getReader?: unknown }).getReader === 'function' || Symbol.asyncIterator in (body as object));
}
