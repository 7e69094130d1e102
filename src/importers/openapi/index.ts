// OpenAPI 3.0/3.1 and Swagger 2.0 → an imported app: one action per operation, shared schemas in components.
import { HTTP_METHODS, type ActionDef, type HttpMethod, type ParamDef } from '../../model/action.js';
import type { Source } from '../load.js';
import { createNamer, eventFromPath, toSnakeCase } from '../naming.js';
import { progressReporter, type ImportedApp, type Progress } from '../types.js';
import { readRequestBody, readResponses, readSwaggerBody, readSwaggerResponses } from './body.js';
import { mergeParameters, readParameter, readSwaggerParameter, type ParamContext } from './params.js';
import { bundleExternalRefs, createResolver, isObject, type Resolver } from './refs.js';
import { createSchemaNormalizer } from './schema.js';
import { readRequirements, readSecuritySchemes } from './security.js';
import { operationServer, readServers, readSwaggerHost, serverVariableDefs } from './servers.js';
import { detectPagination } from './pagination.js';

type Obj = Record<string, unknown>;
type Format = 'openapi-2.0' | 'openapi-3.0' | 'openapi-3.1';

const IDEMPOTENCY_HEADER = /^(x-)?idempotency[-_]?key$/i;

interface Operation {
  pathKey: string;
  method: HttpMethod;
  item: Obj;
  op: Obj;
}

