// The placeholder engine: one parser for `$Session{a}{b}`, `$Secret{KEY}`, … in run input and stored config.
import { closest, ConfigError, InvalidInputError, type Issue } from '../errors.js';
import { CIRCULAR_REFERENCE, nestingProblem, setOwn } from './json.js';

/** Every placeholder kind the parser knows. Which ones a caller accepts is chosen with `allow`. */
export type PlaceholderKind = 'Session' | 'Secret' | 'Variable' | 'Constant' | 'Auth' | 'Now' | 'Env';

export const PLACEHOLDER_KINDS: readonly PlaceholderKind[] = ['Session', 'Secret', 'Variable', 'Constant', 'Auth', 'Now', 'Env'];

/** Returns the value of one placeholder, or `undefined` (or `missing(reason)`) when it has none. */
export type Resolver = (kind: PlaceholderKind, path: string[]) => unknown;

export interface Template {
  /** True when there is nothing to resolve: `evaluate` returns one precomputed value and does no work. */
  readonly isStatic: boolean;
  /** The kinds used, so a caller can skip preparing resolvers it will not need. */
  readonly kinds: ReadonlySet<PlaceholderKind>;
  /** Every placeholder used, in order of appearance (e.g. the $Secret keys to load before evaluating). */
  readonly refs: ReadonlyArray<{ readonly kind: PlaceholderKind; readonly path: readonly string[] }>;
  /**
   * Resolves every placeholder. `where` names the location for error reports ('body', 'query', 'params',
   * 'headers', or a config location such as 'connection.auth'); when omitted, the first path segment of the
   * compiled value is used if it is one of the input locations (so a whole `{ body, query, … }` can be compiled).
   * Results share unchanged parts with the compiled value: treat them as read-only.
   */
  evaluate(resolve: Resolver, where?: string): unknown;
}

export interface CompileOptions {
  /** Kinds accepted here; others are reported as not allowed. @default every kind */
  allow?: readonly PlaceholderKind[];
  /** Location named in compile-time errors (see `Template.evaluate`). */
  where?: string;
  /**
   * Report malformed or disallowed placeholders from evaluate(), together with missing values, instead of from
   * compileTemplate(): run input wants every problem at once. @default false
   */
  deferErrors?: boolean;
}

// How many `{…}` segments each kind takes: [min, max].
const ARITY: Record<PlaceholderKind, [number, number]> = {
  Session: [0, Infinity],
  Auth: [0, Infinity],
  Variable: [1, Infinity],
  Constant: [1, Infinity],
  Secret: [1, 1],
  Env: [1, 1],
  Now: [0, 0],
};
const KIND_SET = new Set<string>(PLACEHOLDER_KINDS);
// Deeper values are refused, not skipped: a placeholder must never slip through as literal text.
const MAX_DEPTH = 64;
const INPUT_LOCATIONS = new Set<string>(['body', 'query', 'params', 'headers', 'cookies', 'session']);

// `\$` (escape), or `$Name` followed by any number of `{segment}`. A `$word` with no braces that is not a known
// kind stays literal text ("$5", "$USD", Mongo's "$set"); `$Word{…}` with an unknown Word is an error, since it is
// almost always a typo that must never be sent upstream as text.
const TOKEN = /\\\$|\$([A-Za-z_][A-Za-z0-9_]*)((?:\{[^{}]*\})*)/g;

interface Ref {
  kind: PlaceholderKind;
  path: string[];
  /** The placeholder as written, for messages. */
  text: string;
}

type Part = string | Ref;

type Node =
  | { t: 'one'; ref: Ref; pointer: string }
  | { t: 'parts'; parts: Part[]; pointer: string }
  | { t: 'object'; base: Record<string, unknown>; dyn: [string, Node][] }
  | { t: 'array'; base: unknown[]; dyn: [number, Node][] };

/** Marks a value as missing with a reason that the error message will carry (e.g. "no session was given"). */
export interface Missing {
  readonly [kMissing]: true;
  readonly reason: string;
}
const kMissing = Symbol('ductape.placeholder.missing');

export function missing(reason: string): Missing {
  return { [kMissing]: true, reason };
}

function isMissing(v: unknown): v is Missing {
  return typeof v === 'object' && v !== null && (v as Record<symbol, unknown>)[kMissing] === true;
}

/**
 * True when `value` holds a placeholder or a `\$` escape anywhere (strings inside plain objects and arrays), i.e.
 * when compiling it would change something. Strings without `$` are skipped with one `indexOf`.
 * @example hasPlaceholders({ params: { id: '$Session{user}{id}' } }) // true
 */
