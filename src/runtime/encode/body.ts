// Request bodies: picks the writer for a media type once; the compiled function turns the input into bytes to send.
import type { MediaDef } from '../../model/action.js';
import { bytesOf, type Bytes } from './binary.js';
import { EncodeFailure, toInvalidInput } from './failure.js';
import { compileFormBody } from './form.js';
import { essence, mediaKind } from './media-type.js';
import { compileMultipartBody } from './multipart.js';
import { toJson, toText } from './text.js';
import type { EncodedBody, ValueEncoder } from './index.js';

const NO_BODY: EncodedBody = Object.freeze({ body: null });

/**
 * Compiles the body encoder for one media type of an action. `undefined` input sends no body. Bytes, Blobs and
 * streams are always sent as given (already encoded by the caller) with the declared type.
 *
 * - JSON and `+json` types: JSON text (a string is a JSON string: `"abc"`; give bytes to send pre-made JSON).
 * - application/x-www-form-urlencoded: see compileFormBody (bracket nesting, repeated keys, Encoding Object);
 *   a string or URLSearchParams is taken as already encoded.
 * - multipart/form-data: a FormData (see compileMultipartBody); contentType is left undefined so that undici
 *   writes it with the boundary.
 * - text/*: strings, numbers and booleans as text. XML types: strings only (Ductape has no XML serializer, and
 *   guessing element names from a JSON object would send the wrong document).
 * - ranges such as `*\/*` or `image/*`: bytes as `application/octet-stream` (or the Blob's own type), strings as
 *   text/plain, other values as JSON where the range admits it.
 * - any other type (octet-stream, image/png, application/pdf, other multipart types…): bytes, Blob, stream,
 *   `{ data, filename, contentType }` or a string.
 *
 * @example compileBodyEncoder('application/json')({ a: 1 }) // { body: '{"a":1}', contentType: 'application/json' }
 */
export function compileBodyEncoder(mediaType: string, media?: MediaDef): ValueEncoder<EncodedBody> {
  const write = pickWriter(mediaType, media);
  return (value) => {
    if (value === undefined) return NO_BODY;
    try {
      return write(value);
    } catch (err) {
      throw toInvalidInput(err, 'body', '');
    }
  };
}

function pickWriter(mediaType: string, media: MediaDef | undefined): (value: unknown) => EncodedBody {
  const kind = mediaKind(mediaType);
  switch (kind) {
    case 'json': {
      const contentType = mediaType.includes('*') ? 'application/json' : mediaType;
      return (value) => passthrough(value, contentType) ?? { body: toJson(value), contentType };
    }
    case 'form': {
      const writeForm = compileFormBody(media);
      return (value) => passthrough(value, mediaType) ?? { body: writeForm(value), contentType: mediaType };
    }
    case 'multipart': {
      const writeMultipart = compileMultipartBody(media);
      return (value) => ({ body: writeMultipart(value) });
    }
    case 'text':
      return (value) => passthrough(value, mediaType) ?? { body: textOf(value, 'a text body'), contentType: mediaType };
    case 'xml':
      return (value) => {
        const sent = passthrough(value, mediaType);
        if (sent) return sent;
        if (typeof value !== 'string') throw new EncodeFailure('an XML body must be given as a string (or bytes); Ductape does not turn objects into XML');
        return { body: value, contentType: mediaType };
      };
    case 'wildcard':
      return (value) => writeRange(essence(mediaType), value);
    case 'binary':
      return (value) => {
        if (typeof value === 'string') return { body: value, contentType: mediaType };
        const sent = passthrough(value, mediaType);
        if (sent) return sent;
        throw new EncodeFailure(`a ${essence(mediaType)} body must be bytes (Buffer, Uint8Array, ArrayBuffer), a Blob, a stream, a string or { data, filename, contentType }`);
      };
  }
}

/** Byte-like input goes out as it is, typed with the declared media type. */
function passthrough(value: unknown, contentType: string): EncodedBody | undefined {
  const bytes = bytesOf(value);
  return bytes && { body: bytes.body, contentType };
}

/** For a media range no Content-Type can name, the input decides: bytes, text or JSON. */
function writeRange(range: string, value: unknown): EncodedBody {
  const bytes: Bytes | undefined = bytesOf(value);
  if (bytes) return { body: bytes.body, contentType: bytes.type ?? 'application/octet-stream' };
  const anyType = range === '*/*';
  if (typeof value === 'string' && (anyType || range === 'text/*')) return { body: value, contentType: 'text/plain; charset=utf-8' };
  if (anyType || range === 'application/*') return { body: toJson(value), contentType: 'application/json' };
  throw new EncodeFailure(`a ${range} body must be bytes, a Blob or a stream`);
}

function textOf(value: unknown, what: string): string {
  if (typeof value === 'object' && value !== null && !(value instanceof Date)) {
    throw new EncodeFailure(`${what} must be a string; got ${Array.isArray(value) ? 'an array' : 'an object'}`);
  }
  return toText(value);
}
