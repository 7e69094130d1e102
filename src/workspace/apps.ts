// apps.*: create, list, fetch, delete apps; their envs; hand-defined actions (API.md §3).
import { Ajv } from 'ajv';
import { ConfigError, NotFoundError } from '../errors.js';
import type { ActionDef, JsonSchema } from '../model/action.js';
import type { AppDef } from '../model/app.js';
import { actionFromInput, checkEnv, checkKnownKeys, checkTag, fail, type ActionInput } from '../model/definitions.js';
import { checkPagination } from '../model/pagination.js';
import { checkRateLimit } from '../model/rate-limit.js';
import type { Store } from '../store/store.js';
import { mutate, type WorkspaceDeps } from './deps.js';
import { describeStored, type ActionDescription } from './describe.js';
import { importApp, type ImportArgs } from './import.js';
import type { ImportOptions } from '../importers/index.js';

export interface AppInput {
  tag: string;
  name?: string;
  description?: string;
  envs?: { slug: string; base_url: string; description?: string }[];
  variables?: AppDef['variables'];
  constants?: AppDef['constants'];
  retry?: AppDef['retry'];
  idempotency_header?: string;
  timeout_ms?: number;
  auth_schemes?: AppDef['auth_schemes'];
  security?: AppDef['security'];
  /** Default rate limit of every connection of the app (docs/rate-limits.md). */
  rate_limit?: AppDef['rate_limit'];
}
const APP_KEYS = ['tag', 'name', 'description', 'envs', 'variables', 'constants', 'retry', 'idempotency_header', 'timeout_ms', 'auth_schemes', 'security', 'rate_limit'];
/** What apps.update may change (envs have apps.envs.upsert; the tag is the app's identity). */
const UPDATE_KEYS = ['app', ...APP_KEYS.filter((k) => k !== 'tag' && k !== 'envs')];
type UpdatableField = Exclude<keyof AppInput, 'tag' | 'envs'>;

/** Input of apps.update: the fields to change; `null` removes an optional one. */
export type AppUpdate = { app: string } & { [K in UpdatableField]?: AppInput[K] | null };

export async function requireApp(store: Store, ws: string, tag: string): Promise<AppDef> {
  const app = await store.getApp(ws, tag);
  if (!app) throw new NotFoundError('app', tag, (await store.listApps(ws)).map((a) => a.tag), 'Create it with apps.create or apps.import.');
  return app;
}

/** apps.actions.update without method and path: only the given fields change. */
export type ActionPatch = { app: string; event: string } & Partial<Pick<ActionInput, 'summary' | 'description' | 'timeout_ms' | 'unsafe' | 'deprecated' | 'pagination'>>;
const PATCH_KEYS = ['app', 'event', 'summary', 'description', 'timeout_ms', 'unsafe', 'deprecated', 'pagination'];

