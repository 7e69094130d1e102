// Spec constructs that real APIs use and that once failed (issue: wire fidelity): each fixture in
// test/fixtures/specs/edge/ imported and run against a recording server on loopback.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Ductape } from '../../src/index.js';
import { newClient } from '../helpers/client.js';
import { errorOf } from '../helpers/errors.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

const edge = (name: string) => fileURLToPath(new URL(`../fixtures/specs/edge/${name}`, import.meta.url));
const APPS = {
  media: 'media-type-params-3.0.yaml',
  postman: 'content-type-no-body.postman_collection.json',
  ro: 'read-only-required-3.0.yaml',
  ids: 'schema-ids-3.1.yaml',
  framing: 'framing-headers-3.0.yaml',
  literals: 'path-literals-3.0.yaml',
  ranges: 'media-ranges-3.0.yaml',
  formats: 'collection-formats-swagger2.yaml',
};
let upstream: Upstream;
let ductape: Ductape;

beforeAll(async () => {
  upstream = await startUpstream();
  ductape = newClient();
  await ductape.products.create({ tag: 'p', envs: ['dev'] });
  for (const [app, file] of Object.entries(APPS)) {
    await ductape.apps.create({ tag: app });
    await ductape.apps.import({ app, file: edge(file) });
    await ductape.products.apps.connect({ product: 'p', app });
    await ductape.products.apps.configure({ product: 'p', app, env: 'dev', base_url: upstream.url });
  }
});
afterAll(async () => {
  await ductape.close();
  await upstream.close();
});

async function sent(app: keyof typeof APPS, event: string, input: object = {}) {
  const n = upstream.requests.length;
  await ductape.actions.run({ env: 'dev', product: 'p', app, event, input });
  expect(upstream.requests).toHaveLength(n + 1);
  return upstream.requests[n];
}

describe('declared Accept and Content-Type header parameters', () => {
  it('sends the single declared value when the caller gives none, GETs included', async () => {
    const r = await sent('media', 'list_reports');
    expect(r.headers.accept).toBe('application/vnd.acme+json;version=2');
    expect(r.headers['content-type']).toBe('application/json');
  });

  it("sends a default among several allowed values; the body's media type wins for Content-Type", async () => {
    const r = await sent('media', 'create_report', { body: { title: 'q3' } });
    expect(r.headers.accept).toBe('application/vnd.acme.v2+json');
    expect(r.headers['content-type']).toBe('application/json');
    expect(JSON.parse(r.body)).toEqual({ title: 'q3' });
  });

  it("sends the caller's value instead, checked against the declared values", async () => {
    expect((await sent('media', 'create_report', { headers: { Accept: 'application/vnd.acme.v1+json' }, body: { title: 'x' } })).headers.accept).toBe('application/vnd.acme.v1+json');
    const err = await errorOf(ductape.actions.run({ env: 'dev', product: 'p', app: 'media', event: 'create_report', input: { headers: { accept: 'text/csv' }, body: { title: 'x' } } }));
    expect(err.code).toBe('INVALID_INPUT');
  });

  it('sends the example of a required Content-Type that states its value only that way', async () => {
    expect((await sent('media', 'read_settings')).headers['content-type']).toBe('application/json');
  });

  it('still ignores an Accept declared without a single value (content negotiation owns it)', async () => {
    const r = await sent('media', 'free_accept');
    expect(r.headers.accept).toBeUndefined();
  });

  it('keeps a Postman request’s own enabled Content-Type when the body is empty, and not a disabled one', async () => {
    const list = await sent('postman', 'list_versioned_reports');
    expect(list.headers['content-type']).toBe('application/vnd.acme+json;version=2');
    expect(list.headers.accept).toBe('application/vnd.acme+json;version=2');
    const del = await sent('postman', 'delete_with_a_disabled_content_type');
    expect(del.headers['content-type']).toBeUndefined();
  });
});

describe('readOnly properties listed in required', () => {
  it('are not required in a request, through $ref, allOf, nested objects and array items', async () => {
    const r = await sent('ro', 'create_link', { body: { name: 'n', target: { type: 't' }, related: [{ type: 't' }] } });
    expect(JSON.parse(r.body)).toEqual({ name: 'n', target: { type: 't' }, related: [{ type: 't' }] });
  });

  it('leave the other required fields required', async () => {
    const err = await errorOf(ductape.actions.run({ env: 'dev', product: 'p', app: 'ro', event: 'create_link', input: { body: { target: {}, related: [{}] } } }));
    expect(err.code).toBe('INVALID_INPUT');
    expect((err.details.issues as { path: string }[]).map((i) => i.path).sort()).toEqual(['/name', '/related/0/type', '/target/type']);
  });
});

describe('schemas with $id and examples holding ids', () => {
  it('run both actions, in either order, validating as declared', async () => {
    expect((await sent('ids', 'create_other', { body: { thing: { name: 'w' }, count: 1 } })).method).toBe('POST');
    expect((await sent('ids', 'create_thing', { body: { name: 'w' } })).url).toBe('/things');
    const err = await errorOf(ductape.actions.run({ env: 'dev', product: 'p', app: 'ids', event: 'create_other', input: { body: { thing: {}, count: 'x' } } }));
    expect(err.code).toBe('INVALID_INPUT');
    expect((err.details.issues as { path: string; message: string }[]).map((i) => `${i.path} ${i.message}`).sort()).toEqual(['/count must be integer', '/thing/name is required']);
  });
});

