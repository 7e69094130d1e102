// Turning one primitive into text, the single rule every style, header and form encoder shares.
import { isBytes } from './binary.js';
import { EncodeFailure, pointer } from './failure.js';
import { isJsonMediaType } from './media-type.js';

/**
 * Text form of a primitive. Numbers and booleans are written as JSON writes them (`1.5`, `true`), which is what
 * every server-side form and query parser reads back as the schema's type (OAS 3.1 Appendix B leaves the
 * conversion to us). Dates become ISO 8601 text, and other objects whose `toJSON()` gives a primitive that text (as a JSON
 * body writes them); `null` is the empty string (the OAS "undefined" column).
 */
export function toText(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw new EncodeFailure(`${value} is not a finite number and has no text form`);
      return String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return value.toString();
    case 'object':
      if (value === null) return '';
      if (value instanceof Date) {
        if (Number.isNaN(value.getTime())) throw new EncodeFailure('is an invalid Date');
        return value.toISOString();
      }
      // A value object that says how JSON writes it (a decimal, a Luxon or Day.js date): the same text here.
      if (!Array.isArray(value) && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
        const json = (value as { toJSON: () => unknown }).toJSON();
        if (typeof json === 'string' || typeof json === 'number' || typeof json === 'boolean') return toText(json);
      }
      throw new EncodeFailure(
        `${Array.isArray(value) ? 'an array' : 'an object'} cannot be written here: this style needs a string, number or boolean`,
      );
    default:
      throw new EncodeFailure(`a ${typeof value} cannot be sent as text`);
  }
}

/** toText for the entry `key` of an array or object, so that a failure names the entry. */
export function entryText(value: unknown, key: string | number): string {
  try {
    return toText(value);
  } catch (err) {
    throw rebase(err, key);
  }
}

/** Prefixes a failure's subpath with `/key`, as it propagates up out of a nested value. */
export function rebase(err: unknown, key: string | number): unknown {
  return err instanceof EncodeFailure ? new EncodeFailure(err.message, pointer(String(key)) + err.subpath) : err;
}

/** A plain object (not an array, Date, byte buffer, Blob or stream): the only kind that styles spread into keys. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Array items and object entries that are undefined or null are left out, as RFC 6570 §2.3 leaves out undefined values. */
export function isAbsent(value: unknown): boolean {
  return value === undefined || value === null;
}

/**
 * An array or map with nothing but undefined and null in it: RFC 6570 §2.3 counts it as undefined, so a query, header
 * or cookie parameter given one is left out (OAS Appendix C), as if the caller had not given it.
 */
export function isEmptyCollection(value: unknown): boolean {
  if (Array.isArray(value)) return !value.some((v) => !isAbsent(v));
  if (isPlainObject(value)) {
    for (const key in value) if (!isAbsent(value[key])) return false;
    return true;
  }
  return false;
}

/**
 * JSON text of a value, with the two failures JSON.stringify can have (cycles, BigInt) reported as input errors, and
 * bytes refused: JSON has no form for them, and JSON.stringify would write a Buffer as `{"type":"Buffer","data":[…]}`,
 * a Uint8Array as `{"0":…}` and a Blob or stream as `{}`, none of which the API's string field expects.
 */
export function toJson(value: unknown): string {
  refuseBytes(value, 0);
  try {
    const text = JSON.stringify(value);
    if (text === undefined) throw new EncodeFailure(`a ${typeof value} has no JSON form`);
    return text;
  } catch (err) {
    if (err instanceof EncodeFailure) throw err;
    throw new EncodeFailure(`cannot be written as JSON: ${(err as Error).message}`);
  }
}

// Plain arrays and objects are recognised first: they are nearly every node of a body, and the byte checks (a chain
// of instanceof walks) are then paid only by the rare other object. Any object with pipe() counts as a stream.
function refuseBytes(value: unknown, depth: number): void {
  if (typeof value !== 'object' || value === null || depth > 64) return;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      try {
        refuseBytes(value[i], depth + 1);
      } catch (err) {
        throw rebase(err, i);
      }
    }
  } else if (isPlainObject(value)) {
    for (const key in value) {
      try {
        refuseBytes(value[key], depth + 1);
      } catch (err) {
        throw rebase(err, key);
      }
    }
  } else if (isBytes(value) || typeof (value as { pipe?: unknown }).pipe === 'function') {
    throw new EncodeFailure('is bytes (a Buffer, Blob or stream), which JSON cannot carry; give text, e.g. the base64 of the bytes');
  }
}


/** The text of a `content`-encoded parameter (OAS Parameter `content`): JSON for JSON types, plain text otherwise. */
export function contentText(value: unknown, contentType: string): string {
  return isJsonMediaType(contentType) ? toJson(value) : toText(value);
}
