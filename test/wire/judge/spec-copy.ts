// Copies of vendor specs made for the judge (Prism), each change correcting one Prism defect; never committed.
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parse as parseYaml } from 'yaml';

type Json = Record<string, unknown>;
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** One correction: its name (as listed in test/wire/README.md) and the change it makes to the parsed document. */
export interface SpecCorrection {
  name: string;
  /** Changes `doc` in place; returns false when the document had nothing to correct. */
  apply: (doc: Json) => boolean;
}

/** Reads a JSON or YAML spec. */
export function readSpec(file: string): Json {
  const text = readFileSync(file, 'utf8');
  return (file.endsWith('.json') ? JSON.parse(text) : parseYaml(text)) as Json;
}

/** Writes the corrected copy of `file` into `dir` and lists the corrections that changed something. */
export function writeJudgeSpec(file: string, dir: string, corrections: SpecCorrection[]): { path: string; applied: string[] } {
  const doc = readSpec(file);
  const applied = corrections.filter((c) => c.apply(doc)).map((c) => c.name);
  const path = join(dir, basename(file).replace(/\.(ya?ml|json)$/, '') + '.judge.json');
  writeFileSync(path, JSON.stringify(doc));
  return { path, applied };
}

/** One JSON Pointer token of a URI fragment, decoded (`A%20B` → `A B`, `a~1b` → `a/b`). */
function pointerToken(token: string): string {
  let t = token;
  try {
    t = decodeURIComponent(token);
  } catch {
    // not percent-encoded
  }
  return t.replace(/~1/g, '/').replace(/~0/g, '~');
}

function operations(doc: Json): Json[] {
  const out: Json[] = [];
  for (const item of Object.values((doc.paths ?? {}) as Record<string, Json>)) {
    for (const m of HTTP_METHODS) if (item[m]) out.push(item[m] as Json);
  }
  return out;
}

/** Follows local `$ref`s (`#/components/...`) to the object they name; undefined when one leads nowhere. */
function deref(doc: Json, node: unknown): Json | undefined {
  let n = node;
  for (let hops = 0; hops < 20 && n && typeof n === 'object' && typeof (n as Json).$ref === 'string'; hops++) {
    const ref = (n as Json).$ref as string;
    if (!ref.startsWith('#/')) return undefined;
    n = ref
      .slice(2)
      .split('/')
      .reduce<unknown>((at, token) => (at && typeof at === 'object' ? (at as Json)[pointerToken(token)] : undefined), doc);
  }
  return n && typeof n === 'object' ? (n as Json) : undefined;
}

/** The media types of an operation's request body, each with its schema (refs followed). */
function bodyMedia(doc: Json, op: Json | undefined): Map<string, Json | undefined> {
  const content = (deref(doc, op?.requestBody)?.content ?? {}) as Record<string, Json>;
  return new Map(Object.entries(content).map(([type, media]) => [type.toLowerCase(), deref(doc, media?.schema)]));
}

/**
 * Prism dereferences the whole document before serving, and Stripe's `$ref` graph expands to ~10^10 nodes, so it
 * never listens. Responses are reduced to their status codes and descriptions, and the named schemas that only
 * responses used are dropped; every request-side schema, parameter and encoding stays as written.
 */
export const responsesAsStatusCodes: SpecCorrection = {
  name: 'responses-as-status-codes',
  apply(doc) {
    for (const op of operations(doc)) {
      const responses = (op.responses ?? {}) as Record<string, Json>;
      for (const [status, r] of Object.entries(responses)) responses[status] = { description: String(r.description ?? status) };
    }
    const components = (doc.components ?? {}) as Record<string, Record<string, unknown>>;
    delete components.responses;
    const schemas = components.schemas;
    if (!schemas) return true;
    // Every component the paths reach, through refs to any kind (a request body in components.requestBodies refers to
    // its schema) and refs into a component (`#/components/schemas/X/properties/y` keeps X).
    const keep = new Set<string>();
    const stack: unknown[] = [doc.paths];
    while (stack.length) {
      const node = stack.pop();
      if (!node || typeof node !== 'object') continue;
      for (const [k, v] of Object.entries(node)) {
        const m = k === '$ref' && typeof v === 'string' ? /^#\/components\/([^/]+)\/([^/]+)/.exec(v) : null;
        if (m) {
          const name = pointerToken(m[2]);
          if (keep.has(`${m[1]}/${name}`)) continue;
          keep.add(`${m[1]}/${name}`);
          stack.push(components[m[1]]?.[name]);
        } else if (v && typeof v === 'object') stack.push(v);
      }
    }
    for (const name of Object.keys(schemas)) if (!keep.has(`schemas/${name}`)) delete schemas[name];
    return true;
  },
};

