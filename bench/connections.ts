// What a per-user connection adds to a warm run: the same GET with an end user's token (session → owner → token)
// vs. a shared bearer token, interleaved, p50 difference; and the run's first use of an owner (one store read).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Ductape from '../src/index.js';
import { median, report, sequential, startUpstreamProcess } from './lib.js';

const OWNERS = 200;

/** A token endpoint that grants every code (the bench measures Ductape, not the provider). */
async function startTokenEndpoint(): Promise<{ url: string; close: () => Promise<void> }> {
  let n = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ access_token: `at_bench_${++n}_0123456789`, refresh_token: `rt_bench_${n}_0123456789`, token_type: 'Bearer', expires_in: 3600 }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((r) => server.close(() => r())) };
}

export async function benchConnections(): Promise<void> {
  const upstream = await startUpstreamProcess();
  const tokens = await startTokenEndpoint();
  const ductape = new Ductape({ workspace_id: 'bench', private_key: 'bench-private-key', store: ':memory:', revision_poll_ms: 0 });
  try {
    await ductape.apps.create({ tag: 'api', envs: [{ slug: 'prd', base_url: upstream.url }] });
    await ductape.apps.actions.create({ app: 'api', event: 'get_item', method: 'GET', path: '/items/1' });
    await ductape.products.create({ tag: 'crm', envs: ['prd'] });
    await ductape.products.apps.connect({ product: 'crm', app: 'api', access_tag: 'shared' });
    await ductape.products.apps.connect({ product: 'crm', app: 'api', access_tag: 'mine' });
    await ductape.products.sessions.create({ product: 'crm', tag: 'user', sample: { user: { id: '1' } }, selector: '$Session{user}{id}' });
    await ductape.products.apps.configure({ product: 'crm', env: 'prd', app: 'shared', auth: { type: 'bearer', token: 'shared-bench-token-0123' } });
    await ductape.products.apps.configure({
      product: 'crm',
      env: 'prd',
      app: 'mine',
      per_user: '$Session{user}{id}',
      auth: { type: 'oauth2', grant: 'authorization_code', authorize_url: `${tokens.url}/authorize`, token_url: `${tokens.url}/token`, client_id: 'bench', redirect_uri: 'http://127.0.0.1:9/cb' },
    });
    const sessions: { tag: string; token: string }[] = [];
    for (let i = 0; i < OWNERS; i++) {
      const { state } = await ductape.connections.authorize({ product: 'crm', env: 'prd', app: 'mine', owner: String(i) });
      await ductape.connections.complete({ state, code: `code_${i}` });
      sessions.push({ tag: 'user', token: (await ductape.sessions.start({ product: 'crm', env: 'prd', tag: 'user', data: { user: { id: String(i) } } })).token });
    }
    const session = { tag: 'user', token: (await ductape.sessions.start({ product: 'crm', env: 'prd', tag: 'user', data: { user: { id: '0' } } })).token };
    const shared = () => ductape.actions.run({ env: 'prd', product: 'crm', app: 'shared', event: 'get_item', session });
    const mine = () => ductape.actions.run({ env: 'prd', product: 'crm', app: 'mine', event: 'get_item', session });

    // First use of each owner in this process: the connection record and the sealed token are read once. The
    // baseline is the same first run of a fresh session on the shared connection (a new session token is decrypted).
    const timed = async (app: string, s: { tag: string; token: string }) => {
      const t = performance.now();
      await ductape.actions.run({ env: 'prd', product: 'crm', app, event: 'get_item', session: s });
      return performance.now() - t;
    };
    const baseline: number[] = [];
    const first: number[] = [];
    for (const s of sessions.slice(0, OWNERS / 2)) baseline.push(await timed('shared', s));
    for (const s of sessions.slice(OWNERS / 2)) first.push(await timed('mine', s));
    report('connections_owner_first_run_p50_ms', median(first), 'ms');
    report('connections_fresh_session_shared_first_run_p50_ms', median(baseline), 'ms');

    await sequential(shared, 2000);
    await sequential(mine, 2000);
    const a: number[] = [];
    const b: number[] = [];
    for (let round = 0; round < 10; round++) {
      const order = round % 2 === 0 ? [shared, mine] : [mine, shared];
      for (const fn of order) (fn === shared ? a : b).push(...(await sequential(fn, 500)));
    }
    report('connections_warm_run_p50_ms', median(b), 'ms');
    report('connections_owner_vs_shared_p50_delta_us', (median(b) - median(a)) * 1000, 'us');
  } finally {
    await ductape.close();
    await tokens.close();
    await upstream.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchConnections();
