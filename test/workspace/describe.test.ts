import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuctapeError, type Ductape } from '../../src/index.js';
import { resolveSchema } from '../../src/schema/resolve.js';
import { newClient } from '../helpers/client.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

const specs = fileURLToPath(new URL('../fixtures/specs/', import.meta.url));
const vendorSpecs = [
  'stripe-api-2020-08-27-spec3-2022-04.json',
  'twilio-api-v2010.json',
  'nytimes-timeswire-v3-swagger2.yaml',
  'swagger-petstore-3.0.yaml',
  'swagger-petstore-3.1.yaml',
  'uspto-dsapi-3.0.json',
  'docusign-admin-v2.1.postman_collection.json',
  'google-maps-platform.postman_collection.json',
];

describe('describe (apps.actions.fetch with resolve: true)', () => {
  let ductape: Ductape;
  let upstream: Upstream;
  beforeAll(async () => {
    upstream = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
    ductape = newClient();
  });
  afterAll(async () => {
    await ductape.close();
    await upstream.close();
  });

  for (const [i, file] of vendorSpecs.entries()) {
    it(`describes every action of ${file}, and each example input passes the action's own validation`, { timeout: 240_000 }, async () => {
      const app = `app${i}`;
      await ductape.apps.import({ app, file: `${specs}${file}` });
      const envs = (await ductape.apps.fetch({ app })).envs.map((e) => e.slug);
      await ductape.products.create({ tag: `p${i}`, envs: [envs[0]] });
      await ductape.products.apps.connect({ product: `p${i}`, app });
      const events = (await ductape.apps.actions.list({ app })).map((a) => a.event);
      const described = [];
      for (const event of events) {
        const d = await ductape.apps.actions.fetch({ app, event, resolve: true });
        expect(d.event).toBe(event);
        // Resolved: no ref into the stored components is left; named ones point into $defs.
        const text = JSON.stringify(d);
        expect(text).not.toContain('components#/schemas/');
        for (const m of text.matchAll(/"\$ref":"#\/\$defs\/([^"/]+)/g)) expect(d.$defs).toHaveProperty([m[1].replace(/~1/g, '/').replace(/~0/g, '~')]);
        for (const p of d.parameters) expect(['simple', 'form', 'label', 'matrix', 'spaceDelimited', 'pipeDelimited', 'deepObject', 'tabDelimited']).toContain(p.style);
        described.push(d);
      }
      // Postman collections fill path segments from collection variables ($Variable{organizationId}): the connection
      // gives them values, as a user would.
      const variables: Record<string, string> = {};
      for (const m of JSON.stringify(described.map((d) => d.parameters)).matchAll(/\$Variable\{(\w+)\}/g)) variables[m[1]] = 'example';
      const configure = (auth?: object) =>
        ductape.products.apps.configure({ product: `p${i}`, app, env: envs[0], base_url: upstream.url, variables, ...(auth ? { auth: auth as never } : {}) });
      await configure({ type: 'bearer', token: 'tok_test' }).catch(() => configure());
      const refused: string[] = [];
      for (const d of described) {
        try {
          await ductape.actions.run({ env: envs[0], product: `p${i}`, app, event: d.event, input: d.example });
        } catch (err) {
          // Only validation matters here: credentials a spec needs are the connection's business.
          if (!(err instanceof DuctapeError) || err.code === 'INVALID_INPUT') refused.push(`${d.event}: ${(err as Error).message}`);
        }
      }
      expect(refused).toEqual([]);
    });
  }

  it('shows a cycle as a named reference, and each parameter with its location and style', async () => {
    await ductape.apps.import({ app: 'todo', file: `${specs}todo/todo-openapi3.yaml` });
    const list = await ductape.apps.actions.list({ app: 'todo' });
    const described = await Promise.all(list.map((a) => ductape.apps.actions.fetch({ app: 'todo', event: a.event, resolve: true })));
    const cyclic = described.find((d) => JSON.stringify(d).includes('"$ref":"#/$defs/'));
    expect(cyclic, 'the todo spec has a cyclic schema').toBeDefined();
    const withQuery = described.find((d) => d.parameters.some((p) => p.in === 'query'))!;
    const q = withQuery.parameters.find((p) => p.in === 'query')!;
    expect(q).toMatchObject({ input: 'query', style: 'form' });
    expect(typeof q.explode).toBe('boolean');
  });

  it('resolves a self-referencing component once, by name', () => {
    const components = { Node: { type: 'object', properties: { value: { type: 'string' }, next: { $ref: 'components#/schemas/Node' } } } };
    const r = resolveSchema({ type: 'array', items: { $ref: 'components#/schemas/Node' } }, components);
    expect(r.schema).toEqual({ type: 'array', items: { type: 'object', properties: { value: { type: 'string' }, next: { $ref: '#/$defs/Node' } } } });
    expect(r.defs).toEqual({ Node: { type: 'object', properties: { value: { type: 'string' }, next: { $ref: '#/$defs/Node' } } } });
  });

  it('resolves the refs of properties named like data keywords (default, const, enum, example, examples)', () => {
    // The walk took such a property's schema for the keyword's data and left its ref as `components#/...`, a
    // reference to nothing in the MCP tool's input schema.
    const components = { Setting: { type: 'object', properties: { on: { type: 'boolean' } } } };
    const ref = { $ref: 'components#/schemas/Setting' };
    const props = { default: ref, const: ref, enum: ref, example: ref, examples: ref };
    const r = resolveSchema({ type: 'object', properties: props, patternProperties: { '^x': ref }, default: { a: ref } }, components);
    const { default: data, ...schemas } = r.schema as Record<string, unknown>;
    expect(JSON.stringify(schemas)).not.toContain('components#');
    expect((r.schema as { properties: Record<string, unknown> }).properties.default).toEqual(components.Setting);
    expect(data).toEqual({ a: ref });
  });

  it('takes an XML or binary body as its serialized text, in the input schema and the example', async () => {
    // The example was an object made from the XML document's schema ({ body: {} }), which every run refused
    // ("Ductape does not turn objects into XML"), and the MCP input schema asked an agent for that object.
    const xml = { type: 'object', required: ['Name'], properties: { Name: { type: 'string' } } };
    const op = (operationId: string, media: string, schema: unknown) => ({
      post: { operationId, requestBody: { required: true, content: { [media]: { schema } } }, responses: { '200': { description: 'ok' } } },
    });
    const spec = { openapi: '3.0.3', info: { title: 'x', version: '1' }, paths: { '/xml': op('put_xml', 'text/xml', xml), '/bin': op('put_bin', 'application/octet-stream', { type: 'string', format: 'binary' }) } };
    await ductape.apps.import({ app: 'docs', spec });
    await ductape.apps.envs.upsert({ app: 'docs', slug: 'dev', base_url: upstream.url });
    await ductape.products.create({ tag: 'docs', envs: ['dev'] });
    await ductape.products.apps.connect({ product: 'docs', app: 'docs' });
    for (const event of ['put_xml', 'put_bin']) {
      const d = await ductape.apps.actions.fetch({ app: 'docs', event, resolve: true });
      expect((d.input_schema as { properties: { body: { type: string } } }).properties.body.type).toBe('string');
      expect(typeof d.example.body).toBe('string');
      await expect(ductape.actions.run({ env: 'dev', product: 'docs', app: 'docs', event, input: d.example })).resolves.toBeDefined();
    }
  });

  it('names components past the size budget instead of growing the output', () => {
    const components: Record<string, unknown> = {};
    // Each level refers to the next one twice: fully inlined, 2^20 nodes.
    for (let n = 0; n < 20; n++) components[`L${n}`] = { type: 'object', properties: { a: { $ref: `components#/schemas/L${n + 1}` }, b: { $ref: `components#/schemas/L${n + 1}` } } };
    components.L20 = { type: 'string' };
    const r = resolveSchema({ $ref: 'components#/schemas/L0' }, components as never, { budget: 200 });
    expect(JSON.stringify(r).length).toBeLessThan(50_000);
    expect(Object.keys(r.defs).length).toBeGreaterThan(0);
  });

  it('describes the security requirement with its schemes, and the responses', async () => {
    await ductape.apps.import({ app: 'pets', file: `${specs}swagger-petstore-3.0.yaml` });
    const d = await ductape.apps.actions.fetch({ app: 'pets', event: 'add_pet', resolve: true });
    expect(d.security.length).toBeGreaterThan(0);
    for (const req of d.security) for (const name of Object.keys(req)) expect(d.security_schemes[name]).toBeDefined();
    expect(Object.keys(d.responses)).toContain('200');
    expect(JSON.stringify(d.body)).toContain('"name"');
    expect(d.example.body).toMatchObject({ name: expect.any(String), photoUrls: expect.any(Array) });
  });
});
