// products.*: products with env slugs, connected apps under access tags, and per-env connection config (API.md §3).
import { ConfigError, NotFoundError } from '../errors.js';
import type { ConnectionConfig, ProductDef } from '../model/app.js';
import { headerValueProblem } from '../model/header.js';
import { checkBaseUrl, checkKnownKeys, checkServerVariables, checkSlug, checkStringMap, checkTag, fail } from '../model/definitions.js';
import { checkRateLimit, type RateLimitDef } from '../model/rate-limit.js';
import type { Store } from '../store/store.js';
import { connectionScope, describeCredentials, openCredentials, sealCredentials } from '../runtime/auth/credentials.js';
import type { AuthConfig } from '../runtime/auth/forms.js';
import { requireApp } from './apps.js';
import { mutate, type WorkspaceDeps } from './deps.js';
import { revokeProductKeys } from './keys.js';
import { checkPerUser } from '../connections/client-config.js';
import { deleteOwners, parseOwnerSelector } from '../connections/owners.js';
import { listSessionTypes } from '../sessions/session-types.js';
import { deleteSessionType } from '../sessions/sessions.js';
import { announceRevocations } from '../sessions/revocations.js';

export async function requireProduct(store: Store, ws: string, tag: string): Promise<ProductDef> {
  const p = await store.getProduct(ws, tag);
  if (!p) throw new NotFoundError('product', tag, (await store.listProducts(ws)).map((x) => x.tag), 'Create it with products.create.');
  return p;
}

/** Whether the product defines the cache `tag` (own keys only: 'toString' is a valid tag). */
export const hasCache = (p: ProductDef, tag: string): boolean => !!p.caches && Object.hasOwn(p.caches, tag);

export interface ConfigureInput extends Omit<ConnectionConfig, 'per_user' | 'rate_limit'> {
  /** Owned per end user: a `$Session{…}` selector naming the owner (docs/connections.md); null makes it shared again. */
  per_user?: string | null;
  /** This connection's rate limit (docs/rate-limits.md); null removes it (the app's default applies again). */
  rate_limit?: RateLimitDef | null;
  /** Credentials (API.md §3), sealed at rest; null removes them; omitted keeps the stored ones. */
  auth?: AuthConfig | null;
  product: string;
  /** The access tag the app is connected under. */
  app: string;
  env: string;
}
export const CONFIGURE_KEYS = ['product', 'app', 'env', 'app_env', 'base_url', 'headers', 'query', 'variables', 'server_variables', 'auth', 'per_user', 'rate_limit'];

