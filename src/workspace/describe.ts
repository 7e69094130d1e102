// describe: one action with its schemas resolved, its parameters' locations and styles, its security, its responses
// and an example input that passes the action's own validation (`apps.actions.fetch({ resolve: true })`).
import type { Issue } from '../errors.js';
import type { ActionDef, BodyDef, JsonSchema, ParamDef, ParamStyle, SecurityRequirement } from '../model/action.js';
import type { AppDef, AuthSchemeDef } from '../model/app.js';
import type { IActionRequest } from '../runtime/context.js';
import { checkGuard, compileGuard } from '../runtime/guards.js';
import { compileBody, compileInputValidators, isStructured, locationSchema, withTemplateParams } from '../runtime/plan.js';
import { lowerKeys } from '../runtime/validate.js';
import { mergeComponents } from '../runtime/schema-merge.js';
import { createAppValidators } from '../runtime/validators.js';
import { exampleFor } from '../schema/example.js';
import { createSchemaResolver, type ResolveOptions } from '../schema/resolve.js';
import type { Store } from '../store/store.js';
import { requireAction, requireApp } from './apps.js';

/** Where a parameter goes in `run({ input })`. */
export type InputLocation = 'params' | 'query' | 'headers' | 'cookies';
const INPUT_OF: Record<ParamDef['in'], InputLocation> = { path: 'params', query: 'query', header: 'headers', cookie: 'cookies' };

export interface DescribedParam {
  name: string;
  in: ParamDef['in'];
  /** The key of `run({ input })` it is given under. */
  input: InputLocation;
  required: boolean;
  style: ParamStyle;
  explode: boolean;
  schema: JsonSchema;
  description?: string;
  deprecated?: boolean;
  /** Sent when the caller gives none (Postman values, connection defaults); may hold placeholders. */
  value?: unknown;
}

/** What `apps.actions.fetch({ app, event, resolve: true })` resolves to. */
export interface ActionDescription {
  app: string;
  event: string;
  method: string;
  path: string;
  summary?: string;
  description?: string;
  deprecated?: boolean;
  parameters: DescribedParam[];
  body?: { required: boolean; default: string; media: Record<string, { schema?: JsonSchema; example?: unknown }> };
  /** The effective requirement (the action's, else the app's): a list of alternatives, each naming schemes. */
  security: SecurityRequirement[];
  /** The schemes those requirements name. */
  security_schemes: Record<string, AuthSchemeDef>;
  /** status → media type → schema. */
  responses: Record<string, Record<string, JsonSchema | null>>;
  /** JSON Schema of `run({ input })`: `{ params, query, headers, body }` (MCP tools take it as their input schema). */
  input_schema: JsonSchema;
  /** An input that passes this action's validation (from the spec's examples where they are valid). */
  example: IActionRequest;
  /** Named components that the schemas above refer to as `#/$defs/<name>` (cycles, and past the size budget). */
  $defs?: Record<string, JsonSchema>;
  allow_unknown_params?: boolean;
}

/** Schema nodes of the responses shown before deeper components are left as a `$comment` naming them. */
const RESPONSE_BUDGET = 400;

/** Reads an action, its app and the app's components from the store and describes it. */
export async function describeStored(store: Store, ws: string, appTag: string, event: string): Promise<ActionDescription> {
  const action = await requireAction(store, ws, appTag, event);
  const app = await requireApp(store, ws, appTag);
  return describeAction(app, action, componentsOf(await store.getComponents(ws, appTag)));
}

/** The `schemas` table of stored components (an app without components has none). */
export function componentsOf(stored: unknown): Record<string, JsonSchema> {
  return ((stored as { schemas?: Record<string, JsonSchema> } | undefined)?.schemas ?? {}) as Record<string, JsonSchema>;
}

/**
 * Describes an action. Every schema is resolved by one resolver, so they share one `$defs` table (a component
 * referred to by name from a parameter and from a response is defined once).
 */
