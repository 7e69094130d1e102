// Loaded into Prism's node process with --require: corrects Prism 5.14.2's known judging defects (test/wire/README.md).
// Nothing on disk is changed. Each patch checks that the code it replaces is still there, so a Prism upgrade that
// moves it fails loudly instead of silently judging with the old defects.
'use strict';
const Module = require('node:module');
const path = require('node:path');

const cli = path.dirname(require.resolve('@stoplight/prism-cli/package.json'));
const prismHttp = path.dirname(require.resolve('@stoplight/prism-http/package.json', { paths: [cli] }));
const BODY_JS = path.join(prismHttp, 'dist/validator/validators/body.js');
const SERVER_JS = path.join(path.dirname(require.resolve('@stoplight/prism-http-server/package.json', { paths: [cli] })), 'dist/server.js');

// ---- Bracket notation (deepObject): only what the request sent, at any depth --------------------------------------

/** `[a][0][b]` → ['a', '0', 'b']; undefined when the text is not a run of bracketed segments. */
function bracketPath(text) {
  const segs = [];
  const re = /\[([^\[\]]*)\]/y;
  let at = 0;
  while (at < text.length) {
    re.lastIndex = at;
    const m = re.exec(text);
    if (!m) return undefined;
    segs.push(m[1]);
    at = re.lastIndex;
  }
  return segs.length ? segs : undefined;
}

/** A schema's alternatives flattened (anyOf/oneOf/allOf), so that shape questions look at every branch. */
function branches(schema, out = []) {
  if (!schema || typeof schema !== 'object') return out;
  out.push(schema);
  for (const k of ['anyOf', 'oneOf', 'allOf']) if (Array.isArray(schema[k])) for (const s of schema[k]) branches(s, out);
  return out;
}
const typesOf = (s) => (Array.isArray(s.type) ? s.type : s.type === undefined ? [] : [s.type]);
const admitsArray = (schema) => branches(schema).some((s) => typesOf(s).includes('array') || s.items !== undefined);
const admitsString = (schema) => branches(schema).some((s) => typesOf(s).includes('string') || s.enum !== undefined);

function childSchema(schema, key, asArray) {
  for (const s of branches(schema)) {
    if (asArray && s.items && typeof s.items === 'object' && !Array.isArray(s.items)) return s.items;
    if (!asArray && s.properties && s.properties[key] !== undefined) return s.properties[key];
  }
  if (!asArray) for (const s of branches(schema)) if (s.additionalProperties && typeof s.additionalProperties === 'object') return s.additionalProperties;
  return undefined;
}

/** Objects whose keys are all indices become arrays where the schema admits an array (`items[0][price]`). */
function shape(node, schema) {
  if (node === null || typeof node !== 'object' || Array.isArray(node)) return node;
  const keys = Object.keys(node);
  const indexed = keys.length > 0 && keys.every((k) => /^(0|[1-9][0-9]*)$/.test(k));
  if (indexed && admitsArray(schema)) {
    return keys
      .map(Number)
      .sort((a, b) => a - b)
      .map((i) => shape(node[String(i)], childSchema(schema, String(i), true)));
  }
  const out = {};
  for (const k of keys) out[k] = shape(node[k], childSchema(schema, k, false));
  return out;
}

/**
 * deepObject for query parameters and form fields. Prism's own builds every property the schema declares, sent or
 * not ({} for each nested object, which then fails its `required`), and sees nothing under anyOf. This one builds
 * exactly the keys present (`name[a][b]=v`), and returns a plain `name=v` as it is (Stripe's `created=123`, or JSON
 * text where brackets belong, which the schema then rejects).
 */
function deserializeDeepObject(name, parameters, schema) {
  let root;
  for (const key of Object.keys(parameters)) {
    if (!key.startsWith(name + '[')) continue;
    const segs = bracketPath(key.slice(name.length));
    if (!segs) continue;
    root ??= {};
    let node = root;
    for (let i = 0; i < segs.length - 1; i++) {
      const next = node[segs[i]];
      node = node[segs[i]] = next !== null && typeof next === 'object' && !Array.isArray(next) ? next : {};
    }
    node[segs[segs.length - 1]] = parameters[key];
  }
  return root === undefined ? parameters[name] : shape(root, schema);
}

// ---- Form and multipart bodies ------------------------------------------------------------------------------------

/** `a=1&a=2&b=3` → { a: ['1', '2'], b: '3' }: a repeated key is an array (form explode), not its last value. */
function splitForm(text) {
  const out = {};
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    const value = eq < 0 ? '' : pair.slice(eq + 1);
    out[key] = Object.hasOwn(out, key) ? [].concat(out[key], value) : value;
  }
  return out;
}

