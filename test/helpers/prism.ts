// Runs Prism (`prism mock --errors`) on 127.0.0.1 behind a recording proxy that enforces the spec's base path.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { createServer as createHttpServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect, type AddressInfo } from 'node:net';

const require = createRequire(import.meta.url);
/** The CLI entry of the pinned @stoplight/prism-cli (what node_modules/.bin/prism links to). */
export const PRISM_ENTRY = require.resolve('@stoplight/prism-cli/dist/index.js');

export interface PrismProcess {
  port: number;
  url: string;
  pid: number;
  /** The last lines Prism wrote (for error messages). */
  logTail: () => string;
  stop: () => Promise<void>;
}

export interface StartPrismOptions {
  /** A CommonJS module loaded into Prism's node process with --require (the judge's patches). */
  preload?: string;
  /** The judge proxy's rewrite of a request URL (base path removed) before Prism sees it (judge corrections). */
  route?: (url: string, headers: IncomingHttpHeaders, request: { method: string; body: Buffer }) => string;
  /** How long to wait for Prism to listen. @default 120_000 ms */
  readyTimeoutMs?: number;
}

/**
 * Starts `prism mock <spec> --errors` on a port the OS picks, and resolves once Prism says where it listens. Prism is
 * asked for port 0 rather than a port found free beforehand: Prism takes seconds to start, and meanwhile the same
 * port can go to another listener of the suite (a judge proxy of a spec judged in parallel). Prism then failed to
 * bind and exited, while the port already accepted connections, so the other spec's proxy stood in as this judge.
 */
export async function startPrism(spec: string, opts: StartPrismOptions = {}): Promise<PrismProcess> {
  const args = [...(opts.preload ? ['--require', opts.preload] : []), PRISM_ENTRY, 'mock', spec, '--host', '127.0.0.1', '--port', '0', '--errors'];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
  const lines: string[] = [];
  let port: number | undefined;
  const take = (raw: string) => {
    const line = raw.replace(/\x1b\[[0-9;]*m/g, '');
    // "[CLI] ▶  start     Prism is listening on http://127.0.0.1:41234", printed once the port is bound.
    port ??= Number(/Prism is listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(line)?.[1]) || undefined;
    if (line) lines.push(line);
    if (lines.length > 200) lines.splice(0, lines.length - 200);
  };
  // Lines are read per stream (a chunk may end mid-line); the last one needs no newline.
  for (const stream of [child.stdout!, child.stderr!]) {
    let partial = '';
    stream.on('data', (chunk: Buffer) => {
      const complete = (partial + chunk.toString('utf8')).split('\n');
      partial = complete.pop()!;
      complete.forEach(take);
    });
    stream.on('end', () => take(partial));
  }
  let exited: number | null | undefined;
  const exit = new Promise<void>((r) => child.once('exit', (code) => ((exited = code), r())));
  // After 'close' everything Prism wrote has been read (a refusal's reason included); 'exit' may come before that.
  const closed = new Promise<void>((r) => child.once('close', () => r()));
  const logTail = () => lines.slice(-20).join('\n');
  const stop = async () => {
    if (exited === undefined) {
      process.kill(child.pid!, 'SIGTERM');
      const timer = setTimeout(() => exited === undefined && process.kill(child.pid!, 'SIGKILL'), 5000);
      await exit;
      clearTimeout(timer);
    }
  };
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 120_000);
  while (port === undefined || !(await accepts(port))) {
    if (exited !== undefined) {
      await Promise.race([closed, new Promise((r) => setTimeout(r, 2000))]);
      // Prism prints its usage before the reason it refused (`Error: No operations found in the current file.`).
      const reason = lines.find((l) => /^\w*Error\b/.test(l));
      throw new Error(`prism exited (${exited}) before listening on ${spec}${reason ? `: ${reason}` : ''}:\n${logTail()}`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prism did not listen within ${opts.readyTimeoutMs ?? 120_000} ms on ${spec}:\n${logTail()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { port, url: `http://127.0.0.1:${port}`, pid: child.pid!, logTail, stop };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

/** One request as it reached the proxy, and Prism's verdict on it. */
export interface JudgedRequest {
  method: string;
  /** The URL as Ductape sent it (base path included). */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  status: number;
  /** Prism's `sl-violations` header, parsed ([] when absent). */
  violations: { location?: string[]; severity?: string; code?: string | number; message: string }[];
  /** Prism's response body as text (its 422 body holds the `validation` list). */
  responseBody: string;
}

export interface Judge {
  /** Base URL to configure for the app: the proxy's origin plus the spec's base path. */
  baseUrl: string;
  requests: JudgedRequest[];
  prism: PrismProcess;
  stop: () => Promise<void>;
}

/**
 * Starts Prism on `spec` behind a loopback proxy. Prism routes on the spec's path keys and ignores the server's base
 * path, so the proxy requires `basePath` (e.g. `/v1`), strips it and forwards the rest; a request without it gets a
 * 404 from the proxy, as the real server would give. Every request is recorded with Prism's answer.
 */
export async function startJudge(spec: string, basePath: string, opts: StartPrismOptions = {}): Promise<Judge> {
  const prism = await startPrism(spec, opts);
  const requests: JudgedRequest[] = [];
  const base = basePath.replace(/\/+$/, '');
  const proxy = createHttpServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const url = req.url!;
    const rec: JudgedRequest = { method: req.method!, url, headers: req.headers, body, status: 0, violations: [], responseBody: '' };
    requests.push(rec);
    const rest = url.slice(base.length);
    if (!url.startsWith(base) || !(rest === '' || rest.startsWith('/') || rest.startsWith('?'))) {
      rec.status = 404;
      rec.responseBody = `proxy: ${url} is outside the base path ${base}`;
      res.writeHead(404, { 'content-type': 'text/plain' }).end(rec.responseBody);
      return;
    }
    const plain = rest === '' || rest.startsWith('?') ? '/' + rest : rest;
    const forward = opts.route ? opts.route(plain, req.headers, { method: req.method!, body }) : plain;
    const headers = { ...req.headers, host: `127.0.0.1:${prism.port}` };
    const upstream = httpRequest({ host: '127.0.0.1', port: prism.port, method: req.method, path: forward, headers }, async (answer) => {
      const out: Buffer[] = [];
      for await (const c of answer) out.push(c as Buffer);
      rec.status = answer.statusCode ?? 0;
      rec.responseBody = Buffer.concat(out).toString('utf8');
      rec.violations = parseViolations(answer.headers['sl-violations']);
      res.writeHead(rec.status, answer.headers).end(Buffer.concat(out));
    });
    upstream.on('error', (err) => {
      rec.status = 502;
      rec.responseBody = `proxy: prism unreachable: ${err.message}\n${prism.logTail()}`;
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(rec.responseBody);
    });
    upstream.end(body);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  const { port } = proxy.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}${base}`,
    requests,
    prism,
    stop: async () => {
      proxy.closeAllConnections();
      await new Promise<void>((r) => proxy.close(() => r()));
      await prism.stop();
    },
  };
}

function parseViolations(header: string | string[] | undefined): JudgedRequest['violations'] {
  if (!header) return [];
  try {
    const list = JSON.parse(Array.isArray(header) ? header[0] : header);
    return Array.isArray(list) ? list : [];
  } catch {
    return [{ message: `unparsable sl-violations header: ${String(header)}` }];
  }
}
