// Query parameters: form (exploded or not), space/pipe/tab-delimited and deepObject, as encoded `k=v` pieces.
import type { ParamDef, ParamStyle } from '../../model/action.js';
import { ConfigError } from '../../errors.js';
import { pointer, toInvalidInput } from './failure.js';
import { encodeBracketedName, encodeReserved, encodeStrict } from './percent.js';
import { layOut, layoutOf, type Encode } from './style.js';
import { contentText, entryText, isAbsent, isEmptyCollection, isPlainObject, rebase, toText } from './text.js';
import type { ValueEncoder } from './index.js';

const QUERY_STYLES: ReadonlySet<ParamStyle> = new Set(['form', 'spaceDelimited', 'pipeDelimited', 'tabDelimited', 'deepObject']);

/**
 * Compiles the encoder for one query parameter. It returns encoded `k=v` pieces; the caller joins them with `&`.
 *
 * - Names are percent-encoded, except that brackets stay readable (`ids[]`, `filter[status]`): the spec author
 *   wrote them for PHP/Rails/qs-style servers, which look for them.
 * - Values follow RFC 3986 (space as `%20`, as RFC 6570 and the OAS Style Examples table write it), or RFC 6570
 *   reserved expansion with `allowReserved` (`[ ] # & = +` stay encoded).
 * - `undefined`, `[]` and `{}` send nothing (RFC 6570 §2.3, OAS Appendix C); `null` and `''` send `name=`.
 * - deepObject writes brackets as `%5B`/`%5D`, byte for byte as the OAS table does, nests deeper objects as
 *   `a[b][c]`, and arrays with indices (`expand[0]=x`, as Stripe's API reads them). A primitive is sent as `name=v`
 *   (Stripe's `created` is either `created=123` or `created[gt]=123`).
 * - Exploded space/pipe/tab-delimited styles are undefined by OAS; they are written like exploded form.
 * - `content`-encoded parameters (`contentType`) send the value's JSON or text as one encoded value.
 *
 * @example compileQueryParam({ name: 'color', in: 'query', explode: false })(['a', 'b']) // ['color=a,b']
 */
export function compileQueryParam(p: ParamDef): ValueEncoder<string[]> {
  const where = pointer(p.name);
  const name = encodeBracketedName(p.name, encodeStrict);
  const encode: Encode = p.allowReserved ? encodeReserved : encodeStrict;
  const style = p.style ?? 'form';
  if (!QUERY_STYLES.has(style)) {
    throw new ConfigError(`Query parameter "${p.name}" has style "${style}"; query parameters use form, spaceDelimited, pipeDelimited or deepObject (OpenAPI 3.1 §4.8.12.4).`, {
      parameter: p.name,
      style,
    });
  }
  const write = pickWriter(p, style, name, encode);
  return (value) => {
    if (value === undefined) return [];
    try {
      return write(value);
    } catch (err) {
      throw toInvalidInput(err, 'query', where);
    }
  };
}

function pickWriter(p: ParamDef, style: ParamStyle, name: string, encode: Encode): (value: unknown) => string[] {
  const contentType = p.contentType;
  if (contentType !== undefined) return (value) => [`${name}=${encode(contentText(value, contentType))}`];
  if (style === 'deepObject') return (value) => writeDeepObject(value, name, encode);
  const explode = p.explode ?? style === 'form';
  const layout = layoutOf(style, explode, name);
  if (layout) return (value) => (isEmptyCollection(value) ? [] : [layOut(value, layout, encode)]);
  const empty = `${name}=`;
  return (value) => writeExplodedForm(value, name, empty, encode);
}

/** Exploded form: one `name=item` per array item; an object's own keys become the names (`R=100&G=200`). */
function writeExplodedForm(value: unknown, name: string, empty: string, encode: Encode): string[] {
  if (value === null || value === '') return [empty];
  if (Array.isArray(value)) return repeated(value, `${name}=`, encode);
  if (!isPlainObject(value)) return [`${name}=${encode(toText(value))}`];
  const out: string[] = [];
  for (const key in value) {
    const item = value[key];
    if (isAbsent(item)) continue;
    const prefix = `${encode(key)}=`;
    // An array under an exploded key repeats that key, as exploded form does at the top level.
    if (Array.isArray(item)) {
      try {
        out.push(...repeated(item, prefix, encode));
      } catch (err) {
        throw rebase(err, key);
      }
    } else out.push(prefix + encode(entryText(item, key)));
  }
  return out;
}

function repeated(items: unknown[], prefix: string, encode: Encode): string[] {
  const out: string[] = [];
  for (let i = 0; i < items.length; i++) {
    if (!isAbsent(items[i])) out.push(prefix + encode(entryText(items[i], i)));
  }
  return out;
}

function writeDeepObject(value: unknown, name: string, encode: Encode): string[] {
  if (value === null || value === '') return [`${name}=`];
  if (!Array.isArray(value) && !isPlainObject(value)) return [`${name}=${encode(toText(value))}`];
  const out: string[] = [];
  deep(value, name, encode, out);
  return out;
}

function deep(value: unknown, key: string, encode: Encode, out: string[]): void {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (value[i] === undefined) continue;
      try {
        deep(value[i], `${key}%5B${i}%5D`, encode, out);
      } catch (err) {
        throw rebase(err, i);
      }
    }
  } else if (isPlainObject(value)) {
    for (const k in value) {
      if (value[k] === undefined) continue;
      try {
        deep(value[k], `${key}%5B${encodeStrict(k)}%5D`, encode, out);
      } catch (err) {
        throw rebase(err, k);
      }
    }
  } else {
    out.push(`${key}=${encode(toText(value))}`);
  }
}
