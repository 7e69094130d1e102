// OpenAPI 3.1 documents built inline, imported and run over loopback: what a 3.1 construct makes Ductape send or refuse.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Ductape } from '../../src/index.js';
import { importSpec } from '../../src/importers/index.js';
import { newClient } from '../helpers/client.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

type Obj = Record<string, unknown>;
const ok = { '200': { description: 'ok' } };

let upstream: Upstream;
let ductape: Ductape;

beforeEach(async () => {
  upstream = await startUpstream();
  ductape = newClient();
});
afterEach(async () => {
  await ductape.close();
  await upstream.close();
});

function spec31(parts: Obj): Obj {
  return { openapi: '3.1.0', info: { title: 'T', version: '1' }, servers: [{ url: 'https://api.example.test' }], ...parts };
}

/** Imports `spec` as app `x` and connects product `p` (env dev) to the loopback upstream. */
async function connect(spec: Obj) {
  const result = await ductape.apps.import({ app: 'x', spec });
  await ductape.products.create({ tag: 'p', envs: ['dev'] });
  await ductape.products.apps.connect({ product: 'p', app: 'x' });
  await ductape.products.apps.configure({ product: 'p', app: 'x', env: 'dev', base_url: upstream.url });
  return result;
}

const run = (event: string, input: Record<string, unknown> = {}) => ductape.actions.run({ env: 'dev', product: 'p', app: 'x', event, input });

describe('OpenAPI 3.1 schemas with $id', () => {
  const doc = spec31({
    components: {
      schemas: {
        // Generated from JSON Schema files: refs inside resolve against the schema's own $id (JSON Schema 2020-12 §8.2).
        Address: {
          $id: 'https://schemas.example.test/address',
          $defs: { Zip: { type: 'string', pattern: '^[0-9]{5}$' }, Line: { $ref: '#/$defs/Text' }, Text: { type: 'string', minLength: 2 } },
          type: 'object',
          required: ['zip'],
          properties: {
            zip: { $ref: '#/$defs/Zip' },
            line: { $ref: '#/$defs/Line' },
            other: { $ref: '#/components/schemas/Note' },
            parts: { type: 'array', items: { $ref: '#' } }, // `#` is the schema itself, not the OpenAPI document
          },
        },
        Note: { type: 'string', maxLength: 5 },
      },
    },
    paths: { '/addresses': { post: { operationId: 'createAddress', requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Address' } } } }, responses: ok } } },
  });

  it('resolves a fragment $ref inside a schema with $id within that schema, and a document pointer there as the document\'s', async () => {
    const app = await importSpec({ spec: doc });
    const address = app.components.schemas.Address as { properties: Record<string, unknown> };
    expect(address.properties.zip).toEqual({ $ref: 'components#/schemas/Address__defs_Zip' });
    expect(address.properties.other).toEqual({ $ref: 'components#/schemas/Note' });
    expect(address.properties.parts).toEqual({ type: 'array', items: { $ref: 'components#/schemas/Address' } });
    expect(Object.keys(app.components.schemas).sort()).toEqual(['Address', 'Address__defs_Line', 'Address__defs_Text', 'Address__defs_Zip', 'Note']);
    // A ref inside a hoisted $defs entry still resolves against the $id enclosing it.
    expect(app.components.schemas.Address__defs_Line).toEqual({ $ref: 'components#/schemas/Address__defs_Text' });
  });

  it('validates with those schemas and sends the body', async () => {
    await connect(doc);
    await expect(run('create_address', { body: { zip: 'abc' } })).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('body/zip') });
    await expect(run('create_address', { body: { zip: '12345', line: 'x' } })).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('body/line') });
    await expect(run('create_address', { body: { zip: '12345', other: 'too long' } })).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('body/other') });
    await expect(run('create_address', { body: { zip: '12345', parts: [{ zip: 'abc' }] } })).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('body/parts/0/zip') });
    await run('create_address', { body: { zip: '12345', line: 'Main St', parts: [{ zip: '54321' }] } });
    expect(upstream.requests.map((r) => r.body)).toEqual(['{"zip":"12345","line":"Main St","parts":[{"zip":"54321"}]}']);
  });
});

