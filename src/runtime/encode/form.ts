// application/x-www-form-urlencoded bodies: fields by their Encoding Object, nested values in bracket notation.
import type { EncodingDef, MediaDef } from '../../model/action.js';
import { EncodeFailure } from './failure.js';
import { encodeBracketedName, encodeForm, encodeFormReserved } from './percent.js';
import { layOut, layoutOf, type Encode, type Layout } from './style.js';
import { contentText, entryText, isAbsent, isPlainObject, rebase, toText } from './text.js';

type FieldWriter = (out: string[], value: unknown) => void;

/**
 * Compiles the writer of a form body (OAS 3.1 Encoding Object, Appendix C and E). Per field:
 *
 * - no encoding entry: primitives as `k=v`; arrays of primitives as repeated keys (`a=1&a=2`, the default form
 *   explode, as Twilio reads them); objects and arrays holding objects in bracket notation (`metadata[key]=v`,
 *   `items[0][price]=p`), the convention of Stripe, Rails, PHP and qs. (OAS would send such an object as JSON text;
 *   no form API we know reads that, and an explicit `contentType: application/json` entry still does so.)
 * - `style: deepObject`: bracket notation at any depth, arrays with indices (`expand[0]=x`).
 * - `style: form` (explode true): as above, but an object's keys become fields of their own (`R=100&G=200`).
 * - explode false (form, spaceDelimited, pipeDelimited): one field, items joined by `,`, `%20` or `%7C`.
 * - only `contentType`: the value as JSON (JSON types) or text, form-encoded.
 *
 * Text follows WHATWG application/x-www-form-urlencoded (space as `+`, like URLSearchParams and Stripe's SDK);
 * `allowReserved` keeps RFC 3986 reserved characters raw except `& = + # [ ]`. Brackets Ductape writes stay
 * readable; brackets inside object keys taken from the data are encoded, so data cannot fake nesting. `null`
 * becomes an empty value (`k=`, how Stripe unsets a field); `undefined`, `[]` and `{}` send nothing.
 */
export function compileFormBody(media?: MediaDef): (value: unknown) => string {
  const fields = new Map<string, FieldWriter>();
  for (const [name, encoding] of Object.entries(media?.encoding ?? {})) {
    const writer = fieldWriter(name, encoding);
    if (writer) fields.set(name, writer);
  }
  return (value) => {
    if (typeof value === 'string') return value; // already encoded by the caller
    if (value instanceof URLSearchParams) return value.toString();
    if (!isPlainObject(value)) throw new EncodeFailure('a form body must be an object of fields');
    const out: string[] = [];
    for (const name in value) {
      const item = value[name];
      if (item === undefined) continue;
      try {
        const writer = fields.get(name);
        if (writer) writer(out, item);
        else writeDefault(out, encodeBracketedName(name, encodeForm), item, encodeForm);
      } catch (err) {
        throw rebase(err, name);
      }
    }
    return out.join('&');
  };
}

function fieldWriter(name: string, e: EncodingDef): FieldWriter | undefined {
  const styled = e.style !== undefined || e.explode !== undefined || e.allowReserved !== undefined;
  const encode: Encode = e.allowReserved ? encodeFormReserved : encodeForm;
  const key = encodeBracketedName(name, encodeForm);
  if (!styled) {
    const contentType = e.contentType;
    if (contentType === undefined) return undefined; // an entry with only `headers` (multipart-only) changes nothing
    return (out, value) => void out.push(`${key}=${encode(contentText(value, contentType))}`);
  }
  const style = e.style ?? 'form';
  const explode = e.explode ?? style === 'form';
  if (style === 'deepObject') return (out, value) => writeDeep(out, key, value, encode);
  const layout = explode ? undefined : layoutOf(style, false, key);
  if (layout) return (out, value) => writeJoined(out, layout, value, encode);
  // Exploded form, and the exploded delimited styles OAS leaves undefined: written as exploded form.
  return (out, value) => {
    if (!isPlainObject(value)) return writeDefault(out, key, value, encode);
    for (const k in value) {
      try {
        writeDefault(out, encodeBracketedName(k, encodeForm), value[k], encode);
      } catch (err) {
        throw rebase(err, k);
      }
    }
  };
}

function writeJoined(out: string[], layout: Layout, value: unknown, encode: Encode): void {
  if (Array.isArray(value) ? value.every(isAbsent) : isPlainObject(value) && Object.values(value).every(isAbsent)) return;
  out.push(layOut(value, layout, encode));
}

function writeDefault(out: string[], key: string, value: unknown, encode: Encode): void {
  if (value === undefined) return;
  if (Array.isArray(value)) {
    if (value.some(isStructured)) return writeDeep(out, key, value, encode);
    for (let i = 0; i < value.length; i++) {
      if (!isAbsent(value[i])) out.push(`${key}=${encode(entryText(value[i], i))}`);
    }
    return;
  }
  if (isPlainObject(value)) return writeDeep(out, key, value, encode);
  out.push(`${key}=${encode(toText(value))}`);
}

/** Bracket notation: `key[sub]=v`, `key[0][price]=p`, at any depth. */
function writeDeep(out: string[], key: string, value: unknown, encode: Encode): void {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (value[i] === undefined) continue;
      try {
        writeDeep(out, `${key}[${i}]`, value[i], encode);
      } catch (err) {
        throw rebase(err, i);
      }
    }
  } else if (isPlainObject(value)) {
    for (const k in value) {
      if (value[k] === undefined) continue;
      try {
        writeDeep(out, `${key}[${encodeForm(k)}]`, value[k], encode);
      } catch (err) {
        throw rebase(err, k);
      }
    }
  } else {
    out.push(`${key}=${encode(toText(value))}`);
  }
}

function isStructured(value: unknown): boolean {
  return Array.isArray(value) || isPlainObject(value);
}
