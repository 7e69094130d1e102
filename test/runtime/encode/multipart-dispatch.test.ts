// multipart bodies reach the upstream through undici's dispatcher: the global FormData is handed over as undici's own.
import { Agent, FormData as UndiciFormData } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { compileBodyEncoder, forDispatcher } from '../../../src/runtime/encode/index.js';
import { startUpstream, type Upstream } from '../../helpers/upstream.js';

let upstream: Upstream | undefined;
const agent = new Agent();
afterEach(async () => {
  await upstream?.close();
  upstream = undefined;
});

describe('forDispatcher', () => {
  it('sends an encoded multipart body through an undici Agent with its parts and boundary', async () => {
    upstream = await startUpstream();
    const encoded = compileBodyEncoder('multipart/form-data')({ note: 'hi', meta: { a: 1 }, file: { data: Buffer.from('x,y'), filename: 'f.csv', contentType: 'text/csv' } });
    const res = await agent.request({ origin: upstream.url, path: '/', method: 'POST', body: forDispatcher(encoded.body) as UndiciFormData });
    await res.body.text();
    const got = upstream.requests[0];
    const boundary = /boundary=(\S+)/.exec(String(got.headers['content-type']))?.[1];
    expect(got.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(got.body).toContain(`--${boundary}\r\nContent-Disposition: form-data; name="note"\r\n\r\nhi\r\n`);
    expect(got.body).toContain('name="meta"; filename="blob"\r\nContent-Type: application/json\r\n\r\n{"a":1}\r\n');
    expect(got.body).toContain('name="file"; filename="f.csv"\r\nContent-Type: text/csv\r\n\r\nx,y\r\n');
  });

  it('sends an empty multipart body as just its closing boundary', async () => {
    upstream = await startUpstream();
    const encoded = compileBodyEncoder('multipart/form-data')({});
    const res = await agent.request({ origin: upstream.url, path: '/', method: 'POST', body: forDispatcher(encoded.body) as UndiciFormData });
    expect(res.statusCode).toBe(200);
    await res.body.text();
    expect(upstream.requests[0].body).toMatch(/^--\S+--\r\n$/);
  });

  it('leaves other bodies untouched', () => {
    const bytes = new Uint8Array([1]);
    const own = new UndiciFormData();
    expect(forDispatcher('a')).toBe('a');
    expect(forDispatcher(bytes)).toBe(bytes);
    expect(forDispatcher(own)).toBe(own);
    expect(forDispatcher(null)).toBe(null);
  });
});
