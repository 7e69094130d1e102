// Postman bodies (raw, urlencoded, formdata with files, file, graphql) and saved example responses.
import type { ActionDef, BodyDef, EncodingDef, JsonSchema, MediaDef } from '../../model/action.js';
import { describe, hasReference, isCredentialField } from './variables.js';

type Obj = Record<string, unknown>;

const RAW_LANGUAGES: Record<string, string> = {
  json: 'application/json',
  xml: 'application/xml',
  html: 'text/html',
  javascript: 'application/javascript',
  text: 'text/plain',
  graphql: 'application/graphql',
};

/**
 * `contentType` is the request's own Content-Type header, which wins for raw bodies. Literal values of fields named
 * like credentials (`client_secret`, `password` in a token or login request) are not kept as examples: each such
 * name is passed to `withheld`.
 */
export function readBody(body: unknown, contentType: string | undefined, withheld: (name: string) => void = () => {}): BodyDef | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const b = body as Obj;
  if (b.disabled === true) return undefined;
  switch (b.mode) {
    case 'raw':
      return rawBody(b, contentType, withheld);
    case 'urlencoded':
      return fieldsBody(b.urlencoded, 'application/x-www-form-urlencoded', false, withheld);
    case 'formdata':
      return fieldsBody(b.formdata, 'multipart/form-data', true, withheld);
    case 'file':
      // Postman sends the file under the request's own Content-Type (an image/png upload, a text/csv import).
      return single(contentType && !/^multipart\//i.test(contentType) ? contentType : 'application/octet-stream', { schema: { type: 'string', format: 'binary' } });
    case 'graphql': {
      const g = (b.graphql ?? {}) as Obj;
      const variables = typeof g.variables === 'string' ? parseJson(g.variables) : g.variables;
      return single('application/json', { example: { query: g.query ?? '', ...(variables !== undefined ? { variables } : {}) } });
    }
    default:
      return undefined;
  }
}

function single(type: string, media: MediaDef): BodyDef {
  return { required: true, media: { [type]: media }, default: type };
}

/** JSON when the language says json, or when no language is given and the text parses as JSON. */
function rawBody(b: Obj, contentType: string | undefined, withheld: (name: string) => void): BodyDef | undefined {
  const raw = typeof b.raw === 'string' ? b.raw : '';
  if (raw.trim() === '') return undefined;
  const options = (b.options ?? {}) as Obj;
  const language = typeof (options.raw as Obj | undefined)?.language === 'string' ? ((options.raw as Obj).language as string) : undefined;
  const parsed = parseJson(raw);
  const type = contentType ?? (language ? (RAW_LANGUAGES[language] ?? 'text/plain') : parsed !== undefined ? 'application/json' : 'text/plain');
  const isJson = /[/+]json\b/i.test(type);
  return single(type, { example: isJson && parsed !== undefined ? withoutSecrets(parsed, withheld) : raw });
}

/** A JSON example with the literal values of credential-named properties removed, at any depth. */
function withoutSecrets(value: unknown, withheld: (name: string) => void): unknown {
  if (Array.isArray(value)) return value.map((v) => withoutSecrets(v, withheld));
  if (!value || typeof value !== 'object') return value;
  const out: Obj = {};
  for (const [k, v] of Object.entries(value)) {
    if (isLiteralSecret(k, v)) withheld(k);
    else out[k] = withoutSecrets(v, withheld);
  }
  return out;
}

function isLiteralSecret(name: string, value: unknown): boolean {
  return (typeof value === 'string' || typeof value === 'number') && String(value) !== '' && !hasReference(String(value)) && isCredentialField(name);
}

function fieldsBody(fields: unknown, type: string, allowFiles: boolean, withheld: (name: string) => void): BodyDef | undefined {
  if (!Array.isArray(fields)) return undefined;
  const properties: Record<string, JsonSchema> = {};
  const encoding: Record<string, EncodingDef> = {};
  const example: Record<string, string> = {};
  for (const f of fields) {
    if (!f || typeof f !== 'object') continue;
    const field = f as Obj;
    if (field.disabled === true || typeof field.key !== 'string' || field.key === '') continue;
    const isFile = allowFiles && field.type === 'file';
    // Field types are not declared in Postman; only files are constrained (to binary content).
    const schema: Record<string, unknown> = isFile ? { type: 'string', format: 'binary' } : {};
    const description = describe(field.description);
    if (description) schema.description = description;
    properties[field.key] = schema;
    if (!isFile && isLiteralSecret(field.key, field.value)) withheld(field.key);
    else if (!isFile && typeof field.value === 'string' && !/^<[^<>]*>$/.test(field.value)) example[field.key] = field.value;
    if (typeof field.contentType === 'string' && field.contentType) encoding[field.key] = { contentType: field.contentType };
  }
  if (Object.keys(properties).length === 0) return undefined;
  const media: MediaDef = { schema: { type: 'object', properties } };
  if (Object.keys(encoding).length) media.encoding = encoding;
  if (Object.keys(example).length) media.example = example;
  return single(type, media);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Saved responses → `examples`, and the statuses and media types they show → `responses`. */
export function readExamples(saved: unknown): Pick<ActionDef, 'examples' | 'responses'> {
  if (!Array.isArray(saved) || saved.length === 0) return {};
  const examples: NonNullable<ActionDef['examples']> = [];
  const responses: NonNullable<ActionDef['responses']> = {};
  for (const r of saved) {
    if (!r || typeof r !== 'object') continue;
    const res = r as Obj;
    const headers: Record<string, string> = {};
    if (Array.isArray(res.header)) {
      for (const h of res.header) if (h && typeof h === 'object' && typeof (h as Obj).key === 'string') headers[(h as Obj).key as string] = String((h as Obj).value ?? '');
    }
    const contentType = Object.entries(headers).find(([k]) => k.toLowerCase() === 'content-type')?.[1];
    const text = typeof res.body === 'string' ? res.body : undefined;
    const parsed = text ? parseJson(text) : undefined;
    const example: NonNullable<ActionDef['examples']>[number] = {};
    if (typeof res.name === 'string' && res.name) example.name = res.name;
    if (typeof res.code === 'number') example.status = res.code;
    if (text) example.body = parsed ?? text;
    if (Object.keys(headers).length) example.headers = headers;
    examples.push(example);
    if (typeof res.code === 'number') {
      const media = (responses[String(res.code)] ??= {});
      const type = contentType?.split(';')[0].trim() ?? (parsed !== undefined ? 'application/json' : undefined);
      if (type) media[type] = null;
    }
  }
  return { examples, ...(Object.keys(responses).length ? { responses } : {}) };
}
