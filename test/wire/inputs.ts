// Builds a valid `actions.run` input for an imported action from its schemas: examples first, else minimal values.
import type { ActionDef, JsonSchema, ParamDef } from '../../src/model/action.js';
import type { AuthSchemeDef } from '../../src/model/app.js';
import { mediaKind } from '../../src/runtime/encode/media-type.js';

type Schema = Record<string, unknown>;
type Components = Record<string, JsonSchema>;
const REF = 'components#/schemas/';

export interface RunInput {
  params?: Record<string, unknown>;
  query?: Record<string, unknown>;
  headers?: Record<string, unknown>;
  cookies?: Record<string, unknown>;
  body?: unknown;
}

export interface BuildOptions {
  /** Use `example`/`examples`/`default` values where the schema gives them. */
  useExamples: boolean;
}

/** A minimal valid input: every required parameter and body field, plus optional ones that carry an example. */
export function buildInput(action: ActionDef, components: Components, opts: BuildOptions): RunInput {
  const gen = generator(components, opts);
  const input: RunInput = {};
  const loc = { path: 'params', query: 'query', header: 'headers', cookie: 'cookies' } as const;
  for (const p of action.parameters) {
    if (p.value !== undefined) continue; // the action sends its own value (Postman defaults, variables)
    const example = opts.useExamples ? exampleOf(p.schema, components) : undefined;
    if (!(p.in === 'path' || p.required || example !== undefined)) continue;
    const value = example ?? gen(p.schema ?? { type: 'string' }, paramPath(p), true);
    ((input[loc[p.in]] ??= {}) as Record<string, unknown>)[p.name] = value;
  }
  const body = action.body;
  if (body) {
    const media = body.media[body.default];
    const example = opts.useExamples ? media?.example : undefined;
    if (example !== undefined && typeof example !== 'string') input.body = example;
    else if (media?.schema !== undefined) input.body = gen(media.schema, 'body', true);
    else if (body.required || example !== undefined) input.body = example ?? 'text';
    // Bytes wherever Ductape's encoder wants bytes (`message/cpim`, `audio/*`, ...), whatever schema the spec gave.
    const bytes = /multipart|octet|image|pdf|zip/.test(body.default) || mediaKind(body.default) === 'binary';
    if (input.body !== undefined && bytes) input.body = withFiles(input.body, media?.schema, components, body.default);
  }
  return input;
}

function paramPath(p: ParamDef): string {
  return `${p.in}.${p.name}`;
}

function resolve(schema: JsonSchema | undefined, components: Components): Schema {
  let s = schema;
  // OpenAPI 3.1 lets keywords sit beside $ref (`{ $ref, required: [id] }`): both apply, so they are merged.
  let beside: Schema = {};
  for (let i = 0; i < 32 && s && typeof s === 'object' && typeof s.$ref === 'string' && s.$ref.startsWith(REF); i++) {
    const { $ref, ...rest } = s;
    beside = { ...rest, ...beside, required: [...((rest.required as string[]) ?? []), ...((beside.required as string[]) ?? [])] };
    s = components[decodeURIComponent(($ref as string).slice(REF.length))];
  }
  const out = s && typeof s === 'object' ? (s as Schema) : {};
  if (Object.keys(beside).length === 0) return out;
  return { ...out, ...beside, required: [...new Set([...((out.required as string[]) ?? []), ...(beside.required as string[])])] };
}

function exampleOf(schema: JsonSchema | undefined, components: Components): unknown {
  const s = resolve(schema, components);
  if (s.example !== undefined) return s.example;
  if (Array.isArray(s.examples) && s.examples.length) return s.examples[0];
  return undefined;
}