describe('OpenAPI 3.1 path items that are $refs', () => {
  const doc = spec31({
    components: {
      pathItems: {
        List: {
          summary: 'shared',
          parameters: [{ name: 'page', in: 'query', schema: { type: 'integer' } }, { name: 'limit', in: 'query', schema: { type: 'string' } }],
          get: { operationId: 'listThings', responses: ok },
        },
      },
    },
    paths: {
      // Fields beside the $ref are the path item's too (OAS 3.1 §4.8.9.1): this path adds `limit` and narrows it.
      '/v2/things': {
        $ref: '#/components/pathItems/List',
        summary: 'v2 things',
        parameters: [{ name: 'limit', in: 'query', required: true, schema: { type: 'integer', maximum: 10 } }],
      },
    },
  });

  it('keeps the fields written beside the $ref, the nearer parameter winning by name and location', async () => {
    const app = await importSpec({ spec: doc });
    const [action] = app.actions;
    expect(action.summary).toBe('v2 things');
    expect(action.parameters.map((p) => [p.name, p.required, p.schema])).toEqual([
      ['page', false, { type: 'integer' }],
      ['limit', true, { type: 'integer', maximum: 10 }],
    ]);
  });

  it('sends and validates the parameters declared beside the $ref', async () => {
    await connect(doc);
    await run('list_things', { query: { limit: 5, page: 2 } });
    await expect(run('list_things', {})).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('query/limit: is required') });
    await expect(run('list_things', { query: { limit: 50 } })).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('query/limit') });
    expect(upstream.requests.map((r) => r.url)).toEqual(['/v2/things?page=2&limit=5']);
  });
});