export function createApps(deps: WorkspaceDeps) {
  const ws = deps.workspace;
  const patchAction = (input: ActionPatch): Promise<ActionDef> => {
    checkKnownKeys('action', input, PATCH_KEYS);
    if (input.timeout_ms !== undefined && !(typeof input.timeout_ms === 'number' && input.timeout_ms > 0)) fail('timeout_ms', 'expected a positive number of milliseconds');
    const pagination = input.pagination === undefined ? undefined : checkPagination('pagination', input.pagination);
    return mutate(deps, async (tx) => {
      const old = await requireAction(tx, ws, input.app, input.event);
      const action: ActionDef = { ...old };
      if (input.summary !== undefined) action.summary = String(input.summary);
      if (input.description !== undefined) action.description = String(input.description);
      if (input.timeout_ms !== undefined) action.timeoutMs = input.timeout_ms;
      if (input.unsafe !== undefined) action.unsafe = input.unsafe === true;
      if (input.deprecated !== undefined) action.deprecated = input.deprecated === true;
      if (pagination === null) delete action.pagination;
      else if (pagination !== undefined) action.pagination = pagination;
      await tx.putAction(ws, input.app, action);
      return action;
    });
  };
  /**
   * The stored definition; with `resolve: true`, its description: schemas resolved (cycles as named `$defs`),
   * parameters with location and style, security, responses and a valid example input (see docs/types.md).
   */
  function fetchAction(args: { app: string; event: string; resolve: true }): Promise<ActionDescription>;
  function fetchAction(args: { app: string; event: string; resolve?: false }): Promise<ActionDef>;
  function fetchAction(args: { app: string; event: string; resolve?: boolean }): Promise<ActionDef | ActionDescription>;
  async function fetchAction(args: { app: string; event: string; resolve?: boolean }): Promise<ActionDef | ActionDescription> {
    if (args.resolve) return describeStored(deps.store, ws, args.app, args.event);
    return requireAction(deps.store, ws, args.app, args.event);
  }
  return {
    async create(input: AppInput): Promise<AppDef> {
      if (!input || typeof input !== 'object') fail('app', 'expected an object');
      checkKnownKeys('app', input, APP_KEYS);
      const tag = checkTag('tag', input.tag);
      const envs = (input.envs ?? []).map((e, i) => checkEnv(`envs[${i}]`, e));
      const dup = envs.find((e, i) => envs.findIndex((x) => x.slug === e.slug) !== i);
      if (dup) fail('envs', `slug "${dup.slug}" appears twice`);
      if (input.timeout_ms !== undefined && !(typeof input.timeout_ms === 'number' && input.timeout_ms > 0)) fail('timeout_ms', 'expected a positive number');
      if (input.rate_limit !== undefined) checkRateLimit('rate_limit', input.rate_limit);
      const app: AppDef = {
        tag,
        name: input.name ?? tag,
        envs,
        ...pick(input, ['description', 'variables', 'constants', 'retry', 'idempotency_header', 'timeout_ms', 'auth_schemes', 'security', 'rate_limit']),
      };
      return mutate(deps, async (tx) => {
        if (await tx.getApp(ws, tag)) throw new ConfigError(`App "${tag}" already exists. Import into it, or delete it first.`, { field: 'tag' });
        await tx.putApp(ws, app);
        return app;
      });
    },
    /**
     * Changes an app's settings; fields not given keep their value, `null` removes one.
     * @example await ductape.apps.update({ app: 'stripe', rate_limit: { requests: 100, per_ms: 1000 } })
     */
    async update(input: AppUpdate): Promise<AppDef> {
      if (!input || typeof input !== 'object') fail('app', 'expected an object');
      checkKnownKeys('app', input, UPDATE_KEYS);
      if (input.name === null || (input.name !== undefined && (typeof input.name !== 'string' || input.name === ''))) fail('name', 'expected a non-empty string');
      if (input.timeout_ms != null && !(typeof input.timeout_ms === 'number' && input.timeout_ms > 0)) fail('timeout_ms', 'expected a positive number');
      if (input.rate_limit != null) checkRateLimit('rate_limit', input.rate_limit);
      return mutate(deps, async (tx) => {
        const app: AppDef = { ...(await requireApp(tx, ws, input.app)) };
        for (const k of UPDATE_KEYS) {
          if (k === 'app') continue;
          const v = (input as Record<string, unknown>)[k];
          if (v === null) delete (app as unknown as Record<string, unknown>)[k];
          else if (v !== undefined) (app as unknown as Record<string, unknown>)[k] = v;
        }
        await tx.putApp(ws, app);
        return app;
      });
    },
    /** Imports an OpenAPI 2.0/3.x or Postman v2.1 definition into the app (created if missing); see docs/importing.md. */
    async import(args: ImportArgs, options?: ImportOptions) {
      return importApp(deps, args, options);
    },
    async list(): Promise<{ tag: string; name: string; envs: string[]; actions: number }[]> {
      const apps = await deps.store.listApps(ws);
      return Promise.all(apps.map(async (a) => ({ tag: a.tag, name: a.name, envs: a.envs.map((e) => e.slug), actions: (await deps.store.listEvents(ws, a.tag)).length })));
    },
    async fetch(args: { app: string } | { tag: string }): Promise<AppDef> {
      return requireApp(deps.store, ws, 'app' in args ? args.app : args.tag);
    },
    async delete(args: { app: string } | { tag: string }): Promise<{ deleted: boolean }> {
      const tag = 'app' in args ? args.app : args.tag;
      return mutate(deps, async (tx) => {
        const users = (await tx.listProducts(ws)).filter((p) => Object.values(p.connections).some((c) => c.app === tag));
        if (users.length) throw new ConfigError(`App "${tag}" is connected to ${users.map((p) => `"${p.tag}"`).join(', ')}; disconnect it first.`);
        return { deleted: await tx.deleteApp(ws, tag) };
      });
    },
    envs: {
      async upsert(input: { app: string; slug: string; base_url: string; description?: string; variables?: Record<string, string> }) {
        const { app: tag, ...rest } = input ?? ({} as typeof input);
        const env = checkEnv('env', rest);
        return mutate(deps, async (tx) => {
          const app = await requireApp(tx, ws, tag);
          const envs = app.envs.filter((e) => e.slug !== env.slug);
          envs.push(env);
          await tx.putApp(ws, { ...app, envs });
          return env;
        });
      },
      async list(args: { app: string }) {
        return (await requireApp(deps.store, ws, args.app)).envs;
      },
    },
    actions: {
      async create(input: ActionInput): Promise<ActionDef> {
        const action = actionFromInput(input);
        checkSchemas(action);
        return mutate(deps, async (tx) => {
          await requireApp(tx, ws, input.app);
          if (await tx.getAction(ws, input.app, action.event)) {
            throw new ConfigError(`Action "${action.event}" already exists in app "${input.app}".`, { field: 'event' });
          }
          await tx.putAction(ws, input.app, action);
          return action;
        });
      },
      /**
       * Replaces an action (same input as create), or, without `method` and `path`, changes only the fields given:
       * `apps.actions.update({ app, event, pagination })` (null removes the pagination).
       */
      async update(input: ActionInput | ActionPatch): Promise<ActionDef> {
        if (input && typeof input === 'object' && !('method' in input) && !('path' in input)) return patchAction(input as ActionPatch);
        const action = actionFromInput(input as ActionInput);
        checkSchemas(action);
        return mutate(deps, async (tx) => {
          const old = await requireAction(tx, ws, input.app, action.event);
          await tx.putAction(ws, input.app, { ...action, source: old.source });
          return action;
        });
      },
      async list(args: { app: string }): Promise<{ event: string; method: string; path: string; summary?: string }[]> {
        await requireApp(deps.store, ws, args.app);
        return (await deps.store.listActions(ws, args.app)).map((a) => ({ event: a.event, method: a.method, path: a.path, summary: a.summary }));
      },
      fetch: fetchAction,
      /**
       * Settings of any action, imported ones included, that survive re-imports.
       * @example await ductape.apps.actions.configure({ app: 'stripe', event: 'get_customers', allow_unknown_params: true })
       */
      async configure(args: { app: string; event: string; allow_unknown_params?: boolean }): Promise<ActionDef> {
        if (!args || typeof args !== 'object') fail('action', 'expected { app, event, allow_unknown_params }');
        checkKnownKeys('action', args, ['app', 'event', 'allow_unknown_params']);
        if (args.allow_unknown_params !== undefined && typeof args.allow_unknown_params !== 'boolean') fail('allow_unknown_params', 'expected true or false');
        return mutate(deps, async (tx) => {
          const stored = await requireAction(tx, ws, args.app, args.event);
          if (args.allow_unknown_params === undefined) return stored;
          const { allow_unknown_params: _old, ...action } = stored;
          const next: ActionDef = args.allow_unknown_params ? { ...action, allow_unknown_params: true } : action;
          await tx.putAction(ws, args.app, next);
          return next;
        });
      },
      async rename(args: { app: string; event: string; to: string }): Promise<ActionDef> {
        const to = checkTag('to', args.to);
        return mutate(deps, async (tx) => {
          const action = await requireAction(tx, ws, args.app, args.event);
          if (args.event === to) return action;
          if (await tx.getAction(ws, args.app, to)) throw new ConfigError(`Action "${to}" already exists in app "${args.app}".`, { field: 'to' });
          await tx.deleteAction(ws, args.app, args.event);
          const renamed = { ...action, event: to };
          await tx.putAction(ws, args.app, renamed);
          return renamed;
        });
      },
      async delete(args: { app: string; event: string }): Promise<{ deleted: boolean }> {
        return mutate(deps, async (tx) => ({ deleted: await tx.deleteAction(ws, args.app, args.event) }));
      },
    },
  };
}

export async function requireAction(store: Store, ws: string, app: string, event: string): Promise<ActionDef> {
  await requireApp(store, ws, app);
  const action = await store.getAction(ws, app, event);
  if (!action) throw new NotFoundError('event', event, await store.listEvents(ws, app), `List events with "ductape actions list --app ${app}".`, `in app "${app}"`);
  return action;
}

/** A schema Ajv cannot compile is refused when it is defined, not when it is first run. */
function checkSchemas(action: ActionDef): void {
  const ajv = new Ajv({ strict: false, validateFormats: false });
  const tryCompile = (field: string, schema: JsonSchema | undefined) => {
    if (schema === undefined) return;
    try {
      ajv.compile(schema);
    } catch (err) {
      fail(field, `not a valid JSON Schema (${(err as Error).message})`);
    }
  };
  for (const p of action.parameters) tryCompile(`parameters.${p.name}.schema`, p.schema);
  for (const [m, def] of Object.entries(action.body?.media ?? {})) tryCompile(`schemas.body (${m})`, def.schema);
}

function pick<T extends object, K extends keyof T>(obj: T, keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (obj[k] !== undefined) out[k] = obj[k];
  return out;
}
