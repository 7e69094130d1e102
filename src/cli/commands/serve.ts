// `ductape serve`: the workspace over HTTP for services in any language (API.md §6); exits 0 after SIGTERM draining.
import type { Command } from 'commander';
import { Ductape } from '../../client.js';
import { ConfigError } from '../../errors.js';
import { normalizeServeOptions } from '../../options.js';
import type { GlobalOptions } from '../context.js';
import { createOutput } from '../output.js';

export function registerServe(program: Command, version: string): void {
  program
    .command('serve')
    .description('Serve the workspace over HTTP: runs, definitions, keys, OpenAPI at /v1/openapi.json, dashboard at /')
    .option('--host <host>', 'address to listen on (env DUCTAPE_HOST; default 127.0.0.1)')
    .option('--port <port>', 'port (env DUCTAPE_PORT; default 8080; 0 picks a free one)')
    .option('--cache <url>', "'memory' or 'redis://…' (env DUCTAPE_CACHE)")
    .option('--max-body-bytes <n>', 'largest request body accepted (default 32 MiB)')
    .option('--workers <n>', "processes sharing the port: a number, or 'auto' for one per core (env DUCTAPE_WORKERS; default 1)")
    .action(async function (this: Command) {
      const g = this.optsWithGlobals() as GlobalOptions & { host?: string; port?: string; cache?: string; maxBodyBytes?: string; workers?: string };
      const out = createOutput(g.json === true);
      let ductape: Ductape | undefined;
      const workers = await import('../../server/workers.js');
      try {
        const listen = normalizeServeOptions({ host: g.host, port: g.port, max_body_bytes: g.maxBodyBytes, workers: g.workers });
        // Keys come from `ductape keys create`, another process: a memory store of this process can never hold one,
        // so every request would be refused with 401 (and each worker would have a workspace of its own).
        if ((g.store ?? process.env.DUCTAPE_STORE) === ':memory:') {
          throw new ConfigError("ductape serve needs a store that 'ductape keys create' can write to: with ':memory:' no API key can exist. Use sqlite:<path> or postgres://….", { option: 'store' });
        }
        if (listen.workers > 1 && !workers.isServeWorker()) {
          // The primary opens no store: each worker (this same command line, forked) is a complete `serve` process.
          const write = (stream: NodeJS.WriteStream) => (line: string) => stream.write(`${line}\n`);
          const cache = g.cache ?? process.env.DUCTAPE_CACHE ?? 'memory';
          if (cache === 'memory') {
            process.stderr.write('ductape serve: each worker keeps its own memory cache and rate limits; --cache redis://… shares them.\n');
          }
          process.exitCode = await workers.superviseWorkers(listen.workers, write(process.stdout), write(process.stderr));
          return;
        }
        // Unlike one-shot commands, a server watches for definition changes made by other processes (the default poll).
        ductape = new Ductape({
          workspace_id: g.workspace ?? process.env.DUCTAPE_WORKSPACE,
          user_id: g.user ?? process.env.DUCTAPE_USER,
          private_key: process.env.DUCTAPE_PRIVATE_KEY,
          store: g.store ?? process.env.DUCTAPE_STORE,
          cache: g.cache ?? process.env.DUCTAPE_CACHE,
        });
        // Loaded only here: one-shot commands start faster without the HTTP server and its dependencies.
        const { startServer } = await import('../../server/serve.js');
        const server = await startServer(ductape, { ...listen, version });
        if (!workers.reportListening(server.url)) process.stdout.write(`ductape serve listening on ${server.url}\n`);
        await new Promise<void>((resolve) => {
          let stopping = false;
          const stop = () => {
            if (stopping) return;
            stopping = true;
            // A lone server lets a second Ctrl-C end it at once; a worker gets the terminal's SIGINT and then its
            // primary's SIGTERM, and must go on draining through the second.
            if (!workers.isServeWorker()) {
              process.off('SIGTERM', stop);
              process.off('SIGINT', stop);
            }
            void server.close().then(resolve, resolve);
          };
          process.on('SIGTERM', stop);
          process.on('SIGINT', stop);
        });
        process.exitCode = 0;
        // A worker's IPC channel to its primary would keep it alive once drained.
        if (workers.isServeWorker()) process.disconnect?.();
      } catch (err) {
        process.exitCode = out.error(err);
        await ductape?.close();
        // A worker that failed to start (an unreachable store) stayed alive through its IPC channel, and its primary,
        // waiting for that exit to stop them all and exit 1, waited for ever. Not disconnect() as after draining:
        // node's cluster then exits the worker with 0, and the primary would report the failure as "exited (0)".
        if (workers.isServeWorker()) process.exit();
      }
    });
}
