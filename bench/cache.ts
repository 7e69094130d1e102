// Cache hits: runs per second for a cached GET with 3 query params (one process, one core), against raw undici.
import { Agent } from 'undici';
import Ductape from '../dist/index.js';
import { concurrent, median, report, startUpstreamProcess, tempStore } from './lib.js';

export async function benchCache(): Promise<void> {
  const upstream = await startUpstreamProcess();
  const ductape = new Ductape({ workspace_id: 'bench', private_key: 'bench-private-key', store: tempStore(), revision_poll_ms: 0 });
  try {
    await ductape.apps.create({ tag: 'catalog-api', envs: [{ slug: 'prd', base_url: `${upstream.url}/v1` }] });
    await ductape.apps.actions.create({
      app: 'catalog-api', event: 'list_products', method: 'GET', path: '/products',
      schemas: { query: { type: 'object', properties: { category: { type: 'string' }, limit: { type: 'integer' }, sort: { type: 'string' } } } },
    });
    await ductape.products.create({ tag: 'catalog', envs: ['prd'] });
    await ductape.products.apps.connect({ product: 'catalog', app: 'catalog-api' });
    await ductape.products.caches.create({ product: 'catalog', tag: 'products-list', expiry: 600_000 });
    const run = () =>
      ductape.actions.run({
        env: 'prd', product: 'catalog', app: 'catalog-api', event: 'list_products',
        input: { query: { category: 'electronics', limit: 20, sort: 'price' } }, cache: 'products-list',
      });
    const agent = new Agent({ connections: 128, keepAliveTimeout: 10_000 });
    const raw = async () => {
      const res = await agent.request({ origin: upstream.url, path: '/v1/products?category=electronics&limit=20&sort=price', method: 'GET' });
      return res.body.json();
    };
    await concurrent(run, 20_000, 1);
    await concurrent(raw, 2_000, 1);
    const hits: number[] = [];
    const raws: number[] = [];
    for (let round = 0; round < 5; round++) {
      hits.push(await concurrent(run, 50_000, 1));
      raws.push(await concurrent(raw, 5_000, 1));
    }
    report('cache_hit_runs_per_s', median(hits), 'runs/s');
    report('undici_get_per_s', median(raws), 'req/s');
    report('cache_hit_vs_undici', median(hits) / median(raws), 'ratio');
    await agent.close();
  } finally {
    await ductape.close();
    await upstream.stop();
  }
}