/** Returns gen(schema, where, required): a value valid for `schema` (best effort for patterns). */
function generator(components: Components, opts: BuildOptions) {
  const gen = (schema: JsonSchema | undefined, where: string, required: boolean, depth = 0): unknown => {
    const s = resolve(schema, components);
    if (depth > 12) return undefined;
    if (opts.useExamples) {
      const ex = exampleOf(s, components);
      if (ex !== undefined) return ex;
    }
    if (s.const !== undefined) return s.const;
    if (Array.isArray(s.enum)) return s.enum.find((v) => v !== null && v !== '') ?? s.enum[0];
    if (Array.isArray(s.allOf)) {
      const parts = s.allOf.map((b) => gen(b as JsonSchema, where, required, depth + 1));
      const own: Schema = { ...s, allOf: undefined };
      if (parts.every((p) => p !== null && typeof p === 'object' && !Array.isArray(p))) {
        return Object.assign({}, ...parts, own.properties || own.required ? gen(own as JsonSchema, where, required, depth + 1) : {});
      }
      return parts[0];
    }
    for (const k of ['anyOf', 'oneOf'] as const) {
      if (Array.isArray(s[k])) {
        const list = (s[k] as JsonSchema[]).map((b) => resolve(b, components));
        const pick = list.find((b) => b.type !== 'null' && !(Array.isArray(b.enum) && b.enum.every((v) => v === '' || v === null))) ?? list[0];
        return gen(pick as JsonSchema, where, required, depth + 1);
      }
    }
    const types = Array.isArray(s.type) ? s.type : s.type !== undefined ? [s.type] : s.properties ? ['object'] : s.items ? ['array'] : ['string'];
    const type = types.find((t) => t !== 'null') ?? 'null';
    switch (type) {
      case 'object': {
        const out: Record<string, unknown> = {};
        const props = (s.properties ?? {}) as Record<string, JsonSchema>;
        for (const name of (s.required as string[] | undefined) ?? []) {
          const v = gen(props[name] ?? {}, `${where}.${name}`, true, depth + 1);
          if (v !== undefined) out[name] = v;
        }
        // Keys beyond the named ones are what additionalProperties describes (DynamoDB's RequestItems: table → request).
        const extra = s.additionalProperties && typeof s.additionalProperties === 'object' ? (s.additionalProperties as JsonSchema) : undefined;
        for (let i = Object.keys(out).length; i < Number(s.minProperties ?? 0); i++) out[`key${i}`] = extra ? gen(extra, `${where}.key${i}`, true, depth + 1) : 'value';
        // A nested {} has no form or query text at all (nothing is sent), so a required nested object gets one field.
        if (depth > 0 && required && Object.keys(out).length === 0) {
          for (const [name, sub] of Object.entries(props)) {
            const v = gen(sub, `${where}.${name}`, true, depth + 1);
            if (v !== undefined && !(typeof v === 'object' && v !== null && Object.keys(v).length === 0)) {
              out[name] = v;
              break;
            }
          }
        }
        return out;
      }
      case 'array': {
        const n = Math.max(Number(s.minItems ?? 0), required ? 1 : 0);
        const out: unknown[] = [];
        for (let i = 0; i < n; i++) out.push(gen(s.items as JsonSchema, `${where}[${i}]`, true, depth + 1));
        return out;
      }
      case 'integer':
      case 'number':
        return number(s, type === 'integer');
      case 'boolean':
        return true;
      case 'null':
        return null;
      default:
        return string(s);
    }
  };
  return gen;
}

function number(s: Schema, integer: boolean): number {
  const lo = typeof s.minimum === 'number' ? s.minimum : typeof s.exclusiveMinimum === 'number' ? s.exclusiveMinimum + (integer ? 1 : 0.5) : 1;
  const hi = typeof s.maximum === 'number' ? s.maximum : typeof s.exclusiveMaximum === 'number' ? s.exclusiveMaximum - (integer ? 1 : 0.5) : Infinity;
  let v = Math.min(Math.max(lo, 1), hi);
  if (integer) v = Math.ceil(v);
  const step = typeof s.multipleOf === 'number' ? s.multipleOf : 0;
  if (step) v = Math.ceil(v / step) * step;
  return v;
}

const FORMATS: Record<string, string> = {
  'date-time': '2024-01-02T03:04:05Z',
  date: '2024-01-02',
  time: '03:04:05Z',
  email: 'user@example.com',
  uri: 'https://example.com/x',
  url: 'https://example.com/x',
  'uri-reference': 'https://example.com/x',
  uuid: '123e4567-e89b-12d3-a456-426614174000',
  ipv4: '192.0.2.1',
  ipv6: '2001:db8::1',
  hostname: 'example.com',
  byte: 'aGVsbG8=',
  binary: 'binary-content',
  password: 'secret-1',
  'phone-number': '+14155550100',
  duration: 'PT1H',
};

function string(s: Schema): string {
  let v = typeof s.format === 'string' && FORMATS[s.format] ? FORMATS[s.format] : 'abc';
  if (typeof s.pattern === 'string') {
    // An empty match (`[\s\S]*`) is valid but useless where a value must show (a path segment): then one repetition.
    let fromPattern = sampleRegex(s.pattern);
    if (fromPattern === '' && Number(s.maxLength ?? 1) > 0) fromPattern = sampleRegex(s.pattern, { atLeastOnce: true }) || fromPattern;
    if (fromPattern !== undefined) v = fromPattern;
  }
  const min = Number(s.minLength ?? 0);
  const max = Number(s.maxLength ?? Infinity);
  if (v.length < min && typeof s.pattern === 'string' && v.length > 0) {
    // Repeating the sample's last character keeps `^i-[a-f0-9]+$` matched where padding with x would not.
    const padded = v + v[v.length - 1].repeat(min - v.length);
    if (matches(s.pattern, padded)) return padded.slice(0, max);
  }
  while (v.length < min) v += 'x';
  if (v.length > max) v = v.slice(0, max);
  return v;
}