/**
 * OpenAPI 3.1 schemas may be referenced by `$id` (`/components/schemas/petdetails`) and `$anchor`; Prism's
 * dereferencer reads such a ref as a file path and exits. They are rewritten to the JSON Pointers they name. A `$ref`
 * whose value is not a string (YAML reads `$ref: #/x` as a comment, so null) refers to nothing and is removed.
 */
export const idRefsAsPointers: SpecCorrection = {
  name: 'id-refs-as-pointers',
  apply(doc) {
    const ids = new Map<string, string>();
    const visit = (node: unknown, pointer: string, base: string, fn: (n: Json, p: string, b: string) => void) => {
      if (!node || typeof node !== 'object') return;
      const obj = node as Json;
      const here = typeof obj.$id === 'string' ? obj.$id : base;
      fn(obj, pointer, here);
      for (const [k, v] of Object.entries(obj)) visit(v, `${pointer}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`, here, fn);
    };
    visit(doc, '#', '', (n, p, base) => {
      if (typeof n.$id === 'string') ids.set(n.$id, p);
      if (typeof n.$anchor === 'string') ids.set(`${base}#${n.$anchor}`, p);
    });
    let changed = false;
    visit(doc, '#', '', (n) => {
      if ('$ref' in n && typeof n.$ref !== 'string') {
        delete n.$ref;
        changed = true;
      } else if (typeof n.$ref === 'string' && !n.$ref.startsWith('#') && ids.has(n.$ref)) {
        n.$ref = ids.get(n.$ref);
        changed = true;
      }
    });
    return changed;
  },
};

/**
 * AWS (and Azure) specs tell operations on one path apart by a fragment in the path key (`/#Action=ListUsers`,
 * `/tags/{arn}#tagKeys`, `/#X-Amz-Target=Svc.Op`): the request goes to the path before `#`, and the fragment names the
 * query parameters or headers (and values) that pick the operation. Prism routes on the whole key, so no request ever matches (404), and several
 * operations of one method on one path could not be told apart anyway. The copy renames each such key to the path plus
 * a unique segment (`/__fragment3`), and the judge proxy (`routeFragment`) adds that segment to a request whose query
 * satisfies the fragment. `fragmentRoutes` lists the renames for the proxy, in the same order as the correction.
 */
export const fragmentPathKeys: SpecCorrection = {
  name: 'fragment-path-keys',
  apply(doc) {
    const paths = doc.paths as Record<string, Json> | undefined;
    if (!paths || !Object.keys(paths).some((k) => k.includes('#'))) return false;
    const routes = fragmentRoutes(doc);
    let i = 0;
    doc.paths = Object.fromEntries(Object.entries(paths).map(([key, item]) => [key.includes('#') ? key.split('#')[0].replace(/\/$/, '') + routes[i++].suffix : key, item]));
    return true;
  },
};

export interface FragmentRoute {
  /** Matches the request path (without the base path) that the fragment key's path template describes. */
  path: RegExp;
  /** The segment the copy appended to that key. */
  suffix: string;
  /** Query parameters or headers the fragment names: each must be present (with that value when one is given). */
  needs: [string, string | undefined][];
  /**
   * A fragment that names no parameter of its operations is only a label (Azure's `/detect#overload=stream` beside
   * `/detect`): the request is told apart by its body, per method, as the API does: its media type, else the
   * top-level properties its JSON holds. `plain` is the operation of the same method on the path without fragment.
   */
  overload?: Record<string, { fits: BodyFit; plain?: BodyFit }>;
}

/** What a request body must be to belong to an operation: one of its media types, and its JSON's required keys. */
interface BodyFit {
  media: string[];
  required: string[];
}

function bodyFit(doc: Json, op: Json | undefined): BodyFit {
  const media = bodyMedia(doc, op);
  const json = [...media.keys()].find((t) => /[/+]json$/.test(t));
  const schema = json ? media.get(json) : undefined;
  const required = new Set<string>();
  for (const part of [schema, ...((schema?.allOf as unknown[] | undefined) ?? []).map((x) => deref(doc, x))]) {
    for (const k of (part?.required as unknown[] | undefined) ?? []) if (typeof k === 'string') required.add(k);
  }
  return { media: [...media.keys()], required: [...required] };
}

