// The server's OpenAPI 3.1 document, built from the operation table: one path item per HTTP route.
import { inputSchema, type ObjectSchema } from '../operations/json-schema.js';
import type { Operation } from '../operations/operation.js';
import { STATUS } from './errors.js';

/** Path parameter names of a route template: '/v1/apps/{app}' → ['app']. */
export const pathParams = (path: string): string[] => [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);

/** Whether the input travels in the query string (GET, DELETE) rather than a JSON body. */
export const inQuery = (method: string): boolean => method === 'GET' || method === 'DELETE';

/** The input schema an HTTP caller sends: without path parameters and without fields not offered over HTTP. */
export function wireSchema(op: Operation): ObjectSchema {
  const http = op.http as Exclude<Operation['http'], false>;
  const drop = new Set([...pathParams(http.path), ...(http.omit ?? [])]);
  const s = inputSchema(op);
  const properties = Object.fromEntries(Object.entries(s.properties ?? {}).filter(([k]) => !drop.has(k)));
  const required = (s.required ?? []).filter((k) => !drop.has(k));
  return { type: 'object', properties, ...(required.length ? { required } : {}), additionalProperties: false };
}

const ERROR_SCHEMA = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', enum: Object.keys(STATUS) },
        message: { type: 'string' },
        issues: { type: 'array', items: { type: 'object', properties: { location: { type: 'string' }, path: { type: 'string' }, message: { type: 'string' } } } },
        status: { type: 'integer', description: 'the upstream status (UPSTREAM_ERROR, AUTH_FAILED)' },
        headers: { type: 'object', description: 'the upstream headers, credentials redacted' },
        body: { description: 'the upstream body' },
        retryAfterMs: { type: 'number' },
      },
      additionalProperties: true,
    },
  },
};

const html = (description: string) => ({ description, content: { 'text/html': { schema: { type: 'string' } } } });
const errorRef = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
/** Any route that reads the store answers it while the store is busy or unreachable (docs/serve.md, "Errors"). */
const STORE_BUSY = errorRef('STORE_ERROR: the store is busy or unreachable; `retryable` says whether to try again');

/** A refusal by the MCP transport itself: a JSON-RPC error object, not the server's error envelope. */
const JSON_RPC_REFUSAL = (description: string) => ({ description: `a JSON-RPC error: ${description}`, content: { 'application/json': { schema: { type: 'object' } } } });

/** GET and DELETE /mcp: a stateless server has no stream to open nor session to end (MCP Streamable HTTP). */
const MCP_NOT_ALLOWED = (method: string) => ({
  operationId: `mcp${method === 'get' ? 'Get' : 'Delete'}`,
  summary: 'Not allowed: the server is stateless (no server-initiated stream, no session); MCP clients accept this answer.',
  tags: ['mcp'],
  responses: {
    '401': errorRef('UNAUTHORIZED'),
    '405': { ...JSON_RPC_REFUSAL('Allow: POST'), headers: { Allow: { schema: { type: 'string' } } } },
  },
});

/** A JSON-RPC 2.0 message as MCP sends it: a request or notification, or a batch of them. */
const JSON_RPC_MESSAGE = {
  type: 'object',
  required: ['jsonrpc'],
  properties: { jsonrpc: { const: '2.0' }, id: { type: ['string', 'integer'] }, method: { type: 'string' }, params: { type: 'object' } },
};

/**
 * The routes that are not operations: health, this document, the OAuth redirect, MCP and the dashboard. Every route
 * the server answers is listed (test/server/serve.test.ts compares this document with the hono app's own routes).
 */
