// The send stage reads an answer whole through undici's dispatch() (src/runtime/send.ts, WholeAnswer): what request()
// and its body stream did for us before must still hold on the wire.
import { describe, it, expect, onTestFinished, vi } from 'vitest';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { startUpstream, type Handler } from '../helpers/upstream.js';
import { newClient } from '../helpers/client.js';
import { DuctapeError } from '../../src/errors.js';

async function setup(handler: Handler, opts: Parameters<typeof newClient>[0] = {}) {
  const up = await startUpstream(handler);
  const d = newClient(opts);
  onTestFinished(async () => { await d.close(); await up.close(); });
  await d.apps.create({ tag: 'api', envs: [{ slug: 'prd', base_url: up.url }] });
  await d.apps.actions.create({ app: 'api', event: 'get_x', method: 'GET', path: '/x' });
  await d.apps.actions.create({ app: 'api', event: 'put_file', method: 'PUT', path: '/files/a', content_type: 'application/octet-stream' } as any);
  await d.products.create({ tag: 'p', envs: ['prd'] });
  await d.products.apps.connect({ product: 'p', app: 'api' });
  const exec = (event: string, more: any = {}) => d.actions.execute({ env: 'prd', product: 'p', app: 'api', event, input: {}, ...more } as any);
  return { up, d, exec };
}

describe('send: an answer read whole', () => {
  it('drops a UTF-8 byte order mark before parsing JSON', async () => {
    const { exec } = await setup((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}')]));
    });
    expect((await exec('get_x')).data).toEqual({ a: 1 });
  });

  it('joins a body sent in several chunks, a character split between two of them included', async () => {
    const text = JSON.stringify({ name: 'Zoë Ørsted 😀', n: 'x'.repeat(70_000) });
    const bytes = Buffer.from(text);
    const cut = bytes.indexOf(Buffer.from('ë')) + 1; // between the two bytes of ë
    const { exec } = await setup(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      res.write(bytes.subarray(0, cut));
      await sleep(20);
      res.write(bytes.subarray(cut, cut + 3));
      await sleep(20);
      res.end(bytes.subarray(cut + 3));
    });
    expect((await exec('get_x')).data).toEqual(JSON.parse(text));
  });

  it('skips informational answers (103 Early Hints) and returns the final one', async () => {
    const { exec } = await setup((_req, res) => {
      res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
      res.writeHead(201, { 'content-type': 'application/json', 'x-final': 'yes' });
      res.end('{"ok":true}');
    });
    const env = await exec('get_x');
    expect(env.status).toBe(201);
    expect(env.headers['x-final']).toBe('yes');
    expect(env.data).toEqual({ ok: true });
  });

  it('returns binary bodies as bytes of their own, not views into the socket buffers', async () => {
    const parts = [Buffer.from([0, 1, 2, 250]), Buffer.from([251, 252]), Buffer.from([253, 254, 255])];
    const { exec } = await setup(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      for (const p of parts.slice(0, -1)) { res.write(p); await sleep(10); }
      res.end(parts[parts.length - 1]);
    });
    const data = (await exec('get_x')).data as Uint8Array;
    expect(Buffer.from(data).equals(Buffer.concat(parts))).toBe(true);
    expect(data.byteOffset).toBe(0);
    expect(data.buffer.byteLength).toBe(data.byteLength);
  });

  it('keeps repeated headers as arrays, as undici parses them', async () => {
    const { exec } = await setup((_req, res) => {
      res.setHeader('x-multi', ['a=1', 'b=2']);
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('hi');
    });
    const env = await exec('get_x');
    expect(env.headers['x-multi']).toEqual(['a=1', 'b=2']);
    expect(env.data).toBe('hi');
  });

  it('times out a body that trickles past the attempt bound, and says it was the body', async () => {
    const { exec } = await setup(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      for (let i = 0; i < 40 && !res.destroyed; i++) { res.write(' '); await sleep(25); }
      res.end('{}');
    });
    const err = await exec('get_x', { timeout: 200 }).catch((e) => e);
    expect(err).toBeInstanceOf(DuctapeError);
    expect(err.code).toBe('TIMEOUT');
    expect(err.message).toMatch(/response body/);
  });

  it('bounds an attempt while it waits for a connection, and releases its streamed body', async () => {
    // One connection, held by a request the upstream never answers: the PUT waits in undici's queue.
    const { exec } = await setup(() => {}, { connections: 1 });
    const held = exec('get_x', { timeout: 1_500 }).catch((e) => e);
    await sleep(50);
    const body = new Readable({ read() {} });
    body.push(Buffer.from('first chunk'));
    const started = performance.now();
    const err = await exec('put_file', { input: { body }, timeout: 200 }).catch((e) => e);
    expect(err).toBeInstanceOf(DuctapeError);
    expect(err.code).toBe('TIMEOUT');
    // Its own 200 ms bound, not the held request's 1.5 s.
    expect(performance.now() - started).toBeLessThan(1_200);
    expect((await held).code).toBe('TIMEOUT');
    await vi.waitFor(() => expect(body.destroyed).toBe(true), { timeout: 2_000 });
  });

  it('releases a streamed request body when the upstream cannot be reached', async () => {
    const { d, up } = await setup(() => {});
    await up.close();
    const body = new Readable({ read() {} });
    body.push(Buffer.from('first chunk'));
    const err = (await d.actions.run({ env: 'prd', product: 'p', app: 'api', event: 'put_file', input: { body } } as any).catch((e: unknown) => e)) as DuctapeError;
    expect(err).toBeInstanceOf(DuctapeError);
    expect(err.code).toBe('NETWORK_ERROR');
    expect(body.destroyed).toBe(true);
  });
});
