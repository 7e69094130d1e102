// Compiles one (product, env, access tag, event) into a Plan once: validators, path template, encoders, target.
import { NotFoundError } from '../errors.js';
import type { ActionDef, BodyDef, JsonSchema, ParamDef } from '../model/action.js';
import type { AppDef, ConnectionConfig, ProductDef } from '../model/app.js';
import type { ConnectionRow } from '../store/store.js';
import { DEFAULTS } from '../options.js';
import { hasPlaceholders } from '../model/placeholders.js';
import { normalizeRateLimit, type NormalizedRateLimit } from '../model/rate-limit.js';
import { resolveTarget } from './base-url.js';
import { idempotencyHeaderOf } from './retry.js';
import {
  compileBodyEncoder,
  compileCookieParam,
  compileHeaderParam,
  compilePathParam,
  compileQueryParam,
  encodePathLiteral,
  type EncodedBody,
  type ValueEncoder,
} from './encode/index.js';
import { essence } from './encode/media-type.js';
import { compileGuard, type InputGuard } from './guards.js';
import type { Runtime } from './runtime.js';
import { compileValidator, createAppValidators, type AppValidators, type LocationValidator } from './validators.js';
import { mergeAllOf, mergeComponents } from './schema-merge.js';

export interface CompiledParam<T> {
  name: string;
  /** Key to read from the caller's input (lowercase for headers). */
  inputKey: string;
  required: boolean;
  encode: ValueEncoder<T>;
}

export interface CompiledBody {
  required: boolean;
  defaultMedia: string;
  /** Declared media types by lowercase essence (no parameters). */
  media: Map<string, { mediaType: string; encode: ValueEncoder<EncodedBody>; validate?: LocationValidator }>;
}

export interface Plan {
  readonly product: string;
  readonly env: string;
  readonly accessTag: string;
  readonly app: AppDef;
  readonly action: ActionDef;
  readonly method: string;
  readonly origin: string;
  readonly basePath: string;
  /** Path literals interleaved with params: literals[0] + p0 + literals[1] + … */
  readonly pathLiterals: string[];
  readonly pathParams: CompiledParam<string>[];
  readonly queryParams: CompiledParam<string[]>[];
  readonly headerParams: CompiledParam<string>[];
  readonly cookieParams: CompiledParam<string>[];
  /** Names the plan encodes itself; other input keys pass through with default rules. */
  readonly declaredQuery: ReadonlySet<string>;
  readonly declaredHeaders: ReadonlySet<string>;
  readonly declaredCookies: ReadonlySet<string>;
  /** Encoded fixed query pieces from the spec's path key (always sent). */
  readonly fixedQuery: string[];
  /** The connection's literal query values (name, encoded piece): sent unless the caller gives that name. */
  readonly connectionQuery: [string, string][];
  /** Lowercase header names → values from the connection config (static). */
  readonly staticHeaders: Record<string, string>;
  readonly accept?: string;
  readonly body?: CompiledBody;
  readonly validate: InputValidators;
  /** Unknown query/params keys and bodies the action cannot take (guards.ts); undefined when nothing is guarded. */
  readonly guard?: InputGuard;
  readonly timeoutMs: number;
  /** The product's caches (tag → expiry), for `run({ cache })`. */
  readonly caches: Readonly<Record<string, { expiry_ms: number }>>;
  readonly connection: ConnectionRow | undefined;
  /** Values the action sends when the caller gives none (ParamDef.value), by input location; may hold placeholders. */
  readonly defaults?: ParamDefaults;
  /** Which defaults came from the connection config ('headers/x-key'): their problems are the config's, not the caller's. */
  readonly connectionDefaults: ReadonlySet<string>;
  /** The connection's rate limit, else the app's default; `signature` tells limiters when it changed. */
  readonly rateLimit?: { limit: NormalizedRateLimit; signature: string };
  /** Lowercase name of the header that carries an idempotency key (retry stage), if the app or action has one. */
  readonly idempotencyHeader?: string;
}

export interface InputValidators {
  params?: LocationValidator;
  query?: LocationValidator;
  headers?: LocationValidator;
  cookies?: LocationValidator;
}

