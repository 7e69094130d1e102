// `npm run demo`: starts the example API twice (dev and prd) on 127.0.0.1, imports its OpenAPI file into an
// embedded SQLite workspace, and runs every example of the "Running Actions" page against it.
// `npm run demo -- --serve` then keeps the example API up and serves the workspace over HTTP with an admin key until
// Ctrl-C, so examples/curl.md and examples/python/seed_examples.py have a workspace to run against.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Ductape, { DuctapeError, type IActionProcessorInput } from '../src/index.js';
import { startServer } from '../src/server/serve.js';
import { defineSeedWorkspace, SEED_PRODUCTS } from './api/seed-workspace.js';
import { startExampleApi } from './api/server.js';

const STORE = fileURLToPath(new URL('../.ductape/demo.db', import.meta.url));

export interface DemoServe {
  /** 0 picks a free port. */
  port: number;
  /** Called once the server listens; the demo keeps serving until the promise it returns settles. */
  until: (url: string, key: string) => Promise<void>;
}

export async function demo(log: (line: string) => void = console.log, opts: { serve?: DemoServe } = {}): Promise<{ runs: number }> {
  // prd wants a bearer API key; Ductape keeps it as a sealed secret scoped to prd.
  const prdApiKey = `sk_live_${randomBytes(12).toString('hex')}`;
  const dev = await startExampleApi({ name: 'dev' });
  const prd = await startExampleApi({ name: 'prd', apiKey: prdApiKey });
  // A fresh workspace each time, so the demo always shows the same thing.
  for (const suffix of ['', '-wal', '-shm']) rmSync(STORE + suffix, { force: true });
  const ductape = new Ductape({ workspace_id: 'demo', user_id: 'demo@ductape.dev', private_key: 'demo-private-key-change-me', store: `sqlite:${STORE}` });
  let runs = 0;
  try {
    log(`Example API: dev at ${dev.url}, prd at ${prd.url}`);
    const report = await defineSeedWorkspace(ductape, { dev: `${dev.url}/v1`, prd: `${prd.url}/v1`, prdApiKey });
    log(`Imported ${report.created.length} actions from examples/api/openapi.yaml: ${report.created.join(', ')}`);
    log(`Created products ${Object.keys(SEED_PRODUCTS).join(', ')} with envs dev → ${dev.url}/v1 and prd → ${prd.url}/v1`);
    log(`prd runs authenticate with $Secret{EXAMPLE_API_KEY}, sealed at rest (in the store files: ${storeBytesContain(prdApiKey) ? 'FOUND, which is a bug' : 'not found'})\n`);

    const show = async (title: string, call: IActionProcessorInput) => {
      const res = await ductape.actions.execute(call);
      runs++;
      log(`▶ ${title}`);
      log(`  sent     ${res.request.method} ${res.request.url}${call.input?.body ? ` ${JSON.stringify(call.input.body)}` : ''}`);
      log(`  received ${res.status} in ${res.durationMs} ms: ${JSON.stringify(res.data)}\n`);
      return res;
    };

    await show('Quick example (body)', {
      env: 'dev', product: 'my-product', app: 'stripe-app', event: 'create_customer',
      input: { body: { email: 'john@example.com', name: 'John Doe' } },
    });
    await show('Sending data in the request body (prd)', {
      env: 'prd', product: 'payments', app: 'stripe', event: 'create_payment_intent',
      input: { body: { amount: 2000, currency: 'usd', customer: 'cus_123' } },
    });
    await show('Using query parameters', {
      env: 'dev', product: 'crm', app: 'hubspot', event: 'search_contacts',
      input: { query: { email: 'jane@example.com', limit: 10 } },
    });
    await show('With route parameters', {
      env: 'dev', product: 'inventory', app: 'shopify', event: 'get_product',
      input: { params: { productId: '12345' } },
    });
    await show('With custom headers (prd)', {
      env: 'prd', product: 'api-gateway', app: 'internal-api', event: 'fetch_user',
      input: { headers: { 'X-Request-ID': 'req_abc123' }, params: { userId: '456' } },
    });

    // Sessions: the product backend starts a session once (type user-session), then runs actions on the user's behalf.
    const { token } = await ductape.sessions.start({ product: 'dashboard', env: 'prd', tag: 'user-session', data: { user: { id: '42' } } });
    log(`▶ Started a session for user 42: token ${token.slice(0, 16)}… (sealed JWE, bound to dashboard/prd/user-session)`);
    await show('With session tracking ($Session{user}{id} filled from the verified token)', {
      env: 'prd', product: 'dashboard', app: 'analytics', event: 'get_user_stats',
      input: { params: { userId: '$Session{user}{id}' } },
      session: { tag: 'user-session', token },
    });

    // Caching and retries: the second identical run is answered from the product cache.
    const cachedCall: IActionProcessorInput = {
      env: 'prd', product: 'catalog', app: 'products-api', event: 'list_products',
      input: { query: { category: 'electronics' } },
      cache: 'products-list', retries: 3,
    };
    const before = prd.hits;
    await show('With caching and retries (first run: a miss)', cachedCall);
    const again = await show('With caching and retries (second run: a hit)', cachedCall);
    log(`  cached: ${again.cached}; upstream calls for both runs: ${prd.hits - before}\n`);

    try {
      await ductape.actions.run({ env: 'dev', product: 'payments', app: 'stripe', event: 'create_payment_intent', input: { body: { amount: 0, currency: 'yen' } } });
    } catch (err) {
      if (!(err instanceof DuctapeError) || err.code !== 'INVALID_INPUT') throw err;
      log(`▶ Invalid input is refused before anything is sent\n  ${err.code}: ${err.message}\n`);
    }

    try {
      await ductape.actions.run({ env: 'dev', product: 'payments', app: 'stripe', event: 'create_payment_intent', input: { body: { amount: 1, currency: 'usd' }, headers: { authorization: '$Secret{EXAMPLE_API_KEY}' } } });
    } catch (err) {
      if (!(err instanceof DuctapeError) || err.code !== 'INVALID_INPUT') throw err;
      log(`▶ Run input cannot read secrets (an end user could type one into a field)\n  ${err.code}: ${err.message}\n`);
    }

    const logs = await ductape.logs.query({ limit: 100 });
    log(`Run log: ${logs.length} runs recorded (${logs.filter((l) => l.ok).length} ok, ${logs.filter((l) => !l.ok).length} refused); dev served ${dev.hits}, prd served ${prd.hits} requests.`);
    if (opts.serve) await serveDemo(ductape, opts.serve, log);
    return { runs };
  } finally {
    await ductape.close();
    await dev.close();
    await prd.close();
  }
}