export function hasPlaceholders(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return value.indexOf('$') !== -1 && scanString(value);
  if (value === null || typeof value !== 'object') return false;
  // Too deep to look through: say yes, so that compileTemplate refuses it rather than letting text through unchecked.
  if (depth > MAX_DEPTH) return Array.isArray(value) || isPlainObject(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (hasPlaceholders(value[i], depth + 1)) return true;
    return false;
  }
  if (!isPlainObject(value)) return false;
  for (const k in value) if (Object.hasOwn(value, k) && hasPlaceholders((value as Record<string, unknown>)[k], depth + 1)) return true;
  return false;
}

/**
 * The same value with every `$` in its strings escaped (`\$`), so that a run sends it as the very text given: for
 * input that is someone else's data rather than the caller's template (an agent's tool arguments, an upstream's
 * cursor). Plain objects and arrays are copied, other values returned as they are. Past the depth templates accept,
 * the rest is left unescaped: compileTemplate refuses such input anyway (see hasPlaceholders).
 * @example asLiteral({ note: 'costs $5, due $Now' }) // { note: 'costs \$5, due \$Now' }
 */
export function asLiteral(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.indexOf('$') === -1 ? value : value.replaceAll('$', '\\$');
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return value;
  if (Array.isArray(value)) return value.map((v) => asLiteral(v, depth + 1));
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const k in value) {
    if (!Object.hasOwn(value, k)) continue;
    const v = asLiteral((value as Record<string, unknown>)[k], depth + 1);
    setOwn(out, k, v);
  }
  return out;
}

function scanString(s: string): boolean {
  TOKEN.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = TOKEN.exec(s))) {
    if (m[0] === '\\$' || m[2] || KIND_SET.has(m[1])) return true;
  }
  return false;
}

/**
 * Parses a value once (deep: strings inside plain objects and arrays). Unknown or disallowed kinds and malformed
 * placeholders are all reported together as one `InvalidInputError` (or `ConfigError` for non-input locations).
 * @example
 * const t = compileTemplate({ params: { id: '$Session{user}{id}' } }, { allow: ['Session'] });
 * t.evaluate((kind, path) => getPath(session, path)); // { params: { id: '42' } }
 */
export function compileTemplate(value: unknown, opts: CompileOptions = {}): Template {
  const allow = opts.allow ? new Set<string>(opts.allow) : KIND_SET;
  const kinds = new Set<PlaceholderKind>();
  const problems: Problem[] = [];
  const refs: Ref[] = [];
  const node = compileNode(value, '', { allow, kinds, problems, refs }, 0);
  if (problems.length && !opts.deferErrors) throw toError(problems, opts.where);
  const isNode = node !== undefined && (node as Node).t !== undefined;
  if (!problems.length && node === undefined) return staticTemplate(value, kinds);
  if (!problems.length && !isNode) return staticTemplate((node as { v: unknown }).v, kinds);
  const root = isNode ? (node as Node) : undefined;
  return {
    isStatic: false,
    kinds,
    refs,
    evaluate(resolve: Resolver, where?: string) {
      const failures: Problem[] = [];
      const out = root ? evalNode(root, resolve, failures) : undefined;
      if (problems.length) {
        // Deferred parse problems come first; a malformed placeholder also fails to evaluate: reported once.
        const seen = new Set(problems.map((p) => p.pointer));
        throw toError([...problems, ...failures.filter((f) => !seen.has(f.pointer))], where ?? opts.where);
      }
      if (failures.length) throw toError(failures, where ?? opts.where);
      return out;
    },
  };
}

/**
 * Parses a string that must be exactly one placeholder (a session type's selector, for instance).
 * Returns undefined when the string is anything else.
 */
/**
 * Every well-formed or malformed placeholder of the given kinds in a value, with its JSON pointer (escaped `\\$` text
 * is not a placeholder). Parsing is the compiler's, so what it finds is exactly what would be resolved.
 * @example findPlaceholders({ body: { note: 'hi $Secret{K}' } }, ['Secret']) // [{ kind: 'Secret', text: '$Secret{K}', pointer: '/body/note' }]
 */
export function findPlaceholders(value: unknown, kinds: readonly PlaceholderKind[]): { kind: PlaceholderKind; text: string; pointer: string }[] {
  const st: CompileState = { allow: KIND_SET, kinds: new Set(), problems: [], found: [] };
  compileNode(value, '', st, 0);
  return st.found!.filter((f) => kinds.includes(f.kind));
}

export function parsePlaceholder(text: string, allow?: readonly PlaceholderKind[]): { kind: PlaceholderKind; path: string[] } | undefined {
  if (typeof text !== 'string') return undefined;
  const st: CompileState = { allow: allow ? new Set<string>(allow) : KIND_SET, kinds: new Set(), problems: [] };
  const parts = parseString(text, '', st);
  return parts && !st.problems.length && parts.length === 1 && typeof parts[0] !== 'string' ? { kind: parts[0].kind, path: parts[0].path } : undefined;
}

