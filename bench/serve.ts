// `ductape serve`: HTTP throughput against the SDK in process on the same action (c=64), and the cost of a key check.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Agent } from 'undici';
import Ductape from '../dist/index.js';
import { Ductape as SourceDuctape } from '../src/index.js';
import { KeyRing } from '../src/server/auth.js';
import { concurrent, median, report, startUpstreamProcess, tempStore } from './lib.js';

const BIN = fileURLToPath(new URL('../bin/ductape.js', import.meta.url));

export async function benchServe(): Promise<void> {
  await benchKeyCheck();
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
    stopServe = server.stop;
    const input = { env: 'prd', product: 'shop', app: 'api', event: 'update_item', input: { params: { id: 'item_1' }, body: { name: 'Widget', qty: 3 } } };
    const body = JSON.stringify(input);
    const agent = new Agent({ connections: 128, keepAliveTimeout: 10_000 });
    const http = async () => {
      const res = await agent.request({ origin: server.url, path: '/v1/actions/run', method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body });
      const envelope = (await res.body.json()) as { status: number };
      if (res.statusCode !== 200 || envelope.status !== 200) throw new Error(`serve answered ${res.statusCode}`);
    };
    const sdk = () => ductape.actions.execute(input);

    await concurrent(http, 2000, 16);
    await concurrent(sdk, 2000, 16);
    const httpTput: number[] = [];
    const sdkTput: number[] = [];
    for (let round = 0; round < 6; round++) {
      // Alternate which goes first so drift (GC, CPU frequency, neighbours) hits both equally.
      for (const which of round % 2 === 0 ? ['sdk', 'http'] : ['http', 'sdk']) {
        (which === 'sdk' ? sdkTput : httpTput).push(await concurrent(which === 'sdk' ? sdk : http, 3000, 64));
      }
    }
    report('serve_throughput_c64', median(httpTput), 'req/s');
    report('sdk_throughput_c64', median(sdkTput), 'req/s');
    // What the HTTP hop costs: the same runs served by a `ductape serve` process over loopback, against in-process.
    report('serve_vs_sdk_throughput_c64', median(httpTput) / median(sdkTput), 'ratio');
    await agent.close();
  } finally {
    await stopServe();
    await ductape.close();
    await upstream.stop();
  }
}

async function startServeProcess(store: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0'], {
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
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