function decodeForm(text) {
  try {
    return decodeURIComponent(text.replaceAll('+', '%20'));
  } catch {
    return text;
  }
}

/** Multipart parts: repeated names become arrays, and a part typed as JSON is parsed (it reached Prism as text). */
function multipartFields(parts) {
  const out = {};
  for (const part of parts) {
    const type = String(part.type ?? '').split(';')[0].trim().toLowerCase();
    let value = part.data.toString();
    if (type === 'application/json' || type.endsWith('+json')) {
      try {
        value = JSON.parse(value);
      } catch {
        // left as text: the schema then rejects it, as it should
      }
    }
    out[part.name] = Object.hasOwn(out, part.name) ? [].concat(out[part.name], [value]) : value;
  }
  return out;
}

/** The corrected functions of validators/body.js, built with that module's own helpers. */
function bodyFixes(E, deserializers, multipart, typeIs, DiagnosticSeverity) {
  const isForm = (mediaType) => !!typeIs.is(mediaType, 'application/x-www-form-urlencoded');
  return {
    splitUriParams: (target) => E.right(splitForm(target)),
    parseMultipartFormDataParams(target, boundary) {
      if (!boundary) {
        return E.left([{ message: 'Boundary parameter for multipart/form-data is not defined', code: 415, severity: DiagnosticSeverity.Error }]);
      }
      return E.right(multipartFields(multipart.parse(Buffer.from(target, 'utf-8'), boundary)));
    },
    // Multipart part bodies are not percent-encoded (RFC 7578 §4.7 leaves them as they are); only form text is.
    decodeUriEntities(target, mediaType) {
      if (!isForm(mediaType)) return target;
      const out = {};
      for (const [k, v] of Object.entries(target)) out[decodeForm(k)] = Array.isArray(v) ? v.map(decodeForm) : decodeForm(v);
      return out;
    },
    // RFC 3986 reserved characters matter in form text only; a multipart part carries its bytes as they are.
    validateAgainstReservedCharacters(encoded, encodings, prefix) {
      const diagnostics = [];
      for (const encoding of encodings) {
        if (encoding.allowReserved) continue;
        const values = [].concat(encoded[encoding.property] ?? []);
        if (values.some((v) => typeof v === 'string' && /[/?#[\]@!$&'()*+,;=]/.test(v))) {
          diagnostics.push({ path: [prefix, encoding.property], message: 'Reserved characters used in request body', severity: DiagnosticSeverity.Error });
        }
      }
      return diagnostics.length ? E.left(diagnostics) : E.right(encoded);
    },
    deserializeFormBody(schema, encodings, fields) {
      if (!schema.properties) return E.right(fields);
      const out = {};
      for (const [property, propertySchema] of Object.entries(schema.properties)) {
        const encoding = encodings.find((e) => e.property === property);
        const style = encoding?.style;
        let value;
        if (style === 'deepObject' || (style === undefined && fields[property] === undefined)) {
          // Undeclared style with bracketed keys: Stripe/qs notation, read the same way as deepObject.
          value = deserializeDeepObject(property, fields, propertySchema);
        } else if (style && style !== 'form' && deserializers.body[style]) {
          value = deserializers.body[style](property, fields, propertySchema, encoding.explode);
        } else if (style === 'form' && encoding.explode === false && typeof fields[property] === 'string') {
          value = fields[property].split(',');
        } else {
          value = fields[property];
        }
        // One item of an exploded form array is one key: `a=1` is ['1'] where the schema wants an array.
        if (typeof value === 'string' && admitsArray(propertySchema) && !admitsString(propertySchema)) value = [value];
        if (value !== undefined) out[property] = value;
      }
      // Fields the schema does not declare stay visible, so additionalProperties: false still rejects them.
      for (const key of Object.keys(fields)) if (!key.includes('[') && !Object.hasOwn(schema.properties, key)) out[key] = fields[key];
      return E.right(out);
    },
  };
}

const BODY_FUNCTIONS = ['splitUriParams', 'parseMultipartFormDataParams', 'decodeUriEntities', 'validateAgainstReservedCharacters', 'deserializeFormBody'];
const BODY_APPENDIX = `
;(() => {
  const fix = require(${JSON.stringify(__filename)}).bodyFixes(E, deserializers_1, multipart, { is: type_is_1.is }, types_1.DiagnosticSeverity);
  ${BODY_FUNCTIONS.map((f) => `${f} = fix.${f};`).join('\n  ')}
})();
`;

// ---- Request targets that begin with `//` --------------------------------------------------------------------------

// Prism reads the request target with `new URL(url, 'http://example.com')`, where `//openapi` is a scheme-relative
// reference (host `openapi`, path `/`), so a path key such as clever-cloud's `//openapi` can never be routed. An
// origin-form target (RFC 9112 §3.2.1) is a path: appended to the origin, `//openapi` stays the path `//openapi`.
const SERVER_URL = "new URL(url, 'http://example.com')";
const SERVER_URL_FIXED = "new URL('http://example.com' + url)";

// Function declarations are module-scoped bindings that the module's own code calls by name, so the corrected ones
// are assigned to those bindings from code appended to the module's source as it is compiled.
const compile = Module.prototype._compile;
Module.prototype._compile = function (content, filename) {
  if (filename === BODY_JS) {
    for (const f of BODY_FUNCTIONS) if (!content.includes(`function ${f}(`)) throw new Error(`prism-patch: ${f} not found in ${BODY_JS}`);
    for (const v of ['E', 'deserializers_1', 'multipart', 'type_is_1', 'types_1']) if (!new RegExp(`const ${v} = require`).test(content)) throw new Error(`prism-patch: ${v} not found in ${BODY_JS}`);
    content += BODY_APPENDIX;
  }
  if (filename === SERVER_JS) {
    if (content.split(SERVER_URL).length !== 2) throw new Error(`prism-patch: ${SERVER_URL} not found once in ${SERVER_JS}`);
    content = content.replace(SERVER_URL, SERVER_URL_FIXED);
  }
  return compile.call(this, content, filename);
};

// ---- Parameter deserializers (exported tables, read at call time) ------------------------------------------------

const deserializers = require(path.join(prismHttp, 'dist/validator/deserializers/index.js'));
if (typeof deserializers.query.deepObject !== 'function' || typeof deserializers.header.simple !== 'function') {
  throw new Error('prism-patch: deserializer tables changed shape');
}
deserializers.query.deepObject = deserializeDeepObject; // `body` is the same table as `query`
// An absent optional header (or path value) is undefined; Prism's simple style calls .split on it and crashes.
for (const table of [deserializers.header, deserializers.path]) {
  const simple = table.simple;
  table.simple = (name, parameters, schema, explode) => (parameters[name] === undefined ? undefined : simple(name, parameters, schema, explode));
}

// ---- Path templates match whole segments -------------------------------------------------------------------------

// Prism matches a templated segment with an unanchored regex, so `{name}:subscribe` matches the request segment
// `abc:subscribeClients` (Google's custom methods: `/v1/{name}:subscribe` beside `/v1/{auctionPackage}:subscribeClients`)
// and may route the request to the wrong operation, which then misses its own path parameter. A template segment
// must match the whole request segment, as its URI template means.
const matchPathModule = require(path.join(prismHttp, 'dist/router/matchPath.js'));
const { MatchType } = require(path.join(prismHttp, 'dist/router/types.js'));
const matchPath = matchPathModule.matchPath;
if (typeof matchPath !== 'function' || !MatchType || !MatchType.NOMATCH) throw new Error('prism-patch: router matchPath changed shape');
const decodeSegment = (s) => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};
function wholeSegments(requestPath, operationPath) {
  const want = operationPath.split('/').slice(1);
  const got = requestPath.split('/').slice(1).map(decodeSegment);
  return want.every((seg, i) => {
    if (!/{(.+)}/.test(seg)) return true;
    const pattern = seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\\\{[^\\]+\\\}/g, '(.*)');
    return new RegExp(`^${pattern}$`).test(got[i] ?? '');
  });
}
matchPathModule.matchPath = (requestPath, operationPath) => {
  const result = matchPath(requestPath, operationPath);
  if (result._tag === 'Right' && result.right === MatchType.TEMPLATED && !wholeSegments(requestPath, operationPath)) return { _tag: 'Right', right: MatchType.NOMATCH };
  return result;
};

// ---- Postman collections: query and header params are what a request may carry, not what it must -------------------

const postman = require(require.resolve('@stoplight/http-spec/postman/operation', { paths: [prismHttp] }));
const transformOperations = postman.transformPostmanCollectionOperations;
if (typeof transformOperations !== 'function') throw new Error('prism-patch: postman transformer not found');
postman.transformPostmanCollectionOperations = (document) =>
  transformOperations(document).map((op) => {
    for (const list of [op.request?.query, op.request?.headers]) for (const p of list ?? []) p.required = false;
    return op;
  });

module.exports = { bodyFixes, deserializeDeepObject, splitForm, multipartFields, bracketPath, wholeSegments };
