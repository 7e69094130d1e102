import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { importSpec, type ImportedApp } from '../../src/importers/index.js';
import type { JsonSchema } from '../../src/model/action.js';

const specs = fileURLToPath(new URL('../fixtures/specs/', import.meta.url));
// ajv-formats is CommonJS; under NodeNext its default export arrives wrapped.
const formatsModule = addFormatsModule as unknown as { default?: unknown };
const addFormats = (formatsModule.default ?? formatsModule) as (ajv: Ajv) => Ajv;

/** Operations counted straight from the document, independently of the importer. */
function countOperations(file: string): number {
  const text = readFileSync(`${specs}${file}`, 'utf8');
  const doc = file.endsWith('.json') ? JSON.parse(text) : parse(text);
  if (Array.isArray(doc.item)) {
    const walk = (items: { item?: unknown[]; request?: unknown }[]): number =>
      items.reduce((n, it) => n + (Array.isArray(it.item) ? walk(it.item as never) : it.request ? 1 : 0), 0);
    return walk(doc.item);
  }
  const methods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
  return Object.values(doc.paths as Record<string, object>).reduce((n, item) => n + Object.keys(item).filter((k) => methods.includes(k)).length, 0);
}

function ajvWith(app: ImportedApp): Ajv {
  const ajv = new Ajv({ strict: false, allErrors: true, logger: false });
  addFormats(ajv);
  ajv.addSchema({ $id: 'components', schemas: app.components.schemas });
  return ajv;
}

const cases: { file: string; format: ImportedApp['format']; skipped: number }[] = [
  { file: 'stripe-api-2020-08-27-spec3-2022-04.json', format: 'openapi-3.0', skipped: 0 },
  { file: 'twilio-api-v2010.json', format: 'openapi-3.0', skipped: 0 },
  { file: 'nytimes-timeswire-v3-swagger2.yaml', format: 'openapi-2.0', skipped: 0 },
  { file: 'swagger-petstore-3.0.yaml', format: 'openapi-3.0', skipped: 0 },
  // The webhook is skipped: it is not under `paths`, so it is not counted as an operation either.
  { file: 'swagger-petstore-3.1.yaml', format: 'openapi-3.1', skipped: 1 },
  { file: 'uspto-dsapi-3.0.json', format: 'openapi-3.0', skipped: 0 },
  // Three helper requests point at about:blank and only work through their pre-request scripts.
  { file: 'docusign-admin-v2.1.postman_collection.json', format: 'postman-2.1', skipped: 3 },
  { file: 'google-maps-platform.postman_collection.json', format: 'postman-2.1', skipped: 0 },
];