export function createProducts(deps: WorkspaceDeps) {
  const ws = deps.workspace;
  return {
    async create(input: { tag: string; name?: string; envs: string[] }): Promise<ProductDef> {
      if (!input || typeof input !== 'object') fail('product', 'expected an object');
      checkKnownKeys('product', input, ['tag', 'name', 'envs']);
      const tag = checkTag('tag', input.tag);
      if (!Array.isArray(input.envs) || input.envs.length === 0) fail('envs', 'expected a non-empty list of env slugs, e.g. ["dev", "prd"]');
      const envs = input.envs.map((e, i) => checkSlug(`envs[${i}]`, e));
      if (new Set(envs).size !== envs.length) fail('envs', 'an env slug appears twice');
      const product: ProductDef = { tag, envs, connections: {}, ...(input.name ? { name: input.name } : {}) };
      return mutate(deps, async (tx) => {
        if (await tx.getProduct(ws, tag)) throw new ConfigError(`Product "${tag}" already exists.`, { field: 'tag' });
        await tx.putProduct(ws, product);
        return product;
      });
    },
    async list(): Promise<ProductDef[]> {
      return deps.store.listProducts(ws);
    },
    async fetch(args: { product: string } | { tag: string }): Promise<ProductDef> {
      return requireProduct(deps.store, ws, 'product' in args ? args.product : args.tag);
    },
    /** Deletes a product, its connections and its session types; every session it issued and every run key scoped to it is revoked. */
    async delete(args: { product: string } | { tag: string }): Promise<{ deleted: boolean }> {
      const tag = 'product' in args ? args.product : args.tag;
      const revoked: string[] = [];
      const out = await mutate(deps, async (tx) => {
        if (!(await tx.getProduct(ws, tag))) return { deleted: false };
        // Token keys derive from (workspace, product, env, tag): without this, re-creating the product would make
        // the old product's tokens valid again.
        const sessionDeps = { store: tx, workspace: ws, privateKey: deps.privateKey, announce: (keys: string[]) => revoked.push(...keys) };
        for (const type of await listSessionTypes(sessionDeps, { product: tag })) await deleteSessionType(sessionDeps, { product: tag, tag: type.tag });
        // The same for end users' connections: their tokens go with the product.
        await deleteOwners(tx, ws, { product: tag });
        // And the run keys scoped to it (docs/serve.md#keys).
        await revokeProductKeys(tx, ws, tag);
        return { deleted: await tx.deleteProduct(ws, tag) };
      });
      // After the commit, on the client's own store: its runs refuse those tokens from the next run on, as after
      // sessions.revoke (announced on the transaction, they were accepted for up to the 100 ms revocation window).
      announceRevocations(deps.store, ws, revoked);
      return out;
    },
    /** Adds env slugs to a product. */
    async addEnv(args: { product: string; env: string }): Promise<ProductDef> {
      const env = checkSlug('env', args.env);
      return mutate(deps, async (tx) => {
        const p = await requireProduct(tx, ws, args.product);
        if (!p.envs.includes(env)) p.envs.push(env);
        await tx.putProduct(ws, p);
        return p;
      });
    },
    apps: {
      /** Connects an app under an access tag (default: the app tag); the same app may be connected twice. */
      async connect(input: { product: string; app: string; access_tag?: string }) {
        checkKnownKeys('connect', input ?? {}, ['product', 'app', 'access_tag']);
        const accessTag = checkTag('access_tag', input.access_tag ?? input.app);
        return mutate(deps, async (tx) => {
          const p = await requireProduct(tx, ws, input.product);
          await requireApp(tx, ws, input.app);
          const existing = Object.hasOwn(p.connections, accessTag) ? p.connections[accessTag] : undefined;
          if (existing && existing.app !== input.app) {
            throw new ConfigError(`Access tag "${accessTag}" of product "${p.tag}" already connects app "${existing.app}"; choose another access_tag.`, { field: 'access_tag' });
          }
          p.connections[accessTag] = { app: input.app };
          await tx.putProduct(ws, p);
          return { product: p.tag, app: input.app, access_tag: accessTag };
        });
      },
      async disconnect(input: { product: string; app: string }) {
        return mutate(deps, async (tx) => {
          const p = await requireProduct(tx, ws, input.product);
          const existed = Object.hasOwn(p.connections, input.app) && delete p.connections[input.app];
          await tx.putProduct(ws, p);
          await tx.deleteConnections(ws, p.tag, input.app);
          await deleteOwners(tx, ws, { product: p.tag, app: input.app });
          return { disconnected: existed };
        });
      },
      async list(args: { product: string }) {
        const p = await requireProduct(deps.store, ws, args.product);
        return Object.entries(p.connections).map(([access_tag, c]) => ({ access_tag, app: c.app }));
      },
      /** Sets the connection config for one env; fields not given keep their stored value. */
      async configure(input: ConfigureInput) {
        if (!input || typeof input !== 'object') fail('configure', 'expected an object');
        checkKnownKeys('configure', input, CONFIGURE_KEYS);
        const patch = checkConfig(input);
        return mutate(deps, async (tx) => {
          const p = await requireProduct(tx, ws, input.product);
          if (!p.envs.includes(input.env)) throw new NotFoundError('env', input.env, p.envs, undefined, `of product "${p.tag}"`);
          const conn = Object.hasOwn(p.connections, input.app) ? p.connections[input.app] : undefined;
          if (!conn) throw new NotFoundError('app', input.app, Object.keys(p.connections), 'Connect it with products.apps.connect.', `connected to product "${p.tag}"`);
          const app = await requireApp(tx, ws, conn.app);
          if (patch.app_env && !app.envs.some((e) => e.slug === patch.app_env)) {
            fail('app_env', `app "${app.tag}" has no env "${patch.app_env}" (it has: ${app.envs.map((e) => e.slug).join(', ') || 'none'})`);
          }
          const old = await tx.getConnection(ws, p.tag, input.env, input.app);
          const config: ConnectionConfig = { ...old?.config, ...patch };
          if (input.per_user === null) delete config.per_user;
          if (input.rate_limit === null) delete config.rate_limit;
          // Credentials are sealed for exactly this connection; the result describes them without values.
          const scope = connectionScope(ws, p.tag, input.env, input.app);
          const credentials =
            input.auth === undefined ? old?.credentials ?? null : input.auth === null ? null : sealCredentials(deps.privateKey, scope, input.auth);
          const forms = openCredentials(deps.privateKey, scope, credentials);
          checkPerUser(app, config, forms);
          await tx.putConnection(ws, p.tag, input.env, input.app, { config, credentials });
          return { product: p.tag, app: input.app, env: input.env, ...config, auth: describeCredentials(forms) };
        });
      },
    },
    caches: {
      /** Defines a response cache of the product; `run({ cache: tag })` stores 2xx answers for `expiry` ms. */
      async create(input: { product: string; tag: string; expiry: number }) {
        if (!input || typeof input !== 'object') fail('cache', 'expected an object');
        checkKnownKeys('cache', input, ['product', 'tag', 'expiry']);
        const tag = checkTag('tag', input.tag);
        if (!Number.isSafeInteger(input.expiry) || input.expiry < 1) fail('expiry', 'expected a whole number of milliseconds ≥ 1, e.g. 60000');
        return mutate(deps, async (tx) => {
          const p = await requireProduct(tx, ws, input.product);
          // Own keys only, as for connections: a cache tag such as 'toString' must not find Object.prototype's.
          if (hasCache(p, tag)) throw new ConfigError(`Cache "${tag}" of product "${p.tag}" already exists; delete it first to change it.`, { field: 'tag' });
          p.caches = { ...p.caches, [tag]: { expiry_ms: input.expiry } };
          await tx.putProduct(ws, p);
          return { product: p.tag, tag, expiry: input.expiry };
        });
      },
      async list(args: { product: string }) {
        const p = await requireProduct(deps.store, ws, args.product);
        return Object.entries(p.caches ?? {}).map(([tag, c]) => ({ tag, expiry: c.expiry_ms }));
      },
      /** Removes the definition; entries already stored expire on their own (or use caches.clear first). */
      async delete(args: { product: string; tag: string }) {
        return mutate(deps, async (tx) => {
          const p = await requireProduct(tx, ws, args.product);
          const existed = hasCache(p, args.tag);
          if (existed) {
            const { [args.tag]: _gone, ...rest } = p.caches!;
            p.caches = rest;
            await tx.putProduct(ws, p);
          }
          return { deleted: existed };
        });
      },
    },
  };
}

