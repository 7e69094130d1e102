// Each judge correction (test/wire/README.md) lets valid requests through and still rejects the invalid ones.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startJudge, type Judge, type StartPrismOptions } from '../helpers/prism.js';
import {
  byteBodiesAsBinary,
  fragmentPathKeys,
  fragmentRoutes,
  framingHeadersDropped,
  idRefsAsPointers,
  postmanDropDisabled,
  postmanRawJson,
  postmanVariableSegments,
  refSiblingsAsAllOf,
  refSiblingsIgnored,
  readSpec,
  responsesAsStatusCodes,
  routeFragment,
  writeJudgeSpec,
  type SpecCorrection,
} from './judge/spec-copy.js';
import { verdictOf } from './conformance.js';
import { PRISM_PATCH, SPEC_DIR } from './specs.js';

const dir = mkdtempSync(join(tmpdir(), 'ductape-judge-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FORM = 'application/x-www-form-urlencoded';
const BEARER = { authorization: 'Bearer judge-token' };

async function judgeOf(file: string, basePath: string, corrections: SpecCorrection[] = [], route?: StartPrismOptions["route"]): Promise<Judge> {
  const copy = writeJudgeSpec(file, dir, corrections);
  return startJudge(copy.path, basePath, { preload: PRISM_PATCH, route });
}

/** Sends one raw request through the judge's proxy; returns Prism's status and its request violations. */
async function send(judge: Judge, method: string, path: string, init: { headers?: Record<string, string>; body?: string; declared?: string[] } = {}) {
  const res = await fetch(judge.baseUrl + path, { method, headers: init.headers, body: init.body });
  await res.arrayBuffer();
  const rec = judge.requests[judge.requests.length - 1];
  return {
    status: res.status,
    // The conformance suite's verdict: Prism found no error in the request (see verdictOf).
    accepted: verdictOf(rec, init.declared) === true,
    violations: rec.violations.filter((v) => v.location?.[0] !== 'response').map((v) => v.message),
  };
}

function writeSpec(name: string, doc: object): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(doc));
  return file;
}

describe('judge proxy (base path)', () => {
  let judge: Judge;
  beforeAll(async () => {
    const file = writeSpec('base.json', {
      openapi: '3.0.3',
      info: { title: 'base', version: '1' },
      servers: [{ url: 'https://api.example.test/v1' }],
      paths: { '/customers': { get: { responses: { '200': { description: 'ok' } } } } },
    });
    judge = await judgeOf(file, '/v1');
  });
  afterAll(() => judge.stop());

  it('accepts a request that keeps the server base path', async () => {
    expect((await send(judge, 'GET', '/customers')).status).toBe(200);
  });

  it('rejects a request that drops the base path, which Prism alone would route', async () => {
    const res = await fetch(judge.baseUrl.replace(/\/v1$/, '') + '/customers');
    expect(res.status).toBe(404);
    expect(await res.text()).toContain('outside the base path /v1');
  });
});

