// OpenAPI/Swagger schemas → JSON Schema that Ajv (strict: false) compiles; schema $refs → components#/schemas/<Name>.
import type { JsonSchema } from '../../model/action.js';
import { decodePointer, DOCUMENT_BASE, getAt, isObject, type Resolver } from './refs.js';

type Obj = Record<string, unknown>;

/** The `$id` the runtime registers `components` under in Ajv; refs in imported schemas point into it. */
export const COMPONENTS_ID = 'components';

const JSON_TYPES = new Set(['string', 'number', 'integer', 'boolean', 'object', 'array', 'null']);
const SCHEMA_KEYS = ['additionalProperties', 'items', 'additionalItems', 'contains', 'not', 'if', 'then', 'else', 'propertyNames', 'unevaluatedProperties', 'unevaluatedItems', 'contentSchema'];
const SCHEMA_LIST_KEYS = ['allOf', 'anyOf', 'oneOf', 'prefixItems'];
const SCHEMA_MAP_KEYS = ['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas'];
const COUNT_KEYS = ['minLength', 'maxLength', 'minItems', 'maxItems', 'minProperties', 'maxProperties', 'minContains', 'maxContains'];
const NUMBER_KEYS = ['minimum', 'maximum', 'multipleOf'];
// Keywords with no meaning for validation that only bloat stored definitions, or that Ajv would misread.
// Ids and anchors go too: every ref is rewritten to a pointer into `components`, and Ajv would re-base on an $id.
const DROPPED_KEYS = new Set(['discriminator', 'xml', 'externalDocs', 'nullable', 'x-nullable', '$schema', '$id', '$anchor', '$dynamicAnchor', '$vocabulary', '$comment']);

export interface SchemaNormalizer {
  /** A normalized copy of one schema (never mutates the document); `where` names it in warnings. */
  normalize(schema: unknown, where: string): JsonSchema;
  /** components.schemas: the document's named schemas plus any that refs reached elsewhere in the document. */
  components: Record<string, JsonSchema>;
  /** One warning summarizing dropped invalid keywords, if any. */
  summary(): string | undefined;
}

