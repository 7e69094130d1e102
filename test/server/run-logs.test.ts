// Run logs of `ductape serve`'s POST /v1/actions/run (API.md §5: every run is recorded), in process on loopback.
import { describe, expect, it, onTestFinished } from 'vitest';
import type { Ductape } from '../../src/index.js';
import { startServer, type RunningServer } from '../../src/server/serve.js';
import { newClient } from '../helpers/client.js';
import { startUpstream } from '../helpers/upstream.js';

let d: Ductape;
let server: RunningServer;

async function setup(): Promise<{ admin: string; shop: string }> {
  const up = await startUpstream();
  onTestFinished(() => up.close());
  d = newClient();
  await d.apps.create({ tag: 'api', envs: [{ slug: 'prd', base_url: up.url }] });
  await d.apps.actions.create({ app: 'api', event: 'get_x', method: 'GET', path: '/x/{id}' });
  for (const tag of ['shop', 'other']) {
    await d.products.create({ tag, envs: ['prd'] });
    await d.products.apps.connect({ product: tag, app: 'api' });
  }
  const admin = (await d.keys.create({ name: 'admin', role: 'admin' })).key;
  const shop = (await d.keys.create({ name: 'shop', role: 'run', product: 'shop' })).key;
  server = await startServer(d, { host: '127.0.0.1', port: 0, version: 'test' });
  // Closing the server flushes the logs and closes the client.
  onTestFinished(() => server.close());
  return { admin, shop };
}

const post = (key: string, body: unknown) =>
  fetch(`${server.url}/v1/actions/run`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('serve run logs', () => {
  it('logs a run refused for its shape, as actions.run does, but only for a key that may run that product', async () => {
    // Before: the request schema refused it (400) before actions.execute, so no row was written, while the same run
    // through the SDK was logged.
    const { admin, shop } = await setup();
    const run = { env: 'prd', app: 'api', event: 'get_x', input: { params: { id: 'a' } } };
    expect((await post(admin, { ...run, product: 'shop', retries: 50 })).status).toBe(400);
    expect((await post(shop, { ...run, product: 'shop', timeout: -1 })).status).toBe(400);
    // A run key cannot write rows into another product's logs with a refused run.
    expect((await post(shop, { ...run, product: 'other', retries: 50 })).status).toBe(400);
    await d.logs.flush();
    const rows = await d.logs.query({});
    expect(rows.map((r) => [r.product, r.event, r.errorCode, r.attempts])).toEqual([
      ['shop', 'get_x', 'INVALID_INPUT', 0],
      ['shop', 'get_x', 'INVALID_INPUT', 0],
    ]);
    expect(rows[1].response).toEqual({ error: expect.stringContaining('retries') });
  });
});