describe('schemas whose $refs loop without looking into the value', () => {
  const doc = (A: Obj) =>
    spec31({
      components: { schemas: { A, B: { $ref: '#/components/schemas/A' }, Box: { type: 'object', properties: { a: { $ref: '#/components/schemas/A' }, n: { type: 'integer' } } } } },
      paths: {
        '/a': { post: { operationId: 'postA', requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/B' } } } }, responses: ok } },
        '/box': { post: { operationId: 'postBox', requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Box' } } } }, responses: ok } },
      },
    });

  it.each([
    ['a ref cycle', { $ref: '#/components/schemas/B' }],
    ['an allOf back to itself', { type: 'object', allOf: [{ $ref: '#/components/schemas/A' }] }],
  ])('refuses %s with CONFIG_ERROR naming the refs, not a RangeError, and sends nothing', async (_name, A) => {
    await connect(doc(A));
    const err = await run('post_a', { body: { x: 1 } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CONFIG_ERROR', message: expect.stringContaining('"components#/schemas/A"') });
    expect((err as Error).message).toContain('leads back to itself');
    // Only a value that reaches the loop (under `a`) fails; the rest of Box is checked as usual.
    await run('post_box', { body: { n: 1 } });
    await expect(run('post_box', { body: { n: 'x' } })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(run('post_box', { body: { a: 1 } })).rejects.toMatchObject({ code: 'CONFIG_ERROR', message: expect.stringContaining('leads back to itself') });
    expect(upstream.requests.map((r) => r.body)).toEqual(['{"n":1}']);
  });

  it('still validates a recursive schema that steps into a property', async () => {
    await connect(doc({ type: 'object', properties: { next: { $ref: '#/components/schemas/A' }, v: { type: 'string' } } }));
    await run('post_a', { body: { next: { next: { v: 'x' } } } });
    await expect(run('post_a', { body: { next: { next: { v: 1 } } } })).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('body/next/next/v') });
  });
});

describe('typeless const and enum in parameters', () => {
  const doc = spec31({
    paths: {
      '/v/{v}': {
        get: {
          operationId: 'versioned',
          parameters: [
            { name: 'v', in: 'path', required: true, schema: { enum: [1, 2] } },
            { name: 'ver', in: 'query', schema: { enum: ['1', '2'] } },
            { name: 'flag', in: 'query', schema: { const: true } },
            { name: 'X-Api-Version', in: 'header', required: true, schema: { const: '2' } },
          ],
          responses: ok,
        },
      },
    },
  });

  it('accepts a value whose text on the wire is an allowed one (number for a text const, text for a number enum)', async () => {
    await connect(doc);
    await run('versioned', { params: { v: '2' }, query: { ver: 1, flag: 'true' }, headers: { 'X-Api-Version': 2 } });
    await expect(run('versioned', { params: { v: '3' }, headers: { 'X-Api-Version': 2 } })).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('params/v: must be one of 1, 2') });
    await expect(run('versioned', { params: { v: 1 }, query: { ver: 3 }, headers: { 'X-Api-Version': '2' } })).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('query/ver') });
    await expect(run('versioned', { params: { v: 1 }, headers: { 'X-Api-Version': 3 } })).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('headers/x-api-version') });
    expect(upstream.requests.map((r) => [r.url, r.headers['x-api-version']])).toEqual([['/v/2?ver=1&flag=true', '2']]);
  });

  it('types those parameters as the run accepts them', async () => {
    await connect(doc);
    const dir = await mkdtemp(join(tmpdir(), 'ductape-oas31-'));
    try {
      await ductape.types.generate({ out: join(dir, 'types.d.ts') });
      const text = await readFile(join(dir, 'types.d.ts'), 'utf8');
      expect(text).toContain('v: 1 | "1" | 2 | "2";');
      expect(text).toContain('flag?: true | "true";');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('OpenAPI 3.1 Reference Objects with a description', () => {
  it('lets the description beside a parameter $ref override the referenced one (3.1 only; 3.0 ignores it)', async () => {
    const parts = {
      components: { parameters: { Limit: { name: 'limit', in: 'query', description: 'Page size.', schema: { type: 'integer' } } } },
      paths: {
        '/a': { get: { operationId: 'a', parameters: [{ $ref: '#/components/parameters/Limit', description: 'How many orders per page.' }], responses: ok } },
        '/b': { get: { operationId: 'b', parameters: [{ $ref: '#/components/parameters/Limit' }], responses: ok } },
      },
    };
    const descriptions = (app: Awaited<ReturnType<typeof importSpec>>) => app.actions.map((a) => a.parameters[0].description);
    expect(descriptions(await importSpec({ spec: spec31(parts) }))).toEqual(['How many orders per page.', 'Page size.']);
    expect(descriptions(await importSpec({ spec: { ...spec31(parts), openapi: '3.0.3' } }))).toEqual(['Page size.', 'Page size.']);
  });
});

describe('Date values for date-time fields', () => {
  const doc = spec31({
    paths: {
      '/events': {
        post: {
          operationId: 'createEvent',
          parameters: [{ name: 'since', in: 'query', schema: { type: 'string', format: 'date-time' } }, { name: 'X-At', in: 'header', schema: { type: 'string', format: 'date-time' } }],
          requestBody: {
            content: {
              'application/json': { schema: { type: 'object', required: ['at'], properties: { at: { type: 'string', format: 'date-time' }, day: { type: 'string', format: 'date' } } } },
              'application/x-www-form-urlencoded': { schema: { type: 'object', properties: { at: { type: 'string', format: 'date-time' } } } },
            },
          },
          responses: ok,
        },
      },
    },
  });
  const at = new Date('2024-01-02T03:04:05Z');

  it('accepts a Date where a date-time string is declared and sends its ISO 8601 text', async () => {
    await connect(doc);
    await run('create_event', { query: { since: at }, headers: { 'X-At': at }, body: { at } });
    await run('create_event', { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: { at } });
    // Judged as sent: a Date is date-time text, not a date.
    await expect(run('create_event', { body: { at, day: at } })).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('body/day') });
    await expect(run('create_event', { body: { at: 5 } })).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('body/at') });
    const [json, form] = upstream.requests;
    expect(json.url).toBe('/events?since=2024-01-02T03%3A04%3A05.000Z');
    expect(json.headers['x-at']).toBe('2024-01-02T03:04:05.000Z');
    expect(json.body).toBe('{"at":"2024-01-02T03:04:05.000Z"}');
    expect(form.body).toBe('at=2024-01-02T03%3A04%3A05.000Z');
    expect(upstream.requests).toHaveLength(2);
  });

  it('sends a value object with toJSON (a decimal, a Luxon date) as its JSON text in a query, a header and a form', async () => {
    class Instant {
      constructor(private readonly iso: string) {}
      toJSON() {
        return this.iso;
      }
    }
    const when = new Instant('2024-05-06T07:08:09Z');
    await connect(doc);
    await run('create_event', { query: { since: when }, headers: { 'X-At': when }, body: { at: when } });
    await run('create_event', { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: { at: when } });
    const [json, form] = upstream.requests;
    expect([json.url, json.headers['x-at'], json.body, form.body]).toEqual([
      '/events?since=2024-05-06T07%3A08%3A09Z',
      '2024-05-06T07:08:09Z',
      '{"at":"2024-05-06T07:08:09Z"}',
      'at=2024-05-06T07%3A08%3A09Z',
    ]);
  });
});

