// The RFC 6570-derived styles (simple, label, matrix, form, space/pipe/tab-delimited) as one table-driven joiner.
import type { ParamStyle } from '../../model/action.js';
import { entryText, isAbsent, isPlainObject, toText } from './text.js';

export type Encode = (text: string) => string;

/**
 * How one style writes a value, as data. Every non-exploded style, and the exploded ones whose output stays one
 * string, differ only in these strings (OAS 3.1 §4.8.12.4 Style Examples):
 * prefix before the first array item, sep between items, the same two for objects, the text between a key and its
 * value, and what an empty or undefined value becomes.
 */
export interface Layout {
  prefix: string;
  sep: string;
  objPrefix: string;
  objSep: string;
  kv: string;
  empty: string;
}

/** The layout of `style` × `explode` for a parameter whose encoded name is `name`; undefined if it has none. */
export function layoutOf(style: ParamStyle, explode: boolean, name: string): Layout | undefined {
  switch (style) {
    case 'simple':
      return { prefix: '', sep: ',', objPrefix: '', objSep: ',', kv: explode ? '=' : ',', empty: '' };
    case 'label':
      return explode
        ? { prefix: '.', sep: '.', objPrefix: '.', objSep: '.', kv: '=', empty: '.' }
        : { prefix: '.', sep: ',', objPrefix: '.', objSep: ',', kv: ',', empty: '.' };
    case 'matrix':
      return explode
        ? { prefix: `;${name}=`, sep: `;${name}=`, objPrefix: ';', objSep: ';', kv: '=', empty: `;${name}` }
        : { prefix: `;${name}=`, sep: ',', objPrefix: `;${name}=`, objSep: ',', kv: ',', empty: `;${name}` };
    case 'form':
      // Only the non-exploded form is one string; exploded form is written piece by piece by its caller.
      return explode ? undefined : delimited(name, ',');
    case 'spaceDelimited':
      return explode ? undefined : delimited(name, '%20');
    case 'pipeDelimited':
      return explode ? undefined : delimited(name, '%7C');
    case 'tabDelimited':
      return explode ? undefined : delimited(name, '%09');
    default:
      return undefined;
  }
}

/** The character between the items of an array that a style writes as one value (explode false), before any encoding. */
export const DELIMITERS: Partial<Record<ParamStyle, string>> = { form: ',', spaceDelimited: ' ', pipeDelimited: '|', tabDelimited: '\t' };

/**
 * Swagger 2.0 `collectionFormat` ssv, tsv and pipes on a path or header parameter (Ductape's delimited styles there):
 * `simple` with the items joined by that delimiter, written through `encode` (raw in a header, `%7C` in a path).
 * OAS 3 defines these styles for query parameters only; undefined for every other style.
 */
export function delimitedSimple(style: ParamStyle, encode: Encode): Layout | undefined {
  const ch = style === 'form' ? undefined : DELIMITERS[style];
  if (ch === undefined) return undefined;
  const sep = encode(ch);
  return { prefix: '', sep, objPrefix: '', objSep: sep, kv: sep, empty: '' };
}

function delimited(name: string, sep: string): Layout {
  return { prefix: `${name}=`, sep, objPrefix: `${name}=`, objSep: sep, kv: sep, empty: `${name}=` };
}

/**
 * Writes `value` by `layout`. Undefined and null entries are left out (RFC 6570 §2.3); a value that is undefined,
 * null, the empty string, or a list or map with nothing left in it becomes `layout.empty`.
 */
export function layOut(value: unknown, layout: Layout, encode: Encode): string {
  if (value === undefined || value === null || value === '') return layout.empty;
  if (Array.isArray(value)) {
    let out = '';
    let n = 0;
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      if (isAbsent(item)) continue;
      out += (n++ === 0 ? layout.prefix : layout.sep) + encode(entryText(item, i));
    }
    return n === 0 ? layout.empty : out;
  }
  if (isPlainObject(value)) {
    let out = '';
    let n = 0;
    for (const key in value) {
      const item = value[key];
      if (isAbsent(item)) continue;
      out += (n++ === 0 ? layout.objPrefix : layout.objSep) + encode(key) + layout.kv + encode(entryText(item, key));
    }
    return n === 0 ? layout.empty : out;
  }
  return layout.prefix + encode(toText(value));
}

/** Identity encoder, for headers: OAS 3.1.2 Appendix D, percent-encoding never applied to header values. */
export function asIs(text: string): string {
  return text;
}
