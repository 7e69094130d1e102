// The MCP server (API.md §10): a product env's actions as tools for agents, on the official SDK's low-level Server.
//
// Low-level rather than McpServer because the tools' input schemas are JSON Schemas we already have (describe's
// input_schema), not zod objects, and because the tool list is data read from the store. A tool call is an
// `actions.run` like any other: same validation and guards, credentials, retries and run logs.
import { createMcpHandler, Server, type CallToolResult, type Tool } from '@modelcontextprotocol/server';
import type { Ductape } from '../client.js';
import { DuctapeError } from '../errors.js';
import { jsonText } from '../model/json.js';
import { asLiteral } from '../model/placeholders.js';
import { normalizeMcpOptions, type McpOptions } from '../options.js';
import type { Runtime } from '../runtime/runtime.js';
import { describeStored } from '../workspace/describe.js';
import { describeEntry, inputSchemaOf, loadCatalog, searchCatalog, type CatalogEntry } from './catalog.js';

const SEARCH_TOOLS: Tool[] = [
  {
    name: 'search_actions',
    description: 'Find actions by words (event name, path, summary). Returns app, event, method, path and summary of each match.',
    inputSchema: {
      type: 'object',
      properties: { query: { type: 'string', description: 'words to look for, e.g. "create customer"' }, limit: { type: 'integer', minimum: 1, maximum: 50, default: 10 } },
      required: ['query'],
    },
  },
  {
    name: 'describe_action',
    description: "What an action takes: its input JSON Schema ({ params, query, headers, body }), an example input, and its summary. Call before run_action.",
    inputSchema: { type: 'object', properties: { app: { type: 'string' }, event: { type: 'string' } }, required: ['app', 'event'] },
  },
  {
    name: 'run_action',
    description: 'Run an action with an input of the shape describe_action gives. Returns the response body as JSON.',
    inputSchema: {
      type: 'object',
      properties: { app: { type: 'string' }, event: { type: 'string' }, input: { type: 'object', description: '{ params?, query?, headers?, body? }' } },
      required: ['app', 'event'],
    },
  },
];

/**
 * Builds the tool handlers once per server process; the catalogue (store reads, tool schemas) is loaded on the first
 * request and kept, as a plan is.
 */
