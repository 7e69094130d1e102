// `ductape run` and `ductape logs`: run an action and read run logs.
import type { Command } from 'commander';
import { json, withClient } from '../context.js';
import { table } from '../output.js';

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('Run an action of a connected app')
    .requiredOption('--env <slug>', 'product env')
    .requiredOption('--product <tag>', 'product tag')
    .requiredOption('--app <access_tag>', 'access tag of the connected app')
    .requiredOption('--event <event>', 'action event')
    .option('--body <json>', 'request body (JSON)', json('body'))
    .option('--query <json>', 'query params (JSON object)', json('query'))
    .option('--params <json>', 'path params (JSON object)', json('params'))
    .option('--headers <json>', 'headers (JSON object)', json('headers'))
    .option('--cache <tag>', 'cache tag of the product')
    .option('--retries <n>', 'extra attempts', (v) => Number(v))
    .option('--timeout <ms>', 'per-attempt timeout in ms', (v) => Number(v))
    .option('--session <tag:token>', 'session as tag:token')
    .action(function (this: Command) {
      const o = this.opts();
      return withClient(this, async (d, out) => {
        const input = Object.fromEntries(
          Object.entries({ body: o.body, query: o.query, params: o.params, headers: o.headers }).filter(([, v]) => v !== undefined),
        );
        const envelope = await d.actions.execute({
          env: o.env,
          product: o.product,
          app: o.app,
          event: o.event,
          input,
          ...(o.cache ? { cache: o.cache } : {}),
          ...(o.retries !== undefined ? { retries: o.retries } : {}),
          ...(o.timeout !== undefined ? { timeout: o.timeout } : {}),
          ...(o.session ? { session: o.session } : {}),
        });
        out.print(envelope, (e) => {
          const data = typeof e.data === 'string' ? e.data : JSON.stringify(e.data, null, 2);
          return `${e.request.method} ${e.request.url} → ${e.status} (${e.durationMs} ms, attempts ${e.attempts}${e.cached ? ', cached' : ''})\n${data ?? ''}`;
        });
      });
    });

  program
    .command('logs')
    .description('Show recent run logs')
    .option('--product <tag>')
    .option('--app <tag>')
    .option('--event <event>')
    .option('--status <status>', "HTTP status, 'ok' or 'error'")
    .option('--since <time>', 'ISO time')
    .option('--limit <n>', 'rows (default 20)', (v) => Number(v), 20)
    .action(function (this: Command) {
      const o = this.opts();
      return withClient(this, async (d, out) => {
        const status = o.status === undefined ? undefined : /^\d+$/.test(o.status) ? Number(o.status) : o.status;
        const rows = await d.logs.query({ product: o.product, app: o.app, event: o.event, status, since: o.since, limit: o.limit });
        out.print(rows, (r) =>
          r.length
            ? table(
                r.map((l: Record<string, unknown>) => ({
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
        );
      });
    });
}