/** Names of the parameters declared on a path item and its operations, lower-cased. */
function declaredParameters(doc: Json, item: Json): Set<string> {
  const lists = [item.parameters, ...HTTP_METHODS.map((m) => (item[m] as Json | undefined)?.parameters)];
  const names = new Set<string>();
  for (const list of lists) if (Array.isArray(list)) for (const p of list) names.add(String(deref(doc, p)?.name ?? '').toLowerCase());
  return names;
}

export function fragmentRoutes(doc: Json): FragmentRoute[] {
  const paths = (doc.paths ?? {}) as Record<string, Json>;
  const keys = Object.keys(paths).filter((k) => k.includes('#'));
  return keys.map((key, i) => {
    const [path, fragment] = [key.slice(0, key.indexOf('#')), key.slice(key.indexOf('#') + 1)];
    const pattern = path.replace(/\/$/, '').split(/\{[^{}]+\}/).map((lit) => lit.replace(/[.*+?^$()|[\]\\]/g, '\\$&')).join('[^/]+');
    const needs = fragment.split('&').filter(Boolean).map((p): [string, string | undefined] => {
      const eq = p.indexOf('=');
      return eq < 0 ? [decodeURIComponent(p), undefined] : [decodeURIComponent(p.slice(0, eq)), decodeURIComponent(p.slice(eq + 1))];
    });
    const route: FragmentRoute = { path: new RegExp(`^${pattern}/?$`), suffix: `/__fragment${i}`, needs };
    const item = paths[key] ?? {};
    const declared = declaredParameters(doc, item);
    if (needs.length && needs.every(([name]) => !declared.has(name.toLowerCase()))) {
      route.needs = [];
      route.overload = {};
      for (const m of HTTP_METHODS) {
        if (!item[m]) continue;
        const plain = (paths[path] as Json | undefined)?.[m] as Json | undefined;
        route.overload[m] = { fits: bodyFit(doc, item[m] as Json), plain: plain ? bodyFit(doc, plain) : undefined };
      }
    }
    return route;
  });
}

/** Whether a request body (its Content-Type and bytes) belongs to an operation. */
function fitsBody(fit: BodyFit, contentType: string | undefined, body: Buffer): boolean {
  if (fit.media.length === 0) return body.length === 0;
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (!fit.media.some((m) => m === type || m === '*/*' || (m.endsWith('/*') && type.startsWith(m.slice(0, -1))))) return false;
  if (!/[/+]json$/.test(type) || fit.required.length === 0) return true;
  try {
    const value = JSON.parse(body.toString('utf8')) as unknown;
    return !!value && typeof value === 'object' && fit.required.every((k) => Object.hasOwn(value, k));
  } catch {
    return false;
  }
}

/**
 * The URL Prism must see for `url` (path and query, base path removed): the most specific fragment key it satisfies.
 * A fragment names query parameters (`#Action=ListUsers`) or, for AWS JSON APIs, a header (`#X-Amz-Target=Svc.Op`);
 * a label fragment (`#overload=stream`) is chosen by the request's body when it fits that operation and not the
 * plain path's.
 */
export function routeFragment(
  routes: FragmentRoute[],
  url: string,
  headers: Record<string, string | string[] | undefined> = {},
  request: { method: string; body: Buffer } = { method: 'GET', body: Buffer.alloc(0) },
): string {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
  const has = (name: string, value: string | undefined) => {
    const header = headers[name.toLowerCase()];
    const values = [...query.getAll(name), ...(header === undefined ? [] : Array.isArray(header) ? header : [header])];
    return values.length > 0 && (value === undefined || values.includes(value));
  };
  const contentType = headers['content-type'];
  const ct = Array.isArray(contentType) ? contentType[0] : contentType;
  const satisfies = (r: FragmentRoute) => {
    if (!r.overload) return r.needs.every(([name, value]) => has(name, value));
    const o = r.overload[request.method.toLowerCase()];
    return !!o && fitsBody(o.fits, ct, request.body) && !(o.plain && fitsBody(o.plain, ct, request.body));
  };
  const specificity = (r: FragmentRoute) => (r.overload ? 1 : r.needs.length);
  let best: FragmentRoute | undefined;
  for (const r of routes) {
    if (!r.path.test(path) || !satisfies(r)) continue;
    if (!best || specificity(r) > specificity(best)) best = r;
  }
  return best ? path.replace(/\/$/, '') + best.suffix + (q < 0 ? '' : url.slice(q)) : url;
}

interface PostmanItem {
  item?: PostmanItem[];
  request?: {
    url?: { path?: string[]; query?: { disabled?: boolean }[] } | string;
    header?: { key: string; disabled?: boolean }[];
    body?: { mode?: string; raw?: string; options?: { raw?: { language?: string } } };
  };
}

