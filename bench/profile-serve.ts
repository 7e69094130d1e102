// The `ductape serve` hot path alone (POST /v1/actions/run at c=64, real upstream process), for a CPU profile of the
// serve process: `npx tsup && N=40000 PROF=/tmp/serve-prof node --import tsx bench/profile-serve.ts` runs the server
// with `--cpu-prof --cpu-prof-dir=$PROF` and prints the server's CPU time per request.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import Ductape from '../dist/index.js';
import { concurrent, loadClient, startUpstreamProcess, tempStore } from './lib.js';

const BIN = fileURLToPath(new URL('../bin/ductape.js', import.meta.url));
const upstream = await startUpstreamProcess();
const store = tempStore();
const ductape = new Ductape({ workspace_id: 'bench', private_key: 'bench-private-key', store, revision_poll_ms: 0 });
await ductape.apps.create({ tag: 'api', envs: [{ slug: 'prd', base_url: `${upstream.url}/v1` }] });
await ductape.apps.actions.create({ app: 'api', event: 'update_item', method: 'POST', path: '/items/{id}',
  schemas: { body: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, qty: { type: 'integer' } } } } });
await ductape.products.create({ tag: 'shop', envs: ['prd'] });
await ductape.products.apps.connect({ product: 'shop', app: 'api' });
const { key } = await ductape.keys.create({ name: 'bench', role: 'run', product: 'shop' });
await ductape.close();

const prof = process.env.PROF;
const child = spawn(process.execPath, [...(prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : []), BIN, 'serve', '--port', '0'], {
  env: { ...process.env, DUCTAPE_WORKSPACE: 'bench', DUCTAPE_PRIVATE_KEY: 'bench-private-key', DUCTAPE_STORE: store, DUCTAPE_USER: 'bench' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const exited = new Promise<void>((r) => child.once('exit', () => r()));
const url = await new Promise<string>((resolve) => {
  let out = '';
  child.stdout!.on('data', (c) => {
    out += c;
    const m = /listening on (\S+)/.exec(out);
    if (m) resolve(m[1]);
  });
});
const body = JSON.stringify({ env: 'prd', product: 'shop', app: 'api', event: 'update_item', input: { params: { id: 'item_1' }, body: { name: 'Widget', qty: 3 } } });
const client = await loadClient(url, { method: 'POST', path: '/v1/actions/run', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body }, 64);
const http = async () => {
  const res = await client.send();
  if (res.status !== 200) throw new Error(`serve answered ${res.status}`);
};
await concurrent(http, 3000, 64);
const n = Number(process.env.N ?? 40000);
const cpuBefore = await serverCpu();
const t = performance.now();
await concurrent(http, n, 64);
const seconds = (performance.now() - t) / 1000;
const cpuAfter = await serverCpu();
console.log(`serve ${Math.round(n / seconds)} req/s, server cpu ${((cpuAfter - cpuBefore) / n).toFixed(1)} us/req`);
client.close();
child.kill('SIGTERM');
await exited;
await upstream.stop();

/** The server process's CPU time (user + system) in µs, from /proc. */
async function serverCpu(): Promise<number> {
  const { readFileSync } = await import('node:fs');
  const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100;
}