export function describeAction(app: AppDef, action: ActionDef, components: Record<string, JsonSchema>, options: ResolveOptions = {}): ActionDescription {
  const resolver = createSchemaResolver(components, options);
  const params = withTemplateParams(action);
  const parameters = params.map((p): DescribedParam => {
    const style = p.style ?? (p.in === 'query' || p.in === 'cookie' ? 'form' : 'simple');
    return {
      name: p.name,
      in: p.in,
      input: INPUT_OF[p.in],
      required: p.in === 'path' || p.required === true,
      style,
      explode: p.explode ?? style === 'form',
      schema: resolver.resolve(p.schema ?? {}),
      ...(p.description ? { description: p.description } : {}),
      ...(p.deprecated ? { deprecated: true } : {}),
      ...(p.value !== undefined ? { value: p.value } : {}),
    };
  });
  const body = action.body ? describeBody(action.body, resolver.resolve) : undefined;
  const security = action.security ?? app.security ?? [];
  const schemes: Record<string, AuthSchemeDef> = {};
  for (const req of security) for (const name of Object.keys(req)) if (app.auth_schemes?.[name]) schemes[name] = app.auth_schemes[name];
  const inputSchema = inputSchemaOf(action, params, app.tag, resolver.resolve);
  // Responses get their own, smaller budget: in a graph like Stripe's every object reaches nearly every other, and
  // a reader needs the first levels of the answer, not the whole API. Inputs are always complete.
  const forResponses = createSchemaResolver(components, { budget: RESPONSE_BUDGET, overBudget: 'stub' });
  const responses: ActionDescription['responses'] = {};
  for (const [status, byMedia] of Object.entries(action.responses ?? {})) {
    responses[status] = {};
    for (const [m, s] of Object.entries(byMedia)) responses[status][m] = s === null ? null : forResponses.resolve(s);
  }
  const inputDefs = resolver.defs();
  const defs = { ...forResponses.defs(), ...inputDefs };
  return {
    app: app.tag,
    event: action.event,
    method: action.method,
    path: action.path,
    ...(action.summary ? { summary: action.summary } : {}),
    ...(action.description ? { description: action.description } : {}),
    ...(action.deprecated ? { deprecated: true } : {}),
    parameters,
    ...(body ? { body } : {}),
    security,
    security_schemes: schemes,
    responses,
    input_schema: Object.keys(inputDefs).length ? { ...(inputSchema as object), $defs: inputDefs } : inputSchema,
    example: exampleInput(app, action, params, components),
    ...(Object.keys(defs).length ? { $defs: defs } : {}),
    ...(action.allow_unknown_params ? { allow_unknown_params: true } : {}),
  };
}

function describeBody(body: BodyDef, resolve: (s: JsonSchema) => JsonSchema): ActionDescription['body'] {
  const media: Record<string, { schema?: JsonSchema; example?: unknown }> = {};
  for (const [m, def] of Object.entries(body.media)) {
    media[m] = { ...(def.schema !== undefined ? { schema: resolve(def.schema) } : {}), ...(def.example !== undefined ? { example: def.example } : {}) };
  }
  return { required: body.required === true, default: body.default, media };
}

/** The input schema of an action alone (no example, no responses): what an MCP tool of the action takes. */
export function describeInput(action: ActionDef, components: Record<string, JsonSchema>): JsonSchema {
  const resolver = createSchemaResolver(components);
  const schema = inputSchemaOf(action, withTemplateParams(action), '', resolver.resolve);
  const defs = resolver.defs();
  return Object.keys(defs).length ? { ...(schema as object), $defs: defs } : schema;
}

/**
 * `{ params, query, headers, cookies, body }` as one object schema, each part required when something in it is. A
 * location takes unknown keys, or is there at all, exactly where the run's input guards let it: undeclared headers
 * always (tracing), the query and path keys of a hand-made action that declares none or of one that allows unknown
 * keys, and a body wherever the guard does not refuse one.
 */
