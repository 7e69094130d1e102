// multipart/form-data bodies as a FormData: files, text fields, JSON parts and repeated parts for arrays.
import { FormData as UndiciFormData } from 'undici';
import type { EncodingDef, MediaDef, ParamStyle } from '../../model/action.js';
import { bytesOf } from './binary.js';
import { EncodeFailure } from './failure.js';
import { concreteType, isJsonMediaType } from './media-type.js';
import { DELIMITERS } from './style.js';
import { entryText, isAbsent, isPlainObject, rebase, toJson, toText } from './text.js';

/**
 * Compiles the writer of a multipart/form-data body. A FormData is passed through; an object becomes one part per
 * field (OAS 3.1 Encoding Object defaults):
 *
 * - files: a Blob/File, Buffer/Uint8Array/ArrayBuffer, or `{ data, filename, contentType }`. The part's type is the
 *   file's own, else the field's concrete `encoding.contentType`, else application/octet-stream; its filename is the
 *   given one (a File's name), else the field name.
 * - strings, numbers and booleans: text parts (text/plain by RFC 7578), or, when `encoding.contentType` names
 *   another concrete type, a part of that type.
 * - objects (and arrays inside arrays): JSON parts, `application/json` unless `encoding.contentType` names another
 *   JSON type. FormData cannot type a part without naming a file, so such parts carry `filename="blob"`.
 * - arrays: one part per item, all with the field's name. `null`/`undefined` fields and items are left out.
 * - an explicit `encoding.style` (OAS 3.1 applies it to multipart too; Stripe's 3.0 spec relies on it for
 *   `POST /v1/files`): `deepObject` sends an object or array as one text part per leaf named in brackets
 *   (`file_link_data[create]`, `expand[0]`), as Stripe's own SDKs do; explode false joins an array of primitives
 *   into one part with the style's delimiter (`a,b`; Swagger 2.0 formData arrays are csv unless `multi`).
 *
 * Streams are refused: a FormData needs a Blob (use `fs.openAsBlob(path)` for a file on disk).
 */
export function compileMultipartBody(media?: MediaDef): (value: unknown) => FormData {
  const encodings = media?.encoding ?? {};
  return (value) => {
    if (value instanceof FormData) return value;
    if (!isPlainObject(value)) throw new EncodeFailure('a multipart body must be an object of parts, or a FormData');
    const form = new FormData();
    for (const name in value) {
      const item = value[name];
      if (isAbsent(item)) continue;
      const encoding = Object.hasOwn(encodings, name) ? encodings[name] : undefined;
      try {
        if (encoding?.style === 'deepObject' && (Array.isArray(item) || isPlainObject(item))) appendDeep(form, name, item);
        else if (Array.isArray(item) && joins(encoding)) form.append(name, joined(item, encoding!.style!));
        else if (Array.isArray(item)) appendEach(form, name, item, encoding);
        else appendPart(form, name, item, encoding);
      } catch (err) {
        throw rebase(err, name);
      }
    }
    return form;
  };
}

/** A style that writes an array as one delimited value: form, space, pipe or tab-delimited with explode false. */
function joins(encoding: EncodingDef | undefined): boolean {
  const style = encoding?.style;
  return style !== undefined && DELIMITERS[style] !== undefined && (encoding!.explode ?? style === 'form') === false;
}

function joined(items: unknown[], style: ParamStyle): string {
  const texts: string[] = [];
  for (let i = 0; i < items.length; i++) if (!isAbsent(items[i])) texts.push(entryText(items[i], i));
  return texts.join(DELIMITERS[style]);
}

/** deepObject: `name[key]` and `name[0]` parts at any depth; leaves are text parts, or files when they are bytes. */
function appendDeep(form: FormData, name: string, value: unknown): void {
  const entries: [string, unknown][] = Array.isArray(value) ? value.map((v, i) => [String(i), v]) : Object.entries(value as Record<string, unknown>);
  for (const [key, item] of entries) {
    if (isAbsent(item)) continue;
    try {
      if (Array.isArray(item) || isPlainObject(item)) appendDeep(form, `${name}[${key}]`, item);
      else appendPart(form, `${name}[${key}]`, item, undefined);
    } catch (err) {
      throw rebase(err, key);
    }
  }
}

function appendEach(form: FormData, name: string, items: unknown[], encoding: EncodingDef | undefined): void {
  for (let i = 0; i < items.length; i++) {
    if (isAbsent(items[i])) continue;
    try {
      appendPart(form, name, items[i], encoding);
    } catch (err) {
      throw rebase(err, i);
    }
  }
}

function appendPart(form: FormData, name: string, value: unknown, encoding: EncodingDef | undefined): void {
  const declared = concreteType(encoding?.contentType);
  const file = bytesOf(value);
  if (file) {
    if (!(file.body instanceof Blob) && typeof file.body !== 'string' && !(file.body instanceof Uint8Array)) {
      throw new EncodeFailure('a stream cannot be a multipart part; give a Blob (fs.openAsBlob(path)) or a Buffer');
    }
    const type = file.type ?? declared ?? 'application/octet-stream';
    const blob = file.body instanceof Blob && file.body.type === type ? file.body : new Blob([file.body], { type });
    form.append(name, blob, file.filename ?? name);
    return;
  }
  if (Array.isArray(value) || isPlainObject(value)) {
    const type = declared ?? 'application/json';
    if (!isJsonMediaType(type)) throw new EncodeFailure(`an object cannot be sent as a ${type} part; give a string, bytes or a Blob`);
    form.append(name, new Blob([toJson(value)], { type }));
    return;
  }
  if (declared === undefined || declared.toLowerCase().startsWith('text/plain')) {
    form.append(name, toText(value));
    return;
  }
  const text = isJsonMediaType(declared) ? toJson(value) : toText(value);
  form.append(name, new Blob([text], { type: declared }), name);
}

/**
 * The FormData to hand to undici's dispatcher. On Node 20/22 the global FormData belongs to Node's bundled undici, and
 * the undici package's body extractor does not recognize it (every such request failed with "action is not a
 * function"), so a global FormData is copied, entry by entry, into the package's own FormData. Other bodies pass.
 */
export function forDispatcher<T>(body: T): T | UndiciFormData {
  if (!(body instanceof FormData) || body instanceof UndiciFormData) return body;
  const copy = new UndiciFormData();
  for (const [name, value] of body.entries()) {
    if (typeof value === 'string') copy.append(name, value);
    else copy.append(name, value, value.name);
  }
  return copy;
}
