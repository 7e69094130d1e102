// JSON values of any depth: how deep an input nests (checked without recursion), and JSON text for a value that
// JSON.stringify cannot write because it recurses once per level and runs out of stack (~4,000 levels under node).

type Key = string | number;

/** Arrays and plain objects: what JSON nests. Class instances (a Buffer, a Date) are leaves here. */
function isContainer(value: unknown): value is object {
  if (Array.isArray(value)) return true;
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * JSON has no bytes: a binary value travels as base64 text (an upstream's binary error body, a binary response), over
 * HTTP and in the CLI's --json output alike; JSON.stringify would write a Buffer as { type: 'Buffer', data: [0, 1, …] }.
 */
export function toWire(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  if (Array.isArray(value)) return value.map(toWire);
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) setOwn(out, k, toWire(v));
    return out;
  }
  return value;
}

/**
 * Sets an own, enumerable key, "__proto__" included: plain assignment of that key sets the object's prototype instead
 * (and ignores a value that is not an object), so data with such a key (JSON.parse makes it an own property) lost it.
 */
export function setOwn(out: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  else out[key] = value;
}

/**
 * How deep input (an operation's, a ductape.yaml) may nest. Far beyond any definition or session a person writes, and
 * far below what the recursive code downstream (schema checks, sealing, JSON.stringify) takes before the stack runs out.
 */
export const MAX_INPUT_DEPTH = 256;

export interface NestingProblem {
  /** Keys from the root to the container that goes too deep, or to the one that contains itself. */
  path: Key[];
  cycle: boolean;
}

/** What a value that contains itself is told, unless the caller knows better (a YAML alias, say). */
export const CIRCULAR_REFERENCE = 'holds a circular reference; pass plain JSON data';

/** The reason a value is refused for `problem`: `onCycle` when it contains itself, else how deep it may nest. */
export function nestingReason(problem: NestingProblem, onCycle = CIRCULAR_REFERENCE): string {
  return problem.cycle ? onCycle : `holds values nested more than ${MAX_INPUT_DEPTH} levels deep`;
}