export type ParamDefaults = Partial<Record<'params' | 'query' | 'headers' | 'cookies', Record<string, unknown>>>;
const INPUT_LOCATION = { path: 'params', query: 'query', header: 'headers', cookie: 'cookies' } as const;

/** Fills in the defaults the caller did not give (header names compared case-insensitively); copies only what changes. */
export function applyDefaults<T extends Record<string, unknown>>(input: T, defaults: ParamDefaults): T {
  let out: Record<string, unknown> | undefined;
  for (const loc of Object.keys(defaults) as (keyof ParamDefaults)[]) {
    const given = (input[loc] ?? {}) as Record<string, unknown>;
    let merged: Record<string, unknown> | undefined;
    for (const [name, value] of Object.entries(defaults[loc]!)) {
      const present = loc === 'headers' ? Object.keys(given).some((k) => k.toLowerCase() === name.toLowerCase()) : given[name] !== undefined;
      if (!present) (merged ??= { ...given })[name] = value;
    }
    if (merged) (out ??= { ...input })[loc] = merged;
  }
  return (out ?? input) as T;
}

/** Loads every definition a run needs (the only store reads of a run) and compiles them. */
export async function loadAndCompile(runtime: Runtime, product: string, env: string, accessTag: string, event: string): Promise<Plan> {
  const { store, workspace: ws } = runtime;
  const prod = await store.getProduct(ws, product);
  if (!prod) throw new NotFoundError('product', product, (await store.listProducts(ws)).map((p) => p.tag), 'Create it with products.create.');
  if (!prod.envs.includes(env)) throw new NotFoundError('env', env, prod.envs, undefined, `of product "${product}"`);
  // Own properties only: an access tag like 'constructor' must not find Object.prototype members.
  const conn = Object.hasOwn(prod.connections, accessTag) ? prod.connections[accessTag] : undefined;
  if (!conn) {
    throw new NotFoundError('app', accessTag, Object.keys(prod.connections), 'Connect it with products.apps.connect.', `connected to product "${product}"`);
  }
  const app = await store.getApp(ws, conn.app);
  if (!app) throw new NotFoundError('app', conn.app, (await store.listApps(ws)).map((a) => a.tag));
  const action = await store.getAction(ws, app.tag, event);
  if (!action) {
    throw new NotFoundError('event', event, await store.listEvents(ws, app.tag), `List events with "ductape actions list --app ${app.tag}".`, `in app "${app.tag}"`);
  }
  const connection = await store.getConnection(ws, product, env, accessTag);
  const validators = await appValidators(runtime, app);
  return compilePlan({ product: prod, env, accessTag, app, action, connection, validators });
}

// Each app definition's merged components, shared by that app's plans; rebuilt when the app changes (plans are cleared then,
// which moves the generation and drops every app's instances at once).
async function appValidators(runtime: Runtime, app: AppDef): Promise<AppValidators> {
  const { state } = runtime;
  if (state.validators.generation !== runtime.plans.generation) state.validators = { generation: runtime.plans.generation, byApp: new Map() };
  const perRuntime = state.validators.byApp;
  const key = app.tag;
  let v = perRuntime.get(key);
  if (!v) {
    // allOf is merged before validation (schema-merge.ts): `allOf: [A, { additionalProperties: false }]` accepts A's fields.
    v = runtime.store
      .getComponents(runtime.workspace, app.tag)
      .then((c) => createAppValidators({ schemas: mergeComponents((c as { schemas?: Record<string, JsonSchema> } | undefined)?.schemas ?? {}) }));
    perRuntime.set(key, v);
  }
  return v;
}

export interface CompileInput {
  product: ProductDef;
  env: string;
  accessTag: string;
  app: AppDef;
  action: ActionDef;
  connection: ConnectionRow | undefined;
  validators: AppValidators;
}

