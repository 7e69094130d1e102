// One resolver for an app's shared schemas (`components#/schemas/X`): describe, examples, types and MCP tools use it.
//
// A stored schema points at the app's components by `$ref`. Readers want them inline, but a component that contains
// itself (a tree node, Stripe's customer ↔ invoice) cannot be inlined forever, and Stripe's expandable objects make a
// fully inlined response grow exponentially. So a ref becomes a *named reference* (`#/$defs/<name>`, with the
// component resolved once under `$defs`) when it is reached again inside itself, when the caller asks for names, or
// once the inlined output passes a size budget. The result is one self-contained JSON Schema.
import type { JsonSchema } from '../model/action.js';

export const COMPONENT_REF_PREFIX = 'components#/schemas/';
const DEFS_PREFIX = '#/$defs/';

type Obj = Record<string, unknown>;
/** Keywords whose values are data, not schemas. */
export const DATA_KEYWORDS = new Set(['example', 'examples', 'enum', 'const', 'default']);
/** Keywords whose values map names (any names, `default` included) to schemas. */
export const SCHEMA_MAPS = new Set(['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas']);
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface ResolveOptions {
  /**
   * Whether refs may be inlined at all. `false` names every component (the type emitter wants one type per component).
   * @default true
   */
  inline?: boolean;
  /** Schema nodes the output may hold before `overBudget` applies to further refs. @default 20000 */
  budget?: number;
  /**
   * What a ref past the budget becomes: `'name'` (a named reference, its component in `$defs`: complete, but every
   * component it reaches comes along) or `'stub'` (an open schema whose `$comment` names the component: bounded, for
   * display of large response graphs such as Stripe's, where every object reaches almost every other).
   * @default 'name'
   */
  overBudget?: 'name' | 'stub';
}

export interface Resolved {
  /** The schema with component refs inlined or rewritten to `#/$defs/<name>`. */
  schema: JsonSchema;
  /** Named components the schema (or another def) refers to, resolved the same way. */
  defs: Record<string, JsonSchema>;
}

/** Splits `components#/schemas/a~1b/properties/x` into the component name and the pointer inside it. */
export function parseComponentRef(ref: string): { name: string; pointer: string[] } | undefined {
  if (!ref.startsWith(COMPONENT_REF_PREFIX)) return undefined;
  const [name, ...pointer] = ref
    .slice(COMPONENT_REF_PREFIX.length)
    .split('/')
    .map((s) => decodeSegment(s));
  return { name, pointer };
}

function decodeSegment(s: string): string {
  let d = s;
  try {
    d = decodeURIComponent(s);
  } catch {
    // a literal % in a name: keep it as written
  }
  return d.replace(/~1/g, '/').replace(/~0/g, '~');
}

const encodeSegment = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');

/** The target of a component ref, or undefined when the component or pointer does not exist. */
export function componentTarget(ref: string, components: Record<string, JsonSchema>): JsonSchema | undefined {
  const parsed = parseComponentRef(ref);
  if (!parsed || !Object.hasOwn(components, parsed.name)) return undefined;
  let node: unknown = components[parsed.name];
  for (const s of parsed.pointer) {
    if (Array.isArray(node)) node = node[Number(s)];
    else if (isObject(node) && Object.hasOwn(node, s)) node = node[s];
    else return undefined;
  }
  return node as JsonSchema;
}

/**
 * A resolver over one app's components. Schemas resolved by the same resolver share one `$defs` table and one size
 * budget, so several of them (an action's body, query and responses) can sit in one document under one `$defs`.
 */
export interface SchemaResolver {
  resolve(schema: JsonSchema): JsonSchema;
  /** The named components referred to so far, each resolved once. */
  defs(): Record<string, JsonSchema>;
}

