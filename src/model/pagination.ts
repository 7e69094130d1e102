// Pagination definitions of list actions (API.md §11): the shapes, their checks, and the pure "what is the next page".
import { fail } from './definitions.js';
import { asLiteral } from './placeholders.js';

/** Where a value goes in the next request: `query.cursor`, `headers.x-page`, `body.page.after`. */
type Target = string;
/** Where a value is read from the parsed response body: `next_cursor`, `meta.next`, `data[-1].id`. */
type ResponsePath = string;

/**
 * How an action's list is walked (docs/pagination.md).
 * @example { type: 'cursor', cursor: 'data[-1].id', param: 'query.starting_after', has_more: 'has_more', items: 'data' } // Stripe
 */
export type PaginationDef =
  | { type: 'cursor'; cursor: ResponsePath; param: Target; has_more?: ResponsePath; items?: ResponsePath }
  | { type: 'offset'; param: Target; items: ResponsePath; limit_param?: Target }
  | { type: 'page'; param: Target; items: ResponsePath; start?: number; limit_param?: Target }
  | { type: 'link'; next?: ResponsePath };

const FIELDS: Record<PaginationDef['type'], { required: string[]; optional: string[] }> = {
  cursor: { required: ['cursor', 'param'], optional: ['has_more', 'items'] },
  offset: { required: ['param', 'items'], optional: ['limit_param'] },
  page: { required: ['param', 'items'], optional: ['start', 'limit_param'] },
  link: { required: [], optional: ['next'] },
};
const TARGET = /^(query|headers|body)\.[^.\s][^\s]*$/;
const SEGMENT = /^[^.[\]\s]+|\[-?\d+\]/g;

/** Checks a `pagination` definition (CONFIG_ERROR naming the field); null stays null (removal). */
export function checkPagination(field: string, raw: unknown): PaginationDef | null {
  if (raw === null) return null;
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) fail(field, "expected { type: 'cursor' | 'offset' | 'page' | 'link', … }");
  const def = raw as Record<string, unknown>;
  const spec = FIELDS[def.type as PaginationDef['type']];
  if (!spec || !Object.hasOwn(FIELDS, def.type as string)) fail(`${field}.type`, `expected cursor, offset, page or link (got ${JSON.stringify(def.type)})`);
  for (const k of Object.keys(def)) {
    if (k !== 'type' && !spec.required.includes(k) && !spec.optional.includes(k)) fail(`${field}.${k}`, `unknown field for type ${String(def.type)}; accepted: ${[...spec.required, ...spec.optional].join(', ')}`);
  }
  for (const k of spec.required) if (def[k] === undefined) fail(`${field}.${k}`, `required for type ${String(def.type)}`);
  for (const k of ['param', 'limit_param']) {
    if (def[k] !== undefined && (typeof def[k] !== 'string' || !TARGET.test(def[k] as string))) fail(`${field}.${k}`, `expected "query.<name>", "headers.<name>" or "body.<path>" (got ${JSON.stringify(def[k])})`);
  }
  for (const k of ['cursor', 'has_more', 'items', 'next']) if (def[k] !== undefined) parsePath(`${field}.${k}`, def[k]);
  if (def.start !== undefined && !Number.isInteger(def.start)) fail(`${field}.start`, 'expected a whole number (the first page, usually 0 or 1)');
  return def as PaginationDef;
}

/** `data[-1].id` → ['data', -1, 'id']: names and (negative from the end) array indexes. */
export function parsePath(field: string, path: unknown): (string | number)[] {
  if (typeof path !== 'string' || path === '') fail(field, 'expected a response path like "next_cursor", "meta.next" or "data[-1].id"');
  const out: (string | number)[] = [];
  for (const part of path.split('.')) {
    const segs = part.match(SEGMENT);
    if (!segs || segs.join('') !== part) fail(field, `"${path}" is not a path like "meta.next" or "data[-1].id"`);
    for (const s of segs) out.push(s.startsWith('[') ? Number(s.slice(1, -1)) : s);
  }
  return out;
}

/** The value at `path` in `body` (undefined when any step is missing). */
export function readPath(body: unknown, path: string): unknown {
  let v: unknown = body;
  for (const seg of parsePath('path', path)) {
    if (typeof seg === 'number') {
      if (!Array.isArray(v)) return undefined;
      v = v[seg < 0 ? v.length + seg : seg];
    } else {
      if (!v || typeof v !== 'object' || !Object.hasOwn(v, seg)) return undefined;
      v = (v as Record<string, unknown>)[seg];
    }
  }
  return v;
}

/** What a run's input looks like to pagination. */
export interface PageInput {
  query?: Record<string, unknown>;
  headers?: Record<string, unknown>;
  body?: unknown;
  [k: string]: unknown;
}