export function compilePlan(p: CompileInput): Plan {
  const { app, action, connection, validators } = p;
  const where = `${app.tag}.${action.event}`;
  const config: ConnectionConfig | undefined = connection?.config;
  const target = resolveTarget(app, action, p.env, config);

  const params = withTemplateParams(action);
  const of = (loc: ParamDef['in']) => params.filter((x) => x.in === loc);
  const compileParams = <T>(loc: ParamDef['in'], compile: (d: ParamDef) => ValueEncoder<T>): CompiledParam<T>[] =>
    of(loc).map((d) => ({
      name: d.name,
      inputKey: loc === 'header' ? d.name.toLowerCase() : d.name,
      required: loc === 'path' || d.required === true,
      encode: compile(d),
    }));

  const { literals: written, names } = splitTemplate(action.path);
  // Imported path keys are sent as written, except for what a request target cannot hold raw (`/Your Path`, `/café`).
  const literals = written.map(encodePathLiteral);
  const pathByName = new Map(compileParams('path', compilePathParam).map((c) => [c.name, c]));
  const pathParams = names.map((n) => pathByName.get(n)!);
  const queryParams = compileParams('query', compileQueryParam);
  const headerParams = compileParams('header', compileHeaderParam);
  const cookieParams = compileParams('cookie', compileCookieParam);

  const fixedQuery: string[] = [];
  const connectionQuery: [string, string][] = [];
  for (const [k, val] of Object.entries(action.fixedQuery ?? {})) fixedQuery.push(`${encodeURIComponent(k)}=${encodeURIComponent(val)}`);
  // Connection headers and query: literal values are encoded once here; values with placeholders ($Secret{…},
  // $Variable{…}) join the defaults, which the bind stage resolves on every run.
  let defaults = defaultsOf(params);
  const fromConnection = new Set<string>();
  const deferred = (loc: 'headers' | 'query', name: string, value: string) => {
    (((defaults ??= {})[loc] ??= {}) as Record<string, unknown>)[name] = value;
    fromConnection.add(`${loc}/${name}`);
  };
  for (const [k, val] of Object.entries(config?.query ?? {})) {
    if (hasPlaceholders(val)) deferred('query', k, val);
    else connectionQuery.push([k, `${encodeURIComponent(k)}=${encodeURIComponent(val)}`]);
  }
  const staticHeaders: Record<string, string> = {};
  for (const [k, val] of Object.entries(config?.headers ?? {})) {
    if (hasPlaceholders(val)) deferred('headers', k, val);
    else staticHeaders[k.toLowerCase()] = val;
  }

  return {
    product: p.product.tag,
    env: p.env,
    accessTag: p.accessTag,
    app,
    action,
    method: action.method,
    origin: target.origin,
    basePath: target.basePath,
    pathLiterals: literals,
    pathParams,
    queryParams,
    headerParams,
    cookieParams,
    declaredQuery: new Set(queryParams.map((q) => q.name)),
    declaredHeaders: new Set(headerParams.map((h) => h.inputKey)),
    declaredCookies: new Set(cookieParams.map((c) => c.inputKey)),
    fixedQuery,
    connectionQuery,
    staticHeaders,
    accept: acceptFor(action),
    body: action.body ? compileBody(action.body, validators, where) : undefined,
    validate: compileInputValidators(params, validators, where),
    guard: compileGuard(action, params, app.tag),
    timeoutMs: action.timeoutMs ?? app.timeout_ms ?? DEFAULTS.timeoutMs,
    caches: p.product.caches ?? {},
    connection,
    defaults,
    connectionDefaults: fromConnection,
    rateLimit: compileRateLimit(config, app),
    idempotencyHeader: idempotencyHeaderOf(app, action),
  };
}

function compileRateLimit(config: ConnectionConfig | undefined, app: AppDef): Plan['rateLimit'] {
  const def = config?.rate_limit ?? app.rate_limit;
  if (def === undefined || def === null) return undefined;
  return { limit: normalizeRateLimit('rate_limit', def), signature: JSON.stringify(def) };
}

