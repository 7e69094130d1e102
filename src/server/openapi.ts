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

const errorResponses = (role: string | undefined): Record<string, unknown> => {
  const ref = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
  const out: Record<string, unknown> = {
    '400': ref('INVALID_INPUT: the request does not match the schema'),
    '401': ref('UNAUTHORIZED: no or unknown key (also SESSION_INVALID, SESSION_EXPIRED)'),
    '403': ref('FORBIDDEN: the key may not do this'),
    '404': ref('NOT_FOUND'),
    '500': ref('CONFIG_ERROR'),
  };
  if (role === 'run') {
    Object.assign(out, {
      '424': ref('UPSTREAM_ERROR or AUTH_FAILED, with the upstream status, headers and body'),
      '429': { ...ref('RATE_LIMITED'), headers: { 'Retry-After': { schema: { type: 'integer' }, description: 'seconds' } } },
      '502': ref('NETWORK_ERROR'),
      '504': ref('TIMEOUT'),
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
        ...errorResponses(op.role),
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
      '/healthz': { get: { operationId: 'healthz', summary: 'Answers 200 while the process runs.', security: [], responses: { '200': { description: 'OK' } } } },
      '/readyz': { get: { operationId: 'readyz', summary: 'Answers 200 only while the store is reachable.', security: [], responses: { '200': { description: 'ready' }, '503': { description: 'the store is not reachable' } } } },
      '/v1/oauth/callback': {
        get: {
          operationId: 'oauthCallback',
          summary: "Where the provider sends the end user's browser after consent (connections.complete).",
          security: [],
          parameters: ['state', 'code', 'error'].map((name) => ({ name, in: 'query', required: false, schema: { type: 'string' } })),
          responses: { '200': { description: 'connected', content: { 'text/html': { schema: { type: 'string' } } } }, '400': { description: 'refused', content: { 'text/html': { schema: { type: 'string' } } } } },
        },
      },
      '/v1/openapi.json': { get: { operationId: 'openapi', summary: 'This document.', security: [], responses: { '200': { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } } } } },
    },
    components: {
      securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'An API key from "ductape keys create".' } },
      schemas: { Error: ERROR_SCHEMA },
    },
  };
}