/** Reads a path from plain data using own properties only, so `{__proto__}` or `{constructor}` find nothing. */
export function getPath(value: unknown, path: readonly string[]): unknown {
  let cur = value;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    if (Array.isArray(cur)) {
      if (!/^(0|[1-9]\d*)$/.test(seg)) return undefined;
      cur = cur[Number(seg)];
    } else if (Object.hasOwn(cur, seg)) cur = (cur as Record<string, unknown>)[seg];
    else return undefined;
  }
  return cur;
}

/** Writes a placeholder back as text: `$Session{user}{id}`. */
export function formatPlaceholder(kind: PlaceholderKind, path: readonly string[]): string {
  return `$${kind}${path.map((p) => `{${p}}`).join('')}`;
}

// ---- compile ----------------------------------------------------------------------------------------------------

interface Problem {
  pointer: string;
  message: string;
}

interface CompileState {
  allow: Set<string>;
  kinds: Set<PlaceholderKind>;
  problems: Problem[];
  refs?: Ref[];
  /** Where each placeholder sits (JSON pointer), for findPlaceholders. */
  found?: { kind: PlaceholderKind; text: string; pointer: string }[];
}

// Returns: undefined = unchanged (identity), { v } = static but changed (escapes), Node = needs evaluation.
type Compiled = undefined | { v: unknown; t?: undefined } | Node;

function compileNode(value: unknown, pointer: string, st: CompileState, depth: number): Compiled {
  if (typeof value === 'string') {
    if (value.indexOf('$') === -1) return undefined;
    const parts = parseString(value, pointer, st);
    if (!parts) return undefined;
    if (parts.length === 1 && typeof parts[0] !== 'string') return { t: 'one', ref: parts[0], pointer };
    if (parts.every((p) => typeof p === 'string')) return { v: parts.join('') };
    return { t: 'parts', parts, pointer };
  }
  if (value === null || typeof value !== 'object') return undefined;
  if (depth > MAX_DEPTH) {
    if (Array.isArray(value) || isPlainObject(value)) {
      // Reached through a cycle, the value reaches itself too: say so, where the walk first met it (its location and 8 keys).
      const cycle = nestingProblem(value, Infinity)?.cycle === true;
      st.problems.push(
        cycle
          ? { pointer: pointer.split('/').slice(0, 10).join('/'), message: CIRCULAR_REFERENCE }
          : { pointer, message: `nested more than ${MAX_DEPTH} levels deep; flatten it so placeholders can be checked` },
      );
    }
    return undefined;
  }
  if (Array.isArray(value)) {
    let base: unknown[] | undefined;
    const dyn: [number, Node][] = [];
    for (let i = 0; i < value.length; i++) {
      const c = compileNode(value[i], `${pointer}/${i}`, st, depth + 1);
      if (c === undefined) continue;
      base ??= value.slice();
      if (c.t) dyn.push([i, c]);
      else base[i] = c.v;
    }
    if (!base) return undefined;
    return dyn.length ? { t: 'array', base, dyn } : { v: base };
  }
  if (!isPlainObject(value)) return undefined;
  let base: Record<string, unknown> | undefined;
  const dyn: [string, Node][] = [];
  for (const k of Object.keys(value)) {
    const c = compileNode((value as Record<string, unknown>)[k], `${pointer}/${escapePointer(k)}`, st, depth + 1);
    if (c === undefined) continue;
    base ??= { ...(value as Record<string, unknown>) };
    if (c.t) dyn.push([k, c]);
    else base[k] = c.v;
  }
  if (!base) return undefined;
  return dyn.length ? { t: 'object', base, dyn } : { v: base };
}

// Splits a string into literal text and placeholder refs; null when it holds neither placeholder nor escape.
function parseString(s: string, pointer: string, st: CompileState): Part[] | null {
  const parts: Part[] = [];
  let text = '';
  let last = 0;
  let changed = false;
  TOKEN.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = TOKEN.exec(s))) {
    const [whole, name, groups] = m;
    if (whole === '\\$') {
      text += s.slice(last, m.index) + '$';
      last = m.index + 2;
      changed = true;
      continue;
    }
    const known = KIND_SET.has(name);
    if (!known && !groups) continue; // "$5", "$USD": plain text
    changed = true;
    const end = m.index + whole.length;
    const path = groups ? groups.slice(1, -1).split('}{') : [];
    const problem = checkRef(name, path, whole, s[end] === '{', st.allow);
    if (problem) st.problems.push({ pointer, message: problem });
    else st.kinds.add(name as PlaceholderKind);
    text += s.slice(last, m.index);
    if (text) parts.push(text);
    text = '';
    const ref: Ref = { kind: name as PlaceholderKind, path, text: whole };
    parts.push(ref);
    st.refs?.push(ref);
    if (KIND_SET.has(name)) st.found?.push({ kind: name as PlaceholderKind, text: whole, pointer });
    last = end;
  }
  if (!changed) return null;
  text += s.slice(last);
  if (text) parts.push(text);
  return parts;
}

