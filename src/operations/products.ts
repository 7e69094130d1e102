// Operations on products: envs, connected apps and their config, response caches and session types (API.md §3).
import { z } from 'zod';
import type { ProductDef } from '../model/app.js';
import type { SessionType, SessionTypeInput } from '../sessions/session-types.js';
import type { ConfigureInput } from '../workspace/products.js';
import { jsonOption, NULL_OPTION, pairs } from './cli-parsers.js';
import { removed } from './format.js';
import { operation } from './operation.js';
import { accessTag, app, auth, env, jsonObject, product, rateLimit, slug, stringMap, tag } from './schemas.js';

type Connected = { product: string; app: string; access_tag: string };

// Said the way ductape.yaml's checks say it, not zod's "expected int, received number" / "Too small: expected number to be >=1".
const MS = { error: 'expected a whole number of milliseconds ≥ 1, e.g. 60000' };
const seconds = () => z.number().int({ error: 'expected a whole number of seconds ≥ 1, e.g. 3600' }).positive({ error: 'expected a whole number of seconds ≥ 1, e.g. 3600' });

const sessionTypeFields = {
  schema: jsonObject().optional().describe('JSON Schema of the session data'),
  sample: z.unknown().optional().describe('a sample of the data, from which a schema is inferred'),
  selector: z.string().describe("'$Session{…}' path to the value that identifies the user"),
  expiry: seconds().optional().describe('token lifetime in seconds (default 3600)'),
  refresh_expiry: seconds().optional().describe('refresh token lifetime in seconds (default 30 days)'),
};