describe('importSpec on real vendor specs', () => {
  for (const { file, format, skipped } of cases) {
    it(`imports ${file} with one action per operation`, async () => {
      const app = await importSpec({ file: `${specs}${file}` });
      expect(app.format).toBe(format);
      const operations = countOperations(file);
      const ops = app.skipped.filter((s) => !s.operation.startsWith('webhook '));
      expect(app.actions.length + ops.length).toBe(operations);
      expect(app.skipped).toHaveLength(skipped);
      expect(new Set(app.actions.map((a) => a.event)).size).toBe(app.actions.length);
      expect(new Set(app.actions.map((a) => a.source)).size).toBe(app.actions.length);
      expect(app.envs.length).toBeGreaterThan(0);
      for (const w of app.warnings) expect(w.length).toBeGreaterThan(20);
    });

    it(`compiles every schema of ${file} with Ajv`, async () => {
      const app = await importSpec({ file: `${specs}${file}` });
      const ajv = ajvWith(app);
      const schemas: JsonSchema[] = app.actions.flatMap((a) => [
        ...a.parameters.map((p) => p.schema),
        ...Object.values(a.body?.media ?? {}).map((m) => m.schema),
      ]).filter((s): s is JsonSchema => s !== undefined);
      for (const s of schemas) expect(() => ajv.compile(s as object)).not.toThrow();
    });
  }

  it('validates real inputs against cyclic Stripe schemas', async () => {
    const app = await importSpec({ file: `${specs}stripe-api-2020-08-27-spec3-2022-04.json` });
    const ajv = ajvWith(app);
    const create = app.actions.find((a) => a.event === 'post_customers')!;
    expect(create.body?.default).toBe('application/x-www-form-urlencoded');
    expect(create.body?.media['application/x-www-form-urlencoded'].encoding?.metadata).toEqual({ style: 'deepObject', explode: true });
    const body = ajv.compile(create.body!.media['application/x-www-form-urlencoded'].schema as object);
    expect(body({ email: 'john@example.com', name: 'John Doe', metadata: { plan: 'pro' }, address: '' })).toBe(true);
    expect(body({ email: 42 })).toBe(false);

    // customer → sources → bank_account → customer … is a cycle through components.
    const fetch = app.actions.find((a) => a.event === 'get_customers_customer')!;
    const response = ajv.compile(fetch.responses!['200']['application/json'] as object);
    const customer = {
      id: 'cus_123', object: 'customer', created: 1650000000, livemode: false, email: 'john@example.com',
      metadata: {}, default_source: null, discount: null, address: null, shipping: null,
      sources: { object: 'list', data: [{ id: 'ba_1', object: 'bank_account', account_holder_name: null, country: 'US', currency: 'usd', last4: '6789', status: 'new', routing_number: '110000000', customer: 'cus_123', bank_name: null, fingerprint: null, metadata: null, account_holder_type: null }], has_more: false, url: '/v1/customers/cus_123/sources' },
    };
    expect(response(customer)).toBe(true);
    expect(response({ ...customer, created: 'yesterday' })).toBe(false);
  });

  it('pins the upload operation to its own server', async () => {
    const app = await importSpec({ file: `${specs}stripe-api-2020-08-27-spec3-2022-04.json` });
    expect(app.envs).toEqual([{ slug: 'api', base_url: 'https://api.stripe.com' }]);
    expect(app.actions.find((a) => a.event === 'post_files')?.server).toBe('https://files.stripe.com');
    expect(app.actions.find((a) => a.event === 'post_customers')?.server).toBeUndefined();
    expect(app.security).toEqual([{ basicAuth: [] }, { bearerAuth: [] }]);
  });

  it('keeps a templated server with its variable defaults and allowed values', async () => {
    const app = await importSpec({ file: `${specs}uspto-dsapi-3.0.json` });
    expect(app.envs).toEqual([{ slug: 'developer', base_url: '{scheme}://developer.uspto.gov/ds-api', variables: { scheme: 'https' } }]);
    expect(app.server_variables?.scheme).toMatchObject({ default: 'https', enum: ['https', 'http'] });
    expect(app.variables.scheme).toMatchObject({ type: 'string', default: 'https' });
  });

  it('names operations without operationId after method and path', async () => {
    const app = await importSpec({ file: `${specs}nytimes-timeswire-v3-swagger2.yaml` });
    expect(app.actions.map((a) => a.event)).toEqual(['get_content_source_section', 'get_content_source_section_time_period', 'get_content']);
    expect(app.envs).toEqual([{ slug: 'api', base_url: 'https://api.nytimes.com/svc/news/v3' }]);
    expect(app.auth_schemes.apikey).toMatchObject({ type: 'apiKey', in: 'query', name: 'api-key' });
  });

  it('resolves 3.1 refs by $id and $anchor, keeps relative servers and skips webhooks', async () => {
    const app = await importSpec({ file: `${specs}swagger-petstore-3.1.yaml` });
    expect(app.envs).toEqual([{ slug: 'default', base_url: '/api/v31' }]);
    expect(app.warnings.some((w) => w.includes('"/api/v31" is relative'))).toBe(true);
    expect(app.skipped).toEqual([{ operation: 'webhook newPet (POST)', reason: expect.stringContaining('webhooks') }]);
    const pet = app.components.schemas.Pet as { properties: Record<string, unknown> };
    expect(pet.properties.petDetailsId).toEqual({ $ref: 'components#/schemas/PetDetails_properties_id' });
    expect(app.components.schemas.PetDetails_properties_id).toMatchObject({ type: 'integer', format: 'int64' });
  });

  it('reads collection auth, literal hosts and saved examples from a Postman export', async () => {
    const app = await importSpec({ file: `${specs}google-maps-platform.postman_collection.json` });
    expect(app.auth_schemes).toEqual({ apikey: { type: 'apiKey', in: 'query', name: 'key' } });
    expect(app.envs).toEqual([{ slug: 'maps', base_url: 'https://maps.googleapis.com' }]);
    const geolocate = app.actions.find((a) => a.event === 'geolocate')!;
    expect(geolocate.server).toBe('https://www.googleapis.com');
    expect(geolocate.body?.default).toBe('application/json');
    expect(geolocate.examples?.length).toBe(3);
  });
});