/** A JSON Pointer to where a problem starts, at most `keys` keys down (the full path can be hundreds of keys long). */
export function nestingPointer(problem: NestingProblem, keys = 8): string {
  return problem.path.slice(0, keys).map((k) => `/${String(k).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

/**
 * Where `value` nests more than `max` containers deep (the root is the first) or contains itself; undefined when it
 * does neither. Iterative, so any depth is safe to check, and each container is walked once: a subtree reached again
 * (the same object under two keys) is judged by the height remembered from its first walk.
 */
export function nestingProblem(value: unknown, max: number): NestingProblem | undefined {
  if (!isContainer(value)) return undefined;
  // Most input is a small tree well within the limit: a plain recursive walk says so at a fraction of the cost of the
  // exact walk below (measured: ~0.3 against ~2 µs for a run's input), and gives up on anything it cannot vouch for.
  if (fitsWithin(value, Math.min(max, QUICK_LEVELS), QUICK_CONTAINERS) >= 0) return undefined;
  interface Frame {
    node: Record<Key, unknown>;
    keys: Key[];
    i: number;
    /** Container levels below this one, so far. */
    height: number;
    key: Key;
  }
  const stack: Frame[] = [];
  const onPath = new Set<object>();
  const heights = new Map<object, number>();
  const open = (node: object, key: Key) => {
    onPath.add(node);
    stack.push({ node: node as Record<Key, unknown>, keys: Array.isArray(node) ? [] : Object.keys(node), i: 0, height: 0, key });
  };
  const pathTo = (key: Key) => [...stack.slice(1).map((f) => f.key), key];
  open(value, '');
  while (stack.length > 0) {
    const f = stack[stack.length - 1];
    const isArray = Array.isArray(f.node);
    if (f.i < (isArray ? (f.node as unknown as unknown[]).length : f.keys.length)) {
      const key = isArray ? f.i : f.keys[f.i];
      f.i++;
      const child = f.node[key];
      if (!isContainer(child)) continue;
      if (onPath.has(child)) return { path: pathTo(key), cycle: true };
      // The child would sit at level stack.length + 1, its deepest container `height` levels further down.
      const known = heights.get(child);
      if (stack.length + 1 + (known ?? 0) > max) return { path: pathTo(key), cycle: false };
      if (known !== undefined) f.height = Math.max(f.height, known + 1);
      else open(child, key);
      continue;
    }
    stack.pop();
    onPath.delete(f.node);
    heights.set(f.node, f.height);
    const parent = stack[stack.length - 1];
    if (parent) parent.height = Math.max(parent.height, f.height + 1);
  }
  return undefined;
}

/**
 * How far the quick walk goes: its recursion stays shallow whatever the limit asked for, and a value shared under many
 * keys, which it would walk once per key, cannot make it walk without end.
 */
const QUICK_LEVELS = 256;
const QUICK_CONTAINERS = 10_000;

/**
 * The budget left after walking `value` (at most `levels` containers deep, `budget` containers in all), or -1 when it
 * goes deeper or larger. Recursive, but never deeper than `levels`; a value that contains itself runs out of levels.
 */
function fitsWithin(value: object, levels: number, budget: number): number {
  if (levels === 0 || budget === 0) return -1;
  let left = budget - 1;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      if (v !== null && typeof v === 'object' && isContainer(v) && (left = fitsWithin(v, levels - 1, left)) < 0) return -1;
    }
    return left;
  }
  for (const k in value) {
    const v = (value as Record<string, unknown>)[k];
    if (v !== null && typeof v === 'object' && isContainer(v) && (left = fitsWithin(v, levels - 1, left)) < 0) return -1;
  }
  return left;
}

/**
 * The first `end` UTF-16 units of `text`, one fewer when the last would be the first half of a surrogate pair: a text
 * cut for display never ends in half an emoji, which shows as garbage and which strict JSON readers refuse.
 */
export function sliceText(text: string, end: number): string {
  const last = text.charCodeAt(end - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? end - 1 : end);
}

/**
 * JSON.stringify(value, null, indent), or, when that overflows the stack on a deeply nested value (an upstream's
 * answer can nest as deep as its body allows), the same text written without recursion and without indentation.
 */
export function jsonText(value: unknown, indent?: number): string {
  try {
    return JSON.stringify(value, null, indent) ?? 'null';
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    return deepJsonText(value);
  }
}

/** What JSON.stringify writes for `value` under `key`, as a primitive or a container; undefined means "left out". */
function toJsonValue(key: string, value: unknown): unknown {
  let v = value;
  if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function') v = (v as { toJSON(k: string): unknown }).toJSON(key);
  if (v instanceof Number || v instanceof String || v instanceof Boolean) v = v.valueOf();
  if (typeof v === 'bigint') throw new TypeError('Do not know how to serialize a BigInt');
  return typeof v === 'function' || typeof v === 'symbol' ? undefined : v;
}

function deepJsonText(root: unknown): string {
  interface Frame {
    node: Record<Key, unknown>;
    keys: string[] | undefined;
    i: number;
    wrote: boolean;
  }
  const out: string[] = [];
  const stack: Frame[] = [];
  const onPath = new Set<object>();
  const write = (v: unknown) => {
    if (v === null || v === undefined) out.push('null');
    else if (typeof v === 'string') out.push(JSON.stringify(v));
    else if (typeof v === 'number') out.push(Number.isFinite(v) ? String(v) : 'null');
    else if (typeof v === 'boolean') out.push(v ? 'true' : 'false');
    else {
      if (onPath.has(v as object)) throw new TypeError('Converting circular structure to JSON');
      onPath.add(v as object);
      const isArray = Array.isArray(v);
      out.push(isArray ? '[' : '{');
      stack.push({ node: v as Record<Key, unknown>, keys: isArray ? undefined : Object.keys(v as object), i: 0, wrote: false });
    }
  };
  write(toJsonValue('', root));
  while (stack.length > 0) {
    const f = stack[stack.length - 1];
    if (f.i >= (f.keys ? f.keys.length : (f.node as unknown as unknown[]).length)) {
      out.push(f.keys ? '}' : ']');
      onPath.delete(f.node);
      stack.pop();
      continue;
    }
    const i = f.i++;
    if (f.keys) {
      const key = f.keys[i];
      const v = toJsonValue(key, f.node[key]);
      if (v === undefined) continue; // an object member that JSON leaves out
      out.push(`${f.wrote ? ',' : ''}${JSON.stringify(key)}:`);
      f.wrote = true;
      write(v);
    } else {
      if (f.wrote) out.push(',');
      f.wrote = true;
      write(toJsonValue(String(i), f.node[i])); // an array item JSON cannot write is null
    }
  }
  return out.join('');
}
