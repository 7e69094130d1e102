import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { importSpec, type ImportedApp } from '../../src/importers/index.js';
import type { ActionDef } from '../../src/model/action.js';

const file = fileURLToPath(new URL('../fixtures/specs/shop/shop.postman_collection.json', import.meta.url));

describe('importSpec (Postman v2.1)', () => {
  let app: ImportedApp;
  const action = (event: string) => app.actions.find((a) => a.event === event) as ActionDef;

  it('imports every request of the collection', async () => {
    app = await importSpec({ file });
    expect(app.format).toBe('postman-2.1');
    expect(app.name).toBe('Shop API');
    expect(app.actions.map((a) => a.event)).toEqual([
      'list_products', 'get_product', 'create_product', 'create_order', 'upload_receipt', 'add_note', 'health', 'health_2',
    ]);
    expect(app.warnings).toContain('Event "health" is already taken; request "Health" is named "health_2".');
  });

  it('keeps folders as groups', () => {
    expect(action('list_products').group).toEqual(['Products']);
    expect(action('create_product').group).toEqual(['Products', 'Admin']);
    expect(action('health_2').group).toBeUndefined();
  });

  it('inherits auth from collection and folders, with request-level noauth and overrides winning', () => {
    expect(app.auth_schemes).toEqual({
      bearer: { type: 'http', scheme: 'bearer' },
      apikey: { type: 'apiKey', in: 'header', name: 'X-Shop-Key' },
      basic: { type: 'http', scheme: 'basic' },
    });
    expect(app.security).toEqual([{ bearer: [] }]);
    expect(action('list_products').security).toEqual([{ apikey: [] }]); // folder auth
    expect(action('create_product').security).toEqual([{ apikey: [] }]); // inherited through a sub-folder
    expect(action('get_product').security).toEqual([]); // noauth
    expect(action('create_order').security).toEqual([{ bearer: [] }]); // collection auth
    expect(action('upload_receipt').security).toEqual([{ basic: [] }]);
  });

  it('turns {{baseUrl}} hosts into the env and other hosts into action servers', () => {
    expect(app.envs).toEqual([{ slug: 'shop', base_url: 'https://shop.test/api' }]);
    expect(action('list_products').server).toBeUndefined();
    expect(action('health_2').server).toBe('https://status.shop.test');
  });

  it('turns collection variables and references into app variables, withholding secret values', () => {
    expect(app.variables).toEqual({
      apiVersion: { type: 'string', default: '2024-01' },
      clientSecret: {},
      pageSize: { type: 'number', default: 25, description: 'Default page size' },
      cursor: { description: expect.stringContaining('not declared') },
      orderId: { description: expect.stringContaining('not declared') },
    });
    expect(app.warnings.some((w) => w.includes('"clientSecret" look secret'))).toBe(true);
    expect(JSON.stringify(app)).not.toContain('s3cr3t-value');
  });

  it('keeps {{var}} in headers and query as $Variable placeholders and ignores disabled entries', () => {
    const params = action('list_products').parameters;
    expect(params.map((p) => `${p.in}:${p.name}`)).toEqual(['query:limit', 'query:cursor', 'header:Accept', 'header:X-Version']);
    expect(params.find((p) => p.name === 'cursor')).toMatchObject({ schema: {}, value: '$Variable{cursor}' });
    expect(params.find((p) => p.name === 'X-Version')).toMatchObject({ schema: {}, value: '$Variable{apiVersion}' });
    expect(params.find((p) => p.name === 'limit')?.schema).toEqual({ examples: ['10'] });
    expect(params.find((p) => p.name === 'Accept')).toMatchObject({ schema: {}, value: 'application/json' });
  });

  it('never stores a literal credential header value', () => {
    const auth = action('add_note').parameters.find((p) => p.name === 'Authorization');
    expect(auth?.schema).toEqual({});
    expect(JSON.stringify(app)).not.toContain('sk_live_pasted_by_mistake');
    expect(app.warnings.some((w) => w.includes('Literal credential headers'))).toBe(true);
  });

  it('turns :path and {{var}} path segments into {name} parameters', () => {
    expect(action('get_product').path).toBe('/products/{productId}');
    expect(action('get_product').parameters).toEqual([
      { name: 'productId', in: 'path', required: true, style: 'simple', explode: false, schema: { type: 'string' } },
    ]);
    expect(action('upload_receipt').parameters[0]).toEqual({
      name: 'orderId', in: 'path', required: true, style: 'simple', explode: false, schema: { type: 'string', examples: ['o_1'] }, description: 'Order id',
    });
    expect(action('add_note').path).toBe('/orders/{orderId}/note');
    expect(action('add_note').parameters[0]).toMatchObject({ name: 'orderId', in: 'path', value: '$Variable{orderId}' });
  });

  it('reads raw JSON without a language, urlencoded and formdata-with-file bodies', () => {
    expect(action('create_product').body).toEqual({ required: true, media: { 'application/json': { example: { name: 'Mug', price: 12 } } }, default: 'application/json' });
    expect(action('add_note').body?.default).toBe('text/plain');
    expect(action('create_order').body).toEqual({
      required: true,
      media: { 'application/x-www-form-urlencoded': { schema: { type: 'object', properties: { product: {}, qty: {} } }, example: { product: 'p1', qty: '2' } } },
      default: 'application/x-www-form-urlencoded',
    });
    expect(action('upload_receipt').body?.media['multipart/form-data']).toEqual({
      schema: { type: 'object', properties: { receipt: { type: 'string', format: 'binary' }, note: {} } },
      encoding: { receipt: { contentType: 'application/pdf' } },
      example: { note: 'thanks' },
    });
  });

  it('keeps saved example responses', () => {
    expect(action('list_products').examples).toEqual([
      { name: 'A page of products', status: 200, body: [{ id: 'p1', name: 'Mug' }], headers: { 'Content-Type': 'application/json' } },
    ]);
    expect(action('list_products').responses).toEqual({ '200': { 'application/json': null } });
  });

  it('uses item ids, else folder paths, as re-import sources', () => {
    expect(action('list_products').source).toBe('postman:req-list-products');
    expect(action('create_product').source).toBe('postman:Products/Admin/Create product');
  });

  it('keeps a trailing slash of a request path, as Postman sends it (Django and Rails answer /items and /items/ differently)', async () => {
    const result = await importSpec({
      spec: {
        info: { name: 'Slashes', schema: 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json' },
        item: [
          { name: 'Structured', request: { method: 'POST', url: { raw: 'https://api.test/v1/items/', host: ['api', 'test'], path: ['v1', 'items', ''] } } },
          { name: 'Raw', request: { method: 'GET', url: 'https://api.test/v1/items/:id/' } },
          { name: 'Without', request: { method: 'GET', url: 'https://api.test/v1/items' } },
          { name: 'Root', request: { method: 'GET', url: 'https://api.test/' } },
        ],
      },
    });
    expect(result.actions.map((a) => a.path)).toEqual(['/v1/items/', '/v1/items/{id}/', '/v1/items', '/']);
  });

  it("takes the protocol from the raw URL when the structured one leaves it out (an http localhost stays http)", async () => {
    const result = await importSpec({
      spec: {
        info: { name: 'Local', schema: 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json' },
        item: [{ name: 'Ping', request: { method: 'GET', url: { raw: 'http://localhost:3000/ping', host: ['localhost'], port: '3000', path: ['ping'] } } }],
      },
    });
    // Before: https://localhost:3000 and a warning that https was assumed.
    expect(result.envs[0].base_url).toBe('http://localhost:3000');
    expect(result.warnings).toEqual([]);
  });

  it('reads a protocol-less {{host}} and a raw {{host}}:{{port}} as origins, with https assumed as for literal hosts', async () => {
    // Before: `{{host}}` worth `api.test` became the base URL `api.test` (no run could use it), the same origin on a
    // second request became a server joined to the env's URL (/v1/api.test/y), and `{{host}}:{{port}}/x` the path
    // `/{{{port}}}/x` with a path parameter named `{{port}}`.
    const mk = (variable: object[], urls: string[]) =>
      importSpec({
        spec: {
          info: { name: 'Hosts', schema: 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json' },
          variable,
          item: urls.map((url, i) => ({ name: `r${i}`, request: { method: 'GET', url } })),
        },
      });
    const bare = await mk([{ key: 'baseUrl', value: 'https://a.test/v1' }, { key: 'host', value: 'api.test' }], ['{{baseUrl}}/a', '{{baseUrl}}/b', '{{host}}/y']);
    expect(bare.envs).toEqual([{ slug: 'a', base_url: 'https://a.test/v1' }]);
    expect(bare.actions[2]).toMatchObject({ path: '/y', server: 'https://api.test' });
    expect(bare.warnings).toEqual(['1 request URL(s) have no protocol; https is assumed.']);
    const ported = await mk([{ key: 'host', value: 'localhost' }, { key: 'port', value: '3000' }], ['{{host}}:{{port}}/x']);
    expect(ported.envs).toEqual([{ slug: 'default', base_url: 'https://{host}:{port}', variables: { host: 'localhost', port: '3000' } }]);
    expect(ported.actions[0]).toMatchObject({ path: '/x', parameters: [] });
    const own = await mk([{ key: 'host', value: 'http://localhost' }], ['https://a.test/a', '{{host}}:8080/z']);
    expect(own.actions[1]).toMatchObject({ path: '/z', server: 'http://localhost:8080' });
    expect(own.warnings).toEqual([]);
  });

  it('trims header names and leaves out, with a warning, those no request could carry', async () => {
    // Before: `X-Version ` (or `Accept:`) became a default header, and every run of the request failed with
    // INVALID_INPUT "headers/X-Version : is not a valid header name", though the caller passed no headers.
    const result = await importSpec({
      spec: {
        info: { name: 'Headers', schema: 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json' },
        item: [
          {
            name: 'Get',
            request: {
              method: 'GET',
              url: 'https://api.test/a',
              header: [{ key: 'X-Version ', value: '2' }, { key: 'Accept:', value: 'application/json' }, { key: 'Api Version', value: '3' }],
            },
          },
        ],
      },
    });
    expect(result.actions[0].parameters.map((p) => [p.name, p.value])).toEqual([['X-Version', '2'], ['Accept', 'application/json']]);
    expect(result.warnings).toEqual([expect.stringContaining('"Api Version" in "Get"')]);
  });

  it('reads v2.0 auth settings and skips non-http URLs', async () => {
    const result = await importSpec({
      spec: {
        info: { name: 'Old', schema: 'https://schema.getpostman.com/json/collection/v2.0.0/collection.json' },
        auth: { type: 'apikey', apikey: { key: 'api_key', value: '{{k}}', in: 'query' } },
        item: [
          { name: 'Ping', request: { method: 'GET', url: 'https://old.test/ping' } },
          { name: 'Helper', request: { method: 'GET', url: { host: ['about'], port: 'blank' } } },
          { name: 'Signed', request: { method: 'GET', url: 'https://old.test/signed', auth: { type: 'awsv4', awsv4: {} } } },
        ],
      },
    });
    expect(result.warnings[0]).toContain('v2.0 is read with the v2.1 rules');
    // An auth type Ductape cannot compute is a requirement of its own, so that the raw headers the warning suggests
    // are sent (security: [] withheld them too).
    expect(result.auth_schemes).toEqual({ apikey: { type: 'apiKey', in: 'query', name: 'api_key' }, awsv4: { type: 'http', scheme: 'awsv4' } });
    expect(result.actions.map((a) => a.event)).toEqual(['ping', 'signed']);
    expect(result.actions[1].security).toEqual([{ awsv4: [] }]);
    expect(result.skipped).toEqual([{ operation: 'Helper', reason: expect.stringContaining('about:blank') }]);
    expect(result.warnings.some((w) => w.includes('"awsv4" has no Ductape equivalent'))).toBe(true);
  });

  it('leaves out an OAuth2 URL whose variables have no value, instead of a $Variable the runtime would read as a path', async () => {
    // Before: tokenUrl became `$Variable{authBase}/oauth/token`, which no placeholder resolver reads: the runtime took it
    // for a path relative to the API's server and posted the client credentials to /$Variable%7BauthBase%7D/oauth/token.
    const oauth = (accessTokenUrl: string) =>
      importSpec({
        spec: {
          info: { name: 'OAuth', schema: 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json' },
          variable: [{ key: 'authHost', value: 'https://login.test' }],
          auth: { type: 'oauth2', oauth2: [{ key: 'grant_type', value: 'client_credentials' }, { key: 'accessTokenUrl', value: accessTokenUrl }, { key: 'scope', value: 'read {{extraScope}}' }] },
          item: [{ name: 'Me', request: { method: 'GET', url: 'https://api.test/me' } }],
        },
      });
    const missing = await oauth('{{authBase}}/oauth/token');
    expect(missing.auth_schemes.oauth2).toEqual({ type: 'oauth2', flows: { clientCredentials: { scopes: { read: '' } } } });
    expect(missing.warnings).toEqual([expect.stringContaining('"{{authBase}}/oauth/token" uses variables the collection gives no value')]);
    expect(Object.keys(missing.variables)).toEqual(['authHost']); // not authBase: nothing refers to it any more
    const declared = await oauth('{{authHost}}/oauth/token');
    expect(declared.auth_schemes.oauth2.flows?.clientCredentials.tokenUrl).toBe('https://login.test/oauth/token');
  });

  it('never keeps credentials written in a request URL, as user:password@ or as a literal query value', async () => {
    // Before: `https://admin:hunter2@…` was skipped with the password in the reason, `https://tok_abc@api.test`
    // became the env base URL (and slug), and `?api_key=sk_live_123` a stored example.
    const result = await importSpec({
      spec: {
        info: { name: 'Pasted', schema: 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json' },
        item: [
          { name: 'A', request: { method: 'GET', url: 'https://admin:hunter2@api.test/x' } },
          { name: 'B', request: { method: 'GET', url: 'https://tok_abc@api.test/y?api_key=sk_live_123&limit=5' } },
        ],
      },
    });
    expect(JSON.stringify(result)).not.toMatch(/hunter2|tok_abc|sk_live_123/);
    expect(result.envs).toEqual([{ slug: 'api', base_url: 'https://api.test' }]);
    expect(result.actions.map((a) => a.path)).toEqual(['/x', '/y']);
    expect(result.actions[1].parameters.map((p) => [p.name, p.schema])).toEqual([['api_key', {}], ['limit', { examples: ['5'] }]]);
    expect(result.warnings).toEqual([
      expect.stringContaining('Literal credential headers, query values and body fields were not imported (api_key in "B")'),
      expect.stringContaining('Credentials written in request URLs (user:password@) were not imported ("A", "B")'),
    ]);
  });

  it('keeps no literal credential of a token or login body as an example, but keeps fields only named like one', async () => {
    // Before: client_secret, password and a nested apiKey were stored as body examples (shown by describe and MCP).
    const result = await importSpec({
      spec: {
        info: { name: 'Bodies', schema: 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json' },
        item: [
          { name: 'Token', request: { method: 'POST', url: 'https://api.test/oauth/token', body: { mode: 'urlencoded', urlencoded: [{ key: 'client_id', value: 'cid' }, { key: 'client_secret', value: 'REALSECRET' }] } } },
          { name: 'Login', request: { method: 'POST', url: 'https://api.test/login', body: { mode: 'raw', raw: '{"user":"ann","password":"hunter2","opts":{"apiKey":"k-123","pageToken":"p2","max_tokens":5}}' } } },
        ],
      },
    });
    expect(JSON.stringify(result)).not.toMatch(/REALSECRET|hunter2|k-123/);
    expect(result.actions[0].body?.media['application/x-www-form-urlencoded'].example).toEqual({ client_id: 'cid' });
    expect(result.actions[1].body?.media['application/json'].example).toEqual({ user: 'ann', opts: { pageToken: 'p2', max_tokens: 5 } });
    expect(result.warnings).toEqual([expect.stringContaining('(client_secret in "Token", password in "Login", apiKey in "Login")')]);
  });

  it('reads a collection saved from the Postman API, which wraps it in { collection }', async () => {
    // Before: CONFIG_ERROR "not an OpenAPI 3.x, Swagger 2.0 or Postman v2.1 document".
    const collection = {
      info: { name: 'Wrapped', schema: 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json' },
      item: [{ name: 'Ping', request: { method: 'GET', url: 'https://api.test/ping' } }],
    };
    const result = await importSpec({ spec: JSON.stringify({ collection }) });
    expect([result.format, result.name, result.actions.map((a) => a.event)]).toEqual(['postman-2.1', 'Wrapped', ['ping']]);
  });

  it('imports DocuSign with collection oauth2 and per-request overrides', async () => {
    const docusign = await importSpec({ file: fileURLToPath(new URL('../fixtures/specs/docusign-admin-v2.1.postman_collection.json', import.meta.url)) });
    expect(docusign.auth_schemes.oauth2).toMatchObject({
      type: 'oauth2',
      flows: { authorizationCode: { tokenUrl: 'https://account-d.docusign.com/oauth/token', authorizationUrl: 'https://account-d.docusign.com/oauth/auth' } },
    });
    expect(docusign.envs).toEqual([{ slug: 'api', base_url: 'https://api.docusign.net/Management' }]);
    const overrides = docusign.actions.filter((a) => a.security?.length === 0 || a.security?.[0]?.basic);
    expect(overrides.length).toBeGreaterThan(0);
    expect(docusign.actions.every((a) => !a.path.includes('{{'))).toBe(true);
  });
});
