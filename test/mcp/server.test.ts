// `ductape mcp` driven by the MCP SDK's own client over stdio: a real child process reading the workspace's SQLite
// file, tools that reach a loopback upstream.
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ductape } from '../../src/index.js';
import { describeEntry, MAX_TOOL_NAME, toolName } from '../../src/mcp/catalog.js';
import { createMcpTools, textResult } from '../../src/mcp/server.js';
import { startServe } from '../helpers/serve.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'src/cli/bin.ts');
const STRIPE = join(ROOT, 'test/fixtures/specs/stripe-api-2020-08-27-spec3-2022-04.json');

const spec = {
  openapi: '3.0.3',
  info: { title: 'Notes', version: '1' },
  servers: [{ url: 'https://notes.example.test' }],
  paths: {
    '/notes': {
      get: {
        operationId: 'list_notes',
        summary: 'List notes',
        parameters: [{ name: 'limit', in: 'query', schema: { type: 'integer', maximum: 100 } }],
        responses: { '200': { description: 'ok', content: { 'application/json': { schema: { type: 'array', items: { type: 'object' } } } } } },
      },
      post: {
        operationId: 'create_note',
        summary: 'Create a note',
        requestBody: {
          required: true,
          content: { 'application/json': { schema: { type: 'object', required: ['text'], properties: { text: { type: 'string' }, pinned: { type: 'boolean' } } } } },
        },
        responses: { '201': { description: 'created', content: { 'application/json': { schema: { type: 'object' } } } } },
      },
    },
  },
};

let dir: string;
let upstream: Upstream;
let env: Record<string, string>;
let runKey = '';
let adminKey = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ductape-mcp-'));
  upstream = await startUpstream((req, res) => {
    res.writeHead(req.method === 'POST' ? 201 : 200, { 'content-type': 'application/json' });
    if (req.url.startsWith('/notes?limit=100')) res.end(JSON.stringify(Array.from({ length: 100 }, (_, i) => ({ id: i, text: 'x'.repeat(50) }))));
    else res.end(JSON.stringify({ method: req.method, url: req.url, body: req.body ? JSON.parse(req.body) : null, auth: req.headers.authorization ?? null }));
  });
  env = { DUCTAPE_WORKSPACE: 'acme', DUCTAPE_PRIVATE_KEY: 'mcp-test-key-0123456789', DUCTAPE_STORE: `sqlite:${join(dir, 'ws.db')}` };
  const ductape = new Ductape({ workspace_id: env.DUCTAPE_WORKSPACE, private_key: env.DUCTAPE_PRIVATE_KEY, store: env.DUCTAPE_STORE, revision_poll_ms: 0 });
  try {
    await ductape.apps.import({ app: 'notes', spec });
    await ductape.apps.import({ app: 'stripe', file: STRIPE });
    await ductape.products.create({ tag: 'desk', envs: ['dev'] });
    await ductape.products.apps.connect({ product: 'desk', app: 'notes' });
    await ductape.products.apps.connect({ product: 'desk', app: 'stripe' });
    await ductape.products.apps.configure({ product: 'desk', app: 'notes', env: 'dev', base_url: upstream.url });
    await ductape.products.apps.configure({ product: 'desk', app: 'stripe', env: 'dev', base_url: upstream.url, auth: { type: 'bearer', token: 'sk_test_mcp' } });
    runKey = (await ductape.keys.create({ name: 'desk-dev', role: 'run', product: 'desk', env: 'dev' })).key;
    adminKey = (await ductape.keys.create({ name: 'admin', role: 'admin' })).key;
  } finally {
    await ductape.close();
  }
}, 120_000);

afterAll(async () => {
  await upstream.close();
  rmSync(dir, { recursive: true, force: true });
});

