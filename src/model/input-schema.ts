// An action's input as one self-contained JSON Schema ({ body, query, params, headers }) with component $refs inlined,
// for people reading it (the dashboard, `actions schema`). Pure: no I/O.
import type { ActionDef, JsonSchema } from './action.js';

const REF_PREFIX = 'components#/schemas/';
/** Inlining stops this deep; a schema that recurses further keeps a `$ref` there (marked as recursive). */
const MAX_DEPTH = 24;

/**
 * `{ type: 'object', properties: { body, query, params, headers, cookies } }` where each location lists the action's
 * parameters, and `body` the default media type's schema. `components` are the app's shared schemas.
 */
export function actionInputSchema(action: ActionDef, components: Record<string, JsonSchema> = {}): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  const required: string[] = [];
  const groups: [string, string][] = [['params', 'path'], ['query', 'query'], ['headers', 'header'], ['cookies', 'cookie']];
  for (const [key, loc] of groups) {
    const params = action.parameters.filter((p) => p.in === loc);
    if (!params.length) continue;
    const props: Record<string, unknown> = {};
    const req: string[] = [];
    for (const p of params) {
      props[p.name] = inlineRefs(p.schema ?? {}, components) as object;
      if (p.description && typeof props[p.name] === 'object') props[p.name] = { description: p.description, ...(props[p.name] as object) };
      if (p.required) req.push(p.name);
    }
    properties[key] = { type: 'object', properties: props, ...(req.length ? { required: req } : {}) };
    if (req.length) required.push(key);
  }
  const media = action.body?.media[action.body.default];
  if (action.body) {
    properties.body = { ...(inlineRefs(media?.schema ?? {}, components) as object), 'x-content-type': action.body.default };
    if (action.body.required) required.push('body');
  }
  return { type: 'object', properties, ...(required.length ? { required } : {}) };
}

/** A copy of `schema` with `$ref: 'components#/schemas/X'` replaced by X (recursively; cycles keep their `$ref`). */
export function inlineRefs(schema: unknown, components: Record<string, JsonSchema>, seen: string[] = []): unknown {
  if (Array.isArray(schema)) return schema.map((s) => inlineRefs(s, components, seen));
  if (!schema || typeof schema !== 'object') return schema;
  const node = schema as Record<string, unknown>;
  if (typeof node.$ref === 'string' && node.$ref.startsWith(REF_PREFIX)) {
    const name = decodeURIComponent(node.$ref.slice(REF_PREFIX.length).split('/')[0]).replace(/~1/g, '/').replace(/~0/g, '~');
    const target = components[name];
    const { $ref: _ref, ...beside } = node;
    if (target === undefined) return node;
    if (seen.includes(name) || seen.length >= MAX_DEPTH) return { ...node, description: `recursive: ${name}` };
    const inlined = inlineRefs(target, components, [...seen, name]);
    return Object.keys(beside).length ? { ...(inlined as object), ...(inlineRefs(beside, components, seen) as object) } : inlined;
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    // Literal values are data, not schemas.
    out[k] = k === 'example' || k === 'examples' || k === 'enum' || k === 'const' || k === 'default' ? v : inlineRefs(v, components, seen);
  }
  return out;
}
