// The warm path alone (one action, c=64, real upstream process), for `node --import tsx --cpu-prof bench/profile.ts` (N=runs).
import Ductape from '../dist/index.js';
import { concurrent, startUpstreamProcess, tempStore } from './lib.js';
const upstream = await startUpstreamProcess();
const ductape = new Ductape({ workspace_id: 'bench', private_key: 'bench-private-key', store: tempStore(), revision_poll_ms: 0 });
await ductape.apps.create({ tag: 'api', envs: [{ slug: 'prd', base_url: `${upstream.url}/v1` }] });
await ductape.apps.actions.create({ app: 'api', event: 'update_item', method: 'POST', path: '/items/{id}', schemas: {
  params: { type: 'object', properties: { id: { type: 'string' } } },
  query: { type: 'object', properties: { expand: { type: 'string' } } },
  headers: { type: 'object', properties: { 'x-request-id': { type: 'string' } } },
  body: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, qty: { type: 'integer' } } } } });
await ductape.products.create({ tag: 'shop', envs: ['prd'] });
await ductape.products.apps.connect({ product: 'shop', app: 'api' });
const run = () => ductape.actions.run({ env: 'prd', product: 'shop', app: 'api', event: 'update_item',
  input: { params: { id: 'item_1' }, query: { expand: 'tags' }, headers: { 'x-request-id': 'req_1' }, body: { name: 'Widget', qty: 3 } } });
await concurrent(run, 5000, 64);
const n = Number(process.env.N ?? 60000);
const t = process.cpuUsage();
await concurrent(run, n, 64);
const c = process.cpuUsage(t);
console.log('client cpu us/req', (c.user + c.system) / n);
await ductape.close(); await upstream.stop();