function eachRequest(items: PostmanItem[] | undefined, fn: (r: NonNullable<PostmanItem['request']>) => boolean): boolean {
  let changed = false;
  for (const it of items ?? []) {
    if (it.item) changed = eachRequest(it.item, fn) || changed;
    if (it.request) changed = fn(it.request) || changed;
  }
  return changed;
}

/** Prism's Postman reader keeps disabled headers and query params (and requires them); Postman never sends them. */
export const postmanDropDisabled: SpecCorrection = {
  name: 'postman-drop-disabled',
  apply: (doc) =>
    eachRequest(doc.item as PostmanItem[], (r) => {
      let changed = false;
      if (Array.isArray(r.header)) {
        const kept = r.header.filter((h) => !h.disabled);
        changed = kept.length !== r.header.length;
        r.header = kept;
      }
      if (typeof r.url === 'object' && Array.isArray(r.url.query)) {
        const kept = r.url.query.filter((q) => !q.disabled);
        changed = changed || kept.length !== r.url.query.length;
        r.url.query = kept;
      }
      return changed;
    }),
};

/**
 * A `{{var}}` path segment is filled from a variable when Postman sends the request; Prism takes it as literal text
 * and routes only `/{{var}}`. The copy writes it as the path variable `:var`, which Prism reads as a path parameter.
 */
export const postmanVariableSegments: SpecCorrection = {
  name: 'postman-variable-segments',
  apply: (doc) =>
    eachRequest(doc.item as PostmanItem[], (r) => {
      if (typeof r.url !== 'object' || !Array.isArray(r.url.path)) return false;
      let changed = false;
      r.url.path = r.url.path.map((seg) => {
        const m = /^\{\{([^{}]+)\}\}$/.exec(seg);
        if (!m) return seg;
        changed = true;
        return `:${m[1]}`;
      });
      return changed;
    }),
};

/**
 * Postman sends a raw body with language `json` as application/json, and a raw body without a language is JSON when
 * its text is JSON (the collection's own example); Prism reads every raw body without a Content-Type header as
 * text/plain. The copy states the Content-Type Postman would send.
 */
export const postmanRawJson: SpecCorrection = {
  name: 'postman-raw-json',
  apply: (doc) =>
    eachRequest(doc.item as PostmanItem[], (r) => {
      const body = r.body;
      if (body?.mode !== 'raw' || typeof body.raw !== 'string' || body.raw.trim() === '') return false;
      if ((r.header ?? []).some((h) => h.key.toLowerCase() === 'content-type')) return false;
      const language = body.options?.raw?.language;
      if (language !== undefined && language !== 'json') return false;
      if (language === undefined) {
        try {
          JSON.parse(body.raw);
        } catch {
          return false;
        }
      }
      r.header = [...(r.header ?? []), { key: 'Content-Type', value: 'application/json' } as { key: string }];
      return true;
    }),
};

/**
 * In OpenAPI 3.1 (JSON Schema 2020-12) keywords beside a `$ref` apply together with the referenced schema. Prism's
 * dereferencer lets them replace the referenced ones instead: Petstore 3.1's `{ $ref: Pet, required: [id] }` loses
 * Pet's own `required: [name, photoUrls]`. The copy writes such schemas as `allOf: [{ $ref }, { …siblings }]`, which
 * means the same and which Prism merges. A `$ref` with only `summary`/`description` beside it is left alone.
 */
export const refSiblingsAsAllOf: SpecCorrection = {
  name: 'ref-siblings-as-allof',
  apply(doc) {
    if (!String(doc.openapi ?? '').startsWith('3.1')) return false;
    let changed = false;
    const visit = (node: unknown) => {
      if (!node || typeof node !== 'object') return;
      const obj = node as Json;
      for (const v of Object.values(obj)) visit(v);
      if (typeof obj.$ref !== 'string') return;
      const siblings = Object.keys(obj).filter((k) => k !== '$ref' && k !== 'summary' && k !== 'description');
      if (siblings.length === 0) return;
      const rest: Json = {};
      for (const k of siblings) {
        rest[k] = obj[k];
        delete obj[k];
      }
      obj.allOf = [{ $ref: obj.$ref }, rest];
      delete obj.$ref;
      changed = true;
    };
    visit(doc.paths);
    visit(doc.components);
    return changed;
  },
};

