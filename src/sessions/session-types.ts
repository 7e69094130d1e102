// Session types of a product (products.sessions.*): schema or sample, selector, token and refresh lifetimes.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { ConfigError, NotFoundError, type Issue } from '../errors.js';
import { checkKnownKeys, checkTag, fail } from '../model/definitions.js';
import { formatPlaceholder, parsePlaceholder } from '../model/placeholders.js';
import type { Store } from '../store/store.js';

// ajv-formats is CommonJS; its default export arrives wrapped under ESM.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv) => Ajv;

export const SESSION_TYPE_KIND = 'session_type';

/** What sessions functions need. `now` is the clock in ms (tests). */
export interface SessionDeps {
  store: Store;
  workspace: string;
  privateKey: string;
  /** The key check privateKey was opened under: sessions are not sealed once another process rotated the key. */
  keyCheck?: string;
  now?: () => number;
  /**
   * Tells this process's verifiers of revoked sessions once the revoking transaction committed. By default that is at
   * once, on `store`; a caller whose `store` is its own still-open transaction (products.delete) collects the keys
   * here and announces them on its client's store after its commit: views listen on that store, never on a transaction.
   */
  announce?: (keys: string[]) => void;
}

/** A stored session type, as the API returns it (contract names: `expiry` and `refresh_expiry` in seconds). */
export interface SessionType {
  product: string;
  tag: string;
  schema: Record<string, unknown>;
  /** `$Session{…}` pointing at a primitive: its value identifies the user (revoke by identifier). */
  selector: string;
  /** Token lifetime, seconds. */
  expiry: number;
  /** Refresh token lifetime, seconds; each refresh starts a new one. */
  refresh_expiry: number;
  created_at: string;
  updated_at: string;
}

export interface SessionTypeInput {
  product: string;
  tag: string;
  /** A JSON Schema for the session data… */
  schema?: Record<string, unknown>;
  /** …or a sample of the data, from which a schema is inferred (every key present is required). */
  sample?: unknown;
  selector: string;
  /** @default 3600 (one hour) */
  expiry?: number;
  /** @default 2592000 (30 days) */
  refresh_expiry?: number;
}

export const DEFAULT_EXPIRY_SECONDS = 3600;
export const DEFAULT_REFRESH_EXPIRY_SECONDS = 30 * 24 * 3600;
const INPUT_KEYS = ['product', 'tag', 'schema', 'sample', 'selector', 'expiry', 'refresh_expiry'];

const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);
// Compiled validators by schema text: a type's schema changes rarely, and recompiling costs milliseconds.
const validators = new Map<string, ValidateFunction>();

export async function createSessionType(deps: SessionDeps, input: SessionTypeInput): Promise<SessionType> {
  const now = new Date(clock(deps)).toISOString();
  const def = normalize(input, { created_at: now, updated_at: now });
  await requireProductEnv(deps.store, deps.workspace, def.product);
  return deps.store.transaction(async (tx) => {
    if (await tx.getRecord(deps.workspace, SESSION_TYPE_KIND, typeKey(def.product, def.tag))) {
      throw new ConfigError(`Session type "${def.tag}" already exists in product "${def.product}"; change it with products.sessions.update().`, { field: 'tag' });
    }
    await tx.putRecord(deps.workspace, SESSION_TYPE_KIND, typeKey(def.product, def.tag), def, { ref: def.product });
    return def;
  });
}

export async function listSessionTypes(deps: SessionDeps, args: { product: string }): Promise<SessionType[]> {
  await requireProductEnv(deps.store, deps.workspace, args.product);
  const rows = await deps.store.listRecords<SessionType>(deps.workspace, SESSION_TYPE_KIND, { ref: args.product });
  return rows.map((r) => r.data);
}

export async function fetchSessionType(deps: SessionDeps, args: { product: string; tag: string }): Promise<SessionType> {
  const rec = await deps.store.getRecord<SessionType>(deps.workspace, SESSION_TYPE_KIND, typeKey(args.product, args.tag));
  if (rec) return rec.data;
  await requireProductEnv(deps.store, deps.workspace, args.product);
  const known = (await deps.store.listRecords<SessionType>(deps.workspace, SESSION_TYPE_KIND, { ref: args.product })).map((r) => r.data.tag);
  throw new NotFoundError('session type', args.tag, known, 'Create it with products.sessions.create().', `of product "${args.product}"`);
}

/** Changes the given fields; tokens already issued keep their own expiry. */
export async function updateSessionType(deps: SessionDeps, input: Partial<SessionTypeInput> & { product: string; tag: string }): Promise<SessionType> {
  const current = await fetchSessionType(deps, input);
  const merged: SessionTypeInput = { ...current, ...stripUndefined(input) };
  // A new sample replaces the schema, and a new schema replaces an inferred one: never both.
  if (input.sample !== undefined) delete merged.schema;
  const def = normalize(merged, { created_at: current.created_at, updated_at: new Date(clock(deps)).toISOString() });
  await deps.store.putRecord(deps.workspace, SESSION_TYPE_KIND, typeKey(def.product, def.tag), def, { ref: def.product });
  return def;
}

/** Deletes the type; the caller (sessions.ts) revokes its sessions first so no token of it stays usable. */
export async function removeSessionType(store: Store, ws: string, product: string, tag: string): Promise<boolean> {
  return store.deleteRecord(ws, SESSION_TYPE_KIND, typeKey(product, tag));
}

/** Checks session data against the type's schema; every problem is an issue at location 'session'. */
export function checkSessionData(type: SessionType, data: unknown): Issue[] {
  const text = JSON.stringify(type.schema);
  let validate = validators.get(text);
  if (!validate) {
    validate = ajv.compile(type.schema);
    if (validators.size > 500) validators.delete(validators.keys().next().value as string);
    validators.set(text, validate);
  }
  if (validate(data)) return [];
  return (validate.errors ?? []).map((e: ErrorObject) => ({ location: 'session', path: e.instancePath, message: e.message ?? 'is invalid' }));
}

