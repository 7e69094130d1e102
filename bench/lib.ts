// Bench helpers: a separate-process upstream, percentiles, interleaved rounds, and the BENCH line format.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ductape from '../dist/index.js';

export function report(name: string, value: number, unit: string): void {
  const v = Math.abs(value) >= 100 ? value.toFixed(0) : value.toFixed(3);
  console.log(`BENCH ${name} ${v} ${unit}`);
}

export interface UpstreamProcess {
  url: string;
  child: ChildProcess;
  /** CPU time (µs, user + system) the upstream process has used so far. */
  cpuUs: () => Promise<number>;
  stop: () => Promise<void>;
}

export async function startUpstreamProcess(): Promise<UpstreamProcess> {
  const child = fork(fileURLToPath(new URL('./upstream.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve(m.port));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`bench upstream exited with ${code}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    cpuUs: () =>
      new Promise<number>((resolve) => {
        const onMessage = (m: { cpuUs?: number }) => {
          if (typeof m?.cpuUs !== 'number') return;
          child.off('message', onMessage);
          resolve(m.cpuUs);
        };
        child.on('message', onMessage);
        child.send('cpu');
      }),
    stop: () =>
      new Promise<void>((r) => {
        child.removeAllListeners('exit');
        child.once('exit', () => r());
        child.send('stop');
      }),
  };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Runs `count` calls of fn one after another; returns each latency in ms. */
export async function sequential(fn: () => Promise<unknown>, count: number): Promise<number[]> {
  const out: number[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    await fn();
    out[i] = performance.now() - t;
  }
  return out;
}

/** Runs `count` calls with `concurrency` workers; returns calls per second. */
export async function concurrent(fn: () => Promise<unknown>, count: number, concurrency: number): Promise<number> {
  let next = 0;
  const t = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < count) await fn();
    }),
  );
  return count / ((performance.now() - t) / 1000);
}

/**
 * CPU time (µs) this process's main thread has used so far, from Linux's per-thread schedstat (nanoseconds); undefined
 * elsewhere. At c=64 the client's main thread is what bounds its throughput: GC helper threads and the run-log thread
 * use the other cores.
 */
export function mainThreadCpuUs(): number | undefined {
  try {
    return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1000;
  } catch {
    return undefined;
  }
}

/**
 * CPU time (µs) a process has used so far, all its threads and its child processes (`serve --workers`) included, from
 * Linux's per-thread schedstat (nanoseconds; a process's /proc stat counts in 10 ms ticks). Linux only, as the bench.
 */
export function processTreeCpuUs(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    for (const child of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ')) if (child.trim()) ns += processTreeCpuUs(Number(child)) * 1000;
  }
  return ns / 1000;
}

/**
 * Like `concurrent`, and also the machine time one call costs: CPU µs of this process (client, its log-writer thread)
 * plus the upstream process, per call, and the client's main thread alone. CPU time is far steadier than wall time on
 * a shared machine.
 */
export async function concurrentWithCpu(
  fn: () => Promise<unknown>,
  count: number,
  concurrency: number,
  upstream: UpstreamProcess,
): Promise<{ perSecond: number; cpuUsPerCall: number; mainUsPerCall: number | undefined }> {
  const upstreamBefore = await upstream.cpuUs();
  const mainBefore = mainThreadCpuUs();
  const before = process.cpuUsage();
  const perSecond = await concurrent(fn, count, concurrency);
  const own = process.cpuUsage(before);
  const mainAfter = mainThreadCpuUs();
  const upstreamUs = (await upstream.cpuUs()) - upstreamBefore;
  const mainUsPerCall = mainBefore === undefined || mainAfter === undefined ? undefined : (mainAfter - mainBefore) / count;
  return { perSecond, cpuUsPerCall: (own.user + own.system + upstreamUs) / count, mainUsPerCall };
}

export const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);

const tempDirs: string[] = [];

