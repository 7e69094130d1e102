// Two `ductape serve` processes on one PostgreSQL and one Redis behind a proxy that alternates between them: the seed
// page's examples (examples/python/seed_examples.py) pass through both, a session started on one is honoured by the
// other, and the second identical cached run is answered from the cache the first process filled.
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineSeedWorkspace } from '../../examples/api/seed-workspace.js';
import { startExampleApi, type ExampleApi } from '../../examples/api/server.js';
import { Ductape } from '../../src/index.js';
import { hasPostgres, startPostgresServer, type PostgresServer } from '../helpers/postgres-server.js';
import { hasPython, runSeedExamples } from '../helpers/python.js';
import { hasRedisServer, startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { startServe, type ServeProcess } from '../helpers/serve.js';

const skip = !hasPython ? 'python3 is not installed' : !hasRedisServer ? 'redis-server is not installed' : !hasPostgres ? 'PostgreSQL 15 is not installed' : false;

let pgServer: PostgresServer;
let redis: RedisServer;
let dev: ExampleApi;
let prd: ExampleApi;
const serves: ServeProcess[] = [];
let proxy: Server;
let proxyUrl: string;
const served = [0, 0];
let key: string;

/** A loopback proxy sending request n to serve process n % 2 (what a round-robin load balancer does). */
async function startAlternatingProxy(targets: string[]): Promise<Server> {
  let n = 0;
  const server = createServer((req, res) => {
    const i = n++ % targets.length;
    served[i]++;
    const target = new URL(targets[i]);
    const upstream = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode!, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', (err) => {
      res.writeHead(502);
      res.end(String(err));
    });
    req.pipe(upstream);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return server;
}

beforeAll(async () => {
  if (skip) return;
  pgServer = await startPostgresServer();
  redis = await startRedisServer();
  const prdApiKey = `sk_live_${randomBytes(12).toString('hex')}`;
  dev = await startExampleApi({ name: 'dev' });
  prd = await startExampleApi({ name: 'prd', apiKey: prdApiKey });
  const env = { DUCTAPE_WORKSPACE: 'seed', DUCTAPE_USER: 'scale@acme.test', DUCTAPE_PRIVATE_KEY: 'scale-out-key-0123456789', DUCTAPE_STORE: pgServer.url, DUCTAPE_CACHE: redis.url };
  const d = new Ductape({ workspace_id: 'seed', private_key: env.DUCTAPE_PRIVATE_KEY, store: env.DUCTAPE_STORE, cache: env.DUCTAPE_CACHE, revision_poll_ms: 0 });
  await defineSeedWorkspace(d, { dev: `${dev.url}/v1`, prd: `${prd.url}/v1`, prdApiKey });
  key = (await d.keys.create({ name: 'scale', role: 'admin' })).key;
  await d.close();
  serves.push(await startServe(env), await startServe(env));
  proxy = await startAlternatingProxy(serves.map((s) => s.url));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
}, 240_000);

afterAll(async () => {
  await new Promise<void>((r) => (proxy ? proxy.close(() => r()) : r()));
  for (const s of serves) await s.stop();
  await dev?.close();
  await prd?.close();
  await redis?.stop();
  await pgServer?.stop();
});

describe.skipIf(skip)(`two serve processes on PostgreSQL + Redis${skip ? ` (skipped: ${skip})` : ''}`, () => {
  it('pass the seed examples with requests alternating between them', async () => {
    const r = await runSeedExamples(proxyUrl, key);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('all seed examples passed');
    // The second cached run went to the other process than the first, and was answered from the shared cache.
    expect(r.stdout).toMatch(/Caching and retries \(second run\): .* -> 200 \(cached\)/);
    expect(served[0]).toBeGreaterThanOrEqual(5);
    expect(served[1]).toBeGreaterThanOrEqual(5);
    for (const s of serves) expect((await fetch(`${s.url}/readyz`)).status).toBe(200);
  }, 180_000);

  it('a serve process whose PostgreSQL stops answering reports not ready, and still drains on SIGTERM and exits 0', async () => {
    // Before: closing the store waited for the server to acknowledge the goodbye of the LISTEN connection, which a
    // frozen server (or one cut off by the network) never does: SIGTERM left the process running for good.
    const env = { DUCTAPE_WORKSPACE: 'seed', DUCTAPE_PRIVATE_KEY: 'scale-out-key-0123456789', DUCTAPE_STORE: pgServer.url };
    const extra = await startServe(env);
    pgServer.pause();
    try {
      expect((await fetch(`${extra.url}/readyz`)).status).toBe(503);
      // stop() sends SIGTERM, and SIGKILL 20 s later (then the code is null).
      expect(await extra.stop(), extra.stderr()).toBe(0);
    } finally {
      pgServer.resume();
    }
    for (const s of serves) expect((await fetch(`${s.url}/readyz`)).status).toBe(200);
  }, 120_000);
});
