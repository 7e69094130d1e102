// A fault-injecting loopback HTTP server: scripted answers per request, resets, refusals, storms and slow or cut bodies.
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { refusedPort } from './ports.js';

type Body = string | Uint8Array | Record<string, unknown> | unknown[] | null;

/** One scripted answer. Without `fault`, a normal response (JSON when the body is an object or array). */
export type FaultStep =
  | {
      fault?: undefined;
      status?: number;
      headers?: Record<string, string | string[]>;
      body?: Body;
      /** Wait this long before sending anything (slow headers). */
      headersDelayMs?: number;
      /** Send the headers, then trickle the body in `bodyChunks` pieces with this wait before each (slow body). */
      bodyDelayMs?: number;
      /** @default 1 */
      bodyChunks?: number;
    }
  /** Destroy the connection without answering (the request arrived; no response). */
  | { fault: 'reset' }
  /** Send headers promising the whole body, half of it, then destroy the connection. */
  | { fault: 'reset-mid-body'; status?: number; headers?: Record<string, string>; body: Body }
  /** A well-formed HTTP response whose JSON body is cut in half (Content-Length matches what is sent). */
  | { fault: 'truncate-json'; status?: number; body: Record<string, unknown> | unknown[] }
  /** Read the request and never answer (until the server closes). */
  | { fault: 'hang' };

export interface RecordedRequest {
  method: string;
  /** Path and query as received. */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The body as UTF-8 text. */
  text: string;
  /** When the request head arrived (performance.now() in this process), to measure waits between attempts. */
  at: number;
}

export interface FaultServerOptions {
  /** Answers used in order, one per request. */
  script?: FaultStep[];
  /** Answer once the script is used up. @default { status: 200, body: { ok: true } } */
  fallback?: FaultStep;
  /** Computes the answer instead of the script (n counts from 0). */
  handler?: (req: RecordedRequest, n: number) => FaultStep | Promise<FaultStep>;
}

export interface FaultServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  readonly requests: RecordedRequest[];
  /** Requests received so far. */
  readonly count: number;
  /** Appends answers to the script. */
  enqueue(...steps: FaultStep[]): void;
  setFallback(step: FaultStep): void;
  /** Stops listening and drops open connections: every later connection is refused (ECONNREFUSED). */
  refuse(): Promise<void>;
  /** Listens on the same port again after refuse(). */
  resume(): Promise<void>;
  close(): Promise<void>;
}

/** Starts a server on 127.0.0.1 and a free port. Close it when the test ends (e.g. `onTestFinished(s.close)`). */
export async function startFaultServer(options: FaultServerOptions = {}): Promise<FaultServer> {
  const script = [...(options.script ?? [])];
  let fallback: FaultStep = options.fallback ?? { status: 200, body: { ok: true } };
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const wait = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(() => (timers.delete(t), resolve()), ms);
      timers.add(t);
    });

  const server = createServer(async (req, res) => {
    const at = performance.now();
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const recorded: RecordedRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, text: body.toString('utf8'), at };
    const n = requests.push(recorded) - 1;
    const step = options.handler ? await options.handler(recorded, n) : (script.shift() ?? fallback);
    try {
      await answer(step, res, wait);
    } catch {
      res.destroy();
    }
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  // Port 0 the first time (the OS picks one: no window in which another listener takes it), then the same port again.
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', () => ((port = (server.address() as AddressInfo).port), resolve())));
  const stop = async () => {
    for (const t of timers) clearTimeout(t);
    timers.clear();
    // Keep-alive connections would otherwise keep serving pooled clients after the listener is gone.
    for (const s of sockets) s.destroy();
    if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  await listen();

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    get count() {
      return requests.length;
    },
    enqueue: (...steps) => void script.push(...steps),
    setFallback: (step) => void (fallback = step),
    refuse: stop,
    resume: listen,
    close: stop,
  };
}

async function answer(step: FaultStep, res: ServerResponse, wait: (ms: number) => Promise<void>): Promise<void> {
  switch (step.fault) {
    case 'reset':
      res.socket?.destroy();
      return;
    case 'hang':
      return;
    case 'reset-mid-body': {
      const { bytes, type } = encode(step.body);
      res.writeHead(step.status ?? 200, { 'content-type': type, 'content-length': String(bytes.length), ...step.headers });
      const half = bytes.subarray(0, Math.floor(bytes.length / 2));
      await new Promise<void>((resolve) => res.write(half, () => resolve()));
      res.socket?.destroy();
      return;
    }
    case 'truncate-json': {
      const text = JSON.stringify(step.body);
      const cut = Buffer.from(text.slice(0, Math.floor(text.length / 2)));
      res.writeHead(step.status ?? 200, { 'content-type': 'application/json', 'content-length': String(cut.length) });
      res.end(cut);
      return;
    }
    default: {
      if (step.headersDelayMs) await wait(step.headersDelayMs);
      const { bytes, type } = encode(step.body ?? null);
      const headers: Record<string, string | string[]> = { 'content-length': String(bytes.length), ...step.headers };
      if (type && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = type;
      res.writeHead(step.status ?? 200, headers);
      if (!step.bodyDelayMs) return void res.end(bytes);
      res.flushHeaders();
      const pieces = Math.max(1, step.bodyChunks ?? 1);
      const size = Math.ceil(bytes.length / pieces);
      for (let i = 0; i < pieces; i++) {
        await wait(step.bodyDelayMs);
        if (res.destroyed) return;
        res.write(bytes.subarray(i * size, (i + 1) * size));
      }
      res.end();
    }
  }
}

function encode(body: Body): { bytes: Buffer; type: string } {
  if (body === null) return { bytes: Buffer.alloc(0), type: '' };
  if (typeof body === 'string') return { bytes: Buffer.from(body), type: 'text/plain; charset=utf-8' };
  if (body instanceof Uint8Array) return { bytes: Buffer.from(body), type: 'application/octet-stream' };
  return { bytes: Buffer.from(JSON.stringify(body)), type: 'application/json' };
}

/** A JSON answer. */
export function json(status: number, body: Record<string, unknown> | unknown[], headers: Record<string, string> = {}): FaultStep {
  return { status, body, headers };
}

/** `n` answers of `status` (503 by default), with `Retry-After: retryAfter` when given (seconds or a Date). */
export function storm(n: number, options: { status?: number; retryAfter?: number | Date } = {}): FaultStep[] {
  const headers: Record<string, string> = {};
  if (options.retryAfter instanceof Date) headers['retry-after'] = options.retryAfter.toUTCString();
  else if (options.retryAfter !== undefined) headers['retry-after'] = String(options.retryAfter);
  return Array.from({ length: n }, () => ({ status: options.status ?? 503, headers, body: { error: 'unavailable' } }));
}

/** A 429 whose Retry-After is an HTTP date. */
export function rateLimitedUntil(date: Date): FaultStep {
  return { status: 429, headers: { 'retry-after': date.toUTCString() }, body: { error: 'rate_limited' } };
}

/** An origin nothing listens on: connecting is refused. */
export async function refusedOrigin(): Promise<string> {
  return `http://127.0.0.1:${await refusedPort()}`;
}
