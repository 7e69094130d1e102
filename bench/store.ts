// PostgreSQL against the embedded SQLite store: warm run throughput (runs never touch the store, so the ratio should
// be ~1) and import speed of the Stripe spec. Starts its own PostgreSQL through the test helper, or says why not.
import { fileURLToPath } from 'node:url';
import Ductape from '../dist/index.js';
import { hasPostgres, startPostgresServer } from '../test/helpers/postgres-server.js';
import { concurrent, median, report, startUpstreamProcess, tempStore } from './lib.js';

const STRIPE = fileURLToPath(new URL('../test/fixtures/specs/stripe-api-2020-08-27-spec3-2022-04.json', import.meta.url));
const client = (store: string, workspace = 'bench') => new Ductape({ workspace_id: workspace, private_key: 'bench-private-key', store, revision_poll_ms: 0 });

export async function benchStore(): Promise<void> {
  if (!hasPostgres) {
    console.log('BENCH pg_run_vs_sqlite_run_throughput_c64 skipped: PostgreSQL is not installed (apt-get install postgresql-15)');
    console.log('BENCH pg_import_stripe_s skipped: PostgreSQL is not installed (apt-get install postgresql-15)');
    return;
  }
  const pg = await startPostgresServer();
  const upstream = await startUpstreamProcess();
  const sqlite = client(tempStore());
  const postgres = client(pg.url);
  try {
    for (const d of [sqlite, postgres]) {
      await d.apps.create({ tag: 'api', envs: [{ slug: 'prd', base_url: `${upstream.url}/v1` }] });
      await d.apps.actions.create({
        app: 'api', event: 'update_item', method: 'POST', path: '/items/{id}',
        schemas: { body: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, qty: { type: 'integer' } } } },
      });
      await d.products.create({ tag: 'shop', envs: ['prd'] });
      await d.products.apps.connect({ product: 'shop', app: 'api' });
    }
    const runOn = (d: Ductape) => () =>
      d.actions.run({ env: 'prd', product: 'shop', app: 'api', event: 'update_item', input: { params: { id: 'item_1' }, body: { name: 'Widget', qty: 3 } } });
    const runs = { sqlite: runOn(sqlite), postgres: runOn(postgres) };
    // Warm up both (connections, JIT, compiled plans): from here on a run reads nothing from either store.
    for (const fn of Object.values(runs)) await concurrent(fn, 2000, 16);
    const tput: Record<'sqlite' | 'postgres', number[]> = { sqlite: [], postgres: [] };
    for (let round = 0; round < 6; round++) {
      // Alternate which goes first so drift (GC, CPU frequency, neighbours) hits both equally.
      for (const which of round % 2 ? (['postgres', 'sqlite'] as const) : (['sqlite', 'postgres'] as const)) {
        tput[which].push(await concurrent(runs[which], 4000, 64));
      }
    }
    report('sqlite_run_throughput_c64', median(tput.sqlite), 'req/s');
    report('pg_run_throughput_c64', median(tput.postgres), 'req/s');
    report('pg_run_vs_sqlite_run_throughput_c64', median(tput.postgres) / median(tput.sqlite), 'ratio');

    const imports: Record<'sqlite' | 'postgres', number[]> = { sqlite: [], postgres: [] };
    for (let i = 0; i < 3; i++) {
      for (const [which, store] of [['sqlite', tempStore()], ['postgres', await pg.createDatabase(`import${i}`)]] as const) {
        const d = client(store);
        await d.ready();
        const t = performance.now();
        await d.apps.import({ app: 'stripe', file: STRIPE });
        imports[which].push((performance.now() - t) / 1000);
        await d.close();
      }
    }
    report('sqlite_file_import_stripe_s', median(imports.sqlite), 's');
    report('pg_import_stripe_s', median(imports.postgres), 's');
  } finally {
    await sqlite.close();
    await postgres.close();
    await upstream.stop();
    await pg.stop();
  }
}