describe('responses as status codes keeps what requests reach through other components', () => {
  let judge: Judge;
  beforeAll(async () => {
    // The body's schema is reached only through components.requestBodies, and a parameter refers into a schema.
    const file = writeSpec('request-bodies.json', {
      openapi: '3.0.3',
      info: { title: 'request bodies', version: '1' },
      paths: {
        '/tasks': {
          post: {
            parameters: [{ name: 'state', in: 'query', schema: { $ref: '#/components/schemas/Task/properties/state' } }],
            requestBody: { $ref: '#/components/requestBodies/Task' },
            responses: { '201': { description: 'created', content: { 'application/json': { schema: { $ref: '#/components/schemas/Reply' } } } } },
          },
        },
      },
      components: {
        requestBodies: { Task: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/Task' } } } } },
        schemas: {
          Task: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, state: { type: 'string', enum: ['open', 'done'] } } },
          Reply: { type: 'object', properties: { id: { type: 'string' } } },
        },
      },
    });
    judge = await judgeOf(file, '', [responsesAsStatusCodes]);
  }, 120_000);
  afterAll(() => judge.stop());
  const post = (query: string, body: object) => send(judge, 'POST', `/tasks${query}`, { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('loads, and accepts a valid task', async () => {
    expect(await post('?state=open', { name: 'a' })).toMatchObject({ accepted: true, violations: [] });
  });

  it('still rejects a task without its name and a state outside the enum', async () => {
    expect((await post('', {})).accepted).toBe(false);
    expect((await post('?state=later', { name: 'a' })).accepted).toBe(false);
  });
});

describe('fragment path keys (AWS: one path, operations told apart by query)', () => {
  let judge: Judge;
  const doc = {
    openapi: '3.0.3',
    info: { title: 'fragments', version: '1' },
    paths: {
      '/#Action=ListUsers': { get: { parameters: [{ name: 'Action', in: 'query', required: true, schema: { type: 'string', enum: ['ListUsers'] } }, { name: 'Max', in: 'query', schema: { type: 'integer' } }], responses: { '200': { description: 'ok' } } } },
      '/#Action=GetUser': { get: { parameters: [{ name: 'Action', in: 'query', required: true, schema: { type: 'string', enum: ['GetUser'] } }, { name: 'UserName', in: 'query', required: true, schema: { type: 'string' } }], responses: { '200': { description: 'ok' } } } },
      '/#X-Amz-Target=Svc.PutItem': { post: { parameters: [{ name: 'X-Amz-Target', in: 'header', required: true, schema: { type: 'string', enum: ['Svc.PutItem'] } }], requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['Item'], properties: { Item: { type: 'string' } } } } } }, responses: { '200': { description: 'ok' } } } },
      '/#X-Amz-Target=Svc.GetItem': { post: { parameters: [{ name: 'X-Amz-Target', in: 'header', required: true, schema: { type: 'string', enum: ['Svc.GetItem'] } }], requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['Key'], properties: { Key: { type: 'string' } } } } } }, responses: { '200': { description: 'ok' } } } },
      '/tags/{arn}': { post: { parameters: [{ name: 'arn', in: 'path', required: true, schema: { type: 'string' } }], responses: { '200': { description: 'ok' } } } },
      '/tags/{arn}#tagKeys': { delete: { parameters: [{ name: 'arn', in: 'path', required: true, schema: { type: 'string' } }, { name: 'tagKeys', in: 'query', required: true, schema: { type: 'array', items: { type: 'string' } } }], responses: { '204': { description: 'gone' } } } },
    },
  };
  beforeAll(async () => {
    const file = writeSpec('fragments.json', doc);
    const routes = fragmentRoutes(readSpec(file));
    judge = await judgeOf(file, '', [fragmentPathKeys], (url, headers) => routeFragment(routes, url, headers as Record<string, string>));
  }, 120_000);
  afterAll(() => judge.stop());

  it('routes each request to the operation its query names, and judges it by that operation', async () => {
    expect(await send(judge, 'GET', '/?Action=ListUsers&Max=5')).toMatchObject({ accepted: true });
    expect(await send(judge, 'GET', '/?Action=GetUser&UserName=jo')).toMatchObject({ accepted: true });
    expect((await send(judge, 'GET', '/?Action=GetUser')).accepted).toBe(false); // UserName is required there
    expect((await send(judge, 'GET', '/?Action=ListUsers&Max=many')).accepted).toBe(false);
    expect(await send(judge, 'DELETE', '/tags/arn%3Ax?tagKeys=a')).toMatchObject({ accepted: true });
    expect(await send(judge, 'POST', '/tags/arn%3Ax')).toMatchObject({ accepted: true });
    const json = (target: string, body: object) => send(judge, 'POST', '/', { headers: { 'x-amz-target': target, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(await json('Svc.PutItem', { Item: 'a' })).toMatchObject({ accepted: true });
    expect(await json('Svc.GetItem', { Key: 'a' })).toMatchObject({ accepted: true });
    expect((await json('Svc.GetItem', { Item: 'a' })).accepted).toBe(false); // judged by GetItem: Key is required
  });

  it('leaves a request that satisfies no fragment on the plain path (no fragment key: 404, as before)', async () => {
    expect((await send(judge, 'GET', '/?Action=DeleteUser')).status).toBe(404);
    expect((await send(judge, 'DELETE', '/tags/arn%3Ax')).accepted).toBe(false);
  });
});

describe('judge on the Stripe copy (responses as status codes, deepObject, form arrays of objects)', () => {
  let judge: Judge;
  beforeAll(async () => {
    judge = await judgeOf(join(SPEC_DIR, 'stripe-api-2020-08-27-spec3-2022-04.json'), '', [responsesAsStatusCodes]);
  }, 120_000);
  afterAll(() => judge.stop());
  const post = (path: string, body: string) => send(judge, 'POST', path, { headers: { ...BEARER, 'content-type': FORM }, body });
  const session = 'success_url=https%3A%2F%2Fa.test%2Fok&cancel_url=https%3A%2F%2Fa.test%2Fno';

  it('loads, and accepts a customer with no optional nested object sent', async () => {
    expect(await post('/v1/customers', 'email=a%40b.test')).toMatchObject({ status: 200, accepted: true, violations: [] });
  });

  it('accepts a nested object sent in brackets, and rejects one missing a required key', async () => {
    expect((await post('/v1/customers', 'shipping[name]=Jo&shipping[address][city]=Oslo')).status).toBe(200);
    const missing = await post('/v1/customers', 'shipping[name]=Jo');
    expect(missing.status).toBe(422);
  });

  it('accepts metadata in brackets and rejects JSON text where brackets belong', async () => {
    expect((await post('/v1/customers', 'metadata[order]=42')).status).toBe(200);
    expect((await post('/v1/customers', `metadata=${encodeURIComponent('{"order":"42"}')}`)).status).toBe(422);
  });

  it('accepts line items as indexed brackets, and rejects a line item without its required field', async () => {
    const ok = await post('/v1/checkout/sessions', `${session}&line_items[0][price]=price_1&line_items[0][quantity]=2&line_items[0][adjustable_quantity][enabled]=true`);
    expect(ok).toMatchObject({ status: 200, accepted: true, violations: [] });
    const bad = await post('/v1/checkout/sessions', `${session}&line_items[0][price]=price_1&line_items[0][adjustable_quantity][maximum]=3`);
    expect(bad.status).toBe(422);
    expect(bad.violations.join(' ')).toContain('enabled');
  });

  it('rejects a deepObject query value of the wrong type', async () => {
    expect((await send(judge, 'GET', '/v1/customers?created%5Bgt%5D=1600000000', { headers: BEARER })).status).toBe(200);
    expect((await send(judge, 'GET', '/v1/customers?created%5Bgt%5D=soon', { headers: BEARER })).status).toBe(422);
  });
});

describe('judge on Twilio (form arrays as repeated keys)', () => {
  let judge: Judge;
  const path = '/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/ConnectApps/CN0123456789abcdef0123456789abcdef.json';
  const auth = { authorization: `Basic ${Buffer.from('AC:tok').toString('base64')}`, 'content-type': FORM };
  beforeAll(async () => {
    judge = await judgeOf(join(SPEC_DIR, 'twilio-api-v2010.json'), '');
  }, 120_000);
  afterAll(() => judge.stop());

  it('accepts an array sent as repeated keys, and a single key as a one-item array', async () => {
    expect(await send(judge, 'POST', path, { headers: auth, body: 'Permissions=get-all&Permissions=post-all' })).toMatchObject({ status: 200, accepted: true, violations: [] });
    expect((await send(judge, 'POST', path, { headers: auth, body: 'Permissions=get-all' })).status).toBe(200);
  });

  it('still rejects an array item outside the enum', async () => {
    const bad = await send(judge, 'POST', path, { headers: auth, body: 'Permissions=get-all&Permissions=delete-all' });
    expect(bad.status).toBe(422);
  });
});

describe('judge on multipart JSON parts and optional array headers', () => {
  let judge: Judge;
  const boundary = 'judgeBoundary';
  const multipart = (parts: { name: string; type?: string; filename?: string; text: string }[]) =>
    parts
      .map((p) => `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"${p.filename ? `; filename="${p.filename}"` : ''}\r\n${p.type ? `Content-Type: ${p.type}\r\n` : ''}\r\n${p.text}\r\n`)
      .join('') + `--${boundary}--\r\n`;
  const headers = { 'content-type': `multipart/form-data; boundary=${boundary}` };
  beforeAll(async () => {
    const file = writeSpec('parts.json', {
      openapi: '3.0.3',
      info: { title: 'parts', version: '1' },
      paths: {
        '/uploads': {
          post: {
            requestBody: {
              required: true,
              content: {
                'multipart/form-data': {
                  schema: {
                    type: 'object',
                    required: ['meta'],
                    properties: { meta: { type: 'object', required: ['id'], properties: { id: { type: 'integer' } } }, file: { type: 'string', format: 'binary' } },
                  },
                  encoding: { meta: { contentType: 'application/json' } },
                },
              },
            },
            responses: { '200': { description: 'ok' } },
          },
        },
        '/tags': {
          get: {
            parameters: [{ name: 'X-Tags', in: 'header', schema: { type: 'array', items: { type: 'string', enum: ['a', 'b'] } } }],
            responses: { '200': { description: 'ok' } },
          },
        },
      },
    });
    judge = await judgeOf(file, '');
  });
  afterAll(() => judge.stop());

  it('accepts an object sent as a JSON part next to a file', async () => {
    const body = multipart([
      { name: 'meta', type: 'application/json', filename: 'blob', text: '{"id":7}' },
      { name: 'file', type: 'text/csv', filename: 'a.csv', text: 'x,y' },
    ]);
    expect(await send(judge, 'POST', '/uploads', { headers, body })).toMatchObject({ status: 200, accepted: true, violations: [] });
  });

  it('rejects a JSON part missing a required key, and a part that is not JSON', async () => {
    expect((await send(judge, 'POST', '/uploads', { headers, body: multipart([{ name: 'meta', type: 'application/json', filename: 'blob', text: '{}' }]) })).status).toBe(422);
    expect((await send(judge, 'POST', '/uploads', { headers, body: multipart([{ name: 'meta', type: 'application/json', filename: 'blob', text: 'id=7' }]) })).status).toBe(422);
  });

  it('accepts a request without an optional array header, and rejects a wrong item in it', async () => {
    expect((await send(judge, 'GET', '/tags')).status).toBe(200);
    expect((await send(judge, 'GET', '/tags', { headers: { 'x-tags': 'a,b' } })).status).toBe(200);
    expect((await send(judge, 'GET', '/tags', { headers: { 'x-tags': 'a,zzz' } })).status).toBe(422);
    // The judge is still up after the absent header (Prism 5.14.2 alone may crash on it).
    expect((await send(judge, 'GET', '/tags')).status).toBe(200);
  });
});

describe('judge on Postman collections', () => {
  let judge: Judge;
  beforeAll(async () => {
    const file = writeSpec('shop.postman_collection.json', {
      info: { name: 'shop', schema: 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json' },
      variable: [{ key: 'baseUrl', value: 'https://shop.example.test/api' }],
      item: [
        {
          name: 'Get item',
          request: {
            method: 'GET',
            header: [{ key: 'X-Debug', value: '1', disabled: true }],
            url: {
              raw: '{{baseUrl}}/items/{{itemId}}?expand=true&verbose=1',
              host: ['{{baseUrl}}'],
              path: ['items', '{{itemId}}'],
              query: [{ key: 'expand', value: 'true' }, { key: 'verbose', value: '1', disabled: true }],
            },
          },
        },
        {
          name: 'Create item',
          request: {
            method: 'POST',
            header: [],
            body: { mode: 'raw', raw: '{"name":"pen","price":2}' },
            url: { raw: '{{baseUrl}}/items', host: ['{{baseUrl}}'], path: ['items'] },
          },
        },
      ],
    });
    judge = await judgeOf(file, '/api', [postmanDropDisabled, postmanVariableSegments, postmanRawJson]);
  });
  afterAll(() => judge.stop());

  it('routes a {{var}} path segment as a path parameter, and nothing else', async () => {
    expect((await send(judge, 'GET', '/items/42?expand=true')).accepted).toBe(true);
    expect((await send(judge, 'GET', '/things/42')).status).toBe(404);
  });

  it('does not require query params or headers, disabled or not', async () => {
    // Prism answers 500 (no saved response to mock) after judging the request valid.
    expect(await send(judge, 'GET', '/items/42')).toMatchObject({ accepted: true, violations: [] });
  });

  it('reads a raw body without a language as the JSON it is, and rejects one of the wrong shape', async () => {
    const json = { 'content-type': 'application/json' };
    expect((await send(judge, 'POST', '/items', { headers: json, body: '{"name":"pen","price":3}' })).accepted).toBe(true);
    expect((await send(judge, 'POST', '/items', { headers: json, body: '{"name":"pen","price":"cheap"}' })).status).toBe(422);
  });
});

describe('judge on the Petstore 3.1 copy ($id refs as pointers, $ref siblings as allOf)', () => {
  let judge: Judge;
  beforeAll(async () => {
    judge = await judgeOf(join(SPEC_DIR, 'swagger-petstore-3.1.yaml'), '/api/v31', [idRefsAsPointers, refSiblingsAsAllOf]);
  });
  afterAll(() => judge.stop());
  const json = { ...BEARER, 'content-type': 'application/json' };

  it('loads and accepts a pet with its required fields', async () => {
    const body = JSON.stringify({ id: 1, name: 'rex', photoUrls: ['https://a.test/r.png'], petDetailsId: 5 });
    expect(await send(judge, 'POST', '/pet', { headers: json, body })).toMatchObject({ status: 200, accepted: true, violations: [] });
  });

  it('rejects a pet without photoUrls, and a wrong type behind an $anchor ref', async () => {
    expect((await send(judge, 'POST', '/pet', { headers: json, body: JSON.stringify({ id: 1, name: 'rex' }) })).status).toBe(422);
    const anchored = JSON.stringify({ id: 1, name: 'rex', photoUrls: [], petDetailsId: 'five' });
    expect((await send(judge, 'POST', '/pet', { headers: json, body: anchored })).status).toBe(422);
  });
});

describe('request targets that begin with // (a path key such as clever-cloud\'s //openapi)', () => {
  let judge: Judge;
  beforeAll(async () => {
    const file = writeSpec('double-slash.json', {
      openapi: '3.0.3',
      info: { title: 'double slash', version: '1' },
      servers: [{ url: 'https://api.example.test/v2' }],
      paths: {
        '//openapi': { get: { parameters: [{ name: 'format', in: 'query', required: true, schema: { type: 'string', enum: ['json', 'yaml'] } }], responses: { '200': { description: 'ok' } } } },
        '/openapi.{type}': { get: { parameters: [{ name: 'type', in: 'path', required: true, schema: { type: 'string' } }], responses: { '200': { description: 'ok' } } } },
      },
    });
    judge = await judgeOf(file, '/v2');
  });
  afterAll(() => judge.stop());

  it('routes //openapi to its own operation and judges it there', async () => {
    expect(await send(judge, 'GET', '//openapi?format=json')).toMatchObject({ status: 200, accepted: true });
    expect((await send(judge, 'GET', '//openapi?format=xml')).accepted).toBe(false); // outside that operation's enum
    expect((await send(judge, 'GET', '//openapi')).accepted).toBe(false); // format is required there
  });

  it('still tells //openapi and /openapi apart', async () => {
    expect((await send(judge, 'GET', '/openapi?format=json')).status).toBe(404);
    expect((await send(judge, 'GET', '/openapi.json')).accepted).toBe(true);
  });
});

describe('operations that declare no success response (the verdict on Prism\'s mock of their first response)', () => {
  let judge: Judge;
  beforeAll(async () => {
    const file = writeSpec('no-success.json', {
      openapi: '3.0.3',
      info: { title: 'no success', version: '1' },
      paths: {
        '/items/{id}': {
          delete: {
            parameters: [
              { name: 'id', in: 'path', required: true, schema: { type: 'integer' } },
              { name: 'owner', in: 'query', required: true, schema: { type: 'string' } },
            ],
            responses: { '400': { description: 'bad' }, '404': { description: 'no such item' } },
          },
        },
        '/scan': { post: { security: [{ key: [] }], responses: { '401': { description: 'not authorized' }, '402': { description: 'payment required' } } } },
        '/ok': { get: { responses: { '200': { description: 'ok' }, '404': { description: 'gone' } } } },
      },
      components: { securitySchemes: { key: { type: 'apiKey', in: 'header', name: 'X-Key' } } },
    });
    judge = await judgeOf(file, '', [responsesAsStatusCodes]);
  });
  afterAll(() => judge.stop());

  it('accepts a valid request answered with the first declared response, which the plain verdict refused', async () => {
    const valid = await send(judge, 'DELETE', '/items/7?owner=me', { declared: ['400', '404'] });
    expect(valid).toMatchObject({ status: 400, accepted: true, violations: [] });
    expect((await send(judge, 'DELETE', '/items/7?owner=me')).accepted).toBe(false); // without the declared codes
    expect(await send(judge, 'POST', '/scan', { headers: { 'x-key': 'k' }, declared: ['401', '402'] })).toMatchObject({ status: 401, accepted: true });
  });

  it('still rejects an invalid request, a missing credential, an unknown route and a failure of an operation with a success response', async () => {
    expect((await send(judge, 'DELETE', '/items/7', { declared: ['400', '404'] })).accepted).toBe(false); // owner missing
    expect((await send(judge, 'DELETE', '/items/seven?owner=me', { declared: ['400', '404'] })).accepted).toBe(false);
    const noKey = await send(judge, 'POST', '/scan', { declared: ['401', '402'] });
    expect(noKey).toMatchObject({ status: 401, accepted: false }); // Prism's own 401, with its security violation
    expect((await send(judge, 'DELETE', '/things/7?owner=me', { declared: ['400', '404'] })).accepted).toBe(false); // no route: 404
    expect((await send(judge, 'GET', '/ok', { declared: ['200', '404'] })).status).toBe(200);
    expect(verdictOf({ ...judge.requests[judge.requests.length - 1], status: 404 }, ['200', '404'])).not.toBe(true);
  });
});

describe('$ref siblings in OpenAPI 3.0 are ignored, as the specification says', () => {
  let judge: Judge;
  beforeAll(async () => {
    const file = writeSpec('ref-siblings-30.json', {
      openapi: '3.0.0',
      info: { title: 'ref siblings', version: '1' },
      paths: {
        '/email': { post: { requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/Email', type: 'string' } } } }, responses: { '204': { description: 'ok' } } } },
        '/tracks': { post: { requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Track', required: ['track[title]'] } } } }, responses: { '201': { description: 'ok' } } } },
      },
      components: {
        schemas: {
          Email: { type: 'object', required: ['email'], properties: { email: { type: 'string' } } },
          Track: { type: 'object', properties: { 'track[title]': { type: 'string' }, 'track[genre]': { type: 'string' } } },
        },
      },
    });
    judge = await judgeOf(file, '', [refSiblingsIgnored]);
  });
  afterAll(() => judge.stop());
  const json = (path: string, body: object) => send(judge, 'POST', path, { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('accepts the referenced object where a sibling said string, and no field a sibling required', async () => {
    expect(await json('/email', { email: 'a@b.test' })).toMatchObject({ accepted: true, violations: [] });
    expect(await json('/tracks', { 'track[genre]': 'pop' })).toMatchObject({ accepted: true, violations: [] });
  });

  it('still checks the referenced schema', async () => {
    expect((await json('/email', { mail: 'a@b.test' })).accepted).toBe(false); // Email requires email
    expect((await json('/tracks', { 'track[genre]': 7 })).accepted).toBe(false);
  });
});

describe('framing headers declared as parameters, and bodies of bytes', () => {
  let judge: Judge;
  beforeAll(async () => {
    const stream = { content: { 'application/octet-stream': { schema: { type: 'object', format: 'file' } } }, required: true };
    const file = writeSpec('bytes.json', {
      openapi: '3.0.0',
      info: { title: 'bytes', version: '1' },
      paths: {
        '/files/{path}': {
          post: {
            parameters: [
              { name: 'path', in: 'path', required: true, schema: { type: 'string' } },
              { name: 'op', in: 'query', required: true, schema: { type: 'string', enum: ['APPEND'] } },
              { $ref: '#/components/parameters/TransferEncoding' },
            ],
            requestBody: { $ref: '#/components/requestBodies/Stream' },
            responses: { '200': { description: 'ok' } },
          },
          put: { parameters: [{ name: 'path', in: 'path', required: true, schema: { type: 'string' } }], requestBody: stream, responses: { '201': { description: 'ok' } } },
        },
      },
      components: {
        parameters: { TransferEncoding: { name: 'Transfer-Encoding', in: 'header', required: true, schema: { type: 'string', enum: ['chunked'] } } },
        requestBodies: { Stream: stream },
      },
    });
    judge = await judgeOf(file, '', [framingHeadersDropped, byteBodiesAsBinary]);
  });
  afterAll(() => judge.stop());
  const bytes = { 'content-type': 'application/octet-stream' };

  it('accepts bytes sent with Content-Length, whatever object schema the spec gave them', async () => {
    expect(await send(judge, 'POST', '/files/a.txt?op=APPEND', { headers: bytes, body: 'some bytes' })).toMatchObject({ accepted: true, violations: [] });
    expect(await send(judge, 'PUT', '/files/a.txt', { headers: bytes, body: '\u0000\u0001' })).toMatchObject({ accepted: true, violations: [] });
  });

  it('still checks the other parameters and the media type', async () => {
    expect((await send(judge, 'POST', '/files/a.txt?op=CREATE', { headers: bytes, body: 'x' })).accepted).toBe(false);
    expect((await send(judge, 'PUT', '/files/a.txt', { headers: { 'content-type': 'application/json' }, body: '{}' })).accepted).toBe(false);
  });
});

describe('overloads told apart by a label fragment (Azure #overload=stream)', () => {
  let judge: Judge;
  beforeAll(async () => {
    const body = (schema: object, type = 'application/json') => ({ required: true, content: { [type]: { schema } } });
    const ok = { '200': { description: 'ok' } };
    const file = writeSpec('overloads.json', {
      openapi: '3.0.0',
      info: { title: 'overloads', version: '1' },
      paths: {
        '/detect': { post: { requestBody: body({ type: 'object', required: ['url'], properties: { url: { type: 'string' } } }), responses: ok } },
        '/detect#overload=stream': { post: { parameters: [{ name: 'returnFaceId', in: 'query', schema: { type: 'boolean' } }], requestBody: body({ type: 'string', format: 'binary' }, 'application/octet-stream'), responses: ok } },
        '/verify': { post: { requestBody: body({ type: 'object', required: ['faceId1', 'faceId2'], properties: { faceId1: { type: 'string' }, faceId2: { type: 'string' } } }), responses: ok } },
        '/verify#overload=person': { post: { requestBody: body({ allOf: [{ type: 'object', required: ['faceId'], properties: { faceId: { type: 'string' } } }, { required: ['personId'], properties: { personId: { type: 'string', format: 'uuid' } } }] }), responses: ok } },
      },
    });
    const routes = fragmentRoutes(readSpec(file));
    judge = await judgeOf(file, '', [fragmentPathKeys], (url, headers, request) => routeFragment(routes, url, headers as Record<string, string>, request));
  });
  afterAll(() => judge.stop());
  const json = (path: string, body: object) => send(judge, 'POST', path, { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const uuid = '123e4567-e89b-12d3-a456-426614174000';

  it('judges a request by the overload its body belongs to: media type, else the keys its JSON holds', async () => {
    expect(await send(judge, 'POST', '/detect?returnFaceId=true', { headers: { 'content-type': 'application/octet-stream' }, body: 'jpeg' })).toMatchObject({ accepted: true });
    expect(await json('/detect', { url: 'https://a.test/face.jpg' })).toMatchObject({ accepted: true });
    expect(await json('/verify', { faceId1: 'a', faceId2: 'b' })).toMatchObject({ accepted: true });
    expect(await json('/verify', { faceId: 'a', personId: uuid })).toMatchObject({ accepted: true });
  });

  it('still rejects a body that fits no overload, or breaks the one it fits', async () => {
    expect((await json('/detect', {})).accepted).toBe(false);
    expect((await send(judge, 'POST', '/detect?returnFaceId=maybe', { headers: { 'content-type': 'application/octet-stream' }, body: 'jpeg' })).accepted).toBe(false);
    expect((await json('/verify', { faceId: 'a' })).accepted).toBe(false);
    expect((await json('/verify', { faceId: 'a', personId: 'not-a-uuid' })).accepted).toBe(false);
  });
});

describe('path templates match whole segments (Google custom methods)', () => {
  let judge: Judge;
  beforeAll(async () => {
    const op = (param: string) => ({ post: { parameters: [{ name: param, in: 'path', required: true, schema: { type: 'string' } }], responses: { '200': { description: 'ok' } } } });
    const file = writeSpec('custom-methods.json', {
      openapi: '3.0.0',
      info: { title: 'custom methods', version: '1' },
      paths: { '/v1/{name}:subscribe': op('name'), '/v1/{auctionPackage}:subscribeClients': op('auctionPackage') },
    });
    judge = await judgeOf(file, '');
  });
  afterAll(() => judge.stop());

  it('routes each custom method to its own operation, and an unknown one nowhere', async () => {
    expect(await send(judge, 'POST', '/v1/abc:subscribeClients')).toMatchObject({ status: 200, accepted: true });
    expect(await send(judge, 'POST', '/v1/abc:subscribe')).toMatchObject({ status: 200, accepted: true });
    expect((await send(judge, 'POST', '/v1/abc:subscribeAll')).status).toBe(404);
  });
});