/** A copy of `input` with `value` at `target` (`query.cursor`, `body.page.after`…); the caller's input is never changed. */
export function withTarget<T extends PageInput>(input: T, target: string, value: unknown): T {
  const [loc, ...rest] = target.split('.');
  const name = rest.join('.');
  if (loc === 'headers') {
    // Header names are case-insensitive: the new value replaces the caller's `X-Page` rather than joining it.
    const headers = Object.fromEntries(Object.entries(input.headers ?? {}).filter(([k]) => k.toLowerCase() !== name.toLowerCase()));
    return { ...input, headers: { ...headers, [name]: value } };
  }
  if (loc !== 'body') return { ...input, [loc]: { ...((input[loc] as object) ?? {}), [name]: value } };
  const body = { ...((input.body && typeof input.body === 'object' ? input.body : {}) as Record<string, unknown>) };
  let node = body;
  for (const key of rest.slice(0, -1)) node = node[key] = { ...((node[key] as object) ?? {}) } as Record<string, unknown>;
  node[rest[rest.length - 1]] = value;
  return { ...input, body };
}

/** The value the caller gave at `target`, if any (the first page's offset, page or limit). */
export function readTarget(input: PageInput, target: string): unknown {
  const [loc, ...rest] = target.split('.');
  if (loc !== 'body') {
    const at = input[loc] as Record<string, unknown> | undefined;
    if (!at) return undefined;
    if (loc === 'headers') for (const [k, v] of Object.entries(at)) if (k.toLowerCase() === rest.join('.').toLowerCase()) return v;
    return at[rest.join('.')];
  }
  return readPath(input.body, rest.join('.'));
}

/** A page past the first whose items are an empty list only says "the end": it is not yielded. */
export function isEndMarker(def: PaginationDef, body: unknown): boolean {
  if (!('items' in def) || def.items === undefined) return false;
  const items = readPath(body, def.items);
  return Array.isArray(items) && items.length === 0;
}

/** The next page: new input, a URL to follow (link), or undefined when this was the last page. */
export type NextPage = { input: PageInput } | { url: string } | undefined;

/**
 * Decides the next page from this page's input and answer. Pure; docs/pagination.md states the stop rules.
 * @example nextPage({ type: 'page', param: 'query.page', items: 'data' }, { query: { page: 2 } }, { data: [1] }, {}) // { input: { query: { page: 3 } } }
 */
export function nextPage(def: PaginationDef, input: PageInput, body: unknown, headers: Record<string, string | string[] | undefined>): NextPage {
  const items = 'items' in def && def.items !== undefined ? readPath(body, def.items) : undefined;
  const count = Array.isArray(items) ? items.length : undefined;
  switch (def.type) {
    case 'cursor': {
      if (def.has_more !== undefined && readPath(body, def.has_more) !== true) return undefined;
      if (count === 0) return undefined;
      const cursor = readPath(body, def.cursor);
      if (cursor === undefined || cursor === null || cursor === '' || typeof cursor === 'object') return undefined;
      // The cursor is the upstream's data: a "$Session{user}{email}" in it must be sent back as that text.
      return { input: withTarget(input, def.param, asLiteral(cursor)) };
    }
    case 'offset':
    case 'page': {
      if (!count) return undefined;
      const limit = def.limit_param !== undefined ? Number(readTarget(input, def.limit_param)) : NaN;
      if (count < limit) return undefined; // a short page is the last one
      const given = Number(readTarget(input, def.param));
      const current = Number.isFinite(given) ? given : def.type === 'offset' ? 0 : (def.start ?? 1);
      return { input: withTarget(input, def.param, def.type === 'offset' ? current + count : current + 1) };
    }
    case 'link': {
      const next = def.next !== undefined ? readPath(body, def.next) : linkNext(headers.link);
      return typeof next === 'string' && next !== '' ? { url: next } : undefined;
    }
  }
}

/** The `rel="next"` target of an RFC 8288 Link header (one or several header lines, several links each). */
export function linkNext(link: string | string[] | undefined): string | undefined {
  for (const line of Array.isArray(link) ? link : link ? [link] : []) {
    for (const m of line.matchAll(/<([^>]*)>((?:\s*;\s*[^;,]+(?:=(?:"[^"]*"|[^;,]*))?)*)/g)) {
      const rel = /;\s*rel\s*=\s*(?:"([^"]*)"|([^;,\s]+))/i.exec(m[2]);
      if (rel && (rel[1] ?? rel[2]).toLowerCase().split(/\s+/).includes('next')) return m[1];
    }
  }
  return undefined;
}
