// Operations on apps, their envs and their actions (API.md §3).
import { Presets, SingleBar } from 'cli-progress';
import { z } from 'zod';
import type { ActionDef } from '../model/action.js';
import type { AppDef, AppEnv } from '../model/app.js';
import { MAX_TIMER_MS, type ActionInput } from '../model/definitions.js';
import type { ImportOptions } from '../importers/index.js';
import type { ActionPatch, AppInput, AppUpdate } from '../workspace/apps.js';
import type { ActionDescription } from '../workspace/describe.js';
import type { ImportArgs, ImportReport } from '../workspace/import.js';
import { ConfigError } from '../errors.js';
import { removed } from './format.js';
import { operation } from './operation.js';
import { app, event, jsonObject, jsonSchema, rateLimit, slug, stringMap, tag } from './schemas.js';
import { jsonOption, pairs } from './cli-parsers.js';

const envInput = () => z.strictObject({ slug: slug(), base_url: z.string().describe('absolute http(s) URL'), description: z.string().optional(), variables: stringMap().optional() });

// The bounds of the call's own `retries` (options.ts), and waits a Node timer can hold: a negative baseMs or ceiling
// made every wait 0 (Retry-After ignored), and a wait past 2^31-1 ms fires at once.
const waitMs = () => z.number().min(0).max(MAX_TIMER_MS);
const retryPolicy = () =>
  z.strictObject({ retries: z.number().int().min(0).max(20).optional(), baseMs: waitMs().optional(), capMs: waitMs().optional(), retryAfterCeilingMs: waitMs().optional() });

const appFields = {
  name: z.string().optional().describe('display name'),
  description: z.string().optional().describe('what the API is for'),
  variables: jsonObject().optional().describe('declared variables: name → { type?, required?, default?, description? }'),
  constants: jsonObject().optional().describe('app constants ($Constant{key})'),
  retry: retryPolicy().optional().describe('default retry policy'),
  idempotency_header: z.string().optional().describe('header carrying an idempotency key on state-changing runs'),
  timeout_ms: z.number().positive().max(MAX_TIMER_MS).optional().describe('default per-attempt timeout in ms'),
  auth_schemes: jsonObject().optional().describe('declared security schemes (OpenAPI securitySchemes)'),
  security: z.array(z.record(z.string(), z.array(z.string()))).optional().describe('default security requirement'),
  rate_limit: rateLimit().optional().describe('default rate limit of every connection of the app (docs/rate-limits.md)'),
};
// apps.update: the same fields, each also null (removes it).
// A nullable wrapper is a new schema: the description is carried over, or `apps update --help` showed none. (Only
// JSON options can say null on the command line: `--name null` is the text "null".)
const appUpdateFields = Object.fromEntries(
  Object.entries(appFields).map(([k, v]) => [k, v.nullable().describe(v.unwrap() instanceof z.ZodString ? v.description! : `${v.description}; null removes it`)]),
) as {
  [K in keyof typeof appFields]: z.ZodNullable<(typeof appFields)[K]>;
};

const actionShape = {
  app: app(),
  event: tag('event tag'),
  method: z.string().describe('HTTP method'),
  path: z.string().describe('path template, e.g. /users/{id} or /users/:id'),
  summary: z.string().optional().describe('one-line summary'),
  description: z.string().optional(),
  content_type: z.string().optional().describe('request body media type'),
  schemas: z.strictObject({ body: jsonSchema().optional(), query: jsonSchema().optional(), params: jsonSchema().optional(), headers: jsonSchema().optional() }).optional().describe('JSON Schemas of body, query, params and headers'),
  parameters: z.array(jsonObject()).optional().describe('full parameter definitions (style, explode, …)'),
  timeout_ms: z.number().positive().max(MAX_TIMER_MS).optional().describe('per-attempt timeout in ms'),
  unsafe: z.boolean().optional().describe('the action may change state (never retried blindly)'),
  deprecated: z.boolean().optional(),
  pagination: jsonObject().optional().describe("how actions.paginate walks the list: { type: 'cursor' | 'offset' | 'page' | 'link', … } (docs/pagination.md)"),
};