/** A fresh SQLite file, as the embedded default uses (run logs then go through the writer thread). */
export function tempStore(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ductape-bench-'));
  // Each holds ~20 MB of run logs after a suite: removed when the bench process exits (the stores are closed by then,
  // or the process is going anyway), so that repeated runs do not fill the disk.
  if (tempDirs.length === 0) process.once('exit', () => tempDirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  tempDirs.push(dir);
  return `sqlite:${join(dir, 'bench.db')}`;
}

/**
 * The `run` benchmark's action (POST with a path param, a query param, a header and a JSON body, all validated) on a
 * new client at `baseUrl`; returns the client and one run of it. Shared by run.ts, pipeline.ts and profile.ts.
 */
export async function benchAction(baseUrl: string): Promise<{ ductape: Ductape; run: () => Promise<unknown> }> {
  const ductape = new Ductape({ workspace_id: 'bench', private_key: 'bench-private-key', store: tempStore(), revision_poll_ms: 0 });
  await ductape.apps.create({ tag: 'api', envs: [{ slug: 'prd', base_url: baseUrl }] });
  await ductape.apps.actions.create({
    app: 'api', event: 'update_item', method: 'POST', path: '/items/{id}',
    schemas: {
      params: { type: 'object', properties: { id: { type: 'string' } } },
      query: { type: 'object', properties: { expand: { type: 'string' } } },
      headers: { type: 'object', properties: { 'x-request-id': { type: 'string' } } },
      body: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, qty: { type: 'integer' } } },
    },
  });
  await ductape.products.create({ tag: 'shop', envs: ['prd'] });
  await ductape.products.apps.connect({ product: 'shop', app: 'api' });
  const run = () =>
    ductape.actions.run({
      env: 'prd', product: 'shop', app: 'api', event: 'update_item',
      input: { params: { id: 'item_1' }, query: { expand: 'tags' }, headers: { 'x-request-id': 'req_1' }, body: { name: 'Widget', qty: 3 } },
    });
  return { ductape, run };
}

export interface LoadClient {
  /** Sends the request on a free connection (waiting for one if all are busy); resolves to the answer's status and text. */
  send(): Promise<{ status: number; body: string }>;
  close(): void;
}

/**
 * A load generator for one HTTP/1.1 request sent over and over, as wrk or autocannon do: the request's bytes are built
 * once, each of `connections` keep-alive sockets carries one request at a time, and an answer is framed by its
 * Content-Length. Measuring a server from the same two cores, a general client (undici's request(), its body stream and
 * header objects) cost more CPU per request than the server's HTTP handling itself, so the figure said more about the
 * client than about the server. Every answer is still read whole and returned for the caller to check.
 */
export async function loadClient(
  origin: string,
  request: { method: string; path: string; headers: Record<string, string>; body?: string },
  connections: number,
): Promise<LoadClient> {
  const { hostname, port, host } = new URL(origin);
  const body = request.body ?? '';
  const head = [`${request.method} ${request.path} HTTP/1.1`, `host: ${host}`, ...Object.entries(request.headers).map(([k, v]) => `${k}: ${v}`), `content-length: ${Buffer.byteLength(body)}`];
  const bytes = Buffer.from(`${head.join('\r\n')}\r\n\r\n${body}`);
  interface Connection { socket: Socket; waiting?: { resolve: (r: { status: number; body: string }) => void; reject: (e: Error) => void } }
  const idle: Connection[] = [];
  const queue: ((c: Connection) => void)[] = [];
  const all: Connection[] = [];
  const settle = (c: Connection, outcome: Error | { status: number; body: string }) => {
    const waiting = c.waiting;
    c.waiting = undefined;
    if (outcome instanceof Error) return waiting?.reject(outcome);
    const next = queue.shift();
    if (next) next(c);
    else idle.push(c);
    waiting?.resolve(outcome);
  };
  for (let i = 0; i < connections; i++) {
    const socket = connect(Number(port), hostname);
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const c: Connection = { socket };
    let buf: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end === -1) return;
      const headText = buf.toString('latin1', 0, end);
      const length = /\r\ncontent-length:[ \t]*(\d+)/i.exec(headText);
      if (!length) return settle(c, new Error(`answer without Content-Length: ${headText.split('\r\n')[0]}`));
      const total = end + 4 + Number(length[1]);
      if (buf.length < total) return;
      const answer = { status: Number(headText.slice(9, 12)), body: buf.toString('utf8', end + 4, total) };
      buf = buf.subarray(total);
      settle(c, answer);
    });
    socket.on('error', (err) => settle(c, err));
    socket.on('close', () => settle(c, new Error('the server closed the connection')));
    all.push(c);
    idle.push(c);
  }
  return {
    send: () =>
      new Promise((resolve, reject) => {
        const write = (c: Connection) => {
          c.waiting = { resolve, reject };
          c.socket.write(bytes);
        };
        const c = idle.pop();
        if (c) write(c);
        else queue.push(write);
      }),
    close: () => all.forEach((c) => c.socket.destroy()),
  };
}