/**
 * In OpenAPI 3.0 (and Swagger 2.0) a Reference Object "cannot be extended with additional properties and any
 * properties added SHALL be ignored". Prism applies them, replacing the referenced schema's own keywords: britbox's
 * `{ $ref: ItvChangeEmailRequest, type: string }` makes Prism require a JSON string where the referenced object is
 * what the API takes, and soundcloud's `{ $ref: TrackDataRequest, required: [...] }` requires fields the schema does
 * not. The copy drops every sibling of a `$ref`, as the specification says to read it (3.1 documents are left to
 * `ref-siblings-as-allof`, where siblings do apply).
 */
export const refSiblingsIgnored: SpecCorrection = {
  name: 'ref-siblings-ignored',
  apply(doc) {
    if (!String(doc.openapi ?? '').startsWith('3.0') && doc.swagger !== '2.0') return false;
    let changed = false;
    const visit = (node: unknown) => {
      if (!node || typeof node !== 'object') return;
      const obj = node as Json;
      if (typeof obj.$ref === 'string') {
        for (const k of Object.keys(obj)) {
          if (k === '$ref') continue;
          delete obj[k];
          changed = true;
        }
        return;
      }
      for (const v of Object.values(obj)) visit(v);
    };
    visit(doc.paths);
    visit(doc.components);
    visit(doc.definitions);
    visit(doc.parameters);
    return changed;
  },
};

/** Headers the HTTP client sets from the body and connection it sends (RFC 9110 §7.6.1, RFC 9112 §6). */
const FRAMING_HEADERS = new Set(['content-length', 'transfer-encoding', 'host', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer']);

/**
 * Some specs declare framing headers as parameters (Azure Data Lake: a required `Transfer-Encoding: chunked` header).
 * How a message is framed is the HTTP client's choice, not the caller's (a body sent with Content-Length is as valid
 * as a chunked one), and Ductape leaves such parameters to its HTTP client; Prism requires them as written. The copy
 * drops header parameters named as framing headers, at path and operation level.
 */
export const framingHeadersDropped: SpecCorrection = {
  name: 'framing-headers-dropped',
  apply(doc) {
    let changed = false;
    const keep = (list: unknown) => {
      if (!Array.isArray(list)) return list;
      const kept = list.filter((p) => {
        const param = deref(doc, p);
        return !(param?.in === 'header' && FRAMING_HEADERS.has(String(param.name).toLowerCase()));
      });
      changed ||= kept.length !== list.length;
      return kept;
    };
    for (const item of Object.values((doc.paths ?? {}) as Record<string, Json>)) {
      if (!item || typeof item !== 'object') continue;
      if (item.parameters) item.parameters = keep(item.parameters);
      for (const m of HTTP_METHODS) if (item[m] && (item[m] as Json).parameters) (item[m] as Json).parameters = keep((item[m] as Json).parameters);
    }
    return changed;
  },
};

/** A media type whose body is bytes as sent: neither JSON, a form, multipart, text nor XML (nor a wildcard). */
export function isBytesMedia(type: string): boolean {
  const t = type.split(';')[0].trim().toLowerCase();
  if (t.includes('*')) return false;
  return !(/[/+]json$/.test(t) || t === 'application/x-www-form-urlencoded' || t.startsWith('multipart/') || t.startsWith('text/') || /[/+]xml$/.test(t));
}

/**
 * A body of bytes (`application/octet-stream`, `image/png`) is not a JSON value, yet specs converted from Swagger 2
 * give it `{ type: object, format: file }` (Azure), or the JSON metadata schema of a media upload (Google Storage's
 * `Object`). Prism reads such a body as text and checks it against that schema: "Request body must be object" for
 * any bytes. The copy states what a bytes body is (`{ type: string, format: binary }`) wherever its schema is not a
 * string schema already; the media type itself is still checked (a JSON body there is still refused with 415).
 */
export const byteBodiesAsBinary: SpecCorrection = {
  name: 'byte-bodies-as-binary',
  apply(doc) {
    let changed = false;
    const bodies: unknown[] = [...operations(doc).map((op) => op.requestBody), ...Object.values(((doc.components as Json | undefined)?.requestBodies ?? {}) as Json)];
    for (const body of bodies) {
      if (!body || typeof body !== 'object' || typeof (body as Json).$ref === 'string') continue; // a ref: seen in components
      for (const [type, media] of Object.entries(((body as Json).content ?? {}) as Record<string, Json>)) {
        if (!isBytesMedia(type) || !media || typeof media !== 'object' || media.schema === undefined) continue;
        if (deref(doc, media.schema)?.type === 'string') continue;
        media.schema = { type: 'string', format: 'binary' };
        changed = true;
      }
    }
    return changed;
  },
};
