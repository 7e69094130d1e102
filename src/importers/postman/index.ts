// Postman collection v2.1 → an imported app: one action per request, folders as groups, auth inherited.
import { HTTP_METHODS, type ActionDef, type HttpMethod, type ParamDef, type SecurityRequirement } from '../../model/action.js';
import { HEADER_NAME } from '../../model/header.js';
import { isSensitiveName } from '../../model/redact.js';
import type { Source } from '../load.js';
import { createNamer, eventFromPath, toSnakeCase } from '../naming.js';
import { progressReporter, type ImportedApp, type Progress } from '../types.js';
import { createAuthRegistry } from './auth.js';
import { baseEnv, ownServer, resolveBase, type ResolvedBase } from './base.js';
import { readBody, readExamples } from './body.js';
import { parseRequestUrl, valueParam, type ParsedUrl } from './url.js';
import { createVariableTable, describe, hasReference, isCredentialField, type VariableTable } from './variables.js';

type Obj = Record<string, unknown>;

const IDEMPOTENCY_HEADER = /^(x-)?idempotency[-_]?key$/i;

interface RequestItem {
  item: Obj;
  folders: string[];
  auth: SecurityRequirement[];
}

export function importPostman(doc: Obj, source: Source, onProgress?: Progress): ImportedApp {
  const warnings: string[] = [];
  const skipped: ImportedApp['skipped'] = [];
  const info = (doc.info ?? {}) as Obj;
  const name = typeof info.name === 'string' && info.name ? info.name : 'Imported collection';
  const vars = createVariableTable(doc.variable);
  const auth = createAuthRegistry(vars);
  const collectionAuth = auth.read(doc.auth, name);
  const security = collectionAuth === 'inherit' ? [] : collectionAuth;

  const scripted: string[] = [];
  if (hasScripts(doc)) scripted.push(name);
  const requests: RequestItem[] = [];
  collect(doc.item, [], security, requests, auth, scripted, skipped);

  // The origin most requests use becomes the app env; requests elsewhere pin their own server.
  const parsed = requests.map((r) => ({ r, url: parseRequestUrl(requestOf(r.item).url, vars) }));
  const counts = new Map<string, number>();
  for (const { url } of parsed) if (!('invalid' in url)) counts.set(url.base, (counts.get(url.base) ?? 0) + 1);
  const primary = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
  const consumed = new Set<string>();
  const origins = new Map<string, ResolvedBase>();
  const originOf = (base: string) => origins.get(base) ?? origins.set(base, resolveBase(base, vars)).get(base)!;
  const envs = primary ? [baseEnv(originOf(primary), warnings, consumed)] : [];

  const events = createNamer(warnings);
  const sources = new Set<string>();
  const report = progressReporter(parsed.length, onProgress);
  const actions: ActionDef[] = [];
  const literalSecrets: string[] = [];
  const badHeaders: string[] = [];
  let assumedHttps = 0;
  const userinfo: string[] = [];
  let idempotency_header: string | undefined;

  for (const [i, { r, url }] of parsed.entries()) {
    const itemName = typeof r.item.name === 'string' && r.item.name ? r.item.name : '(unnamed)';
    const label = [...r.folders, itemName].join(' / ');
    const request = requestOf(r.item);
    const method = String(request.method ?? 'GET').toUpperCase() as HttpMethod;
    if ('invalid' in url) {
      skipped.push({ operation: label, reason: url.invalid });
    } else if (!HTTP_METHODS.includes(method)) {
      skipped.push({ operation: label, reason: `HTTP method "${method}" is not supported.` });
    } else {
      const origin = originOf(url.base);
      if (url.assumedHttps || origin.assumedHttps) assumedHttps++;
      if (url.userinfo) userinfo.push(label);
      const action = buildAction(r, request, method, url, { vars, label, literalSecrets, badHeaders });
      action.event = events.claim(toSnakeCase(itemName) || eventFromPath(method, url.path), `request "${label}"`);
      if (url.base !== primary) {
        action.server = ownServer(origin, consumed);
        if (origin.missing) {
          warnings.push(`Request "${label}" uses base URL variable "{{${origin.missing}}}", which has no value; give it per connection with products.apps.configure({ server_variables: { ${origin.missing}: '<url>' } }).`);
        }
      }
      let src = `postman:${typeof r.item.id === 'string' && r.item.id ? r.item.id : [...r.folders, itemName].join('/')}`;
      for (let n = 2; sources.has(src); n++) src = `${src.replace(/#\d+$/, '')}#${n}`;
      sources.add(src);
      action.source = src;
      idempotency_header ??= action.parameters.find((p) => p.in === 'header' && IDEMPOTENCY_HEADER.test(p.name))?.name;
      actions.push(orderKeys(action));
    }
    report(i + 1);
  }

  auth.summary(warnings);
  if (scripted.length) {
    warnings.push(`${scripted.length} item(s) have pre-request or test scripts, which Ductape does not run (${scripted.slice(0, 3).map((s) => `"${s}"`).join(', ')}${scripted.length > 3 ? ', …' : ''}); pass what they compute as input or connection variables.`);
  }
  if (literalSecrets.length) {
    warnings.push(`Literal credential headers, query values and body fields were not imported (${literalSecrets.slice(0, 3).join(', ')}${literalSecrets.length > 3 ? ', …' : ''}); configure credentials on the connection.`);
  }
  if (badHeaders.length) {
    warnings.push(`Header(s) whose name is not a valid HTTP header name were not imported (${badHeaders.slice(0, 3).join(', ')}${badHeaders.length > 3 ? ', …' : ''}): no request could carry them.`);
  }
  if (userinfo.length) {
    warnings.push(`Credentials written in request URLs (user:password@) were not imported (${userinfo.slice(0, 3).map((s) => `"${s}"`).join(', ')}${userinfo.length > 3 ? ', …' : ''}); configure basic auth on the connection.`);
  }
  if (assumedHttps) warnings.push(`${assumedHttps} request URL(s) have no protocol; https is assumed.`);
  if (vars.dynamic.size) {
    warnings.push(`Postman dynamic variables ${[...vars.dynamic].map((d) => `{{${d}}}`).join(', ')} have no Ductape equivalent; values that use them are not imported as defaults.`);
  }

  const app: ImportedApp = {
    format: 'postman-2.1',
    name,
    envs,
    auth_schemes: auth.schemes,
    variables: vars.defs(consumed, warnings),
    components: { schemas: {} },
    actions,
    skipped,
    warnings,
  };
  const description = describe(info.description);
  if (description) app.description = description;
  if (security.length) app.security = security;
  if (idempotency_header) app.idempotency_header = idempotency_header;
  return app;
}