const FIXED_PATHS: Record<string, Record<string, unknown>> = {
  '/healthz': { get: { operationId: 'healthz', summary: 'Answers 200 while the process runs.', tags: ['health'], security: [], responses: { '200': { description: 'OK' } } } },
  '/readyz': { get: { operationId: 'readyz', summary: 'Answers 200 only while the store is reachable.', tags: ['health'], security: [], responses: { '200': { description: 'ready' }, '503': { description: 'the store is not reachable' } } } },
  '/v1/oauth/callback': {
    get: {
      operationId: 'oauthCallback',
      summary: "Where the provider sends the end user's browser after consent (connections.complete).",
      tags: ['connections'],
      security: [],
      parameters: ['state', 'code', 'error'].map((name) => ({ name, in: 'query', required: false, schema: { type: 'string' } })),
      responses: { '200': html('connected'), '302': { description: "connected: on to the connection's return_url" }, '400': html('refused') },
    },
  },
  '/v1/openapi.json': { get: { operationId: 'openapi', summary: 'This document.', tags: ['health'], security: [], responses: { '200': { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } } } } },
  '/mcp': {
    get: MCP_NOT_ALLOWED('get'),
    delete: MCP_NOT_ALLOWED('delete'),
    post: {
      operationId: 'mcp',
      summary: 'The MCP tools of `ductape mcp` over Streamable HTTP (stateless, JSON responses).',
      description:
        "One JSON-RPC message (or a batch) per request; send `Accept: application/json, text/event-stream` as MCP clients do. A run key's product and env are used; an admin key names them in the query.",
      tags: ['mcp'],
      parameters: [
        { name: 'product', in: 'query', required: false, schema: { type: 'string' }, description: 'required with an admin key' },
        { name: 'env', in: 'query', required: false, schema: { type: 'string' }, description: 'required unless the key names one' },
        { name: 'mode', in: 'query', required: false, schema: { type: 'string', enum: ['tools', 'search'] } },
        { name: 'apps', in: 'query', required: false, schema: { type: 'string' }, description: 'access tags, comma-separated' },
        { name: 'events', in: 'query', required: false, schema: { type: 'string' }, description: 'events, comma-separated' },
        { name: 'max_result_bytes', in: 'query', required: false, schema: { type: 'integer', minimum: 256 } },
      ],
      requestBody: { required: true, content: { 'application/json': { schema: { oneOf: [JSON_RPC_MESSAGE, { type: 'array', items: JSON_RPC_MESSAGE }] } } } },
      responses: {
        '200': {
          description: 'the JSON-RPC response: as JSON, or as one SSE event for clients of the 2025 protocol revisions',
          content: { 'application/json': { schema: { type: ['object', 'array'] } }, 'text/event-stream': { schema: { type: 'string' } } },
        },
        '202': { description: 'a notification or response, accepted' },
        '400': errorRef('INVALID_INPUT: no product or env for this key, or a wrong mode or max_result_bytes'),
        '401': errorRef('UNAUTHORIZED'),
        '403': errorRef("FORBIDDEN: another product or env than the run key's"),
        '404': errorRef('NOT_FOUND: no such product, env, app or event'),
        '406': JSON_RPC_REFUSAL('Accept does not name both application/json and text/event-stream'),
        '415': JSON_RPC_REFUSAL('Content-Type is not application/json'),
        '500': errorRef('CONFIG_ERROR'),
        '503': STORE_BUSY,
      },
    },
  },
  '/': { get: { operationId: 'dashboard', summary: 'The dashboard page (it asks for an admin key).', tags: ['dashboard'], security: [], responses: { '200': html('the page') } } },
  '/dashboard.js': {
    get: { operationId: 'dashboardScript', summary: "The dashboard page's script.", tags: ['dashboard'], security: [], responses: { '200': { description: 'the script', content: { 'text/javascript': { schema: { type: 'string' } } } } } },
  },
};

/**
 * Runs reach an upstream, and so do the connection operations (a token exchange or revocation at the provider):
 * connections.complete is admin-only yet answers 424 when the provider refuses the code.
 */
const reachesUpstream = (op: Operation): boolean => op.role === 'run' || op.name.startsWith('connections.');

const errorResponses = (upstream: boolean): Record<string, unknown> => {
  const out: Record<string, unknown> = {
    '400': errorRef('INVALID_INPUT: the request does not match the schema'),
    '401': errorRef('UNAUTHORIZED: no or unknown key (also SESSION_INVALID, SESSION_EXPIRED)'),
    '403': errorRef('FORBIDDEN: the key may not do this'),
    '404': errorRef('NOT_FOUND'),
    '500': errorRef('CONFIG_ERROR'),
    '503': STORE_BUSY,
  };
  if (upstream) {
    Object.assign(out, {
      '424': errorRef('UPSTREAM_ERROR or AUTH_FAILED, with the upstream status, headers and body'),
      '429': { ...errorRef('RATE_LIMITED'), headers: { 'Retry-After': { schema: { type: 'integer' }, description: 'seconds' } } },
      '502': errorRef('NETWORK_ERROR'),
      '504': errorRef('TIMEOUT'),
    });
  }
  return out;
};

export function buildOpenApi(ops: Operation[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of ops) {
    if (!op.http) continue;
    const { method, path } = op.http;
    const full = inputSchema(op);
    const wire = wireSchema(op);
    const parameters: Record<string, unknown>[] = pathParams(path).map((name) => ({
      name,
      in: 'path',
      required: true,
      schema: full.properties?.[name] ?? { type: 'string' },
    }));
    const item: Record<string, unknown> = {
      operationId: op.name,
      summary: op.summary,
      ...(op.description ? { description: op.description } : {}),
      tags: [op.name.split('.')[0]],
      parameters,
      responses: {
        '200': { description: 'OK', content: { 'application/json': { schema: {} } } },
        ...errorResponses(reachesUpstream(op)),
      },
    };
    if (inQuery(method)) {
      for (const [name, schema] of Object.entries(wire.properties ?? {})) {
        parameters.push({ name, in: 'query', required: (wire.required ?? []).includes(name), schema, ...(schema.type === 'array' ? { style: 'form', explode: true } : {}) });
      }
    } else {
      item.requestBody = { required: true, content: { 'application/json': { schema: wire } } };
    }
    (paths[path] ??= {})[method.toLowerCase()] = item;
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Ductape', version, description: 'The HTTP API of `ductape serve`: run actions and manage the workspace from any language.' },
    servers: [{ url: '/' }],
    security: [{ apiKey: [] }],
    paths: {
      ...paths,
      ...FIXED_PATHS,
    },
    components: {
      securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'An API key from "ductape keys create".' } },
      schemas: { Error: ERROR_SCHEMA },
    },
  };
}
