// A body with several declared media types: JSON by default, another when the caller names it in content-type.
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Ductape } from '../../src/index.js';
import { newClient } from '../helpers/client.js';
import { errorOf } from '../helpers/errors.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

const PETSTORE = fileURLToPath(new URL('../fixtures/specs/swagger-petstore-3.0.yaml', import.meta.url));
let upstream: Upstream;
let ductape: Ductape;
const pet = { id: 10, name: 'doggie', photoUrls: ['https://img.test/a.png'], status: 'available', tags: [{ id: 1, name: 'good' }] };

beforeEach(async () => {
  upstream = await startUpstream();
  ductape = newClient();
  await ductape.apps.import({ app: 'petstore', file: PETSTORE });
  await ductape.products.create({ tag: 'shop', envs: ['dev'] });
  await ductape.products.apps.connect({ product: 'shop', app: 'petstore' });
  await ductape.products.apps.configure({ product: 'shop', app: 'petstore', env: 'dev', base_url: `${upstream.url}/api/v3` });
});
afterEach(async () => {
  await ductape.close();
  await upstream.close();
});

const update = (input: object) => ductape.actions.run({ env: 'dev', product: 'shop', app: 'petstore', event: 'update_pet', input });

describe('request media types', () => {
  it('sends JSON by default', async () => {
    await update({ body: pet });
    expect(upstream.requests[0]).toMatchObject({ method: 'PUT', url: '/api/v3/pet' });
    expect(upstream.requests[0].headers['content-type']).toBe('application/json');
    expect(JSON.parse(upstream.requests[0].body)).toEqual(pet);
  });

  it('sends a form body when the caller asks for it, nested fields in brackets', async () => {
    await update({ body: pet, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    const req = upstream.requests[0];
    expect(req.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(req.body).toBe('id=10&name=doggie&photoUrls=https%3A%2F%2Fimg.test%2Fa.png&status=available&tags[0][id]=1&tags[0][name]=good');
  });

  it('sends an XML string as given', async () => {
    const xml = '<pet><id>10</id><name>doggie</name><photoUrls><photoUrl>x</photoUrl></photoUrls></pet>';
    await update({ body: xml, headers: { 'content-type': 'application/xml' } });
    expect(upstream.requests[0].headers['content-type']).toBe('application/xml');
    expect(upstream.requests[0].body).toBe(xml);
  });

  it('refuses an undeclared media type, listing the declared ones, and sends nothing', async () => {
    const err = await errorOf(update({ body: pet, headers: { 'content-type': 'text/csv' } }));
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.message).toContain('application/json');
    expect(err.message).toContain('application/x-www-form-urlencoded');
    expect(upstream.requests).toHaveLength(0);
  });

  it('sends a body the caller serialized as given: JSON bytes, form text and URLSearchParams', async () => {
    // Before: refused with "body: must be object" (the schema was checked against the bytes or the text), though the
    // encoder documents these as the way to send a pre-made body.
    const json = JSON.stringify(pet);
    await update({ body: Buffer.from(json) });
    await update({ body: 'id=10&name=doggie', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    await update({ body: new URLSearchParams({ id: '11', name: 'rex' }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(upstream.requests.map((r) => [r.headers['content-type'], r.body])).toEqual([
      ['application/json', json],
      ['application/x-www-form-urlencoded', 'id=10&name=doggie'],
      ['application/x-www-form-urlencoded', 'id=11&name=rex'],
    ]);
    // A JSON string is a value, not a serialized body: it is still checked (and refused: a pet is an object).
    expect((await errorOf(update({ body: json }))).code).toBe('INVALID_INPUT');
  });

  it('sends a pre-made JSON body given as a web ReadableStream', async () => {
    // Before: validation's check for a pre-made body turned the stream into a Node stream, which locked it, and the
    // encoder then failed with a raw TypeError "ReadableStream is locked".
    const json = JSON.stringify(pet);
    await update({ body: new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode(json)), c.close()) }) });
    expect(upstream.requests.map((r) => [r.headers['content-type'], r.body])).toEqual([['application/json', json]]);
  });

  it('validates the body against the schema of the chosen media type', async () => {
    const err = await errorOf(update({ body: { name: 'doggie' }, headers: { 'content-type': 'application/x-www-form-urlencoded' } }));
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.details.issues).toEqual([expect.objectContaining({ location: 'body', path: '/photoUrls', message: 'is required' })]);
    expect(upstream.requests).toHaveLength(0);
  });
});