export async function importOpenApi(raw: Obj, source: Source, format: Format, onProgress?: Progress): Promise<ImportedApp> {
  const warnings: string[] = [];
  const skipped: ImportedApp['skipped'] = [];
  const rawResolver = createResolver(raw, source);
  const doc = await bundleExternalRefs(raw, source, rawResolver);
  const resolver = doc === raw ? rawResolver : createResolver(doc, source);
  const version = format === 'openapi-2.0' ? '2.0' : format === 'openapi-3.0' ? '3.0' : '3.1';
  const isSwagger = version === '2.0';
  const schemas = createSchemaNormalizer(doc, resolver, version);
  const auth_schemes = readSecuritySchemes(doc, resolver, isSwagger, warnings);
  const unknownSchemes = new Set<string>();
  const security = readRequirements(doc.security, auth_schemes, unknownSchemes);
  const servers = isSwagger ? readSwaggerHost(doc, warnings) : readServers(doc, warnings);

  const operations = collectOperations(doc, resolver, skipped);
  const events = createNamer(warnings);
  const report = progressReporter(operations.length, onProgress);
  const withCallbacks: string[] = [];
  const unsecuredAuthHeaders: string[] = [];
  const orphanPathParams: string[] = [];
  let idempotency_header: string | undefined;
  const actions: ActionDef[] = [];

  for (const [i, { pathKey, method, item, op }] of operations.entries()) {
    const where = `${method} ${pathKey}`;
    const ctx: ParamContext = { resolver, schemas, where };
    // OpenAPI path keys begin with '/'; one written without (`users/{id}`) means the same path under the server URL.
    const { path, fixedQuery } = splitPathKey(pathKey.startsWith('/') ? pathKey : `/${pathKey}`);
    const fromId = typeof op.operationId === 'string' ? toSnakeCase(op.operationId) : '';
    const action: ActionDef = {
      event: events.claim(fromId || eventFromPath(method, path), where),
      method,
      path,
      parameters: [],
    };
    const server = isSwagger ? undefined : operationServer(op.servers ?? item.servers, servers, where, warnings);
    if (server) action.server = server;
    if (fixedQuery) action.fixedQuery = fixedQuery;

    const params = mergeParameters(item.parameters, op.parameters, resolver, version === '3.1');
    if (isSwagger) {
      action.parameters = params.map((p) => readSwaggerParameter(p, ctx)).filter((p): p is ParamDef => !!p);
      const body = readSwaggerBody(params, stringList(op.consumes ?? doc.consumes), ctx);
      if (body) action.body = body;
      action.responses = readSwaggerResponses(op.responses, stringList(op.produces ?? doc.produces), ctx);
    } else {
      action.parameters = params.map((p) => readParameter(p, ctx)).filter((p): p is ParamDef => !!p);
      const body = readRequestBody(op.requestBody, ctx);
      if (body) action.body = body;
      action.responses = readResponses(op.responses, ctx);
      if (isObject(op.callbacks) && Object.keys(op.callbacks).length) withCallbacks.push(action.event);
    }
    action.parameters = fitPathParams(action, path, orphanPathParams);
    // A declared single-valued Content-Type (params.ts) applies to operations without a body; a body's media type wins.
    if (action.body) action.parameters = action.parameters.filter((p) => !(p.in === 'header' && p.name.toLowerCase() === 'content-type'));
    const pagination = detectPagination(method, op, action.parameters, resolver, isSwagger);
    if (pagination) action.pagination = pagination;
    idempotency_header ??= action.parameters.find((p) => p.in === 'header' && IDEMPOTENCY_HEADER.test(p.name))?.name;

    const opSecurity = readRequirements(op.security, auth_schemes, unknownSchemes);
    if (opSecurity) action.security = opSecurity;
    // The dropped Authorization parameter was the only sign that this operation needs credentials.
    if (!(opSecurity ?? security)?.some((r) => Object.keys(r).length) && params.some(isAuthorizationHeader)) unsecuredAuthHeaders.push(action.event);
    const summary = text(op.summary) ?? text(item.summary);
    const description = text(op.description) ?? text(item.description);
    if (summary) action.summary = summary;
    if (description) action.description = description;
    if (op.deprecated === true) action.deprecated = true;
    const tags = stringList(op.tags);
    if (tags.length) action.group = tags;
    action.source = `openapi:${method} ${pathKey}`;
    actions.push(action);
    report(i + 1);
  }

  const unslashed = [...new Set(operations.map((o) => o.pathKey).filter((k) => !k.startsWith('/')))];
  if (unslashed.length) {
    warnings.push(`${unslashed.length} path(s) do not begin with "/" as OpenAPI requires, and were read as if they did: ${list(unslashed)}.`);
  }
  if (orphanPathParams.length) {
    warnings.push(`${orphanPathParams.length} path parameter(s) are not in their operation's path template, so no request could carry them, and were left out: ${list(orphanPathParams)}.`);
  }
  if (withCallbacks.length) {
    warnings.push(`${withCallbacks.length} operation(s) declare callbacks (requests the API sends back to you), which are not imported: ${list(withCallbacks)}.`);
  }
  if (unsecuredAuthHeaders.length) {
    warnings.push(`${unsecuredAuthHeaders.length} operation(s) declare an Authorization header parameter but no security scheme: ${list(unsecuredAuthHeaders)}. The parameter is not imported; configure credentials on the connection (e.g. raw auth headers) or pass the header as input.`);
  }
  if (unknownSchemes.size) {
    warnings.push(`Security requirements name undeclared scheme(s) ${list([...unknownSchemes])}; configure their credentials as raw headers or query values.`);
  }
  const dropped = schemas.summary();
  if (dropped) warnings.push(dropped);

  const info = isObject(doc.info) ? doc.info : {};
  const app: ImportedApp = {
    format,
    name: text(info.title) ?? 'Imported API',
    envs: servers.envs,
    auth_schemes,
    variables: serverVariableDefs(servers.serverVariables),
    components: { schemas: schemas.components },
    actions,
    skipped,
    warnings,
  };
  const description = text(info.description) ?? text(info.summary);
  if (description) app.description = description;
  if (security) app.security = security;
  if (Object.keys(servers.serverVariables).length) app.server_variables = servers.serverVariables;
  if (idempotency_header) app.idempotency_header = idempotency_header;
  return app;
}

