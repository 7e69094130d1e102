// Operations around runs: execute an action, read run logs, clear response caches (API.md §4–5).
import { z } from 'zod';
import type { RunEnvelope } from '../client.js';
import { cacheKeyPrefix } from '../cache/index.js';
import { noteCacheClear } from '../runtime/cache.js';
import type { IActionProcessorInput } from '../runtime/context.js';
import type { LogQuery, RunLogRow } from '../store/store.js';
import { requireProduct } from '../workspace/products.js';
import { NotFoundError } from '../errors.js';
import { toWire } from '../model/json.js';
import { jsonOption, numberOption, timeOption } from './cli-parsers.js';
import { table } from './format.js';
import { operation } from './operation.js';
import { product, runInput, time } from './schemas.js';

export const runOperations = {
  'actions.execute': operation<IActionProcessorInput, RunEnvelope>({
    name: 'actions.execute',
    summary: 'Run an action of a connected app and answer the whole envelope.',
    description:
      'Answers `{ status, headers, data, attempts, cached, durationMs, request }` (auth values redacted); over HTTP a binary body comes as base64 with `encoding: "base64"`. `actions.run` takes the same input and resolves to `data` alone.',
    input: runInput(),
    handler: (s, i) => s.execute(i),
    http: { method: 'POST', path: '/v1/actions/run' },
    role: 'run',
    // The client defines actions.run/execute itself: they are the hot path and generic in the response type.
    sdk: false,
    cli: {
      command: 'run',
      options: {
        input: false,
        body: { flag: '--body <json>', description: 'request body (JSON)', parse: jsonOption('body') },
        query: { flag: '--query <json>', description: 'query params (JSON object)', parse: jsonOption('query') },
        params: { flag: '--params <json>', description: 'path params (JSON object)', parse: jsonOption('params') },
        headers: { flag: '--headers <json>', description: 'headers (JSON object)', parse: jsonOption('headers') },
        timeout: { flag: '--timeout <ms>', description: 'per-attempt timeout in ms', parse: numberOption('timeout') },
        session: { flag: '--session <tag:token>', description: 'session as tag:token' },
      },
      prepare: ({ body, query, params, headers, ...rest }) => {
        const input = Object.fromEntries(Object.entries({ body, query, params, headers }).filter(([, v]) => v !== undefined));
        return { ...rest, input };
      },
      // Bytes as `ductape serve` answers them: base64 with encoding: 'base64' (output.ts writes any other bytes as base64).
      invoke: async (call, input) => {
        const e = await call(input);
        return e.data instanceof Uint8Array ? ({ ...e, data: toWire(e.data), encoding: 'base64' } as RunEnvelope) : e;
      },
      human: (e) => {
        const bytes = (e as { encoding?: string }).encoding === 'base64' ? Buffer.byteLength(e.data as string, 'base64') : undefined;
        const data = bytes !== undefined ? `(${bytes} bytes of ${e.headers['content-type'] ?? 'binary data'}; --json gives them as base64)` : typeof e.data === 'string' ? e.data : JSON.stringify(e.data, null, 2);
        return `${e.request.method} ${e.request.url} → ${e.status} (${e.durationMs} ms, attempts ${e.attempts}${e.cached ? ', cached' : ''})\n${data ?? ''}`;
      },
    },
  }),
  'logs.query': operation<LogQuery | void, RunLogRow[]>({
    name: 'logs.query',
    summary: 'Read run logs, newest first.',
    input: z
      .strictObject({
        product: z.string().optional().describe('product tag'),
        app: z.string().optional().describe('access tag'),
        event: z.string().optional().describe('action event tag'),
        owner: z.string().optional().describe("runs of one end user's connection"),
        status: z.union([z.number().int(), z.enum(['ok', 'error'])], { error: "expected an HTTP status (such as 404), 'ok' or 'error'" }).optional().describe("HTTP status, 'ok' or 'error'"),
        since: time().optional().describe('ISO time or epoch ms; a time without a zone is UTC'),
        limit: z
          .number({ error: 'expected a whole number of rows from 1 to 10000' })
          .int({ error: 'expected a whole number of rows from 1 to 10000' })
          .min(1, { error: 'expected a whole number of rows from 1 to 10000 (the newest come first)' })
          .max(10_000, { error: 'expected at most 10000 rows; narrow the query with since, product or app' })
          .optional()
          .describe('rows (default 100; the CLI shows 20)'),
      })
      .optional(),
    handler: async (s, q) => {
      const rt = await s.runtime();
      await rt.logs.flush();
      return rt.store.queryLogs(rt.workspace, q ?? {});
    },
    http: { method: 'GET', path: '/v1/logs' },
    cli: {
      command: 'logs',
      options: {
        status: { flag: '--status <status>', description: "HTTP status, 'ok' or 'error'", parse: (v) => (/^\d+$/.test(v) ? Number(v) : v) },
        limit: { flag: '--limit <n>', description: 'rows, newest first', parse: numberOption('limit'), initial: 20 },
        since: { flag: '--since <time>', description: 'ISO 8601 time (2026-12-06T09:00:00Z; UTC when no zone is given) or epoch ms', parse: timeOption },
      },
      human: (r) =>
        r.length
          ? table(
              r.map((l) => ({
                time: l.time,
                product: l.product,
                env: l.env,
                app: l.app,
                event: l.event,
                status: l.status,
                ms: l.durationMs,
                attempts: l.attempts,
                cached: l.cached ? 'yes' : '',
                error: l.errorCode ?? '',
              })),
            )
          : '(no runs logged)',
    },
  }),
  'caches.clear': operation<{ product: string; tag?: string }, { cleared: number }>({
    name: 'caches.clear',
    summary: "Remove a cache's stored entries (every cache of the product without tag).",
    description: "With a 'memory' cache this clears only the process that serves the call.",
    input: z.strictObject({ product: product(), tag: z.string().optional().describe('cache tag') }),
    handler: async (s, { product, tag }) => {
      const rt = await s.runtime();
      const def = await requireProduct(rt.store, rt.workspace, product);
      const known = Object.keys(def.caches ?? {});
      if (tag !== undefined && !known.includes(tag)) throw new NotFoundError('cache', tag, known, 'Create it with products.caches.create.', `in product "${product}"`);
      const prefix = cacheKeyPrefix({ workspace: rt.workspace, product, cacheTag: tag });
      noteCacheClear(rt, prefix);
      return { cleared: await rt.cache.clear(prefix) };
    },
    http: { method: 'POST', path: '/v1/caches/clear' },
    cli: { command: 'caches clear', human: (x) => `Cleared ${x.cleared} entr${x.cleared === 1 ? 'y' : 'ies'}` },
  }),
};
