// Runs `ductape serve`: the hono app on a node HTTP server, keys kept fresh, and SIGTERM draining (API.md §6).
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import type { Ductape } from '../client.js';
import { ConfigError } from '../errors.js';
import { DEFAULTS } from '../options.js';
import { createServerApp } from './app.js';
import { KeyRing } from './auth.js';

export interface ServeOptions {
  host: string;
  port: number;
  /** @default DEFAULTS.serveMaxBodyBytes */
  maxBodyBytes?: number;
  version: string;
}

export interface RunningServer {
  url: string;
  /** Stops accepting requests, lets those in flight finish (up to DEFAULTS.serveDrainMs), flushes logs, closes the client. */
  close(): Promise<void>;
}

export async function startServer(ductape: Ductape, opts: ServeOptions): Promise<RunningServer> {
  const rt = await ductape.services.runtime();
  const keys = new KeyRing(rt.store, rt.workspace);
  await keys.start();
  let draining = false;
  const app = createServerApp(ductape, { keys, maxBodyBytes: opts.maxBodyBytes ?? DEFAULTS.serveMaxBodyBytes, version: opts.version });
  const listener = getRequestListener(app.fetch, { hostname: opts.host });
  const server = createServer((req, res) => {
    // While draining, answers tell clients to close the connection so that no new request starts on it (node closes
    // it after the answer). Done here rather than as hono middleware, which every request would pass through.
    if (draining) res.setHeader('connection', 'close');
    void listener(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    const fail = (err: NodeJS.ErrnoException) => reject(listenError(err, opts.host, opts.port));
    server.once('error', fail);
    server.listen(opts.port, opts.host, () => (server.off('error', fail), resolve()));
  });
  // Longer than the idle timeout of common load balancers (60 s): otherwise the server may close a kept-alive
  // connection just as the balancer (or any client) sends the next request on it, which fails that request.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      draining = true;
      keys.stop();
      const stopped = new Promise<void>((r) => server.close(() => r()));
      // Responses sent while draining say `Connection: close` (above), so busy connections end after their answer;
      // idle keep-alive ones are closed now and again while waiting, as in-flight answers finish.
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((r) => (timer = setTimeout(r, DEFAULTS.serveDrainMs)));
      const sweep = setInterval(() => server.closeIdleConnections(), 50);
      server.closeIdleConnections();
      await Promise.race([stopped, deadline]);
      clearInterval(sweep);
      clearTimeout(timer);
      server.closeAllConnections();
      await stopped;
      await ductape.close();
    })());
  return { url: `http://${host}:${port}`, close };
}

/** Why the server cannot listen, in the terms of the options that chose the address. */
function listenError(err: NodeJS.ErrnoException, host: string, port: number): Error {
  const where = `${host}:${port}`;
  const why: Record<string, string> = {
    EADDRINUSE: `Port ${port} on ${host} is already in use by another process. Choose another with --port (env DUCTAPE_PORT), or stop that process.`,
    EADDRNOTAVAIL: `Cannot listen on ${where}: ${host} is not an address of this machine. Use --host 127.0.0.1, 0.0.0.0 or one of its own addresses.`,
    EACCES: `Not allowed to listen on ${where}: ports below 1024 need privileges. Use a port of 1024 or more.`,
  };
  const message = err.code ? why[err.code] : undefined;
  return message ? new ConfigError(message, { option: err.code === 'EADDRINUSE' || err.code === 'EACCES' ? 'port' : 'host', errno: err.code }, { cause: err }) : err;
}