/** Depth-first over folders, carrying the effective auth down (an item's own auth wins, `noauth` included). */
function collect(
  items: unknown,
  folders: string[],
  inherited: SecurityRequirement[],
  out: RequestItem[],
  auth: ReturnType<typeof createAuthRegistry>,
  scripted: string[],
  skipped: ImportedApp['skipped'],
): void {
  if (!Array.isArray(items)) return;
  for (const raw of items) {
    if (!raw || typeof raw !== 'object') continue;
    const item = raw as Obj;
    const name = typeof item.name === 'string' ? item.name : '';
    const label = [...folders, name].join(' / ');
    if (hasScripts(item)) scripted.push(label);
    if (Array.isArray(item.item)) {
      const own = auth.read(item.auth, label);
      collect(item.item, [...folders, name], own === 'inherit' ? inherited : own, out, auth, scripted, skipped);
    } else if (item.request !== undefined) {
      const request = requestOf(item);
      const own = auth.read(request.auth, label);
      out.push({ item, folders, auth: own === 'inherit' ? inherited : own });
    } else {
      skipped.push({ operation: label || '(unnamed item)', reason: 'the item has neither a request nor sub-items.' });
    }
  }
}

/** A request may be given as a bare URL string. */
function requestOf(item: Obj): Obj {
  return typeof item.request === 'string' ? { url: item.request, method: 'GET' } : ((item.request ?? {}) as Obj);
}

