// The README's five-minute tour, run as written against a loopback server standing in for api.stripe.com.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Ductape from '../../src/index.js';
import { TEST_KEY } from '../helpers/client.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

const STRIPE = fileURLToPath(new URL('../fixtures/specs/stripe-api-2020-08-27-spec3-2022-04.json', import.meta.url));
let upstream: Upstream;

beforeAll(async () => {
  upstream = await startUpstream((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id: 'cus_123', object: 'customer', seen: { url: req.url, body: req.body } }));
  });
});
afterAll(async () => upstream.close());

describe('README tour', () => {
  it('imports Stripe, configures credentials and runs, caches and uses a session as shown', async () => {
    const ductape = new Ductape({ workspace_id: 'acme', user_id: 'ops@acme.test', private_key: TEST_KEY, store: ':memory:' });
    try {
      const report = await ductape.apps.import({ app: 'stripe', file: STRIPE });
      expect(report.created).toContain('post_customers');
      await ductape.apps.actions.rename({ app: 'stripe', event: 'post_customers', to: 'create_customer' });
      const described = await ductape.apps.actions.fetch({ app: 'stripe', event: 'create_customer', resolve: true });
      expect(described.example).toEqual({ body: {} });
      expect(described.body?.default).toBe('application/x-www-form-urlencoded');
      await ductape.apps.create({ tag: 'internal-api', envs: [{ slug: 'prd', base_url: 'https://internal.acme.test/api' }] });
      await ductape.apps.actions.create({ app: 'internal-api', event: 'fetch_user', method: 'GET', path: '/users/:userId' });

      await ductape.products.create({ tag: 'payments', envs: ['dev', 'prd'] });
      await ductape.products.apps.connect({ product: 'payments', app: 'stripe' });
      await ductape.secrets.set({ key: 'STRIPE_KEY', value: 'sk_live_tour_secret', envs: ['prd'] });
      await ductape.products.apps.configure({ product: 'payments', app: 'stripe', env: 'prd',
        base_url: upstream.url, auth: { type: 'bearer', token: '$Secret{STRIPE_KEY}' } });

      const customer = await ductape.actions.run<{ id: string }>({ env: 'prd', product: 'payments', app: 'stripe',
        event: 'create_customer', input: { body: { email: 'john@example.com', metadata: { plan: 'pro' } } } });
      expect(customer.id).toBe('cus_123');
      const sent = upstream.requests.at(-1)!;
      expect(sent.url).toBe('/v1/customers');
      expect(sent.body).toBe('email=john%40example.com&metadata[plan]=pro');
      expect(sent.headers.authorization).toBe('Bearer sk_live_tour_secret');
      const misspelt = await ductape.actions.run({ env: 'prd', product: 'payments', app: 'stripe', event: 'get_customers',
        input: { query: { limt: 5 } } }).catch((e: Error) => e);
      expect((misspelt as Error).message).toContain('did you mean "limit"?');
      const types = await ductape.types.generate({ product: 'payments' });
      expect(types.source).toContain('create_customer: Stripe.CreateCustomer;');

      await ductape.products.sessions.create({ product: 'payments', tag: 'user-session',
        sample: { user: { id: '42' } }, selector: '$Session{user}{id}', expiry: 3600 });
      const { token } = await ductape.sessions.start({ product: 'payments', env: 'prd', tag: 'user-session', data: { user: { id: '42' } } });
      await ductape.actions.run({ env: 'prd', product: 'payments', app: 'stripe', event: 'get_customers_customer',
        input: { params: { customer: '$Session{user}{id}' } }, session: { tag: 'user-session', token } });
      expect(upstream.requests.at(-1)!.url).toBe('/v1/customers/42');

      await ductape.products.caches.create({ product: 'payments', tag: 'customers', expiry: 60_000 });
      const before = upstream.requests.length;
      for (let i = 0; i < 3; i++) {
        await ductape.actions.run({ env: 'prd', product: 'payments', app: 'stripe', event: 'get_customers',
          input: { query: { limit: 10 } }, cache: 'customers', retries: 3 });
      }
      expect(upstream.requests.length - before).toBe(1);
      expect(upstream.requests.at(-1)!.url).toBe('/v1/customers?limit=10');
    } finally {
      await ductape.close();
    }
  });
});