function checkRef(name: string, path: string[], whole: string, unclosed: boolean, allow: Set<string>): string | undefined {
  if (!KIND_SET.has(name)) {
    const hint = closest(name, [...PLACEHOLDER_KINDS]);
    return `unknown placeholder ${whole}${hint ? ` (did you mean $${hint}?)` : ''}; known kinds: ${PLACEHOLDER_KINDS.map((k) => `$${k}`).join(', ')}`;
  }
  if (unclosed) return `malformed placeholder ${whole}{…: a "{" is not closed, or braces are nested`;
  const [min, max] = ARITY[name as PlaceholderKind];
  if (path.length < min || path.length > max) {
    const shape = name === 'Now' ? '$Now' : min === max ? `$${name}{KEY}` : `$${name}{key} or $${name}{a}{b}`;
    return `malformed placeholder ${whole}: write it as ${shape}`;
  }
  if (path.some((p) => p === '')) return `malformed placeholder ${whole}: empty {} segment`;
  if (!allow.has(name)) return `placeholder ${whole} is not allowed here (allowed: ${[...allow].map((k) => `$${k}`).join(', ') || 'none'})`;
  return undefined;
}

// ---- evaluate ---------------------------------------------------------------------------------------------------

function evalNode(node: Node, resolve: Resolver, failures: Problem[]): unknown {
  switch (node.t) {
    case 'one':
      return lookup(node.ref, node.pointer, resolve, failures);
    case 'parts': {
      let out = '';
      for (const p of node.parts) out += typeof p === 'string' ? p : asText(lookup(p, node.pointer, resolve, failures));
      return out;
    }
    case 'object': {
      const out = { ...node.base };
      for (const [k, child] of node.dyn) out[k] = evalNode(child, resolve, failures);
      return out;
    }
    case 'array': {
      const out = node.base.slice();
      for (const [i, child] of node.dyn) out[i] = evalNode(child, resolve, failures);
      return out;
    }
  }
}

function lookup(ref: Ref, pointer: string, resolve: Resolver, failures: Problem[]): unknown {
  const v = resolve(ref.kind, ref.path);
  if (v === undefined || isMissing(v)) {
    const reason = isMissing(v) ? v.reason : defaultReason(ref);
    failures.push({ pointer, message: `${ref.text} has no value: ${reason}` });
    return undefined;
  }
  return v;
}

function defaultReason(ref: Ref): string {
  switch (ref.kind) {
    case 'Session':
      return `the session data has nothing at ${ref.path.join('.') || '(root)'}`;
    case 'Secret':
      return `no secret "${ref.path[0]}" for this env (set it with ductape secrets set)`;
    case 'Variable':
      return `no variable "${ref.path.join('.')}" in the connection config`;
    case 'Constant':
      return `no constant "${ref.path.join('.')}" in the app`;
    case 'Auth':
      return `the login result has nothing at ${ref.path.join('.') || '(root)'}`;
    case 'Env':
      return `environment variable ${ref.path[0]} is not set`;
    case 'Now':
      return 'no clock was given';
  }
}

// Inside longer text, values become text: objects as JSON, so a nested value is never "[object Object]".
function asText(v: unknown): string {
  if (v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v instanceof Date) return v.toISOString();
  return JSON.stringify(v) ?? '';
}

// ---- helpers ----------------------------------------------------------------------------------------------------

function staticTemplate(value: unknown, kinds: Set<PlaceholderKind>): Template {
  return { isStatic: true, kinds, refs: [], evaluate: () => value };
}

function toError(problems: Problem[], where: string | undefined): InvalidInputError | ConfigError {
  const issues = problems.map((p) => locate(p, where));
  if (issues.every((i) => INPUT_LOCATIONS.has(i.location))) return new InvalidInputError(issues as Issue[], 'Placeholder error');
  const summary = issues
    .slice(0, 5)
    .map((i) => `${i.location}${i.path}: ${i.message}`)
    .join('; ');
  return new ConfigError(`Placeholder error in stored config: ${summary}.`, { issues });
}

function locate(p: Problem, where: string | undefined): { location: string; path: string; message: string } {
  if (where) return { location: where, path: p.pointer, message: p.message };
  const m = /^\/([^/]*)(.*)$/.exec(p.pointer);
  if (m && INPUT_LOCATIONS.has(m[1])) return { location: m[1], path: m[2], message: p.message };
  return { location: 'value', path: p.pointer, message: p.message };
}

function escapePointer(k: string): string {
  return k.indexOf('~') === -1 && k.indexOf('/') === -1 ? k : k.replace(/~/g, '~0').replace(/\//g, '~1');
}

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}