export function createSchemaNormalizer(doc: Obj, resolver: Resolver, version: '2.0' | '3.0' | '3.1'): SchemaNormalizer {
  const namedBase = version === '2.0' ? ['definitions'] : ['components', 'schemas'];
  const named = (getAt(doc, namedBase) ?? {}) as Obj;
  const components: Record<string, JsonSchema> = {};
  const byPointer = new Map<string, string>(); // target pointer → component name
  const taken = new Set(Object.keys(isObject(named) ? named : {}));
  const dropped: string[] = [];
  let droppedCount = 0;
  let where = '';
  let base = DOCUMENT_BASE; // base URI of the schema being walked, for 3.1 refs by $id

  const drop = (keyword: string, value: unknown) => {
    droppedCount++;
    if (dropped.length < 3) dropped.push(`${keyword}: ${JSON.stringify(value)?.slice(0, 40)} in ${where}`);
  };

  /** Rewrites a schema ref; refs to anything other than a named schema hoist their target as a component. */
  const rewriteRef = (written: string): string => {
    const ref = localRef(written);
    const segments = decodePointer(ref);
    if (segments && segments.length === namedBase.length + 1 && namedBase.every((s, i) => segments[i] === s)) {
      resolver.target(ref); // throws a CONFIG_ERROR with the ref's position when it points to nothing
      return refTo(segments[segments.length - 1]);
    }
    const key = segments ? segments.join('/') : ref;
    let name = byPointer.get(key);
    if (!name) {
      const target = resolver.target(ref);
      const inNamed = segments && namedBase.every((s, i) => segments[i] === s);
      name = uniqueName(segments ? segments.slice(inNamed ? namedBase.length : 0) : [ref]);
      byPointer.set(key, name);
      const [outer, outerBase] = [where, base];
      where = `#/${key}`;
      // The target's refs resolve against the `$id`s enclosing it, not the referring schema's.
      if (segments) base = baseAt(segments);
      components[name] = normalize(target); // after registering the name, so a cycle back here is just a ref
      [where, base] = [outer, outerBase];
    }
    return refTo(name);
  };

  /**
   * The document pointer a schema `$ref` names. Inside a schema with an `$id`, JSON Schema 2020-12 resolves even a
   * fragment (`#/$defs/Inner`) against that `$id`, i.e. within that schema; a spec that writes a document pointer
   * (`#/components/…`) there anyway is read as the document's, which is what its author meant.
   */
  const localRef = (written: string): string => {
    const fragment = written.startsWith('#/') || written === '#';
    if (fragment && base === DOCUMENT_BASE) return written;
    const localized = resolver.localize(written, base);
    if (!fragment) return localized ?? written;
    const segments = localized === undefined ? undefined : decodePointer(localized);
    return segments && getAt(doc, segments) !== undefined ? localized! : written;
  };

  /** The base URI in force at a pointer: the `$id`s of the schemas enclosing its target (normalize applies the target's own). */
  const baseAt = (segments: string[]): string => {
    let here = DOCUMENT_BASE;
    let node: unknown = doc;
    for (const s of segments) {
      if (isObject(node) && typeof node.$id === 'string') here = withId(node.$id, here);
      node = getAt(node, [s]);
    }
    return here;
  };

  const uniqueName = (segments: string[]): string => {
    const base = segments.join('_').replace(/[^A-Za-z0-9_.-]+/g, '_').replace(/^_+|_+$/g, '').slice(-80) || 'schema';
    let name = base;
    for (let n = 2; taken.has(name); n++) name = `${base}_${n}`;
    taken.add(name);
    return name;
  };

  const normalize = (schema: unknown): JsonSchema => {
    if (typeof schema === 'boolean') return schema;
    if (!isObject(schema)) return {};
    if (typeof schema.$id !== 'string') return convert(schema);
    const outer = base;
    base = withId(schema.$id, base);
    try {
      return convert(schema);
    } finally {
      base = outer;
    }
  };

  const convert = (schema: Obj): JsonSchema => {
    const out: Obj = {};
    const nullable = schema.nullable === true || schema['x-nullable'] === true;
    if (typeof schema.$ref === 'string') {
      out.$ref = rewriteRef(schema.$ref);
      // OAS 3.0 and Swagger ignore siblings of $ref; 3.1 (JSON Schema 2020-12) applies them.
      if (version !== '3.1') return nullable ? { anyOf: [out, { type: 'null' }] } : out;
    }
    for (const [key, value] of Object.entries(schema)) {
      if (key === '$ref' || DROPPED_KEYS.has(key) || key.startsWith('x-')) continue;
      copyKeyword(out, key, value);
    }
    if (schema.type === 'file') {
      // Swagger 2.0 file parameter: the runtime accepts Buffer/Blob values for format binary.
      out.type = 'string';
      out.format = 'binary';
    }
    fixExclusiveBounds(out);
    removeReadOnlyFromRequired(out);
    if (isObject(schema.discriminator) || typeof schema.discriminator === 'string') {
      // The discriminator picks one branch; as plain JSON Schema, branches that overlap would fail `oneOf`.
      if (Array.isArray(out.oneOf) && out.anyOf === undefined) {
        out.anyOf = out.oneOf;
        delete out.oneOf;
      }
    }
    return nullable ? addNull(out) : out;
  };

  const copyKeyword = (out: Obj, key: string, value: unknown) => {
    if (SCHEMA_KEYS.includes(key)) {
      if (key === 'items' && Array.isArray(value)) out.items = value.map((v) => normalize(v));
      else if (typeof value === 'boolean' || isObject(value)) out[key] = normalize(value);
      else drop(key, value);
    } else if (SCHEMA_LIST_KEYS.includes(key)) {
      if (Array.isArray(value) && value.length) out[key] = value.map((v) => normalize(v));
      else drop(key, value);
    } else if (SCHEMA_MAP_KEYS.includes(key)) {
      if (!isObject(value)) return drop(key, value);
      const map: Obj = {};
      for (const [name, sub] of Object.entries(value)) {
        if (key === 'patternProperties' && !isValidPattern(name)) drop('patternProperties', name);
        else map[name] = normalize(sub);
      }
      out[key] = map;
    } else if (key === 'dependencies' && isObject(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, Array.isArray(v) ? v : normalize(v)]));
    } else if (key === 'type') {
      const types = (Array.isArray(value) ? value : [value]).filter((t) => typeof t === 'string' && JSON_TYPES.has(t));
      if (value === 'file') return; // handled by the caller
      if (types.length === 0) return drop('type', value);
      if (Array.isArray(value) && types.length !== value.length) drop('type', value);
      out.type = types.length === 1 ? types[0] : [...new Set(types)];
    } else if (key === 'required') {
      // `required: true` on a property is a common Swagger mistake; Ajv rejects it.
      if (Array.isArray(value)) out.required = [...new Set(value.filter((v) => typeof v === 'string'))];
      else drop('required', value);
    } else if (key === 'enum') {
      if (Array.isArray(value)) out.enum = value;
      else drop('enum', value);
    } else if (key === 'pattern') {
      if (typeof value === 'string' && isValidPattern(value)) out.pattern = value;
      else drop('pattern', value);
    } else if (COUNT_KEYS.includes(key) || NUMBER_KEYS.includes(key)) {
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      const ok = typeof n === 'number' && Number.isFinite(n) && (!COUNT_KEYS.includes(key) || (Number.isInteger(n) && n >= 0)) && (key !== 'multipleOf' || n > 0);
      if (ok) out[key] = n;
      else drop(key, value);
    } else if (key === 'id' && typeof value === 'string') {
      // draft-04 `id`: Ajv 8 refuses it, and a base URI change would break the components# refs.
    } else if (key === 'format' && typeof value !== 'string') {
      drop(key, value);
    } else {
      out[key] = value;
    }
  };

  // Named schemas first: their names are fixed, so hoisted ones never take them.
  if (isObject(named)) {
    for (const [name, schema] of Object.entries(named)) {
      where = `#/${namedBase.join('/')}/${name}`;
      components[name] = normalize(schema);
    }
  }

  return {
    components,
    normalize(schema, label) {
      where = label;
      return normalize(schema);
    },
    summary() {
      if (droppedCount === 0) return undefined;
      return `Dropped ${droppedCount} schema keyword${droppedCount === 1 ? '' : 's'} with values that JSON Schema validators reject (e.g. ${dropped.join('; ')}); those constraints are not checked.`;
    },
  };
}