/** v2.1 lists headers as `[{ key, value }]`; v2.0 may give them as raw `Name: value` lines (`//` disables one). */
function headerList(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (typeof value !== 'string') return [];
  return value.split(/\r?\n/).flatMap((line) => {
    const colon = line.indexOf(':');
    if (colon <= 0) return [];
    const disabled = line.trimStart().startsWith('//');
    return [{ key: line.slice(0, colon).trim().replace(/^\/\/\s*/, ''), value: line.slice(colon + 1).trim(), disabled }];
  });
}

function hasScripts(item: Obj): boolean {
  return Array.isArray(item.event) && item.event.some((e) => {
    const exec = (e as Obj | null)?.script && ((e as Obj).script as Obj).exec;
    return Array.isArray(exec) ? exec.some((line) => typeof line === 'string' && line.trim() !== '') : typeof exec === 'string' && exec.trim() !== '';
  });
}

function buildAction(
  r: RequestItem,
  request: Obj,
  method: HttpMethod,
  url: ParsedUrl,
  ctx: { vars: VariableTable; label: string; literalSecrets: string[]; badHeaders: string[] },
): ActionDef {
  const parameters: ParamDef[] = [...url.params];
  for (const p of parameters) {
    // `?api_key=sk_live_…` pasted into a URL: a credential, never kept as an example.
    const schema = p.schema;
    if (p.in === 'query' && typeof schema === 'object' && schema.examples && isCredentialField(p.name)) {
      delete schema.examples;
      ctx.literalSecrets.push(`${p.name} in "${ctx.label}"`);
    }
  }
  let contentType: string | undefined;
  let contentTypeHeader: Obj | undefined;
  const seen = new Set<string>();
  for (const h of headerList(request.header)) {
    const raw = (h ?? {}) as Obj;
    if (raw.disabled === true || typeof raw.key !== 'string' || raw.key.trim() === '') continue;
    // Hand-written collections carry `Content-Type ` or `Accept:`; a name that is no token even then could never be sent.
    const name = raw.key.trim().replace(/:$/, '');
    const header: Obj & { key: string } = { ...raw, key: name };
    if (!HEADER_NAME.test(name)) {
      ctx.badHeaders.push(`${JSON.stringify(raw.key)} in "${ctx.label}"`);
      continue;
    }
    const key = header.key.toLowerCase();
    const value = typeof header.value === 'string' ? header.value : undefined;
    if (key === 'content-type') {
      // The body's media type; a templated one cannot be known at import time. Without a body it is sent as is.
      if (value && !hasReference(value)) contentType = value.trim();
      contentTypeHeader ??= header;
      continue;
    }
    if (seen.has(key)) continue;
    seen.add(key);
    const param = valueParam(header.key, 'header', header, ctx.vars);
    if (value && !hasReference(value) && isSensitiveName(key)) {
      delete param.value;
      ctx.literalSecrets.push(`${header.key} in "${ctx.label}"`);
    }
    parameters.push(param);
  }
  const action: ActionDef = { event: '', method, path: url.path, parameters, security: r.auth };
  const body = readBody(request.body, contentType, (name) => ctx.literalSecrets.push(`${name} in "${ctx.label}"`));
  if (body) action.body = body;
  else if (contentTypeHeader) parameters.push(valueParam(contentTypeHeader.key as string, 'header', contentTypeHeader, ctx.vars));
  Object.assign(action, readExamples(r.item.response));
  const description = describe(request.description) ?? describe(r.item.description);
  if (description) action.description = description;
  if (r.folders.length) action.group = r.folders;
  return action;
}

/** A stable field order, so stored definitions read the same as OpenAPI-imported ones. */
function orderKeys(a: ActionDef): ActionDef {
  const { event, method, path, server, parameters, body, responses, security, description, group, source, examples } = a;
  const out: ActionDef = { event, method, path, parameters };
  if (server) out.server = server;
  if (body) out.body = body;
  if (responses) out.responses = responses;
  if (security) out.security = security;
  if (description) out.description = description;
  if (group) out.group = group;
  if (source) out.source = source;
  if (examples) out.examples = examples;
  return out;
}
