// POST /mcp: the MCP tools of `ductape mcp`, over HTTP, for a run key's product and env (API.md §10).
import type { Hono } from 'hono';
import type { Ductape } from '../../client.js';
import { DuctapeError, InvalidInputError } from '../../errors.js';
import { normalizeMcpOptions, type McpOptions } from '../../options.js';
import { createMcpHttpHandler, createMcpTools } from '../../mcp/server.js';
import type { KeyOf, ServerEnv } from '../request.js';

/** Distinct (product, env, mode, apps, events) choices kept; the oldest is dropped past this (and read again if asked). */
const MAX_HANDLERS = 64;

/**
 * The product and env come from the run key (an admin key names them with `?product=&env=`; a run key without an env
 * takes `?env=`); `?mode=search`, `?apps=a,b`, `?events=x,y` and `?max_result_bytes=` choose what is offered, as the
 * CLI flags do. One handler per distinct choice, so each catalogue is read once.
 */
export function mountMcp(app: Hono<ServerEnv>, ductape: Ductape, keyOf: KeyOf): void {
  const handlers = new Map<string, ReturnType<typeof createMcpHttpHandler>>();
  // Streamable HTTP clients open a GET stream after initializing and may DELETE their session; the transport's spec
  // has a server without them answer 405, which clients accept. A 404 made the MCP SDK's client report "Failed to
  // open SSE stream: Not Found" on every connection. The body is the JSON-RPC error the SDK's own servers send.
  app.on(['GET', 'DELETE'], '/mcp', (c) => {
    keyOf(c);
    return c.json({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed: this server is stateless; send each message with POST /mcp.' }, id: null }, 405, { allow: 'POST' });
  });
  app.post('/mcp', async (c) => {
    const key = keyOf(c);
    const q = c.req.query();
    if (key.role === 'run' && q.product !== undefined && q.product !== key.product) {
      throw new DuctapeError('FORBIDDEN', `This run key is for product "${key.product}", not "${q.product}".`, { key: key.id });
    }
    if (key.env !== undefined && q.env !== undefined && q.env !== key.env) {
      throw new DuctapeError('FORBIDDEN', `This run key is for env "${key.env}" of product "${key.product}", not "${q.env}".`, { key: key.id });
    }
    const product = key.role === 'run' ? key.product : q.product;
    const env = key.env ?? q.env;
    if (!product || !env) {
      const missing = [...(product ? [] : ['product']), ...(env ? [] : ['env'])];
      throw new InvalidInputError(
        missing.map((m) => ({ location: 'query' as const, path: `/${m}`, message: 'is required: a run key carries it, other keys name it in the query (?product=…&env=…)' })),
        'POST /mcp',
      );
    }
    const list = (v: string | undefined) => (v ? v.split(',').filter(Boolean) : undefined);
    const options = {
      product,
      env,
      mode: (q.mode ?? 'tools') as 'tools' | 'search',
      apps: list(q.apps),
      events: list(q.events),
      ...(q.max_result_bytes ? { max_result_bytes: Number(q.max_result_bytes) } : {}),
    };
    checkQuery(options);
    const id = JSON.stringify(options);
    let handler = handlers.get(id);
    if (!handler) {
      // An unknown product, env, app or event answers 404 NOT_FOUND like any route,
      // not a JSON-RPC "internal error" inside a 200; and only a catalogue that loads is remembered, so neither bad
      // queries nor a stream of distinct good ones can grow the map without bound.
      const tools = createMcpTools(ductape, options);
      await tools.ready();
      if (handlers.size >= MAX_HANDLERS) handlers.delete(handlers.keys().next().value!);
      handlers.set(id, (handler = createMcpHttpHandler(tools)));
    }
    return handler.fetch(c.req.raw);
  });
}

/**
 * `?mode=` and `?max_result_bytes=` are the caller's input: a wrong one is 400 INVALID_INPUT naming the parameter,
 * not the 500 CONFIG_ERROR that normalizeMcpOptions raises for a server's own configuration.
 */
function checkQuery(options: McpOptions): void {
  try {
    normalizeMcpOptions(options);
  } catch (err) {
    const option = err instanceof DuctapeError ? err.details.option : undefined;
    if (typeof option !== 'string') throw err;
    throw new InvalidInputError([{ location: 'query', path: `/${option}`, message: (err as DuctapeError).message.replace(/\.$/, '') }], 'POST /mcp');
  }
}