async function connect(args: string[]): Promise<Client> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: ['--import', 'tsx', BIN, 'mcp', '--product', 'desk', '--env', 'dev', ...args],
    env: { ...(process.env as Record<string, string>), ...env, NODE_NO_WARNINGS: '1' },
    cwd: ROOT,
    stderr: 'ignore',
  });
  const client = new Client({ name: 'ductape-test', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

const text = (r: { content: unknown }) => (r.content as { type: string; text: string }[]).map((c) => c.text).join('\n');

describe('ductape mcp (stdio)', () => {
  it('lists one tool per action in tools mode, calls them, returns refusals as tool errors and cuts long results', { timeout: 180_000 }, async () => {
    const client = await connect(['--apps', 'notes', '--max-result-bytes', '2000']);
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(['notes__create_note', 'notes__list_notes']);
      const create = tools.find((t) => t.name === 'notes__create_note')!;
      expect(create.description).toContain('POST /notes');
      expect(create.inputSchema).toMatchObject({ type: 'object', required: ['body'], properties: { body: { required: ['text'] } } });

      const made = await client.callTool({ name: 'notes__create_note', arguments: { body: { text: 'hello', pinned: true } } });
      expect(made.isError).toBeFalsy();
      expect(JSON.parse(text(made))).toMatchObject({ method: 'POST', url: '/notes', body: { text: 'hello', pinned: true } });
      expect(upstream.requests.at(-1)).toMatchObject({ method: 'POST', url: '/notes' });

      const before = upstream.requests.length;
      const refused = await client.callTool({ name: 'notes__list_notes', arguments: { query: { limt: 5 } } });
      expect(refused.isError).toBe(true);
      const err = JSON.parse(text(refused));
      expect(err.code).toBe('INVALID_INPUT');
      expect(err.issues[0]).toMatchObject({ location: 'query', path: '/limt', message: expect.stringContaining('did you mean "limit"?') });
      const missing = await client.callTool({ name: 'notes__create_note', arguments: { body: { pinned: true } } });
      expect(JSON.parse(text(missing)).issues).toEqual([expect.objectContaining({ location: 'body', path: '/text', message: 'is required' })]);
      expect(upstream.requests.length).toBe(before);

      const long = await client.callTool({ name: 'notes__list_notes', arguments: { query: { limit: 100 } } });
      expect(long.isError).toBeFalsy();
      const parts = long.content as { text: string }[];
      expect(Buffer.byteLength(parts[0].text)).toBeLessThanOrEqual(2000);
      expect(parts[1].text).toMatch(/^\[Result cut: \d+ bytes, showing the first \d+ \(max_result_bytes 2000\)/);
    } finally {
      await client.close();
    }
  });

  it("offers Stripe's 417 actions through three tools in search mode", { timeout: 180_000 }, async () => {
    const client = await connect(['--mode', 'search']);
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toEqual(['search_actions', 'describe_action', 'run_action']);
      const found = JSON.parse(text(await client.callTool({ name: 'search_actions', arguments: { query: 'create customer', limit: 5 } })));
      expect(found.length).toBeGreaterThan(0);
      expect(found.length).toBeLessThanOrEqual(5);
      expect(found[0]).toMatchObject({ app: 'stripe', event: 'post_customers', method: 'POST', path: '/v1/customers' });

      const described = JSON.parse(text(await client.callTool({ name: 'describe_action', arguments: { app: 'stripe', event: 'get_customers_customer' } })));
      expect(described.input_schema.properties.params.required).toEqual(['customer']);
      const ran = await client.callTool({ name: 'run_action', arguments: { app: 'stripe', event: 'get_customers_customer', input: described.example } });
      expect(ran.isError).toBeFalsy();
      expect(JSON.parse(text(ran))).toMatchObject({ method: 'GET', url: `/v1/customers/${described.example.params.customer}`, auth: 'Bearer sk_test_mcp' });

      const unknown = await client.callTool({ name: 'run_action', arguments: { app: 'stripe', event: 'post_customerz' } });
      expect(unknown.isError).toBe(true);
      expect(text(unknown)).toContain('search_actions');
    } finally {
      await client.close();
    }
  });
});

describe('POST /mcp on ductape serve', () => {
  it("serves a run key's product and env, and refuses what the key does not cover", { timeout: 180_000 }, async () => {
    const serve = await startServe(env);
    try {
      const client = new Client({ name: 'ductape-test', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(`${serve.url}/mcp?apps=notes`), { requestInit: { headers: { authorization: `Bearer ${runKey}` } } }));
      try {
        const { tools } = await client.listTools();
        expect(tools.map((t) => t.name).sort()).toEqual(['notes__create_note', 'notes__list_notes']);
        const made = await client.callTool({ name: 'notes__create_note', arguments: { body: { text: 'over http' } } });
        expect(JSON.parse(text(made))).toMatchObject({ method: 'POST', url: '/notes', body: { text: 'over http' } });
      } finally {
        await client.close();
      }
      const post = (path: string, key: string) =>
        fetch(`${serve.url}${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
        });
      expect((await post('/mcp?product=other', runKey)).status).toBe(403);
      const admin = await post('/mcp', adminKey);
      expect(admin.status).toBe(400);
      expect(((await admin.json()) as { error: { code: string; issues: unknown[] } }).error).toMatchObject({ code: 'INVALID_INPUT', issues: [{ path: '/product' }, { path: '/env' }] });
      expect((await post('/mcp', 'not-a-key')).status).toBe(401);
      // These were JSON-RPC "internal error" answers inside a 200.
      for (const path of ['/mcp?product=nope&env=dev', '/mcp?events=no_such_event']) {
        const missing = await post(path, path.includes('nope') ? adminKey : runKey);
        expect(missing.status).toBe(404);
        expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
      }
      // A wrong ?mode= or ?max_result_bytes= is the caller's input, not the server's configuration: these were 500 CONFIG_ERROR.
      for (const [query, path] of [['mode=foo', '/mode'], ['max_result_bytes=abc', '/max_result_bytes'], ['max_result_bytes=10', '/max_result_bytes']]) {
        const wrong = await post(`/mcp?${query}`, runKey);
        expect(wrong.status).toBe(400);
        expect(((await wrong.json()) as { error: unknown }).error).toMatchObject({ code: 'INVALID_INPUT', issues: [{ location: 'query', path }] });
      }
    } finally {
      await serve.stop();
    }
  });
});

describe('toolName', () => {
  it('is <access_tag>__<event>, at most 64 characters, and the same for the same action', () => {
    expect(toolName('stripe', 'post_customers')).toBe('stripe__post_customers');
    const long = toolName('docusign', 'returns_the_details_and_metadata_for_bulk_account_settings_import_requests_in_the_organization');
    expect(long.length).toBe(MAX_TOOL_NAME);
    expect(long.startsWith('docusign__returns_the_details')).toBe(true);
    expect(toolName('docusign', 'returns_the_details_and_metadata_for_bulk_account_settings_import_requests_in_the_organization')).toBe(long);
    expect(toolName('docusign', 'returns_the_details_and_metadata_for_bulk_account_settings_import_requests_in_the_organization_2')).not.toBe(long);
  });
});

describe('describeEntry', () => {
  it('cuts a long description at 1 kB without splitting a surrogate pair', () => {
    // A cut between the halves of an emoji left a lone surrogate in tools/list, which strict JSON readers refuse.
    for (const summary of ['x', 'xy']) {
      const action = { event: 'e', method: 'GET', path: '/p', summary, description: '😀'.repeat(600), parameters: [] };
      const d = describeEntry({ tool: 'a__e', accessTag: 'a', app: 'a', components: {}, action: action as never });
      expect(d.length).toBeLessThanOrEqual(1024);
      expect(d.endsWith('😀…')).toBe(true);
      expect(d).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
    }
  });
});

describe('textResult', () => {
  it('writes JSON indented, and a result nested deeper than JSON.stringify can write compactly, never failing the call', () => {
    expect(textResult({ a: [1] }, 1000).content).toEqual([{ type: 'text', text: '{\n  "a": [\n    1\n  ]\n}' }]);
    let deep: unknown = [];
    for (let i = 1; i < 20_000; i++) deep = [deep];
    const r = textResult(deep, 100_000);
    expect(r.content).toEqual([{ type: 'text', text: '['.repeat(20_000) + ']'.repeat(20_000) }]);
  });
});

describe('createMcpTools (in process)', () => {
  it('names every tool of a large catalogue uniquely within 64 characters, with an object input schema', { timeout: 120_000 }, async () => {
    const ductape = new Ductape({ workspace_id: 'acme', private_key: 'mcp-test-key-0123456789', store: ':memory:', revision_poll_ms: 0 });
    try {
      await ductape.apps.import({ app: 'docusign', file: join(ROOT, 'test/fixtures/specs/docusign-admin-v2.1.postman_collection.json') });
      await ductape.products.create({ tag: 'p', envs: ['dev'] });
      await ductape.products.apps.connect({ product: 'p', app: 'docusign', access_tag: 'docusign_admin' });
      const tools = await createMcpTools(ductape, { product: 'p', env: 'dev' }).listTools();
      expect(tools.length).toBe((await ductape.apps.actions.list({ app: 'docusign' })).length);
      expect(new Set(tools.map((t) => t.name)).size).toBe(tools.length);
      for (const t of tools) {
        expect(t.name).toMatch(/^[A-Za-z0-9_.-]{1,64}$/);
        expect(t.inputSchema.type).toBe('object');
      }
      expect(tools.some((t) => t.name.length === MAX_TOOL_NAME)).toBe(true);
      await expect(createMcpTools(ductape, { product: 'p', env: 'prd' }).ready()).rejects.toMatchObject({ code: 'NOT_FOUND' });
      // A misspelt --events name was served as an empty tool list ("0 actions", exit 0); it is refused like an app.
      const event = (await ductape.apps.actions.list({ app: 'docusign' }))[0].event;
      expect((await createMcpTools(ductape, { product: 'p', env: 'dev', events: [event] }).listTools()).length).toBe(1);
      await expect(createMcpTools(ductape, { product: 'p', env: 'dev', events: [event, 'no_such_event'] }).ready()).rejects.toMatchObject({
        code: 'NOT_FOUND',
        message: expect.stringMatching(/^No event "no_such_event" in app "docusign_admin"\. Known: /),
      });
    } finally {
      await ductape.close();
    }
  });

  it('offers in the input schema what the run takes: any query and body of a hand-made action, and headers', async () => {
    // The schema was closed to every undeclared location: an agent following it could send no query or body to a
    // hand-made action (which takes any), no header to any action, and only declared keys where unknown ones are allowed.
    const ductape = new Ductape({ workspace_id: 'acme', private_key: 'mcp-test-key-0123456789', store: ':memory:', revision_poll_ms: 0 });
    try {
      await ductape.apps.create({ tag: 'a', envs: [{ slug: 'dev', base_url: upstream.url }] });
      await ductape.apps.actions.create({ app: 'a', event: 'update_thing', method: 'POST', path: '/things/{id}' });
      await ductape.apps.import({ app: 'notes', spec });
      await ductape.apps.actions.configure({ app: 'notes', event: 'list_notes', allow_unknown_params: true });
      await ductape.products.create({ tag: 'p', envs: ['dev'] });
      await ductape.products.apps.connect({ product: 'p', app: 'a' });
      await ductape.products.apps.connect({ product: 'p', app: 'notes' });
      const tools = createMcpTools(ductape, { product: 'p', env: 'dev' });
      const schemas = Object.fromEntries((await tools.listTools()).map((t) => [t.name, t.inputSchema as { properties: Record<string, { additionalProperties?: boolean }> }]));
      expect(schemas.a__update_thing.properties).toEqual({
        params: { type: 'object', properties: { id: expect.any(Object) }, required: ['id'], additionalProperties: false },
        query: { type: 'object' },
        headers: { type: 'object' },
        body: {},
      });
      expect(schemas.notes__list_notes.properties.query.additionalProperties).toBeUndefined();
      expect(schemas.notes__list_notes.properties.body).toBeUndefined();
      expect(schemas.notes__create_note.properties.headers).toEqual({ type: 'object' });
      const input = { params: { id: 'x' }, query: { a: '1' }, headers: { 'x-trace': 't' }, body: { z: 1 } };
      const r = await tools.callTool('a__update_thing', input);
      expect(r.isError).toBeUndefined();
      expect(JSON.parse(text(r))).toMatchObject({ url: '/things/x?a=1', body: { z: 1 } });
    } finally {
      await ductape.close();
    }
  });

  it('names two actions apart when access tag and event would join into one name, and calls each', async () => {
    // Access tags and events may hold '__': "shop" + "x__y" and "shop__x" + "y" were both listed as "shop__x__y",
    // and calling it ran whichever came last.
    const ductape = new Ductape({ workspace_id: 'acme', private_key: 'mcp-test-key-0123456789', store: ':memory:', revision_poll_ms: 0 });
    try {
      await ductape.apps.create({ tag: 'a', envs: [{ slug: 'dev', base_url: upstream.url }] });
      await ductape.apps.actions.create({ app: 'a', event: 'x__y', method: 'GET', path: '/from-a' });
      await ductape.apps.actions.create({ app: 'a', event: 'z', method: 'GET', path: '/z' });
      await ductape.apps.create({ tag: 'shop__x', envs: [{ slug: 'dev', base_url: upstream.url }] });
      await ductape.apps.actions.create({ app: 'shop__x', event: 'y', method: 'GET', path: '/from-shop-x' });
      await ductape.products.create({ tag: 'p', envs: ['dev'] });
      await ductape.products.apps.connect({ product: 'p', app: 'a', access_tag: 'shop' });
      await ductape.products.apps.connect({ product: 'p', app: 'shop__x' });
      const tools = createMcpTools(ductape, { product: 'p', env: 'dev' });
      const names = (await tools.listTools()).map((t) => t.name);
      expect(new Set(names).size).toBe(3);
      expect(names).toContain('shop__z');
      for (const t of names) expect(t).toMatch(/^[A-Za-z0-9_.-]{1,64}$/);
      const urls = [];
      for (const name of names.filter((n) => n.startsWith('shop__x__y_'))) {
        const r = await tools.callTool(name);
        urls.push(JSON.parse((r.content[0] as { text: string }).text).url);
      }
      expect(urls.sort()).toEqual(['/from-a', '/from-shop-x']);
    } finally {
      await ductape.close();
    }
  });

  it("sends a model's arguments as the text given: placeholders in them are data, in both modes", async () => {
    // Tool arguments come from a model, which may quote anything (a user's message, a web page). They were resolved as
    // run input: "$Now" became the time, "\\$" lost its backslash and "$Secret{X}" failed the call as INVALID_INPUT.
    const ductape = new Ductape({ workspace_id: 'acme', private_key: 'mcp-test-key-0123456789', store: ':memory:', revision_poll_ms: 0 });
    try {
      await ductape.apps.import({ app: 'notes', spec });
      await ductape.products.create({ tag: 'p', envs: ['dev'] });
      await ductape.products.apps.connect({ product: 'p', app: 'notes' });
      await ductape.products.apps.configure({ product: 'p', app: 'notes', env: 'dev', base_url: upstream.url, variables: { v: 'config' } });
      const sent = { text: 'at $Now, $Variable{v} and $Secret{API_KEY} cost \\$5 or $5', pinned: false };
      const echoed = (r: { content: unknown; isError?: boolean }) => {
        expect(r.isError).toBeFalsy();
        return JSON.parse(text(r)).body;
      };
      const tools = createMcpTools(ductape, { product: 'p', env: 'dev' });
      expect(echoed(await tools.callTool('notes__create_note', { body: sent }))).toEqual(sent);
      const search = createMcpTools(ductape, { product: 'p', env: 'dev', mode: 'search' });
      expect(echoed(await search.callTool('run_action', { app: 'notes', event: 'create_note', input: { body: { text: '$Session{user}{id}' } } }))).toEqual({ text: '$Session{user}{id}' });
    } finally {
      await ductape.close();
    }
  });
});
