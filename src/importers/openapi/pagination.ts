// Pagination detected at import, only where the spec leaves no doubt (the rules are listed in docs/pagination.md).
import type { ParamDef } from '../../model/action.js';
import type { PaginationDef } from '../../model/pagination.js';
import { isObject, type Resolver } from './refs.js';

type Obj = Record<string, unknown>;

/**
 * The pagination of a GET operation, or undefined when no rule matches or more than one does.
 * @param op the raw operation; `params` its imported parameters.
 */
export function detectPagination(method: string, op: Obj, params: ParamDef[], resolver: Resolver, isSwagger: boolean): PaginationDef | undefined {
  if (method !== 'GET') return undefined;
  const response = firstSuccess(op, resolver);
  if (!response) return undefined;
  const query = new Set(params.filter((p) => p.in === 'query').map((p) => p.name));
  const props = properties(bodySchema(response, resolver, isSwagger), resolver);
  const found: PaginationDef[] = [];

  // 1. Stripe: { has_more: boolean, data: [] } and a starting_after query parameter.
  if (type(props.has_more, resolver) === 'boolean' && type(props.data, resolver) === 'array' && query.has('starting_after')) {
    found.push({ type: 'cursor', cursor: 'data[-1].id', param: 'query.starting_after', has_more: 'has_more', items: 'data' });
  }
  // 2. RFC 8288: the answer declares a Link header.
  const headers = isObject(response.headers) ? Object.keys(response.headers) : [];
  if (headers.some((h) => h.toLowerCase() === 'link')) found.push({ type: 'link' });
  // 3. A next URL beside exactly one list.
  const arrays = Object.keys(props).filter((k) => type(props[k], resolver) === 'array');
  const next = ['next', 'next_url'].filter((k) => {
    const s = resolver.deref<Obj>(props[k]);
    return s && type(s, resolver) === 'string' && (k === 'next' || s.format === 'uri' || s.format === 'uri-reference');
  });
  if (arrays.length === 1 && next.length === 1) found.push({ type: 'link', next: next[0] });
  // 4. A cursor query parameter and exactly one next_cursor in the answer (top level or one object down).
  if (query.has('cursor')) {
    const paths: string[] = Object.keys(props).filter((k) => k === 'next_cursor');
    for (const [k, v] of Object.entries(props)) if (Object.hasOwn(properties(v, resolver), 'next_cursor')) paths.push(`${k}.next_cursor`);
    if (paths.length === 1) found.push({ type: 'cursor', cursor: paths[0], param: 'query.cursor' });
  }
  return found.length === 1 ? found[0] : undefined;
}

function firstSuccess(op: Obj, resolver: Resolver): Obj | undefined {
  if (!isObject(op.responses)) return undefined;
  const code = Object.keys(op.responses).filter((c) => /^2(\d\d|XX)$/i.test(c)).sort()[0];
  return code === undefined ? undefined : resolver.deref<Obj>(op.responses[code]);
}

function bodySchema(response: Obj, resolver: Resolver, isSwagger: boolean): unknown {
  if (isSwagger) return response.schema;
  if (!isObject(response.content)) return undefined;
  const json = Object.keys(response.content).find((m) => /^application\/(.+\+)?json\b/i.test(m));
  return json === undefined ? undefined : resolver.deref<Obj>(response.content[json])?.schema;
}

function properties(schema: unknown, resolver: Resolver): Record<string, unknown> {
  const s = resolver.deref<Obj>(schema);
  return s && isObject(s.properties) ? s.properties : {};
}

function type(schema: unknown, resolver: Resolver): unknown {
  const s = resolver.deref<Obj>(schema);
  if (!s) return undefined;
  return Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;
}