export function createSchemaResolver(components: Record<string, JsonSchema>, options: ResolveOptions = {}): SchemaResolver {
  const inline = options.inline !== false;
  let budget = options.budget ?? 20_000;
  const stubs = options.overBudget === 'stub';
  const defs: Record<string, JsonSchema> = {};
  const pendingDefs: string[] = [];

  const named = (name: string, pointer: string[]): Obj => {
    if (!Object.hasOwn(defs, name) && !pendingDefs.includes(name)) pendingDefs.push(name);
    return { $ref: DEFS_PREFIX + [name, ...pointer].map(encodeSegment).join('/') };
  };

  const walk = (node: unknown, path: string[]): unknown => {
    if (Array.isArray(node)) return node.map((x) => walk(x, path));
    if (!isObject(node)) return node;
    budget--;
    const ref = node.$ref;
    if (typeof ref === 'string') {
      const parsed = parseComponentRef(ref);
      if (parsed && Object.hasOwn(components, parsed.name)) {
        const { $ref: _ref, ...siblings } = node;
        const target = componentTarget(ref, components);
        // Cycles, the caller's choice and the size budget all give a name; anything else is inlined.
        const stub = stubs && budget <= 0;
        const asName = !inline || path.includes(parsed.name) || budget <= 0 || target === undefined;
        const resolved = stub
          ? { $comment: `components/schemas/${[parsed.name, ...parsed.pointer].join('/')}: not expanded here (size limit)` }
          : asName
            ? named(parsed.name, parsed.pointer)
            : walk(target, [...path, parsed.name]);
        const rest = walkChildren(siblings, path);
        if (Object.keys(rest).length === 0) return resolved;
        // 3.1 allows keywords beside $ref; both must hold, which allOf says without merging them.
        return isObject(resolved) && !('$ref' in resolved) ? { ...resolved, ...rest } : { allOf: [resolved], ...rest };
      }
    }
    return walkChildren(node, path);
  };

  const walkChildren = (node: Obj, path: string[]): Obj => {
    const out: Obj = {};
    for (const [k, v] of Object.entries(node)) {
      // Example and enum values are data: a `$ref` key inside them is not a reference. The members of a map of
      // schemas are schemas whatever their names: a property called `default` or `const` is resolved like any other.
      out[k] = DATA_KEYWORDS.has(k) ? v : SCHEMA_MAPS.has(k) && isObject(v) ? walkMap(v, path) : walk(v, path);
    }
    return out;
  };
  const walkMap = (map: Obj, path: string[]): Obj => {
    const out: Obj = {};
    for (const [k, v] of Object.entries(map)) out[k] = walk(v, path);
    return out;
  };

  return {
    resolve: (schema) => walk(schema, []) as JsonSchema,
    defs() {
      // Each def is resolved with its own name on the path, so it refers to itself by name rather than re-inlining.
      while (pendingDefs.length) {
        const name = pendingDefs.shift()!;
        defs[name] = walk(components[name], [name]) as JsonSchema;
      }
      return defs;
    },
  };
}

/**
 * Resolves one schema against `components`.
 *
 * @example resolveSchema({ $ref: 'components#/schemas/Node' }, { Node: { properties: { next: { $ref: 'components#/schemas/Node' } } } })
 * // { schema: { properties: { next: { $ref: '#/$defs/Node' } } }, defs: { Node: { properties: { next: { $ref: '#/$defs/Node' } } } } }
 */
export function resolveSchema(schema: JsonSchema, components: Record<string, JsonSchema>, options: ResolveOptions = {}): Resolved {
  const r = createSchemaResolver(components, options);
  const resolved = r.resolve(schema);
  return { schema: resolved, defs: r.defs() };
}

/** One self-contained schema: the resolved schema with its named components under `$defs`. */
export function selfContained(r: Resolved): JsonSchema {
  if (Object.keys(r.defs).length === 0) return r.schema;
  if (!isObject(r.schema)) return { allOf: [r.schema], $defs: r.defs };
  return { ...r.schema, $defs: { ...((r.schema.$defs as Obj | undefined) ?? {}), ...r.defs } };
}