/** Every (path, method) operation in document order; webhooks and 3.2-only operations go to `skipped`. */
function collectOperations(doc: Obj, resolver: Resolver, skipped: ImportedApp['skipped']): Operation[] {
  const operations: Operation[] = [];
  const paths = isObject(doc.paths) ? doc.paths : {};
  for (const [pathKey, rawItem] of Object.entries(paths)) {
    if (pathKey.startsWith('x-')) continue; // extensions
    const item = derefPathItem(rawItem, resolver);
    if (!isObject(item)) continue;
    for (const [key, op] of Object.entries(item)) {
      const method = key.toUpperCase() as HttpMethod;
      if (HTTP_METHODS.includes(method) && isObject(op)) operations.push({ pathKey, method, item, op });
      else if (key === 'query' && isObject(op)) {
        skipped.push({ operation: `QUERY ${pathKey}`, reason: 'the OpenAPI 3.2 QUERY method is not supported.' });
      } else if (key === 'additionalOperations' && isObject(op)) {
        for (const m of Object.keys(op)) skipped.push({ operation: `${m} ${pathKey}`, reason: `custom HTTP method "${m}" is not supported.` });
      }
    }
  }
  const webhooks = isObject(doc.webhooks) ? doc.webhooks : {};
  for (const [name, rawItem] of Object.entries(webhooks)) {
    const item = resolver.deref<Obj>(rawItem);
    const methods = isObject(item) ? Object.keys(item).filter((k) => HTTP_METHODS.includes(k.toUpperCase() as HttpMethod)) : [];
    for (const m of methods.length ? methods : ['?']) {
      skipped.push({
        operation: `webhook ${name} (${m.toUpperCase()})`,
        reason: 'webhooks are requests the API sends to you; Ductape imports the operations you call.',
      });
    }
  }
  return operations;
}

/**
 * A path item, its `$ref`s followed. Fields written beside a `$ref` belong to the path item too (OAS 3.1 §4.8.9.1,
 * 3.0 alike): `{ $ref: '#/components/pathItems/List', parameters: [limit] }` declares `limit`. Where both give a
 * field the spec leaves it undefined; the one written nearer the path wins, and parameter lists are joined (the
 * nearer one's entry winning by name and location, as an operation's do over its path item's).
 */
function derefPathItem(raw: unknown, resolver: Resolver): Obj | undefined {
  const layers: Obj[] = [];
  let node = raw;
  for (let hops = 0; isObject(node) && typeof node.$ref === 'string'; hops++) {
    if (hops > 32) return resolver.deref<Obj>(node); // a cycle of refs: deref reports it
    const { $ref, ...siblings } = node;
    layers.unshift(siblings);
    node = resolver.target($ref as string);
  }
  if (!isObject(node)) return undefined;
  const item: Obj = { ...node };
  for (const layer of layers) {
    const parameters = [item.parameters, layer.parameters].flatMap((list) => (Array.isArray(list) ? list : []));
    Object.assign(item, layer);
    if (parameters.length) item.parameters = parameters;
  }
  return item;
}

/**
 * The parameters with the path ones fitted to the path template. One the template spells in another case (`id` for
 * `/teams/{Id}`) takes the template's spelling; one the path does not name at all (`org` on `/users`) could never be
 * sent, yet every run would require it (Ductape's own actions refuse one: apps.actions.create), so it is left out and
 * named in `dropped`.
 */
function fitPathParams(action: ActionDef, path: string, dropped: string[]): ParamDef[] {
  const names = [...path.matchAll(/\{([^{}]+)\}/g)].map((m) => m[1]);
  const declared = new Set(action.parameters.filter((p) => p.in === 'path').map((p) => p.name));
  const out: ParamDef[] = [];
  for (const p of action.parameters) {
    if (p.in !== 'path' || names.includes(p.name)) {
      out.push(p);
      continue;
    }
    const spelled = names.filter((n) => n.toLowerCase() === p.name.toLowerCase() && !declared.has(n));
    if (spelled.length === 1) out.push({ ...p, name: spelled[0] });
    else dropped.push(`${action.event} (${p.name})`);
  }
  return out;
}

/** `/search?type=full#v2` → path `/search`, fixed query `{ type: 'full' }` (fragments only make keys unique). */
export function splitPathKey(pathKey: string): { path: string; fixedQuery?: Record<string, string> } {
  const noFragment = pathKey.split('#')[0];
  const q = noFragment.indexOf('?');
  const path = q === -1 ? noFragment : noFragment.slice(0, q);
  if (q === -1) return { path };
  const fixedQuery = Object.fromEntries(new URLSearchParams(noFragment.slice(q + 1)));
  return Object.keys(fixedQuery).length ? { path, fixedQuery } : { path };
}

function isAuthorizationHeader(p: Obj): boolean {
  return p.in === 'header' && typeof p.name === 'string' && p.name.toLowerCase() === 'authorization';
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() ? value : undefined;
}

function list(names: string[]): string {
  return names.slice(0, 5).map((n) => `"${n}"`).join(', ') + (names.length > 5 ? `, and ${names.length - 5} more` : '');
}