function checkConfig(input: ConfigureInput): ConnectionConfig {
  const out: ConnectionConfig = {};
  if (input.per_user !== undefined && input.per_user !== null) {
    if (typeof input.per_user !== 'string' || !parseOwnerSelector(input.per_user)) fail('per_user', `expected one $Session{…} path naming the end user, such as "$Session{user}{id}" (got ${JSON.stringify(input.per_user)})`);
    out.per_user = input.per_user;
  }
  if (input.app_env !== undefined) out.app_env = checkSlug('app_env', input.app_env);
  if (input.base_url !== undefined) out.base_url = checkBaseUrl('base_url', input.base_url);
  if (input.headers !== undefined) {
    out.headers = checkStringMap('headers', input.headers);
    for (const [k, v] of Object.entries(out.headers)) {
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k)) fail(`headers.${k}`, 'not a valid header name');
      const problem = headerValueProblem(v);
      if (problem) fail(`headers.${k}`, problem);
    }
  }
  if (input.query !== undefined) out.query = checkStringMap('query', input.query);
  if (input.server_variables !== undefined) out.server_variables = checkServerVariables('server_variables', input.server_variables);
  if (input.rate_limit != null) out.rate_limit = checkRateLimit('rate_limit', input.rate_limit)!;
  if (input.variables !== undefined) {
    if (!input.variables || typeof input.variables !== 'object' || Array.isArray(input.variables)) fail('variables', 'expected an object');
    out.variables = input.variables;
  }
  return out;
}
