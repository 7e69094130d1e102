// A separate process for the shared rate limit test: one client on the given Redis fires RUNS concurrent runs.
// Prints one JSON line: { ok, failed: [codes] }. Env: REDIS_URL, UPSTREAM_URL, RUNS, LIMIT (JSON), START_AT (epoch ms).
import { Ductape } from '../../src/index.js';

const env = process.env;
const ductape = new Ductape({
  workspace_id: 'acme',
  private_key: 'test-private-key-0123456789',
  store: ':memory:',
  cache: env.REDIS_URL,
  revision_poll_ms: 0,
});
await ductape.apps.create({ tag: 'api', envs: [{ slug: 'prd', base_url: env.UPSTREAM_URL! }] });
await ductape.apps.actions.create({ app: 'api', event: 'list_items', method: 'GET', path: '/items' });
await ductape.products.create({ tag: 'shop', envs: ['prd'] });
await ductape.products.apps.connect({ product: 'shop', app: 'api' });
await ductape.products.apps.configure({ product: 'shop', app: 'api', env: 'prd', rate_limit: JSON.parse(env.LIMIT!) });
// Both processes start together, so they really compete for the same slots.
await new Promise((r) => setTimeout(r, Math.max(0, Number(env.START_AT) - Date.now())));
const results = await Promise.allSettled(
  Array.from({ length: Number(env.RUNS) }, () => ductape.actions.run({ env: 'prd', product: 'shop', app: 'api', event: 'list_items' })),
);
await ductape.close();
const failed = results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason?.code ?? String((r as PromiseRejectedResult).reason));
process.stdout.write(JSON.stringify({ ok: results.length - failed.length, failed }) + '\n');