export function createMcpTools(ductape: Ductape, raw: McpOptions) {
  const options = normalizeMcpOptions(raw);
  let catalog: Promise<{ entries: CatalogEntry[]; byTool: Map<string, CatalogEntry> }> | undefined;
  let generation = -1;
  const load = async () => {
    const rt = (await ductape.services.runtime()) as Runtime;
    // A definition change anywhere (an import, a rename, a connection; other processes' too) clears the plans and
    // moves their generation: the catalogue is read again then, as a plan is compiled again.
    if (rt.plans.generation !== generation) {
      generation = rt.plans.generation;
      catalog = undefined;
    }
    return (catalog ??= loadCatalog(rt, options)
      .then((entries) => ({ entries, byTool: new Map(entries.map((e) => [e.tool, e])) }))
      .catch((err) => {
        // A failed load (store briefly busy) is retried by the next request rather than remembered.
        catalog = undefined;
        throw err;
      }));
  };

  const run = async (accessTag: string, event: string, input: unknown): Promise<CallToolResult> => {
    try {
      // The model's arguments are data, not templates: "$Now" or "$Secret{X}" in them is sent as that very text.
      const data = await ductape.actions.run({ env: options.env, product: options.product, app: accessTag, event, input: asLiteral(input ?? {}) as never });
      return textResult(data, options.maxResultBytes);
    } catch (err) {
      return errorResult(err);
    }
  };

  return {
    options,
    /** Loads the catalogue now: a wrong product, env or app fails at start rather than at the first request. */
    ready: async (): Promise<number> => (await load()).entries.length,
    async listTools(): Promise<Tool[]> {
      if (options.mode === 'search') return SEARCH_TOOLS;
      const { entries } = await load();
      return entries.map((e) => ({ name: e.tool, description: describeEntry(e), inputSchema: inputSchemaOf(e) as Tool['inputSchema'] }));
    },
    async callTool(name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> {
      const { entries, byTool } = await load();
      const known = (app: unknown, event: unknown) => entries.find((e) => e.accessTag === app && e.action.event === event);
      if (options.mode === 'tools') {
        const entry = byTool.get(name);
        if (!entry) return errorResult(new DuctapeError('NOT_FOUND', `No tool "${name}". List them with tools/list.`));
        return run(entry.accessTag, entry.action.event, args);
      }
      if (name === 'search_actions') {
        const limit = typeof args.limit === 'number' ? Math.min(50, Math.max(1, Math.floor(args.limit))) : 10;
        const found = searchCatalog(entries, String(args.query ?? ''), limit).map((e) => ({
          app: e.accessTag,
          event: e.action.event,
          method: e.action.method,
          path: e.action.path,
          ...(e.action.summary ? { summary: e.action.summary } : {}),
        }));
        return textResult(found, options.maxResultBytes);
      }
      if (name === 'describe_action' || name === 'run_action') {
        const entry = known(args.app, args.event);
        if (!entry) {
          return errorResult(new DuctapeError('NOT_FOUND', `No action "${String(args.event)}" of app "${String(args.app)}" is offered here. Find one with search_actions.`));
        }
        if (name === 'run_action') return run(entry.accessTag, entry.action.event, args.input);
        const rt = await ductape.services.runtime();
        const d = await describeStored(rt.store, rt.workspace, entry.app, entry.action.event);
        const brief = { app: entry.accessTag, event: d.event, method: d.method, path: d.path, summary: d.summary, description: d.description, input_schema: d.input_schema, example: d.example };
        return textResult(brief, options.maxResultBytes);
      }
      return errorResult(new DuctapeError('NOT_FOUND', `No tool "${name}": in search mode the tools are search_actions, describe_action and run_action.`));
    },
  };
}

/** One low-level MCP Server over the tool handlers (a fresh one per connection or per HTTP request is cheap). */
export function createMcpServer(tools: ReturnType<typeof createMcpTools>, version = '0.1.0'): Server {
  const server = new Server({ name: 'ductape', version }, { capabilities: { tools: {} } });
  server.setRequestHandler('tools/list', async () => ({ tools: await tools.listTools() }));
  server.setRequestHandler('tools/call', async (request) => tools.callTool(request.params.name, request.params.arguments ?? {}));
  return server;
}

/** The response body as JSON text (a string body as is), cut at `max` bytes with a note saying so. */
export function textResult(data: unknown, max: number): CallToolResult {
  const text = typeof data === 'string' ? data : data instanceof Uint8Array ? `(binary body of ${data.byteLength} bytes, not shown)` : jsonText(data, 2);
  const bytes = Buffer.byteLength(text);
  if (bytes <= max) return { content: [{ type: 'text', text }] };
  // Cut on a character boundary: the first `max` bytes, decoded, drop a split multi-byte character at the end.
  const cut = Buffer.from(text).subarray(0, max).toString('utf8').replace(/\uFFFD$/, '');
  return {
    content: [
      { type: 'text', text: cut },
      { type: 'text', text: `[Result cut: ${bytes} bytes, showing the first ${Buffer.byteLength(cut)} (max_result_bytes ${max}). Ask for less, e.g. with a limit or filter parameter.]` },
    ],
  };
}

/** A refused or failed run as a tool error the model can read: code, message, and the issues of INVALID_INPUT. */
export function errorResult(err: unknown): CallToolResult {
  const e = err instanceof DuctapeError ? err : new DuctapeError('CONFIG_ERROR', (err as Error)?.message ?? String(err));
  return { isError: true, content: [{ type: 'text', text: JSON.stringify(e.toJSON(), null, 2) }] };
}

/**
 * `POST /mcp` for `ductape serve` (API.md §10): a fetch-style handler over the given tools, served statelessly per
 * request by the SDK's createMcpHandler. The server resolves the run key's product and env into the tools' options.
 *
 * @example const mcp = createMcpHttpHandler(createMcpTools(ductape, { product: key.product, env: key.env })); app.post('/mcp', (c) => mcp.fetch(c.req.raw));
 */
export function createMcpHttpHandler(tools: ReturnType<typeof createMcpTools>) {
  return createMcpHandler(() => createMcpServer(tools), { responseMode: 'json' });
}
