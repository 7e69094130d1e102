// execute({ stream: true }): the response body as a stream, for server-sent events and large downloads.
import type { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Ductape } from '../../src/index.js';
import { newClient } from '../helpers/client.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

let upstream: Upstream;
let ductape: Ductape;

beforeEach(async () => {
  upstream = await startUpstream(async (req, res) => {
    if (req.url === '/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (let i = 1; i <= 3; i++) {
        res.write(`data: tick ${i}\n\n`);
        await new Promise((r) => setTimeout(r, 20));
      }
      res.end();
    } else {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":"nope"}');
    }
  });
  ductape = newClient();
  await ductape.apps.create({ tag: 'feed', envs: [{ slug: 'dev', base_url: upstream.url }] });
  await ductape.apps.actions.create({ app: 'feed', event: 'events', method: 'GET', path: '/events' });
  await ductape.apps.actions.create({ app: 'feed', event: 'missing', method: 'GET', path: '/missing' });
  await ductape.products.create({ tag: 'p', envs: ['dev'] });
  await ductape.products.apps.connect({ product: 'p', app: 'feed' });
});
afterEach(async () => {
  await ductape.close();
  await upstream.close();
});

describe('execute with stream', () => {
  it('hands over the body as a readable stream, chunk by chunk', async () => {
    const res = await ductape.actions.execute<Readable>({ env: 'dev', product: 'p', app: 'feed', event: 'events', stream: true });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/event-stream');
    let text = '';
    for await (const chunk of res.data) text += chunk;
    expect(text).toBe('data: tick 1\n\ndata: tick 2\n\ndata: tick 3\n\n');
  });

  it('is never cached: each streamed run reaches the upstream', async () => {
    await ductape.products.caches.create({ product: 'p', tag: 'feed-cache', expiry: 60_000 });
    for (let i = 0; i < 2; i++) {
      const res = await ductape.actions.execute<Readable>({ env: 'dev', product: 'p', app: 'feed', event: 'events', stream: true, cache: 'feed-cache' });
      expect(res.cached).toBe(false);
      for await (const _ of res.data);
    }
    expect(upstream.requests).toHaveLength(2);
  });

  it('still turns a non-2xx answer into UPSTREAM_ERROR with the decoded body', async () => {
    await expect(ductape.actions.execute({ env: 'dev', product: 'p', app: 'feed', event: 'missing', stream: true })).rejects.toMatchObject({
      code: 'UPSTREAM_ERROR',
      status: 404,
      body: { error: 'nope' },
    });
  });
});