describe('path keys written without a leading slash', () => {
  it('imports them under the server URL with a warning, instead of dropping their operations silently', async () => {
    const doc = spec31({
      paths: {
        'users/{id}': { get: { operationId: 'getUser', parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }], responses: ok } },
        'x-internal': { get: { responses: ok } },
      },
    });
    const result = await connect(doc);
    expect(result.created).toEqual(['get_user']);
    expect(result.warnings).toContain('1 path(s) do not begin with "/" as OpenAPI requires, and were read as if they did: "users/{id}".');
    await run('get_user', { params: { id: 'u 1' } });
    expect(upstream.requests.map((r) => r.url)).toEqual(['/users/u%201']);
  });
});

describe('example inputs for 3.1 schemas', () => {
  it('builds tuples (prefixItems) and dependentRequired properties, so the described example runs', async () => {
    const doc = spec31({
      components: {
        schemas: {
          Point: { type: 'array', prefixItems: [{ const: 'pt' }, { type: 'integer', exclusiveMinimum: 5 }], items: false, minItems: 2 },
          Legacy: { type: 'array', items: [{ type: 'string' }, { type: 'boolean' }], additionalItems: false },
          Card: { type: 'object', required: ['number'], properties: { number: { type: 'string' }, cvc: { type: 'string', minLength: 3 } }, dependentRequired: { number: ['cvc'] } },
        },
      },
      paths: {
        '/points': {
          post: {
            operationId: 'addPoint',
            requestBody: {
              required: true,
              content: { 'application/json': { schema: { type: 'object', required: ['at', 'legacy', 'card'], properties: { at: { $ref: '#/components/schemas/Point' }, legacy: { $ref: '#/components/schemas/Legacy' }, card: { $ref: '#/components/schemas/Card' } } } } },
            },
            responses: ok,
          },
        },
      },
    });
    await connect(doc);
    const described = await ductape.apps.actions.fetch({ app: 'x', event: 'add_point', resolve: true });
    expect(described.example.body).toEqual({ at: ['pt', 6], legacy: ['example', true], card: { number: 'example', cvc: 'example' } });
    await run('add_point', { ...described.example });
    expect(JSON.parse(upstream.requests[0].body)).toEqual(described.example.body);
  });
});

describe('path parameters the path template does not name', () => {
  it('leaves out one the path never names, with a warning, and takes the template spelling of one in another case', async () => {
    const doc = spec31({
      paths: {
        '/users': { parameters: [{ name: 'org', in: 'path', required: true, schema: { type: 'string' } }], get: { operationId: 'listUsers', responses: ok } },
        '/teams/{Id}': { get: { operationId: 'getTeam', parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'integer' } }], responses: ok } },
      },
    });
    const result = await connect(doc);
    expect(result.warnings).toContain('1 path parameter(s) are not in their operation\'s path template, so no request could carry them, and were left out: "list_users (org)".');
    const team = await ductape.apps.actions.fetch({ app: 'x', event: 'get_team' });
    expect(team.parameters).toEqual([expect.objectContaining({ name: 'Id', in: 'path', schema: { type: 'integer' } })]);
    await run('list_users');
    await run('get_team', { params: { Id: 7 } });
    await expect(run('get_team', { params: { Id: 'seven' } })).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('params/Id') });
    expect(upstream.requests.map((r) => r.url)).toEqual(['/users', '/teams/7']);
  });
});

describe('parameter examples', () => {
  it('starts the described example input from each parameter\'s own example (example, examples, content)', async () => {
    await connect(
      spec31({
        components: { schemas: { CusId: { type: 'string', pattern: '^cus_' } }, examples: { Limit: { value: 25 } } },
        paths: {
          '/customers/{id}': {
            get: {
              operationId: 'getCustomer',
              parameters: [
                { name: 'id', in: 'path', required: true, example: 'cus_123', schema: { $ref: '#/components/schemas/CusId' } },
                { name: 'limit', in: 'query', required: true, examples: { usual: { $ref: '#/components/examples/Limit' } }, schema: { type: 'integer' } },
                { name: 'filter', in: 'query', required: true, content: { 'application/json': { schema: { type: 'object' }, example: { status: 'active' } } } },
              ],
              responses: ok,
            },
          },
        },
      }),
    );
    const described = await ductape.apps.actions.fetch({ app: 'x', event: 'get_customer', resolve: true });
    expect(described.example).toEqual({ params: { id: 'cus_123' }, query: { limit: 25, filter: { status: 'active' } } });
    await run('get_customer', { ...described.example });
    expect(upstream.requests.map((r) => r.url)).toEqual(['/customers/cus_123?limit=25&filter=%7B%22status%22%3A%22active%22%7D']);
  });
});
