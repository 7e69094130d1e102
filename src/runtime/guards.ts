// Input guards: input the action cannot use is refused rather than sent as is or silently dropped (issue #14).
//
// A misspelt query key (`limt: 5`) would otherwise reach the upstream, which usually ignores it and answers with the
// default page; a body on a GET would be dropped by the encoder. Both are refused with INVALID_INPUT and a
// did-you-mean. Undeclared headers stay allowed: tracing and vendor headers (traceparent, X-Request-Id) are legitimate.
// The guard is compiled once per plan; checking it is one set lookup per given key.
import { closest, type Issue } from '../errors.js';
import type { ActionDef, ParamDef } from '../model/action.js';
import type { IActionRequest } from './context.js';

export interface InputGuard {
  /** Declared query names, or undefined when the action does not declare its query (any key is sent). */
  readonly query?: ReadonlySet<string>;
  /** Path parameter names (the template's), or undefined when unknown keys are allowed. */
  readonly params?: ReadonlySet<string>;
  /** Why a body is refused, or undefined when the action takes one (or does not say). */
  readonly noBody?: string;
  /** `app.event`, for messages. */
  readonly where: string;
}

// RFC 9110 §9.3.1/§9.3.2: content in a GET or HEAD request has no defined semantics; many servers reject it.
const BODILESS_METHODS = new Set(['GET', 'HEAD']);

/**
 * Compiles the guard for an action. Imported actions declare every parameter the spec knows, so unknown query keys
 * are refused for them; a hand-made action is guarded in the locations it declares. `allow_unknown_params` opts out.
 */
export function compileGuard(action: ActionDef, params: ParamDef[], appTag: string): InputGuard | undefined {
  const where = `${appTag}.${action.event}`;
  const imported = action.source !== undefined;
  const names = (loc: ParamDef['in']) => new Set(params.filter((p) => p.in === loc).map((p) => p.name));
  const query = names('query');
  const allowUnknown = action.allow_unknown_params === true;
  const guard: InputGuard = {
    where,
    query: allowUnknown || (!imported && query.size === 0) ? undefined : query,
    params: allowUnknown ? undefined : names('path'),
    noBody: action.body
      ? undefined
      : BODILESS_METHODS.has(action.method)
        ? `${action.method} requests carry no body`
        : imported
          ? 'the action declares no request body'
          : undefined,
  };
  return guard.query || guard.params || guard.noBody ? guard : undefined;
}

/** Adds an issue for every key the action does not declare, and for a body it cannot take. */
export function checkGuard(guard: InputGuard, input: IActionRequest, issues: Issue[]): void {
  if (guard.query && input.query) unknownKeys(guard.query, input.query, 'query', 'a query parameter', guard.where, issues);
  if (guard.params && input.params) unknownKeys(guard.params, input.params, 'params', 'a path parameter', guard.where, issues);
  if (guard.noBody && input.body !== undefined) {
    issues.push({ location: 'body', path: '', message: `is not accepted: ${guard.noBody} (${guard.where}); send the values as query or params` });
  }
}

function unknownKeys(declared: ReadonlySet<string>, given: Record<string, unknown>, location: Issue['location'], what: string, where: string, issues: Issue[]): void {
  for (const key in given) {
    if (declared.has(key) || given[key] === undefined) continue;
    const list = [...declared];
    const guess = closest(key, list);
    const known = list.length ? `; declared: ${list.slice(0, 12).join(', ')}${list.length > 12 ? ', …' : ''}` : '; it declares none';
    issues.push({
      location,
      path: `/${key}`,
      message: `is not ${what} of ${where}${guess ? ` (did you mean "${guess}"?)` : ''}${known}`,
    });
  }
}