/** `components#/schemas/<name>` with the name escaped as one JSON-pointer segment inside a URI fragment. */
export function refTo(name: string): string {
  return `${COMPONENTS_ID}#/schemas/${encodeURIComponent(name.replace(/~/g, '~0').replace(/\//g, '~1'))}`;
}

/** The base URI a schema's `$id` sets; an `$id` that is not a URI changes nothing. */
function withId(id: string, base: string): string {
  try {
    return new URL(id, base).href.replace(/#.*$/, '');
  } catch {
    return base;
  }
}

/** Ajv compiles patterns with the `u` flag, which rejects some escapes other engines accept. */
function isValidPattern(pattern: string): boolean {
  try {
    new RegExp(pattern, 'u');
    return true;
  } catch {
    return false;
  }
}

/** OAS 3.0 `exclusiveMinimum: true` + `minimum: n` → JSON Schema `exclusiveMinimum: n`. */
function fixExclusiveBounds(out: Obj): void {
  for (const [flag, bound] of [['exclusiveMinimum', 'minimum'], ['exclusiveMaximum', 'maximum']] as const) {
    if (typeof out[flag] !== 'boolean') continue;
    if (out[flag] === true && typeof out[bound] === 'number') {
      out[flag] = out[bound];
      delete out[bound];
    } else {
      delete out[flag];
    }
  }
}

/** readOnly properties are sent by the server only: a request cannot be required to carry them. */
function removeReadOnlyFromRequired(out: Obj): void {
  if (!Array.isArray(out.required) || !isObject(out.properties)) return;
  const props = out.properties;
  const kept = (out.required as string[]).filter((name) => !(isObject(props[name]) && props[name].readOnly === true));
  if (kept.length !== out.required.length) {
    if (kept.length) out.required = kept;
    else delete out.required;
  }
}

/** `nullable: true` / `x-nullable: true` → null allowed by type and enum, or an anyOf when there is no type. */
function addNull(out: Obj): Obj {
  if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
  if (typeof out.type === 'string') {
    out.type = out.type === 'null' ? 'null' : [out.type, 'null'];
    return out;
  }
  if (Array.isArray(out.type)) {
    if (!out.type.includes('null')) out.type = [...out.type, 'null'];
    return out;
  }
  if (out.allOf || out.anyOf || out.oneOf || out.$ref || out.not) return { anyOf: [out, { type: 'null' }] };
  return out; // no type constraint: null is already allowed
}
