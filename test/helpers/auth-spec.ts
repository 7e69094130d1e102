// An OpenAPI document for auth tests: one security scheme of every kind and operations that use them.

/** An OpenAPI document declaring one scheme of every kind, with one operation per scheme. */
export function authSpec(tokenUrl: string) {
  const op = (operationId: string, security?: unknown[], extra: Record<string, unknown> = {}) => ({
    operationId,
    ...(security ? { security } : {}),
    responses: { '200': { description: 'ok', content: { 'application/json': { schema: { type: 'object' } } } } },
    ...extra,
  });
  const jsonBody = { requestBody: { content: { 'application/json': { schema: { type: 'object' } } } } };
  return {
    openapi: '3.0.3',
    info: { title: 'Auth demo', version: '1' },
    servers: [{ url: 'https://api.example.test' }],
    components: {
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer' },
        basicAuth: { type: 'http', scheme: 'basic' },
        keyHeader: { type: 'apiKey', in: 'header', name: 'X-Api-Key' },
        keySecret: { type: 'apiKey', in: 'header', name: 'X-Api-Secret' },
        keyQuery: { type: 'apiKey', in: 'query', name: 'api_key' },
        keyCookie: { type: 'apiKey', in: 'cookie', name: 'sid' },
        oauth: { type: 'oauth2', flows: { clientCredentials: { tokenUrl, scopes: { read: 'read' } } } },
      },
    },
    security: [{ bearerAuth: [] }, { basicAuth: [] }, { keyHeader: [], keySecret: [] }, { keyQuery: [] }, { keyCookie: [] }, { oauth: ['read'] }],
    paths: {
      '/items/{id}': { get: op('get_item', undefined, { parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }] }) },
      '/items': { post: op('create_item', undefined, jsonBody) },
      '/public': { get: op('get_public', []) },
      '/login': { post: op('login', [], jsonBody) },
    },
  };
}
