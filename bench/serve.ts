// `ductape serve`: HTTP throughput against the SDK in process on the same action (c=64), and the cost of a key check.
import { spawn } from 'node:child_process';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { getRequestListener } from '@hono/node-server';
import Ductape from '../dist/index.js';
import { Ductape as SourceDuctape } from '../src/index.js';
import { createServerApp } from '../src/server/app.js';
import { KeyRing } from '../src/server/auth.js';
import { concurrent, loadClient, median, processTreeCpuUs, report, startUpstreamProcess, tempStore, type LoadClient } from './lib.js';

const BIN = fileURLToPath(new URL('../bin/ductape.js', import.meta.url));

export async function benchServe(): Promise<void> {
  await benchKeyCheck();
  await benchHandler();
  await benchThroughput();
}

/**
 * One `Authorization` header checked against 1,000 live keys: the hot path, where the header's hash is remembered (two
 * map lookups); and a header seen for the first time (a regex, a SHA-256 and the lookups).
 */
async function benchKeyCheck(): Promise<void> {
  const d = new SourceDuctape({ workspace_id: 'bench', private_key: 'bench-private-key', store: ':memory:', revision_poll_ms: 0 });
  try {
    const headers: string[] = [];
    for (let i = 0; i < 1000; i++) headers.push(`Bearer ${(await d.keys.create({ name: `k${i}`, role: 'admin' })).key}`);
    const header = headers[999];
    const rt = await d.services.runtime();
    const ring = new KeyRing(rt.store, rt.workspace);
    await ring.refresh();
    const n = 200_000;
    for (let i = 0; i < n; i++) ring.check(header);
    const rounds: number[] = [];
    for (let r = 0; r < 5; r++) {
      const t = performance.now();
      for (let i = 0; i < n; i++) ring.check(header);
      rounds.push(((performance.now() - t) * 1000) / n);
    }
    report('key_check_us', median(rounds), 'us');
    const firstSeen: number[] = [];
    for (let r = 0; r < 5; r++) {
      let spent = 0;
      for (let k = 0; k < 50; k++) {
        const fresh = new KeyRing(rt.store, rt.workspace);
        await fresh.refresh();
        const t = performance.now();
        for (const h of headers) fresh.check(h);
        spent += performance.now() - t;
      }
      firstSeen.push((spent * 1000) / (50 * headers.length));
    }
    report('key_check_first_seen_us', median(firstSeen), 'us');
  } finally {
    await d.close();
  }
}

/**
 * The server's own CPU per `POST /v1/actions/run`, without sockets or upstream: real IncomingMessage/ServerResponse
 * objects on a socket that discards what is written, node-server's listener and the hono app (key check, body, schema,
 * envelope to JSON), with actions.execute answering a canned envelope. Unlike the throughput ratio this hardly moves
 * with the machine's load. Runs from source (tsx names every function it creates, so the built server is ~10 % below).
 */
async function benchHandler(): Promise<void> {
  const d = new SourceDuctape({ workspace_id: 'bench', private_key: 'bench-private-key', store: ':memory:', revision_poll_ms: 0 });
  try {
    await d.products.create({ tag: 'shop', envs: ['prd'] });
    const { key } = await d.keys.create({ name: 'bench', role: 'run', product: 'shop' });
    const rt = await d.services.runtime();
    const keys = new KeyRing(rt.store, rt.workspace);
    await keys.refresh();
    const envelope = {
      status: 200,
      headers: { 'content-type': 'application/json', 'content-length': '52', date: 'Mon, 07 Dec 2026 12:00:00 GMT', connection: 'keep-alive', 'keep-alive': 'timeout=5' },
      data: { id: 'item_1', name: 'Widget', qty: 3, updated: true },
      attempts: 1,
      cached: false,
      durationMs: 1.2,
      request: { method: 'POST', url: 'http://127.0.0.1:1234/v1/items/item_1' },
    };
    (d.actions as { execute: unknown }).execute = async () => envelope;
    const listener = getRequestListener(createServerApp(d, { keys, maxBodyBytes: 32 << 20, version: '0' }).fetch, { hostname: '127.0.0.1' });
    const body = Buffer.from(JSON.stringify({ env: 'prd', product: 'shop', app: 'api', event: 'update_item', input: { params: { id: 'item_1' }, body: { name: 'Widget', qty: 3 } } }));
    const headers = { host: '127.0.0.1:8080', authorization: `Bearer ${key}`, 'content-type': 'application/json', 'content-length': String(body.length) };
    const rawHeaders = Object.entries(headers).flat();
    const one = () => {
      const socket = new Duplex({ read() {}, write: (_c, _e, cb) => cb(), writev: (_c, cb) => cb() });
      const req = new IncomingMessage(socket as never);
      Object.assign(req, { method: 'POST', url: '/v1/actions/run', rawHeaders, headers, complete: true });
      req.push(body);
      req.push(null);
      const res = new ServerResponse(req);
      res.assignSocket(socket as never);
      return new Promise<void>((resolve, reject) => {
        res.on('finish', () => (res.statusCode === 200 ? resolve() : reject(new Error(`answered ${res.statusCode}`))));
        void listener(req, res);
      });
    };
    await concurrent(one, 20_000, 64);
    const rounds: number[] = [];
    for (let r = 0; r < 7; r++) {
      const cpu = process.cpuUsage();
      await concurrent(one, 20_000, 64);
      const used = process.cpuUsage(cpu);
      rounds.push((used.user + used.system) / 20_000);
    }
    report('serve_handler_cpu_us_per_req', median(rounds), 'us');
  } finally {
    await d.close();
  }
}