describe('framing headers declared as parameters, and apiKey schemes named by a display name', () => {
  it('leaves Content-Length and Transfer-Encoding to the HTTP client, and sends the bytes with the other headers', async () => {
    const r = await sent('framing', 'upload', { headers: { 'X-Upload-Id': 'u1' }, body: Buffer.from('hello') });
    expect(r.headers['content-length']).toBe('5');
    expect(r.headers['transfer-encoding']).toBeUndefined();
    expect(r.headers['x-upload-id']).toBe('u1');
    expect(r.body).toBe('hello');
  });

  it('imports the app without the unusable scheme, saying why', async () => {
    const { importSpec } = await import('../../src/importers/index.js');
    const app = await importSpec({ file: edge(APPS.framing) });
    expect(Object.keys(app.auth_schemes)).toEqual(['key']);
    expect(app.warnings.some((w) => w.includes('"display"') && w.includes('not a valid header name'))).toBe(true);
    expect(app.actions[0].parameters.map((p) => p.name)).toEqual(['X-Upload-Id']);
  });
});

describe('path keys holding characters a URL path cannot carry raw', () => {
  it('percent-encodes those characters, and keeps the rest as written', async () => {
    // Before: a raw space failed every run with NETWORK_ERROR (UND_ERR_INVALID_ARG); raw UTF-8 got 400 from Node.
    expect((await sent('literals', 'spaced')).url).toBe('/Your%20Path');
    expect((await sent('literals', 'accented', { params: { name: 'ü' } })).url).toBe('/caf%C3%A9/%C3%BC');
    expect((await sent('literals', 'odata', { params: { key: "it's" } })).url).toBe("/docs('it%27s')/100%25");
  });
});

describe('request bodies declared with a media range', () => {
  it("sends the caller's Content-Type when it names a type inside the range, parameters included", async () => {
    // Before: refused with INVALID_INPUT "headers/content-type: must be one of */*".
    const avro = await sent('ranges', 'create_artifact', { body: { type: 'record' }, headers: { 'Content-Type': 'application/json; artifactType=AVRO' } });
    expect(avro.headers['content-type']).toBe('application/json; artifactType=AVRO');
    expect(JSON.parse(avro.body)).toEqual({ type: 'record' });
    const proto = await sent('ranges', 'create_artifact', { body: 'syntax = "proto3";', headers: { 'content-type': 'application/x-protobuf' } });
    expect(proto.headers['content-type']).toBe('application/x-protobuf');
    expect(proto.body).toBe('syntax = "proto3";');
    const png = await sent('ranges', 'put_avatar', { body: Buffer.from('PNG'), headers: { 'content-type': 'image/png' } });
    expect([png.headers['content-type'], png.body]).toEqual(['image/png', 'PNG']);
    const merge = await sent('ranges', 'patch_thing', { body: { a: null }, headers: { 'content-type': 'application/merge-patch+json' } });
    expect([merge.headers['content-type'], merge.body]).toEqual(['application/merge-patch+json', '{"a":null}']);
  });

  it("keeps the parameters of the caller's Content-Type when it names a declared type exactly", async () => {
    // Before: 'application/json; artifactType=AVRO' went out as the declared 'application/json'.
    const avro = await sent('ranges', 'patch_thing', { body: { a: 1 }, headers: { 'Content-Type': 'application/json; artifactType=AVRO' } });
    expect([avro.headers['content-type'], avro.body]).toEqual(['application/json; artifactType=AVRO', '{"a":1}']);
    const utf8 = await sent('ranges', 'post_note', { body: 'héllo', headers: { 'content-type': 'Text/Plain; charset="UTF-8"' } });
    expect([utf8.headers['content-type'], utf8.body]).toEqual(['Text/Plain; charset="UTF-8"', 'héllo']);
    // Text is written as UTF-8: a caller's other charset would mislabel it, so the declared type goes out.
    const latin1 = await sent('ranges', 'post_note', { body: 'héllo', headers: { 'content-type': 'text/plain; charset=iso-8859-1' } });
    expect(latin1.headers['content-type']).toBe('text/plain');
    // Bytes are the caller's own: their label stands.
    const bytes = await sent('ranges', 'post_note', { body: Buffer.from('h\xe9llo', 'latin1'), headers: { 'content-type': 'text/plain; charset=iso-8859-1' } });
    expect(bytes.headers['content-type']).toBe('text/plain; charset=iso-8859-1');
  });

  it('keeps choosing by the value without a Content-Type, and refuses a type outside every range', async () => {
    expect((await sent('ranges', 'create_artifact', { body: 'text' })).headers['content-type']).toBe('text/plain; charset=utf-8');
    expect((await sent('ranges', 'patch_thing', { body: {} })).headers['content-type']).toBe('application/json');
    const n = upstream.requests.length;
    const err = await errorOf(ductape.actions.run({ env: 'dev', product: 'p', app: 'ranges', event: 'put_avatar', input: { body: 'x', headers: { 'content-type': 'text/plain' } } }));
    expect(err.code).toBe('INVALID_INPUT');
    expect(upstream.requests).toHaveLength(n);
  });
});

describe('Swagger 2.0 collectionFormat on path and header parameters', () => {
  it('joins the items with the declared delimiter (multi, query-only, as csv)', async () => {
    const r = await sent('formats', 'get_tiles', { params: { ids: ['a', 'b/c'] }, headers: { 'X-Fields': ['id', 'name'], 'X-Tabs': ['1', '2'], 'X-Many': ['p', 'q'] } });
    expect(r.url).toBe('/tiles/a%20b%2Fc');
    expect([r.headers['x-fields'], r.headers['x-tabs'], r.headers['x-many']]).toEqual(['id|name', '1\t2', 'p,q']);
  });
});