function matches(pattern: string, value: string): boolean {
  try {
    return new RegExp(pattern, 'u').test(value);
  } catch {
    return false;
  }
}

/** A string matching a simple regex (literals, classes, \d \w, groups with |, quantifiers); undefined if unsure. */
export function sampleRegex(pattern: string, opts: { atLeastOnce?: boolean } = {}): string | undefined {
  let i = 0;
  // As a group, so that top-level alternatives (`^arn:.+$|^[a-f0-9]{8}-…$`) are read like a group's.
  const src = `(?:${pattern})`;
  const atom = (): string | undefined => {
    const c = src[i];
    if (c === '(') {
      i++;
      if (src.startsWith('?:', i)) i += 2;
      const alts: (string | undefined)[] = [seq()];
      while (src[i] === '|') {
        i++;
        alts.push(seq());
      }
      if (src[i] !== ')') return undefined;
      i++;
      return alts[0];
    }
    if (c === '[') {
      const end = src.indexOf(']', i + 1);
      if (end < 0) return undefined;
      const body = src.slice(i + 1, end);
      i = end + 1;
      if (body.startsWith('^')) return body.includes('a') ? 'Z' : 'a';
      if (body.startsWith('\\d')) return '1';
      if (body.startsWith('\\w')) return 'a';
      return body[0] === '\\' ? body[1] : body[0];
    }
    if (c === '\\') {
      const e = src[i + 1];
      i += 2;
      return e === 'd' ? '1' : e === 'w' ? 'a' : e === 's' ? ' ' : /[A-Za-z]/.test(e) ? undefined : e;
    }
    if (c === '.') {
      i++;
      return 'a';
    }
    i++;
    return c;
  };
  const seq = (): string | undefined => {
    let out = '';
    while (i < src.length && src[i] !== '|' && src[i] !== ')') {
      if (src[i] === '^' || src[i] === '$') {
        i++;
        continue;
      }
      const a = atom();
      if (a === undefined) return undefined;
      let n = 1;
      const q = src[i];
      if (q === '*' || q === '?') (n = opts.atLeastOnce ? 1 : 0), i++;
      else if (q === '+') i++;
      else if (q === '{') {
        const end = src.indexOf('}', i);
        n = Number(src.slice(i + 1, end).split(',')[0]);
        i = end + 1;
      }
      if (src[i] === '?') i++;
      out += a.repeat(n);
    }
    return out;
  };
  try {
    const out = seq();
    if (out === undefined || i !== src.length) return undefined;
    return new RegExp(pattern, 'u').test(out) ? out : undefined;
  } catch {
    return undefined;
  }
}

/** Multipart and binary bodies: `format: binary` fields (or a whole binary body) become real bytes. */
function withFiles(body: unknown, schema: JsonSchema | undefined, components: Components, mediaType: string): unknown {
  if (!/multipart/.test(mediaType)) return Buffer.from(typeof body === 'string' ? body : 'bytes');
  if (!body || typeof body !== 'object' || Array.isArray(body)) return body;
  const props = (resolve(schema, components).properties ?? {}) as Record<string, JsonSchema>;
  const out: Record<string, unknown> = { ...(body as Record<string, unknown>) };
  for (const [k, v] of Object.entries(out)) {
    const s = resolve(props[k], components);
    if (s.format === 'binary') out[k] = { data: Buffer.from(String(v)), filename: `${k}.txt`, contentType: 'text/plain' };
  }
  return out;
}

/** Whether `credentialsFor` gives a credential for this scheme (not for http schemes other than bearer/basic, or mutualTLS). */
export function canCredential(s: AuthSchemeDef | undefined): boolean {
  if (!s) return false;
  if (s.type === 'http') return ['bearer', 'basic'].includes(s.scheme?.toLowerCase() ?? '');
  return s.type === 'oauth2' || s.type === 'openIdConnect' || (s.type === 'apiKey' && !!s.name && !!s.in);
}

/** Credentials that satisfy each declared scheme: a bearer token (http bearer, oauth2, OIDC), basic, and apiKeys. */
export function credentialsFor(schemes: Record<string, AuthSchemeDef> | undefined): Record<string, unknown>[] {
  const forms: Record<string, unknown>[] = [];
  const list = Object.values(schemes ?? {});
  if (list.some((s) => (s.type === 'http' && s.scheme?.toLowerCase() === 'bearer') || s.type === 'oauth2' || s.type === 'openIdConnect')) {
    forms.push({ type: 'bearer', token: 'judge-token' });
  }
  if (list.some((s) => s.type === 'http' && s.scheme?.toLowerCase() === 'basic')) forms.push({ type: 'basic', username: 'judge-user', password: 'judge-pass' });
  for (const s of list) if (s.type === 'apiKey' && s.name && s.in) forms.push({ type: 'apiKey', in: s.in, name: s.name, value: 'judge-key' });
  return forms;
}