function inputSchemaOf(action: ActionDef, params: ParamDef[], appTag: string, resolve: (s: JsonSchema) => JsonSchema): JsonSchema {
  const guard = compileGuard(action, params, appTag);
  const closed = { path: !!guard?.params, query: !!guard?.query, header: false, cookie: true };
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const loc of ['path', 'query', 'header', 'cookie'] as const) {
    const schema = locationSchema(params, loc) as { properties: object; required: string[] } | undefined;
    if (!schema) {
      if (!closed[loc]) properties[INPUT_OF[loc]] = { type: 'object' };
      continue;
    }
    properties[INPUT_OF[loc]] = resolve(closed[loc] ? { ...schema, additionalProperties: false } : schema);
    if (schema.required.length) required.push(INPUT_OF[loc]);
  }
  const body = action.body;
  if (body) {
    const media = Object.hasOwn(body.media, body.default) ? body.default : Object.keys(body.media)[0];
    const schema = body.media[media]?.schema;
    properties.body = !isStructured(media) ? serializedBody(media, schema, resolve) : schema !== undefined ? resolve(schema) : {};
    if (body.required) required.push('body');
  } else if (!guard?.noBody) {
    properties.body = {};
  }
  return { type: 'object', properties, ...(required.length ? { required } : {}), additionalProperties: false };
}

/**
 * An XML, text or binary body is given as the serialized document (the encoder turns no object into XML): its schema,
 * which describes the document's fields, is not what the caller passes.
 */
function serializedBody(media: string, schema: JsonSchema | undefined, resolve: (s: JsonSchema) => JsonSchema): JsonSchema {
  if (schema !== undefined && (schema as { type?: unknown }).type === 'string') return resolve(schema);
  return { type: 'string', description: `the ${media} body, serialized (sent as given)` };
}

/**
 * An example input, checked with the same validators and guards a run uses. The spec's own examples come first;
 * when they do not pass (vendors' examples drift from their schemas), one made from the schema alone is used.
 */
function exampleInput(app: AppDef, action: ActionDef, params: ParamDef[], components: Record<string, JsonSchema>): IActionRequest {
  const validators = createAppValidators({ schemas: mergeComponents(components) });
  const where = `${app.tag}.${action.event}`;
  const check = compileInputValidators(params, validators, where);
  const body = action.body ? compileBody(action.body, validators, where) : undefined;
  const guard = compileGuard(action, params, app.tag);
  const issuesOf = (input: IActionRequest): Issue[] => {
    const issues: Issue[] = [];
    if (guard) checkGuard(guard, input, issues);
    check.params?.({ ...input.params }, issues);
    check.query?.({ ...input.query }, issues);
    check.headers?.(lowerKeys(input.headers), issues);
    check.cookies?.({ ...input.cookies }, issues);
    if (body && input.body !== undefined) body.media.get(body.defaultMedia)?.validate?.(input.body, issues);
    if (body?.required && input.body === undefined) issues.push({ location: 'body', path: '', message: 'is required' });
    return issues;
  };
  let last: IActionRequest = {};
  for (const useExamples of [true, false]) {
    const input = buildInput(action, params, components, useExamples);
    if (issuesOf(input).length === 0) return input;
    // An optional body that cannot be made valid is better left out than sent wrong.
    if (input.body !== undefined && !body?.required) {
      const { body: _b, ...rest } = input;
      if (issuesOf(rest).length === 0) return rest;
    }
    last = input;
  }
  return last;
}

function buildInput(action: ActionDef, params: ParamDef[], components: Record<string, JsonSchema>, useExamples: boolean): IActionRequest {
  const input: Record<string, Record<string, unknown> | unknown> = {};
  for (const p of params) {
    // Parameters with a value of their own (Postman's, or filled from the connection) need nothing from the caller.
    if (!(p.in === 'path' || p.required) || p.value !== undefined) continue;
    const v = exampleFor(p.schema ?? { type: 'string' }, components, { useExamples });
    ((input[INPUT_OF[p.in]] ??= {}) as Record<string, unknown>)[p.name] = v === undefined ? 'example' : v;
  }
  if (action.body) {
    const def = action.body.media[action.body.default] ?? Object.values(action.body.media)[0];
    const fromSpec = useExamples ? def?.example : undefined;
    const made = fromSpec !== undefined ? fromSpec : def?.schema !== undefined ? exampleFor(def.schema, components, { useExamples }) : undefined;
    // An XML, text or binary body is the serialized document: an object made from its schema would be refused.
    const v = isStructured(action.body.default) || typeof made === 'string' ? made : undefined;
    if (v !== undefined) input.body = v;
    else if (action.body.required) input.body = isStructured(action.body.default) ? {} : 'example';
  }
  return input as IActionRequest;
}