/** `ductape serve` on the demo workspace, in this process, while the example API it points at is still up. */
async function serveDemo(ductape: Ductape, opts: DemoServe, log: (line: string) => void): Promise<void> {
  const { key } = await ductape.keys.create({ name: 'demo', role: 'admin' });
  const server = await startServer(ductape, { host: '127.0.0.1', port: opts.port, version: 'demo' });
  log(`\nServing the demo workspace at ${server.url} until Ctrl-C, with an admin key. From another terminal:`);
  log(`  DUCTAPE_URL=${server.url} DUCTAPE_KEY=${key} python3 examples/python/seed_examples.py`);
  log(`  curl -H 'Authorization: Bearer ${key}' ${server.url}/v1/apps          # examples/curl.md`);
  try {
    await opts.until(server.url, key);
  } finally {
    await server.close();
  }
}

/** Searches the SQLite file and its write-ahead log for a string, as an attacker with the disk would. */
function storeBytesContain(text: string): boolean {
  return ['', '-wal'].some((suffix) => existsSync(STORE + suffix) && readFileSync(STORE + suffix).includes(text));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const serve: DemoServe | undefined = process.argv.includes('--serve')
    ? { port: Number(process.env.DUCTAPE_PORT ?? 8080), until: () => new Promise((resolve) => ['SIGINT', 'SIGTERM'].forEach((s) => process.once(s, () => resolve()))) }
    : undefined;
  demo(console.log, { serve }).then(
    () => process.exit(0),
    (err) => {
      console.error(err instanceof DuctapeError ? `${err.code}: ${err.message}` : err);
      process.exit(1);
    },
  );
}