async function benchThroughput(): Promise<void> {
  const upstream = await startUpstreamProcess();
  const store = tempStore();
  const ductape = new Ductape({ workspace_id: 'bench', private_key: 'bench-private-key', store, revision_poll_ms: 0 });
  let stopServe = async () => {};
  try {
    await ductape.apps.create({ tag: 'api', envs: [{ slug: 'prd', base_url: `${upstream.url}/v1` }] });
    await ductape.apps.actions.create({
      app: 'api', event: 'update_item', method: 'POST', path: '/items/{id}',
      schemas: { body: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, qty: { type: 'integer' } } } },
    });
    await ductape.products.create({ tag: 'shop', envs: ['prd'] });
    await ductape.products.apps.connect({ product: 'shop', app: 'api' });
    const { key } = await ductape.keys.create({ name: 'bench', role: 'run', product: 'shop' });

    const server = await startServeProcess(store);
    // The same server with `--workers 2` (node:cluster), on the same store: a serve per core, as deployed.
    const server2 = await startServeProcess(store, ['--workers', '2']);
    stopServe = async () => {
      await server.stop();
      await server2.stop();
    };
    const input = { env: 'prd', product: 'shop', app: 'api', event: 'update_item', input: { params: { id: 'item_1' }, body: { name: 'Widget', qty: 3 } } };
    const body = JSON.stringify(input);
    // The load client is as light as a client can be (wrk-style: bytes built once, keep-alive, Content-Length framing,
    // see loadClient), so that on two shared cores the figure measures the server rather than its client.
    const request = { method: 'POST', path: '/v1/actions/run', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body };
    const clients = [await loadClient(server.url, request, 64), await loadClient(server2.url, request, 64)];
    const httpTo = (client: LoadClient) => async () => {
      const res = await client.send();
      if (res.status !== 200 || (JSON.parse(res.body) as { status: number }).status !== 200) throw new Error(`serve answered ${res.status}: ${res.body.slice(0, 200)}`);
    };
    const sides = { sdk: () => ductape.actions.execute(input), http: httpTo(clients[0]), http2: httpTo(clients[1]) };
    const servers = { sdk: undefined, http: server.pid, http2: server2.pid };
    const tput: Record<keyof typeof sides, number[]> = { sdk: [], http: [], http2: [] };
    // CPU per request of the calling process (the SDK itself, or the load client) and of the serve process (all its
    // threads, and its workers): unlike throughput, steady when three processes share two cores.
    const callerCpu: Record<keyof typeof sides, number[]> = { sdk: [], http: [], http2: [] };
    const serveCpu: Record<keyof typeof sides, number[]> = { sdk: [], http: [], http2: [] };

    for (const fn of Object.values(sides)) await concurrent(fn, 2000, 16);
    const order = Object.keys(sides) as (keyof typeof sides)[];
    for (let round = 0; round < 6; round++) {
      // Rotate which goes first so drift (GC, CPU frequency, neighbours) hits every side equally.
      for (let i = 0; i < order.length; i++) {
        const which = order[(round + i) % order.length];
        const pid = servers[which];
        const serveBefore = pid === undefined ? 0 : processTreeCpuUs(pid);
        const before = process.cpuUsage();
        tput[which].push(await concurrent(sides[which], 3000, 64));
        const own = process.cpuUsage(before);
        callerCpu[which].push((own.user + own.system) / 3000);
        if (pid !== undefined) serveCpu[which].push((processTreeCpuUs(pid) - serveBefore) / 3000);
      }
    }
    report('serve_throughput_c64', median(tput.http), 'req/s');
    report('sdk_throughput_c64', median(tput.sdk), 'req/s');
    // What the HTTP hop costs: the same runs served by a `ductape serve` process over loopback, against in-process.
    report('serve_vs_sdk_throughput_c64', median(tput.http) / median(tput.sdk), 'ratio');
    report('serve_workers2_throughput_c64', median(tput.http2), 'req/s');
    report('serve_workers2_vs_sdk_throughput_c64', median(tput.http2) / median(tput.sdk), 'ratio');
    report('sdk_cpu_us_per_run', median(callerCpu.sdk), 'us');
    report('serve_cpu_us_per_req', median(serveCpu.http), 'us');
    report('serve_workers2_cpu_us_per_req', median(serveCpu.http2), 'us');
    report('serve_load_client_cpu_us_per_req', median(callerCpu.http), 'us');
    // Runs per CPU-second, serve against the SDK: what the ratio above would be if the serve process had a core of its
    // own, as deployed, instead of sharing two with the load client and the upstream.
    report('serve_vs_sdk_per_cpu', median(callerCpu.sdk) / median(serveCpu.http), 'ratio');
    for (const client of clients) client.close();
  } finally {
    await stopServe();
    await ductape.close();
    await upstream.stop();
  }
}

async function startServeProcess(store: string, args: string[] = []): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...args], {
    env: { ...process.env, DUCTAPE_WORKSPACE: 'bench', DUCTAPE_PRIVATE_KEY: 'bench-private-key', DUCTAPE_STORE: store, DUCTAPE_USER: 'bench' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c) => {
      out += c;
      const m = /listening on (\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    void exited.then(() => reject(new Error('ductape serve exited before listening')));
  });
  return {
    url,
    pid: child.pid!,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
