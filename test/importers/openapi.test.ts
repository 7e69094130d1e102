import { Ajv } from 'ajv';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { importSpec } from '../../src/importers/index.js';
import { splitPathKey } from '../../src/importers/openapi/index.js';
import { collectionStyle } from '../../src/importers/openapi/params.js';
import type { ActionDef } from '../../src/model/action.js';

const specs = fileURLToPath(new URL('../fixtures/specs/', import.meta.url));

function oas30(paths: object, schemas: object = {}, extra: object = {}) {
  return { openapi: '3.0.3', info: { title: 'T', version: '1' }, servers: [{ url: 'https://t.test' }], paths, components: { schemas }, ...extra };
}

describe('importSpec (OpenAPI and Swagger)', () => {
  it('gives equivalent apps for the same API described in Swagger 2.0 and OpenAPI 3.0', async () => {
    const swagger = await importSpec({ file: `${specs}todo/todo-swagger2.yaml` });
    const openapi = await importSpec({ file: `${specs}todo/todo-openapi3.yaml` });
    expect(swagger.format).toBe('openapi-2.0');
    expect(openapi.format).toBe('openapi-3.0');
    const { format: _a, ...s } = swagger;
    const { format: _b, ...o } = openapi;
    expect(s).toEqual(o);
    expect(swagger.actions.map((a) => a.event)).toEqual(['list_todos', 'create_todo', 'get_todo', 'delete_todo', 'upload_attachment']);
  });

  it('maps Swagger details onto the OpenAPI 3 model', async () => {
    const app = await importSpec({ file: `${specs}todo/todo-swagger2.yaml` });
    const byEvent = (e: string) => app.actions.find((a) => a.event === e) as ActionDef;
    expect(app.envs).toEqual([{ slug: 'api', base_url: 'https://api.todo.test/v1' }]); // https preferred
    expect(app.auth_schemes).toEqual({ basic: { type: 'http', scheme: 'basic' }, apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' } });
    expect(app.idempotency_header).toBe('Idempotency-Key');
    expect(byEvent('list_todos').parameters[0]).toEqual({
      name: 'tags', in: 'query', required: false, schema: { type: 'array', items: { type: 'string' } },
      style: 'form', explode: false, allowReserved: false,
    });
    // Path-level and operation-level parameters merge; the operation's wins.
    expect(byEvent('get_todo').parameters).toEqual([
      { name: 'id', in: 'path', required: true, schema: { type: 'integer' }, style: 'simple', explode: false, description: 'The todo to fetch' },
    ]);
    expect(byEvent('delete_todo')).toMatchObject({ security: [], deprecated: true, responses: { '204': {} } });
    const upload = byEvent('upload_attachment').body!;
    expect(upload.default).toBe('multipart/form-data');
    expect(upload.required).toBe(true);
    expect(upload.media['multipart/form-data'].schema).toEqual({
      type: 'object', required: ['file'],
      properties: { file: { type: 'string', format: 'binary', description: 'The file' }, labels: { type: 'array', items: { type: 'string' } } },
    });
    expect(upload.media['multipart/form-data'].encoding).toEqual({ labels: { style: 'pipeDelimited', explode: false } });
    expect(byEvent('create_todo').body).toEqual({ required: true, media: { 'application/json': { schema: { $ref: 'components#/schemas/Todo' } } }, default: 'application/json' });
  });

  it('normalizes nullable, readOnly and cyclic component schemas so Ajv validates them', async () => {
    const app = await importSpec({ file: `${specs}todo/todo-openapi3.yaml` });
    expect(app.components.schemas.Todo).toMatchObject({
      required: ['title'], // id is readOnly: a request cannot be required to send it
      properties: {
        parent: { anyOf: [{ $ref: 'components#/schemas/Todo' }, { type: 'null' }] },
        priority: { type: ['string', 'null'], enum: ['low', 'high', null] },
      },
    });
    const ajv = new Ajv({ strict: false });
    ajv.addSchema({ $id: 'components', schemas: app.components.schemas });
    const validate = ajv.compile({ $ref: 'components#/schemas/Todo' });
    expect(validate({ title: 'a', parent: { title: 'b', parent: null, priority: null } })).toBe(true);
    expect(validate({ title: 'a', parent: { title: 7 } })).toBe(false);
  });

  it('translates Swagger collectionFormat to style and explode', () => {
    expect(collectionStyle(undefined, 'query')).toEqual({ style: 'form', explode: false });
    expect(collectionStyle('csv', 'path')).toEqual({ style: 'simple', explode: false });
    expect(collectionStyle('csv', 'header')).toEqual({ style: 'simple', explode: false });
    expect(collectionStyle('ssv', 'query')).toEqual({ style: 'spaceDelimited', explode: false });
    expect(collectionStyle('tsv', 'query')).toEqual({ style: 'tabDelimited', explode: false });
    expect(collectionStyle('pipes', 'query')).toEqual({ style: 'pipeDelimited', explode: false });
    expect(collectionStyle('multi', 'query')).toEqual({ style: 'form', explode: true });
    // multi "is valid only for parameters in query or formData" (Swagger 2.0): read as csv elsewhere.
    expect(collectionStyle('multi', 'header')).toEqual({ style: 'simple', explode: false });
    expect(collectionStyle('pipes', 'header')).toEqual({ style: 'pipeDelimited', explode: false });
  });

  it('moves literal query parts of path keys to fixedQuery and drops fragments', async () => {
    expect(splitPathKey('/search?type=full&x=1#v2')).toEqual({ path: '/search', fixedQuery: { type: 'full', x: '1' } });
    const app = await importSpec({
      spec: oas30({
        '/search?type=full': { get: { responses: {} } },
        '/search#legacy': { get: { responses: {} } },
      }),
    });
    expect(app.actions.map((a) => [a.event, a.path, a.fixedQuery, a.source])).toEqual([
      ['get_search', '/search', { type: 'full' }, 'openapi:GET /search?type=full'],
      ['get_search_2', '/search', undefined, 'openapi:GET /search#legacy'],
    ]);
    expect(app.warnings).toContain('Event "get_search" is already taken; GET /search#legacy is named "get_search_2".');
  });

  it('converts 3.0 keywords that draft-07 validators read differently', async () => {
    const app = await importSpec({
      spec: oas30({}, {
        Range: { type: 'integer', minimum: 1, exclusiveMinimum: true, maximum: 9, exclusiveMaximum: false },
        Pet: { oneOf: [{ $ref: '#/components/schemas/Cat' }, { $ref: '#/components/schemas/Dog' }], discriminator: { propertyName: 'kind' } },
        Cat: { type: 'object', properties: { kind: { type: 'string' } } },
        Dog: { type: 'object', properties: { kind: { type: 'string' } } },
        Broken: { type: 'date', required: true, maxLength: 'ten', pattern: '(?<=\\d)\\p', 'x-internal': 1 },
        Any: { nullable: true, allOf: [{ $ref: '#/components/schemas/Cat' }] },
      }),
    });
    const s = app.components.schemas as Record<string, unknown>;
    expect(s.Range).toEqual({ type: 'integer', exclusiveMinimum: 1, maximum: 9 });
    // Cat and Dog both match {kind: 'cat'}: with the discriminator gone, oneOf would reject it.
    expect(s.Pet).toEqual({ anyOf: [{ $ref: 'components#/schemas/Cat' }, { $ref: 'components#/schemas/Dog' }] });
    expect(s.Broken).toEqual({});
    expect(s.Any).toEqual({ anyOf: [{ allOf: [{ $ref: 'components#/schemas/Cat' }] }, { type: 'null' }] });
    expect(app.warnings.find((w) => w.startsWith('Dropped 4 schema keywords'))).toContain('#/components/schemas/Broken');
    const ajv = new Ajv({ strict: false });
    ajv.addSchema({ $id: 'components', schemas: app.components.schemas });
    expect(ajv.compile({ $ref: 'components#/schemas/Pet' })({ kind: 'cat' })).toBe(true);
  });

  it('hoists schemas referenced at other places into components', async () => {
    const app = await importSpec({
      spec: oas30({
        '/a': {
          get: {
            parameters: [{ name: 'q', in: 'query', schema: { $ref: '#/components/parameters/Q/schema' } }],
            responses: { '200': { description: 'ok', content: { 'application/json': { schema: { $ref: '#/components/schemas/Box/properties/inner' } } } } },
          },
        },
      }, { Box: { type: 'object', properties: { inner: { type: 'string', nullable: true } } } }, {}),
    }).catch((e) => e);
    // The parameter ref points to nothing: that is a config error with the ref named.
    expect(app).toMatchObject({ code: 'CONFIG_ERROR', message: expect.stringContaining('#/components/parameters/Q/schema') });

    const ok = await importSpec({
      spec: oas30({
        '/a': { get: { responses: { '200': { description: 'ok', content: { 'application/json': { schema: { $ref: '#/components/schemas/Box/properties/inner' } } } } } } },
      }, { Box: { type: 'object', properties: { inner: { type: 'string', nullable: true } } } }),
    });
    expect(ok.actions[0].responses?.['200']['application/json']).toEqual({ $ref: 'components#/schemas/Box_properties_inner' });
    expect(ok.components.schemas.Box_properties_inner).toEqual({ type: ['string', 'null'] });
  });

  it('takes servers from paths and operations, with variables set to defaults', async () => {
    const app = await importSpec({
      spec: oas30({
        '/up': {
          servers: [{ url: 'https://{region}.uploads.test/', variables: { region: { default: 'eu', enum: ['eu', 'us'] } } }],
          post: { responses: {} },
          get: { servers: [{ url: 'https://t.test' }], responses: {} },
        },
      }),
    });
    expect(app.actions.find((a) => a.method === 'POST')?.server).toBe('https://eu.uploads.test');
    // An operation server that is one of the app's envs pins nothing, so the env choice still applies.
    expect(app.actions.find((a) => a.method === 'GET')?.server).toBeUndefined();
  });

  it('prefers JSON, then form, then multipart as the default body media type', async () => {
    const body = (types: string[]) => ({ content: Object.fromEntries(types.map((t) => [t, { schema: { type: 'object' } }])) });
    const app = await importSpec({
      spec: oas30({
        '/a': { post: { requestBody: body(['text/plain', 'multipart/form-data', 'application/x-www-form-urlencoded']), responses: {} } },
        '/b': { post: { requestBody: body(['application/xml', 'application/vnd.api+json']), responses: {} } },
        '/c': { post: { requestBody: body(['text/csv', 'multipart/form-data']), responses: {} } },
        '/d': { post: { requestBody: body(['application/octet-stream']), responses: {} } },
      }),
    });
    expect(app.actions.map((a) => a.body?.default)).toEqual(['application/x-www-form-urlencoded', 'application/vnd.api+json', 'multipart/form-data', 'application/octet-stream']);
  });

  it('follows $refs to files next to the spec, cycles included', async () => {
    const app = await importSpec({ file: `${specs}multi-file/api.yaml` });
    expect(app.envs.map((e) => e.slug)).toEqual(['production', 'sandbox']);
    expect(app.actions[0].body?.media['application/json'].schema).toEqual({ $ref: 'components#/schemas/Note' });
    const ajv = new Ajv({ strict: false });
    ajv.addSchema({ $id: 'components', schemas: app.components.schemas });
    const validate = ajv.compile({ $ref: 'components#/schemas/Note' });
    expect(validate({ text: 'a', author: { name: 'Ann' }, replies: [{ text: 'b', replies: [] }] })).toBe(true);
    expect(validate({ text: 'a', replies: [{ author: { name: 1 } }] })).toBe(false);
  });

  it('reports progress up to the number of operations', async () => {
    const calls: [number, number][] = [];
    await importSpec({ file: `${specs}todo/todo-openapi3.yaml` }, { onProgress: (done, total) => calls.push([done, total]) });
    expect(calls.at(-1)).toEqual([5, 5]);
  });
});