export async function requireProductEnv(store: Store, ws: string, product: string, env?: string): Promise<void> {
  const p = await store.getProduct(ws, product);
  if (!p) throw new NotFoundError('product', product, (await store.listProducts(ws)).map((x) => x.tag), 'Create it with products.create().');
  if (env !== undefined && !p.envs.includes(env)) throw new NotFoundError('env', env, p.envs, undefined, `of product "${product}"`);
}

export function typeKey(product: string, tag: string): string {
  return `${product}/${tag}`;
}

export function clock(deps: { now?: () => number }): number {
  return deps.now ? deps.now() : Date.now();
}

/** Infers a JSON Schema from a sample value: types from values, every present key required. */
export function inferSchema(sample: unknown): Record<string, unknown> {
  if (sample === null) return { type: 'null' };
  if (Array.isArray(sample)) return sample.length ? { type: 'array', items: inferSchema(sample[0]) } : { type: 'array' };
  switch (typeof sample) {
    case 'string':
      return { type: 'string' };
    case 'number':
      return { type: Number.isInteger(sample) ? 'integer' : 'number' };
    case 'boolean':
      return { type: 'boolean' };
    case 'object': {
      const properties: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(sample as object)) properties[k] = inferSchema(v);
      return { type: 'object', required: Object.keys(properties), properties };
    }
    default:
      fail('sample', `cannot infer a schema from a ${typeof sample}; give plain JSON data`);
  }
}

function normalize(input: SessionTypeInput, times: { created_at: string; updated_at: string }): SessionType {
  if (!input || typeof input !== 'object') fail('session type', 'expected an object');
  checkKnownKeys('session type', input, [...INPUT_KEYS, 'created_at', 'updated_at']);
  const product = checkTag('product', input.product);
  const tag = checkTag('tag', input.tag);
  if (input.schema !== undefined && input.sample !== undefined) fail('schema', 'give either schema or sample, not both');
  const schema = input.schema !== undefined ? input.schema : input.sample !== undefined ? inferSchema(input.sample) : fail('schema', 'give a JSON Schema (schema) or a sample of the data (sample)');
  if (!schema || typeof schema !== 'object' || Array.isArray(schema)) fail('schema', 'expected a JSON Schema object');
  try {
    ajv.compile(schema);
  } catch (err) {
    fail('schema', `not a valid JSON Schema: ${(err as Error).message}`);
  }
  const selector = checkSelector(input.selector, schema);
  const expiry = checkSeconds('expiry', input.expiry ?? DEFAULT_EXPIRY_SECONDS);
  const refreshExpiry = checkSeconds('refresh_expiry', input.refresh_expiry ?? Math.max(DEFAULT_REFRESH_EXPIRY_SECONDS, expiry));
  if (refreshExpiry < expiry) fail('refresh_expiry', `must be at least expiry (${expiry} s)`);
  return { product, tag, schema, selector, expiry, refresh_expiry: refreshExpiry, ...times };
}

function checkSeconds(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0 || v > 10 * 365 * 24 * 3600) fail(field, `expected a whole number of seconds, more than 0 (got ${JSON.stringify(v)})`);
  return v;
}

// The selector must name a primitive. The schema may leave the leaf open (API.md's own example only marks `id`
// required), so this refuses only what the schema contradicts; sessions.start checks the actual value.
function checkSelector(selector: unknown, schema: Record<string, unknown>): string {
  const ref = typeof selector === 'string' ? parsePlaceholder(selector, ['Session']) : undefined;
  if (!ref || ref.path.length === 0) fail('selector', `expected one $Session{…} path such as "$Session{user}{id}" (got ${JSON.stringify(selector)})`);
  let node: Record<string, unknown> | undefined = schema;
  for (const seg of ref.path) {
    if (!node) break;
    const types = typesOf(node);
    // Array items are addressed by index, as in every $Session path (docs/placeholders.md): $Session{emails}{0}.
    if (types.includes('array') && /^(0|[1-9]\d*)$/.test(seg)) {
      node = itemSchema(node, Number(seg));
      continue;
    }
    if (types.length && !types.includes('object')) fail('selector', `${selector} goes through "${seg}", but the schema there is ${types.join('|')}, not an object`);
    const props = node.properties as Record<string, Record<string, unknown>> | undefined;
    if (props && Object.hasOwn(props, seg)) node = props[seg];
    else if (node.additionalProperties === false) fail('selector', `the schema allows no property "${seg}" on the path of ${selector}`);
    else node = undefined;
  }
  const leaf = node ? typesOf(node) : [];
  if (leaf.some((t) => t !== 'string' && t !== 'number' && t !== 'integer' && t !== 'boolean')) {
    fail('selector', `${selector} must point at a string, number or boolean (the schema says ${leaf.join('|')})`);
  }
  return formatPlaceholder('Session', ref.path);
}

/** The schema of item `i` of an array schema: a tuple's own (prefixItems, or draft-07 items as a list), else `items`. */
function itemSchema(node: Record<string, unknown>, i: number): Record<string, unknown> | undefined {
  const asSchema = (v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);
  const tuple = Array.isArray(node.prefixItems) ? node.prefixItems : Array.isArray(node.items) ? node.items : undefined;
  if (tuple && i < tuple.length) return asSchema(tuple[i]);
  return asSchema(Array.isArray(node.items) ? node.additionalItems : node.items);
}

function typesOf(node: Record<string, unknown>): string[] {
  return ([] as unknown[]).concat(node.type ?? []).filter((t): t is string => typeof t === 'string');
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