export const productOperations = {
  'products.create': operation<{ tag: string; name?: string; envs: string[] }, ProductDef>({
    name: 'products.create',
    summary: 'Create a product (one of your backends) with env slugs.',
    input: z.strictObject({ tag: tag('product tag'), name: z.string().optional().describe('display name'), envs: z.array(slug()).min(1).describe('env slugs, e.g. dev,prd') }),
    handler: (s, i) => s.products.create(i),
    http: { method: 'POST', path: '/v1/products' },
    cli: { args: ['tag'], human: (x) => `Created product ${x.tag} with envs ${x.envs.join(', ')}` },
  }),
  'products.list': operation<void, ProductDef[]>({
    name: 'products.list',
    summary: 'List products.',
    input: z.strictObject({}).optional(),
    handler: (s) => s.products.list(),
    http: { method: 'GET', path: '/v1/products' },
    cli: { human: (rows) => rows.map((p) => `${p.tag}  envs: ${p.envs.join(',')}  apps: ${Object.keys(p.connections).join(',') || '-'}`).join('\n') || '(no products)' },
  }),
  'products.fetch': operation<{ product: string }, ProductDef>({
    name: 'products.fetch',
    summary: 'Show a product: envs, connected apps and caches.',
    input: z.strictObject({ product: product() }),
    handler: (s, i) => s.products.fetch(i),
    http: { method: 'GET', path: '/v1/products/{product}' },
    cli: { args: ['product'] },
  }),
  'products.delete': operation<{ product: string }, { deleted: boolean }>({
    name: 'products.delete',
    summary: 'Delete a product, its connections and session types (its sessions and run keys are revoked).',
    input: z.strictObject({ product: product() }),
    handler: (s, i) => s.products.delete(i),
    http: { method: 'DELETE', path: '/v1/products/{product}' },
    cli: { args: ['product'], human: (r, i) => removed(r.deleted, `product ${i.product}`) },
  }),
  'products.addEnv': operation<{ product: string; env: string }, ProductDef>({
    name: 'products.addEnv',
    summary: 'Add an env slug to a product.',
    input: z.strictObject({ product: product(), env: slug() }),
    handler: (s, i) => s.products.addEnv(i),
    http: { method: 'POST', path: '/v1/products/{product}/envs' },
    cli: { command: 'products add-env', args: ['product', 'env'], human: (r) => `Product ${r.tag} has envs ${r.envs.join(', ')}` },
  }),
  'products.apps.connect': operation<{ product: string; app: string; access_tag?: string }, Connected>({
    name: 'products.apps.connect',
    summary: 'Connect an app to a product under an access tag (default: the app tag).',
    input: z.strictObject({ product: product(), app: app(), access_tag: tag('access tag').optional().describe('name used in run({ app }); default: the app tag') }),
    handler: (s, i) => s.products.apps.connect(i),
    http: { method: 'POST', path: '/v1/products/{product}/apps' },
    cli: { command: 'connect', human: (c) => `Connected ${c.app} to ${c.product} as ${c.access_tag}` },
  }),
  'products.apps.disconnect': operation<{ product: string; app: string }, { disconnected: boolean }>({
    name: 'products.apps.disconnect',
    summary: 'Disconnect an app (by access tag) from a product, with its connection config.',
    input: z.strictObject({ product: product(), app: accessTag() }),
    handler: (s, i) => s.products.apps.disconnect(i),
    http: { method: 'DELETE', path: '/v1/products/{product}/apps/{app}' },
    cli: { command: 'disconnect', human: (r, i) => removed(r.disconnected, `connection ${i.app} of product ${i.product}`, 'Disconnected') },
  }),
  'products.apps.list': operation<{ product: string }, { access_tag: string; app: string }[]>({
    name: 'products.apps.list',
    summary: 'List the apps connected to a product.',
    input: z.strictObject({ product: product() }),
    handler: (s, i) => s.products.apps.list(i),
    http: { method: 'GET', path: '/v1/products/{product}/apps' },
    cli: { command: 'products connections', args: ['product'] },
  }),
  'products.apps.configure': operation<ConfigureInput, Record<string, unknown>>({
    name: 'products.apps.configure',
    summary: 'Configure a connection for one env: app env, base URL, credentials (sealed), variables, static headers/query.',
    description: 'Fields not given keep their stored value. The answer describes the credentials without their values.',
    input: z.strictObject({
      product: product(),
      app: accessTag(),
      env: env(),
      app_env: slug().optional().describe('app env to use (default: the same slug)'),
      base_url: z.string().optional().describe('overrides the app env base URL'),
      headers: stringMap().optional().describe('static headers'),
      query: stringMap().optional().describe('static query parameters'),
      variables: jsonObject().optional().describe('connection variables ($Variable{key})'),
      server_variables: stringMap().optional().describe('server variable values'),
      auth: auth().optional(),
      rate_limit: rateLimit().nullable().optional().describe("this connection's rate limit (replaces the app's default; null removes it; docs/rate-limits.md)"),
      per_user: z.union([z.string(), z.null()]).optional().describe("'$Session{…}' path naming the end user who owns the connection (API.md §13); null ends per-user ownership"),
    }),
    handler: (s, i) => s.products.apps.configure(i),
    http: { method: 'PUT', path: '/v1/products/{product}/apps/{app}/envs/{env}' },
    cli: {
      command: 'configure',
      options: {
        headers: { flag: '--header <name=value>', description: 'static header (repeatable)', parse: pairs('header') },
        query: { flag: '--query <name=value>', description: 'static query param (repeatable)', parse: pairs('query') },
        server_variables: { flag: '--server-variable <name=value>', description: 'server variable value (repeatable)', parse: pairs('server-variable') },
        auth: { flag: '--auth <json>', description: 'credentials as JSON, e.g. \'{"type":"bearer","token":"$Secret{KEY}"}\' (sealed at rest); null removes them', parse: jsonOption('auth') },
        // A selector is a $Session{…} path, never the word null: that word ends per-user ownership, as null does in the SDK.
        per_user: { flag: '--per-user <selector>', description: "'$Session{…}' path naming the end user who owns the connection (docs/connections.md); null ends per-user ownership", parse: (v) => (v === 'null' ? NULL_OPTION : v) },
      },
      human: (c) => `Configured ${c.product}/${c.app} in ${c.env}`,
    },
  }),
  'products.caches.create': operation<{ product: string; tag: string; expiry: number }, { product: string; tag: string; expiry: number }>({
    name: 'products.caches.create',
    summary: 'Define a response cache of a product; run({ cache: tag }) stores 2xx answers for `expiry` ms.',
    input: z.strictObject({ product: product(), tag: tag('cache tag'), expiry: z.number().int(MS).min(1, MS).describe('milliseconds, e.g. 60000') }),
    handler: (s, i) => s.products.caches.create(i),
    http: { method: 'POST', path: '/v1/products/{product}/caches' },
    cli: { command: 'caches create', human: (c) => `Created cache ${c.tag} of ${c.product} (expiry ${c.expiry} ms)` },
  }),
  'products.caches.list': operation<{ product: string }, { tag: string; expiry: number }[]>({
    name: 'products.caches.list',
    summary: 'List the caches of a product.',
    input: z.strictObject({ product: product() }),
    handler: (s, i) => s.products.caches.list(i),
    http: { method: 'GET', path: '/v1/products/{product}/caches' },
    cli: { command: 'caches list' },
  }),
  'products.caches.delete': operation<{ product: string; tag: string }, { deleted: boolean }>({
    name: 'products.caches.delete',
    summary: 'Delete a cache definition (stored entries expire on their own; clear them first to drop them now).',
    input: z.strictObject({ product: product(), tag: z.string().min(1).describe('cache tag') }),
    handler: (s, i) => s.products.caches.delete(i),
    http: { method: 'DELETE', path: '/v1/products/{product}/caches/{tag}' },
    cli: { command: 'caches delete', human: (r, i) => removed(r.deleted, `cache ${i.tag} of product ${i.product}`) },
  }),
  'products.sessions.create': operation<SessionTypeInput, SessionType>({
    name: 'products.sessions.create',
    summary: 'Create a session type of a product (schema or sample, selector, expiry in seconds).',
    input: z.strictObject({ product: product(), tag: tag('session type tag'), ...sessionTypeFields }),
    handler: (s, i) => s.sessionTypes.create(i),
    http: { method: 'POST', path: '/v1/products/{product}/sessions' },
    cli: { command: 'session-types create', human: (t) => `Created session type ${t.tag} of ${t.product} (expiry ${t.expiry} s)` },
  }),
  'products.sessions.list': operation<{ product: string }, SessionType[]>({
    name: 'products.sessions.list',
    summary: 'List the session types of a product.',
    input: z.strictObject({ product: product() }),
    handler: (s, i) => s.sessionTypes.list(i),
    http: { method: 'GET', path: '/v1/products/{product}/sessions' },
    cli: { command: 'session-types list' },
  }),
  'products.sessions.fetch': operation<{ product: string; tag: string }, SessionType>({
    name: 'products.sessions.fetch',
    summary: 'Show a session type.',
    input: z.strictObject({ product: product(), tag: z.string().min(1) }),
    handler: (s, i) => s.sessionTypes.fetch(i),
    http: { method: 'GET', path: '/v1/products/{product}/sessions/{tag}' },
    cli: { command: 'session-types fetch' },
  }),
  'products.sessions.update': operation<Partial<SessionTypeInput> & { product: string; tag: string }, SessionType>({
    name: 'products.sessions.update',
    summary: 'Change a session type; fields not given keep their value.',
    input: z.strictObject({ product: product(), tag: z.string().min(1), ...sessionTypeFields, selector: sessionTypeFields.selector.optional() }),
    handler: (s, i) => s.sessionTypes.update(i),
    http: { method: 'PATCH', path: '/v1/products/{product}/sessions/{tag}' },
    cli: { command: 'session-types update' },
  }),
  'products.sessions.delete': operation<{ product: string; tag: string }, { deleted: boolean; revoked: number }>({
    name: 'products.sessions.delete',
    summary: 'Revoke every session of a session type, then delete it.',
    input: z.strictObject({ product: product(), tag: z.string().min(1) }),
    handler: (s, i) => s.sessionTypes.delete(i),
    http: { method: 'DELETE', path: '/v1/products/{product}/sessions/{tag}' },
    cli: { command: 'session-types delete', human: (r, i) => `${removed(r.deleted, `session type ${i.tag} of product ${i.product}`)}; revoked ${r.revoked} session(s)` },
  }),
};
