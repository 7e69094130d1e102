// A small example API for the demo and the examples' tests: customers, payments, contacts, products, users.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ExampleApi {
  url: string;
  server: Server;
  /** Requests served, for the demo's printout. */
  hits: number;
  close: () => Promise<void>;
}

export interface ExampleApiOptions {
  /** Shown in every answer so the demo can prove which env was reached. */
  name: string;
  /** When set, every request must carry `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
}

const PRODUCTS = [
  { id: '12345', name: 'Noise-cancelling headphones', category: 'electronics', price: 19900 },
  { id: '12346', name: 'USB-C charger', category: 'electronics', price: 2900 },
  { id: '22001', name: 'Espresso beans', category: 'grocery', price: 1400 },
];

export async function startExampleApi(options: ExampleApiOptions): Promise<ExampleApi> {
  const api: ExampleApi = { url: '', server: undefined as unknown as Server, hits: 0, close: async () => {} };
  const server = createServer(async (req, res) => {
    api.hits++;
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? '/', 'http://localhost');
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (options.apiKey && req.headers.authorization !== `Bearer ${options.apiKey}`) {
      return send(401, { error: { type: 'authentication_error', message: 'Missing or wrong API key.' } });
    }
    let body: Record<string, unknown> = {};
    if (chunks.length) {
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return send(400, { error: { type: 'invalid_request', message: 'Body must be JSON.' } });
      }
    }
    const m = (method: string, pattern: RegExp) => (req.method === method ? url.pathname.match(pattern) : null);
    let match: RegExpMatchArray | null;
    if ((match = m('POST', /^\/v1\/customers$/))) {
      return send(201, { id: `cus_${randomBytes(6).toString('hex')}`, email: body.email, name: body.name ?? null, served_by: options.name });
    }
    if ((match = m('POST', /^\/v1\/payment_intents$/))) {
      return send(201, { id: `pi_${randomBytes(6).toString('hex')}`, amount: body.amount, currency: body.currency, customer: body.customer, status: 'requires_confirmation', served_by: options.name });
    }
    if ((match = m('GET', /^\/v1\/contacts\/search$/))) {
      const email = url.searchParams.get('email');
      const limit = Number(url.searchParams.get('limit') ?? 10);
      const results = email ? [{ id: 'c_1', email, name: 'Jane Doe' }] : [];
      return send(200, { results: results.slice(0, limit), limit, served_by: options.name });
    }
    if ((match = m('GET', /^\/v1\/products$/))) {
      const category = url.searchParams.get('category');
      return send(200, { data: PRODUCTS.filter((p) => !category || p.category === category), served_by: options.name });
    }
    if ((match = m('GET', /^\/v1\/products\/([^/]+)$/))) {
      const product = PRODUCTS.find((p) => p.id === decodeURIComponent(match![1]));
      return product ? send(200, { ...product, served_by: options.name }) : send(404, { error: { type: 'not_found', message: `No product ${match[1]}` } });
    }
    if ((match = m('GET', /^\/v1\/users\/([^/]+)$/))) {
      return send(200, { id: decodeURIComponent(match[1]), name: 'Ada Lovelace', request_id: req.headers['x-request-id'] ?? null, served_by: options.name });
    }
    if ((match = m('GET', /^\/v1\/users\/([^/]+)\/stats$/))) {
      return send(200, { user_id: decodeURIComponent(match[1]), sessions: 12, last_seen: '2026-11-27T18:00:00Z', served_by: options.name });
    }
    send(404, { error: { type: 'not_found', message: `No route ${req.method} ${url.pathname}` } });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  api.server = server;
  api.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  api.close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return api;
}