/** The JSON Schema of one input location (`params`, `query`…) built from the action's parameters. */
export function locationSchema(params: ParamDef[], loc: ParamDef['in'], lower = false): JsonSchema | undefined {
  const list = params.filter((x) => x.in === loc);
  if (list.length === 0) return undefined;
  const properties: Record<string, unknown> = {};
  const required: string[] = [];
  for (const d of list) {
    const key = lower ? d.name.toLowerCase() : d.name;
    // content-encoded params are checked as their decoded value; a schema on them describes that value.
    properties[key] = d.schema ?? {};
    if (d.in === 'path' || d.required) required.push(key);
  }
  return { type: 'object', properties, required };
}

/** Validators of the parameter locations; header names are compared in lowercase. */
export function compileInputValidators(params: ParamDef[], validators: AppValidators, where: string): InputValidators {
  const v = (loc: ParamDef['in'], location: 'params' | 'query' | 'headers' | 'cookies', lower = false) => {
    const schema = locationSchema(params, loc, lower) as { required: string[] } | undefined;
    if (!schema) return undefined;
    // A parameter the operation requires stays required even when its schema is marked readOnly.
    const merged = { ...(mergeAllOf(schema, validators.components) as Record<string, unknown>), required: schema.required };
    return compileValidator(validators, merged, location, where, true);
  };
  return { params: v('path', 'params'), query: v('query', 'query'), headers: v('header', 'headers', true), cookies: v('cookie', 'cookies') };
}

function defaultsOf(params: ParamDef[]): ParamDefaults | undefined {
  let out: ParamDefaults | undefined;
  for (const p of params) {
    if (p.value === undefined) continue;
    ((out ??= {})[INPUT_LOCATION[p.in]] ??= {})[p.name] = p.value;
  }
  return out;
}

/** Path params named in the template but not declared (hand-made actions, sloppy specs) get default rules. */
export function withTemplateParams(action: ActionDef): ParamDef[] {
  const declared = new Set(action.parameters.filter((x) => x.in === 'path').map((x) => x.name));
  const extra = splitTemplate(action.path)
    .names.filter((n) => !declared.has(n))
    .map((name): ParamDef => ({ name, in: 'path', required: true, schema: { type: ['string', 'number', 'integer', 'boolean'] } }));
  return extra.length ? [...action.parameters, ...extra] : action.parameters;
}

export function splitTemplate(path: string): { literals: string[]; names: string[] } {
  const literals: string[] = [];
  const names: string[] = [];
  let last = 0;
  for (const m of path.matchAll(/\{([^{}]+)\}/g)) {
    literals.push(path.slice(last, m.index));
    names.push(m[1]);
    last = m.index! + m[0].length;
  }
  literals.push(path.slice(last));
  return { literals, names };
}

export function compileBody(body: BodyDef, validators: AppValidators, where: string): CompiledBody {
  const media: CompiledBody['media'] = new Map();
  for (const [mediaType, def] of Object.entries(body.media)) {
    media.set(essence(mediaType), {
      mediaType,
      encode: compileBodyEncoder(mediaType, def),
      validate:
        def.schema !== undefined && isStructured(mediaType)
          ? compileValidator(validators, mergeAllOf(def.schema, validators.components), 'body', where)
          : undefined,
    });
  }
  return { required: body.required === true, defaultMedia: essence(body.default), media };
}

/**
 * Bodies whose value is data the schema describes: JSON, forms and multipart. For XML, text and binary types the
 * caller passes the serialized document or bytes, which a JSON Schema of the document's fields cannot check.
 */
export function isStructured(mediaType: string): boolean {
  const m = essence(mediaType);
  return m === 'application/json' || m.endsWith('+json') || m === 'application/x-www-form-urlencoded' || m.startsWith('multipart/');
}

/** Prefer JSON when the action answers with it; otherwise say what it declares. */
function acceptFor(action: ActionDef): string | undefined {
  const types = new Set<string>();
  for (const byMedia of Object.values(action.responses ?? {})) for (const m of Object.keys(byMedia)) types.add(essence(m));
  if (types.size === 0) return undefined;
  const list = [...types];
  const json = list.filter((t) => t === 'application/json' || t.endsWith('+json'));
  return (json.length ? [...json, ...list.filter((t) => !json.includes(t)).map((t) => `${t};q=0.9`)] : list).join(', ');
}