// `actions create --body-schema '{…}'` is easier to type than one JSON object of four schemas.
const schemaOptions = {
  schemas: false as const,
  parameters: { flag: '--parameters <json>', description: 'full parameter definitions as JSON', parse: jsonOption('parameters') },
  body_schema: { flag: '--body-schema <json>', description: 'JSON Schema of the body', parse: jsonOption('body-schema') },
  query_schema: { flag: '--query-schema <json>', description: 'JSON Schema (object) of the query', parse: jsonOption('query-schema') },
  params_schema: { flag: '--params-schema <json>', description: 'JSON Schema (object) of the path params', parse: jsonOption('params-schema') },
  headers_schema: { flag: '--headers-schema <json>', description: 'JSON Schema (object) of the headers', parse: jsonOption('headers-schema') },
};
function foldSchemas(o: Record<string, unknown>): Record<string, unknown> {
  const { body_schema, query_schema, params_schema, headers_schema, ...rest } = o;
  const schemas = Object.fromEntries(Object.entries({ body: body_schema, query: query_schema, params: params_schema, headers: headers_schema }).filter(([, v]) => v !== undefined));
  return Object.keys(schemas).length ? { ...rest, schemas } : rest;
}

export const appOperations = {
  'apps.create': operation<AppInput, AppDef>({
    name: 'apps.create',
    summary: 'Create an app (one third-party API) with its envs.',
    input: z.strictObject({ tag: tag('app tag'), envs: z.array(envInput()).optional().describe('envs and their base URLs'), ...appFields }),
    handler: (s, i) => s.apps.create(i),
    http: { method: 'POST', path: '/v1/apps' },
    cli: {
      args: ['tag'],
      options: { envs: { flag: '--env <slug=url>', description: 'an env and its base URL (repeatable)', parse: pairs('env', 'slug=url'), initial: undefined } },
      prepare: (o) => (o.envs ? { ...o, envs: Object.entries(o.envs as Record<string, string>).map(([slug, base_url]) => ({ slug, base_url })) } : o),
      human: (a) => `Created app ${a.tag} with envs: ${a.envs.map((e) => e.slug).join(', ') || 'none'}`,
    },
  }),
  'apps.update': operation<AppUpdate, AppDef>({
    name: 'apps.update',
    summary: "Change an app's settings (name, variables, constants, retry, timeout, auth schemes, rate limit).",
    description: 'Fields not given keep their value; null removes one. Envs are changed with apps.envs.upsert.',
    input: z.strictObject({ app: app(), ...appUpdateFields }),
    handler: (s, i) => s.apps.update(i),
    http: { method: 'PATCH', path: '/v1/apps/{app}' },
    cli: { args: ['app'], human: (a) => `Updated app ${a.tag}` },
  }),
  'apps.import': operation<ImportArgs, ImportReport, ImportOptions>({
    name: 'apps.import',
    summary: 'Import an OpenAPI 2.0/3.0/3.1 or Postman v2.1 definition as the actions of an app (created if missing).',
    description: 'Re-importing updates actions in place and keeps every product\'s connection config. Over HTTP, send the definition as `spec`.',
    input: z.strictObject({
      app: tag('app tag'),
      file: z.string().optional().describe('path of the definition file (JSON or YAML)'),
      spec: z.union([z.string(), jsonObject()], { error: 'expected the definition as text (JSON or YAML) or as an object' }).optional().describe('the definition itself, as text or an object'),
      name: z.string().optional().describe('display name for a new app'),
      prune: z.boolean().optional().describe('delete imported actions whose operation is gone from the file'),
      refs_root: z.string().optional().describe("folder that file $refs may read from (default: the definition's folder)"),
    }),
    handler: (s, i, extra) => s.apps.import(i, extra),
    // A file path would name a file on the server's disk: over HTTP the definition travels in the body, and no folder
    // of the server's disk may be opened to its $refs either.
    http: { method: 'POST', path: '/v1/apps/{app}/import', omit: ['file', 'refs_root'] },
    cli: {
      args: ['file'],
      options: { spec: false },
      // The SDK's "give exactly one of file or spec" names an option the command does not have.
      prepare: async (input) => {
        if (input.file === undefined) throw new ConfigError('Missing the definition file: ductape apps import <file> --app <tag>.', { field: 'file' });
        return input;
      },
      invoke: async (call, input, json) => {
        // A progress bar only for people: not with --json, not when stdout is a pipe or a file.
        const bar = !json && process.stdout.isTTY ? new SingleBar({ format: 'Importing {bar} {value}/{total} operations', hideCursor: true }, Presets.shades_classic) : undefined;
        let started = false;
        const onProgress = (done: number, total: number) => {
          if (!started) bar!.start(total, 0);
          started = true;
          bar!.update(done);
        };
        try {
          return await call(input, bar ? { onProgress } : undefined);
        } finally {
          bar?.stop();
        }
      },
      human: (r, i) =>
        [
          `Imported ${i.file ?? 'the definition'} (${r.format}) into app ${r.app}: ${r.created.length} created, ${r.updated.length} updated, ${r.unchanged.length} unchanged` +
            (r.deleted.length ? `, ${r.deleted.length} deleted` : '') +
            (r.skipped.length ? `, ${r.skipped.length} skipped` : ''),
          ...r.skipped.map((x) => `  skipped ${x.operation}: ${x.reason}`),
          ...r.warnings.map((w) => `  warning: ${w}`),
        ].join('\n'),
    },
  }),
  'apps.list': operation<void, { tag: string; name: string; envs: string[]; actions: number }[]>({
    name: 'apps.list',
    summary: 'List apps with their envs and number of actions.',
    input: z.strictObject({}).optional(),
    handler: (s) => s.apps.list(),
    http: { method: 'GET', path: '/v1/apps' },
    cli: {},
  }),
  'apps.fetch': operation<{ app: string }, AppDef>({
    name: 'apps.fetch',
    summary: 'Show an app definition.',
    input: z.strictObject({ app: app() }),
    handler: (s, i) => s.apps.fetch(i),
    http: { method: 'GET', path: '/v1/apps/{app}' },
    cli: { args: ['app'] },
  }),
  'apps.delete': operation<{ app: string }, { deleted: boolean }>({
    name: 'apps.delete',
    summary: 'Delete an app and its actions (disconnect it from every product first).',
    input: z.strictObject({ app: app() }),
    handler: (s, i) => s.apps.delete(i),
    http: { method: 'DELETE', path: '/v1/apps/{app}' },
    cli: { args: ['app'], human: (r, i) => removed(r.deleted, `app ${i.app}`) },
  }),
  'apps.envs.upsert': operation<{ app: string; slug: string; base_url: string; description?: string; variables?: Record<string, string> }, AppEnv>({
    name: 'apps.envs.upsert',
    summary: 'Add or change an app env and its base URL.',
    input: z.strictObject({ app: app(), slug: slug(), base_url: z.string().describe('absolute http(s) URL'), description: z.string().optional(), variables: stringMap().optional().describe('server variable values') }),
    handler: (s, i) => s.apps.envs.upsert(i),
    http: { method: 'PUT', path: '/v1/apps/{app}/envs/{slug}' },
    cli: { command: 'apps env', args: ['app', 'slug', 'base_url'], human: (r, i) => `Set env ${r.slug} of app ${i.app}: ${r.base_url}` },
  }),
  'apps.envs.list': operation<{ app: string }, AppEnv[]>({
    name: 'apps.envs.list',
    summary: 'List the envs of an app.',
    input: z.strictObject({ app: app() }),
    handler: (s, i) => s.apps.envs.list(i),
    http: { method: 'GET', path: '/v1/apps/{app}/envs' },
    cli: { command: 'apps envs', args: ['app'] },
  }),
  'apps.actions.create': operation<ActionInput, ActionDef>({
    name: 'apps.actions.create',
    summary: 'Define an action by hand.',
    input: z.strictObject(actionShape),
    handler: (s, i) => s.apps.actions.create(i),
    http: { method: 'POST', path: '/v1/apps/{app}/actions' },
    cli: { command: 'actions create', options: schemaOptions, prepare: foldSchemas, human: (x) => `Created ${x.event}: ${x.method} ${x.path}` },
  }),
  'apps.actions.update': operation<ActionInput | ActionPatch, ActionDef>({
    name: 'apps.actions.update',
    summary: 'Replace the definition of an action (same input as create), or without method and path change only the fields given (e.g. pagination).',
    input: z.strictObject({ ...actionShape, method: actionShape.method.optional(), path: actionShape.path.optional(), pagination: actionShape.pagination.unwrap().nullable().optional() }),
    handler: (s, i) => s.apps.actions.update(i),
    http: { method: 'PUT', path: '/v1/apps/{app}/actions/{event}' },
    cli: { command: 'actions update', options: schemaOptions, prepare: foldSchemas, human: (x) => `Updated ${x.event}: ${x.method} ${x.path}${x.pagination ? ` (${x.pagination.type} pagination)` : ''}` },
  }),
  'apps.actions.list': operation<{ app: string }, { event: string; method: string; path: string; summary?: string }[]>({
    name: 'apps.actions.list',
    summary: 'List the actions of an app.',
    input: z.strictObject({ app: app() }),
    handler: (s, i) => s.apps.actions.list(i),
    http: { method: 'GET', path: '/v1/apps/{app}/actions' },
    cli: { command: 'actions list' },
  }),
  'apps.actions.fetch': operation<{ app: string; event: string; resolve?: boolean }, ActionDef | ActionDescription>({
    name: 'apps.actions.fetch',
    summary: 'Show one action with its schemas (resolve: the description of apps.actions.describe).',
    input: z.strictObject({ app: app(), event: event(), resolve: z.boolean().optional().describe('resolve schemas, add parameter styles, security and an example input') }),
    handler: (s, i) => s.apps.actions.fetch(i),
    http: { method: 'GET', path: '/v1/apps/{app}/actions/{event}' },
    cli: { command: 'actions fetch' },
  }),
  'apps.actions.schema': operation<{ app: string; event: string }, Record<string, unknown>>({
    name: 'apps.actions.schema',
    summary: "The input of an action as one JSON Schema ({ body, query, params, headers }) with the app's shared schemas inlined.",
    input: z.strictObject({ app: app(), event: event() }),
    // The one resolver (schema/resolve.ts) that describe and the typed-actions file use.
    handler: async (s, i) => (await s.apps.actions.fetch({ ...i, resolve: true })).input_schema as Record<string, unknown>,
    http: { method: 'GET', path: '/v1/apps/{app}/actions/{event}/schema' },
    cli: { command: 'actions schema' },
  }),
  'apps.actions.rename': operation<{ app: string; event: string; to: string }, ActionDef>({
    name: 'apps.actions.rename',
    summary: 'Rename an action event.',
    input: z.strictObject({ app: app(), event: event(), to: tag('event tag').describe('new event tag') }),
    handler: (s, i) => s.apps.actions.rename(i),
    http: { method: 'POST', path: '/v1/apps/{app}/actions/{event}/rename' },
    cli: { command: 'actions rename', human: (a) => `Renamed to ${a.event}` },
  }),
  'apps.actions.delete': operation<{ app: string; event: string }, { deleted: boolean }>({
    name: 'apps.actions.delete',
    summary: 'Delete an action.',
    input: z.strictObject({ app: app(), event: event() }),
    handler: (s, i) => s.apps.actions.delete(i),
    http: { method: 'DELETE', path: '/v1/apps/{app}/actions/{event}' },
    cli: { command: 'actions delete', human: (r, i) => removed(r.deleted, `action ${i.event} of app ${i.app}`) },
  }),
};
