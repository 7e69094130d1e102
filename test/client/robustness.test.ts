// Robustness and safety regressions found in review: streams, redaction, close(), apply, sessions, odd inputs.
import { describe, it, expect, onTestFinished } from 'vitest';
import { Readable } from 'node:stream';
import { runCli } from '../helpers/cli.js';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { startUpstream, type Handler } from '../helpers/upstream.js';
import { newClient } from '../helpers/client.js';
import { DuctapeError } from '../../src/errors.js';
import { registerSecret } from '../../src/model/redact.js';


async function setup(handler?: Handler, opts: Parameters<typeof newClient>[0] = {}) {
  const up = await startUpstream(handler);
  const d = newClient(opts);
  onTestFinished(async () => { await d.close(); await up.close(); });
  await d.apps.create({ tag: 'api', envs: [{ slug: 'prd', base_url: up.url }] });
  await d.apps.actions.create({ app: 'api', event: 'get_x', method: 'GET', path: '/x/{id}' });
  await d.apps.actions.create({ app: 'api', event: 'put_file', method: 'PUT', path: '/files/a', content_type: 'application/octet-stream' } as any);
  await d.apps.actions.create({ app: 'api', event: 'post_x', method: 'POST', path: '/x' });
  await d.products.create({ tag: 'p', envs: ['prd'] });
  await d.products.apps.connect({ product: 'p', app: 'api' });
  const exec = (event: string, input: any, more: any = {}) => d.actions.execute({ env: 'prd', product: 'p', app: 'api', event, input, ...more } as any);
  return { up, d, exec };
}
const caught = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a failure'); }, (e) => e);

describe('stream bodies', () => {
  it('never re-sends a consumed stream as an empty PUT body', async () => {
    let n = 0;
    const { up, exec } = await setup((req, res) => { n++; res.writeHead(n === 1 ? 503 : 200, { 'content-type': 'application/json' }); res.end('{}'); });
    await exec('put_file', { body: Readable.from([Buffer.from('important file contents')]) }, { retries: 2 }).catch(() => {});
    // Today: attempt 2 is `PUT /files/a` with content-length: 0 and the run SUCCEEDS (resource overwritten with nothing).
    for (const r of up.requests) expect(r.body).toBe('important file contents');
  });
});

describe('bodies of an action that declares none', () => {
  it("are written by the caller's Content-Type when it names one, and as JSON otherwise", async () => {
    // Before: text/plain carried "\"hello\"" and a form type carried {"a":1}: JSON under the caller's Content-Type.
    const { up, exec } = await setup();
    await exec('post_x', { body: 'hello', headers: { 'Content-Type': 'text/plain' } });
    await exec('post_x', { body: { a: 1, b: ['x', 'y'] }, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    await exec('post_x', { body: { a: 1 } });
    await exec('post_x', { body: 'hello' });
    expect(up.requests.map((r) => [r.headers['content-type'], r.body])).toEqual([
      ['text/plain', 'hello'],
      ['application/x-www-form-urlencoded', 'a=1&b=x&b=y'],
      ['application/json', '{"a":1}'],
      ['application/json', '"hello"'],
    ]);
  });
});

describe('keys named "__proto__" in run input', () => {
  it('are sent as data like any other key, in bodies and as a header name, and pollute no prototype', async () => {
    // Assigning such a key sets an object's prototype instead: the header __proto__ (a valid token) was never sent.
    const raw: string[][] = [];
    const { up, exec } = await setup((req, res) => { raw.push(res.req.rawHeaders); res.end('{}'); });
    const body = () => JSON.parse('{"a":1,"__proto__":{"at":"$Now","admin":true},"n":{"__proto__":{"x":1}}}');
    await exec('post_x', { body: body(), headers: JSON.parse('{"__proto__":"v","x-b":"2"}') });
    await exec('post_x', { body: body(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    await exec('post_x', { body: JSON.parse('{"__proto__":"part","n":{"__proto__":1}}'), headers: { 'content-type': 'multipart/form-data' } });
    const sent = JSON.parse(up.requests[0].body);
    expect(Object.keys(sent)).toEqual(['a', '__proto__', 'n']);
    expect(Object.getOwnPropertyDescriptor(sent, '__proto__')?.value).toEqual({ at: expect.stringMatching(/^\d{4}-/), admin: true });
    expect(up.requests[0].body).toContain('"n":{"__proto__":{"x":1}}');
    expect(raw[0].join('|')).toContain('__proto__|v|x-b|2');
    expect(decodeURIComponent(up.requests[1].body)).toMatch(/^a=1&__proto__\[at\]=\d{4}-[^&]+&__proto__\[admin\]=true&n\[__proto__\]\[x\]=1$/);
    expect(up.requests[2].body).toMatch(/name="__proto__"\r\n\r\npart\r\n[\s\S]*name="n"[\s\S]*\{"__proto__":1\}/);
    expect(({} as { admin?: unknown }).admin).toBeUndefined();
  });
});

describe('cookies the action does not declare', () => {
  it('are sent in form style, like undeclared headers, instead of being dropped', async () => {
    const { up, exec } = await setup();
    await exec('get_x', { params: { id: '1' }, cookies: { session: 'abc 1;x', theme: 'dark' } });
    expect(up.requests[0].headers.cookie).toBe('session=abc%201%3Bx; theme=dark');
  });
});

describe('empty lists and maps in headers and cookies', () => {
  it('leave the header or cookie out, as they leave a query parameter out (RFC 6570 §2.3: undefined)', async () => {
    // Before: `x-tags: ` and `ids=` were sent, an empty value the API reads as present.
    const { up, exec } = await setup();
    await exec('get_x', { params: { id: '1' }, headers: { 'X-Tags': [], 'X-Map': {}, 'X-Keep': '' }, cookies: { ids: [], theme: 'dark' } });
    const h = up.requests[0].headers;
    expect([h['x-tags'], h['x-map'], h['x-keep'], h.cookie]).toEqual([undefined, undefined, '', 'theme=dark']);
  });
});

describe('secret values that percent-encode differently from encodeURIComponent', () => {
  it('are redacted from error messages, envelopes and logs', async () => {
    const { d, exec } = await setup((req, res) => { res.writeHead(500, { 'content-type': 'text/plain' }); res.end('nope'); }, { secrets_in_input: true });
    await d.secrets.set({ key: 'K', value: 'my secret!(value)*' });
    const err = await caught(exec('get_x', { params: { id: '$Secret{K}' }, query: { q: '$Secret{K}' } }));
    const rows = await d.logs.query({});
    const leaked = 'my%20secret%21%28value%29%2A';
    expect(err.message).not.toContain(leaked);
    expect(JSON.stringify(err)).not.toContain(leaked);
    expect(JSON.stringify(rows)).not.toContain(leaked);
  });
});

describe('the redaction registry', () => {
  it('still redacts a secret after 10k other credential values were seen', async () => {
    const { d, exec } = await setup((req, res) => { res.writeHead(500, { 'content-type': 'text/plain' }); res.end('nope'); }, { secrets_in_input: true });
    await d.secrets.set({ key: 'K', value: 'tenant-secret-ABCDEFGH' });
    expect((await caught(exec('get_x', { params: { id: '$Secret{K}' } }))).message).not.toContain('tenant-secret-ABCDEFGH');
    for (let i = 0; i <= 10_000; i++) registerSecret(`per-user-token-${i}-xxxxxxxx`); // e.g. per-user bearer tokens, rotated OAuth tokens
    const err = await caught(exec('get_x', { params: { id: '$Secret{K}' } }));
    expect(err.message).not.toContain('tenant-secret-ABCDEFGH');
    expect(JSON.stringify(await d.logs.query({ limit: 1 }))).not.toContain('tenant-secret-ABCDEFGH');
  });
});

describe('close()', () => {
  it('#11: a run after close() fails like every other method after close, not with a NETWORK_ERROR', async () => {
    const { d, up, exec } = await setup();
    await exec('get_x', { params: { id: 'a' } }); // the runtime is open and warm
    await d.close();
    const run = (await caught(exec('get_x', { params: { id: 'a' } }))) as DuctapeError;
    const other = (await caught(d.apps.list())) as DuctapeError;
    expect(run.code).toBe('CONFIG_ERROR');
    expect(run.message).toBe(other.message);
    expect(run.message).toMatch(/closed/);
    expect(run.message).toMatch(/Create a new Ductape client/);
    expect(up.requests).toHaveLength(1);
  });

  it('ends a hanging attempt after a short grace instead of waiting for its timeout', async () => {
    const { d, exec } = await setup(() => {}); // never answers
    const run = exec('get_x', { params: { id: 'a' } }, { timeout: 60_000 }).catch((e) => e);
    await new Promise((r) => setTimeout(r, 100));
    await d.close(); // the test's own 10 s limit is far below the attempt's 60 s timeout
    expect(await run).toBeInstanceOf(DuctapeError);
  }, 10_000);

  it('ends a Retry-After wait: the run fails at once instead of retrying later on a closed client', async () => {
    const { d, up, exec } = await setup((req, res) => { res.writeHead(503, { 'retry-after': '30' }); res.end(); });
    const run = exec('get_x', { params: { id: 'a' } }, { retries: 1 }).catch((e: DuctapeError) => e);
    while (up.requests.length === 0) await new Promise((r) => setTimeout(r, 10));
    await d.close();
    const err = (await run) as DuctapeError;
    expect(err.code).toBe('NETWORK_ERROR');
    expect(err.message).toContain('closed');
    expect(up.requests).toHaveLength(1);
  }, 10_000);
});

describe('apply', () => {
  it('writes nothing when a later change of the file fails', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dt-apply-'));
    const file = join(dir, 'ductape.yaml');
    writeFileSync(file, 'apps:\n  api:\n    envs:\n      prd: http://127.0.0.1:9/\nproducts:\n  payments:\n    envs: [prd]\n    apps:\n      api:\n        envs:\n          prd: { app_env: nope }\n');
    const d = newClient();
    onTestFinished(() => d.close());
    expect((await caught(d.apply({ file }))).code).toBe('CONFIG_ERROR');
    expect(await d.apps.list()).toEqual([]);
    expect(await d.products.list()).toEqual([]);
  });
});

describe('products.delete', () => {
  it('invalidates the product sessions (a recreated product does not accept old tokens)', async () => {
    const { d, exec } = await setup();
    await d.products.sessions.create({ product: 'p', tag: 'us', sample: { user: { id: '42' } }, selector: '$Session{user}{id}', expiry: 3600 } as any);
    const { token } = await d.sessions.start({ product: 'p', env: 'prd', tag: 'us', data: { user: { id: '42' } } });
    await d.products.apps.disconnect({ product: 'p', app: 'api' });
    await d.products.delete({ product: 'p' });
    await d.products.create({ tag: 'p', envs: ['prd'] });
    await d.products.apps.connect({ product: 'p', app: 'api' });
    expect(await d.products.sessions.list({ product: 'p' })).toEqual([]);
    const err = await caught(exec('get_x', { params: { id: '$Session{user}{id}' } }, { session: { tag: 'us', token } }));
    expect(err.code).toBe('NOT_FOUND'); // the old session type is gone with the product: refused, and says so
  });

  it('refuses the old tokens from the next run on, with the session type re-created too', async () => {
    const { d, exec } = await setup();
    const type = { product: 'p', tag: 'us', sample: { user: { id: '42' } }, selector: '$Session{user}{id}', expiry: 3600 } as any;
    await d.products.sessions.create(type);
    const { token } = await d.sessions.start({ product: 'p', env: 'prd', tag: 'us', data: { user: { id: '42' } } });
    await exec('get_x', { params: { id: '$Session{user}{id}' } }, { session: { tag: 'us', token } }); // the token is now verified and kept
    await d.products.delete({ product: 'p' });
    await d.products.create({ tag: 'p', envs: ['prd'] });
    await d.products.apps.connect({ product: 'p', app: 'api' });
    await d.products.sessions.create(type);
    // At once, as after sessions.revoke: the revocations were told to the transaction, and runs of the same client
    // still accepted the token for up to the 100 ms revocation window.
    const err = await caught(exec('get_x', { params: { id: '$Session{user}{id}' } }, { session: { tag: 'us', token } }));
    expect(err.code).toBe('SESSION_INVALID');
  });
});

describe('connection headers and query', () => {
  it('never sends a placeholder as literal text', async () => {
    const { d, up, exec } = await setup();
    await d.secrets.set({ key: 'K', value: 'supersecretvalue' });
    await d.products.apps.configure({ product: 'p', app: 'api', env: 'prd', headers: { 'x-key': '$Secret{K}' }, query: { q: '$Variable{v}' }, variables: { v: 'vv' } } as any);
    await exec('get_x', { params: { id: 'a' } }).catch(() => {});
    for (const r of up.requests) {
      expect(r.headers['x-key']).not.toBe('$Secret{K}');
      expect(r.url).not.toContain('%24Variable');
    }
  });
  it('blames the connection for its expired secret, in one sentence', async () => {
    const { d, up, exec } = await setup();
    await d.secrets.set({ key: 'K', value: 'expired-value-1', expires_at: new Date(Date.now() - 1000).toISOString() });
    await d.products.apps.configure({ product: 'p', app: 'api', env: 'prd', headers: { 'x-key': '$Secret{K}' } } as any);
    const err = await caught(exec('get_x', { params: { id: 'a' } }));
    expect(err.code).toBe('CONFIG_ERROR');
    expect(err.message).toMatch(/^Invalid connection config of api in prd: headers\/x-key: \$Secret\{K\} has no value: secret K expired at .*secrets\.set\.$/);
    expect(err.message).not.toContain('..'); // it ended "…with secrets.set.."
    expect(up.requests).toHaveLength(0);
  });
});

describe('odd input and upstream answers become DuctapeErrors', () => {
  it('a deeply nested JSON error body', async () => {
    const { exec } = await setup((req, res) => { res.writeHead(500, { 'content-type': 'application/json' }); res.end('['.repeat(100_000) + ']'.repeat(100_000)); });
    const err = await caught(exec('get_x', { params: { id: 'a' } }));
    expect(err).toBeInstanceOf(DuctapeError);
  });
  it('an upstream error body with a "__proto__" key', async () => {
    const { exec } = await setup((req, res) => { res.writeHead(400, { 'content-type': 'application/json' }); res.end('{"__proto__":{"isAdmin":true},"error":"x"}'); });
    const err = await caught(exec('get_x', { params: { id: 'a' } }));
    expect(err.body.isAdmin).toBeUndefined();
  });
  it('an access tag named like an Object.prototype member', async () => {
    const { d } = await setup();
    const err = await caught(d.actions.execute({ env: 'prd', product: 'p', app: 'constructor', event: 'x', input: {} } as any));
    expect(err.code).toBe('NOT_FOUND');
  });
  it('a BigInt in a JSON body', async () => {
    const { exec } = await setup();
    const err = await caught(exec('post_x', { body: { a: 1n } }));
    expect(err.code).toBe('INVALID_INPUT');
  });
  it('an invalid header name is INVALID_INPUT and is not retried', async () => {
    const { up, exec } = await setup();
    const err = await caught(exec('get_x', { params: { id: 'a' }, headers: { 'x a': '1' } }, { retries: 2 }));
    expect(err.code).toBe('INVALID_INPUT');
    expect(up.requests).toHaveLength(0);
  });
  it('a huge timeout does not fire at once', async () => {
    const { exec } = await setup();
    const r = await exec('get_x', { params: { id: 'a' } }, { timeout: 1e12 }).catch((e) => e);
    expect(r.code).not.toBe('TIMEOUT');
  });
});

describe('CLI', () => {
  it('does not echo credential text from a malformed --auth JSON', async () => {
    const r = await runCli(['configure', '--product', 'p', '--app', 'a', '--env', 'prd', '--auth', '{"type":"bearer","token":sk_live_SUPERSECRET123}'], {
      DUCTAPE_WORKSPACE: 'w', DUCTAPE_PRIVATE_KEY: 'test-private-key-0123456789', DUCTAPE_STORE: ':memory:',
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--auth must be JSON');
    expect(r.stderr).not.toContain('sk_live_SU');
  }, 20_000);
});

describe('contract details', () => {
  it('lets a caller value replace a connection query or header value, literal or placeholder alike', async () => {
    const { d, up, exec } = await setup();
    await d.products.apps.configure({ product: 'p', app: 'api', env: 'prd', query: { lit: 'conn', ph: '$Variable{v}' }, headers: { 'x-lit': 'conn' }, variables: { v: 'vv' } });
    await exec('get_x', { params: { id: 'a' } });
    await exec('get_x', { params: { id: 'a' }, query: { lit: 'mine', ph: 'mine' }, headers: { 'X-Lit': 'mine' } });
    expect(up.requests[0].url).toBe('/x/a?lit=conn&ph=vv');
    expect(up.requests[0].headers['x-lit']).toBe('conn');
    expect(up.requests[1].url).toBe('/x/a?lit=mine&ph=mine');
    expect(up.requests[1].headers['x-lit']).toBe('mine');
  });

  it('refuses a bad auth form with CONFIG_ERROR naming the field', async () => {
    const { d } = await setup();
    const err = await caught(d.products.apps.configure({ product: 'p', app: 'api', env: 'prd', auth: { type: 'bearer' } as never }));
    expect(err.code).toBe('CONFIG_ERROR');
    expect(err.details.field).toBe('auth');
    expect(err.message).toContain('token');
  });

  it('names an unknown session type with NOT_FOUND', async () => {
    const { exec } = await setup();
    const err = await caught(exec('get_x', { params: { id: 'a' } }, { session: 'no-such-type:abc.def' }));
    expect(err.code).toBe('NOT_FOUND');
    expect(err.details.kind).toBe('session type');
  });

  it('logs runs refused before their pipeline starts', async () => {
    const { d, exec } = await setup();
    await exec('get_x', { params: { id: 'a' } });
    await caught(exec('get_x', { params: { id: 'a' } }, { retries: -1 }));
    const logs = await d.logs.query({ status: 'error' });
    expect(logs).toEqual([expect.objectContaining({ event: 'get_x', errorCode: 'CONFIG_ERROR', attempts: 0 })]);
  });

  it("logs a refused run that is the client's first call", async () => {
    // Before: the refusal was logged only once the client had opened, so a first call refused left no row.
    const d = newClient();
    onTestFinished(() => d.close());
    const err = await caught(d.actions.run({ env: 'prd', product: 'p', app: 'api', event: 'get_x', retries: -1 }));
    expect(err.code).toBe('CONFIG_ERROR');
    expect(await d.logs.query({})).toEqual([expect.objectContaining({ product: 'p', event: 'get_x', errorCode: 'CONFIG_ERROR', attempts: 0 })]);
  });

  it('redacts credentials echoed in response headers of the envelope', async () => {
    const { exec } = await setup((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': 'session=abc123secret', 'x-echo': 'fine' });
      res.end('{}');
    });
    const env = await exec('get_x', { params: { id: 'a' } });
    expect(env.headers['set-cookie']).toBe('[REDACTED]');
    expect(env.headers['x-echo']).toBe('fine');
  });
});

describe('max_response_bytes', () => {
  it('fails a run whose answer is larger, without retrying it', async () => {
    const up = await startUpstream((req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('x'.repeat(64 * 1024));
    });
    onTestFinished(() => up.close());
    const d = newClient({ max_response_bytes: 16 * 1024 });
    onTestFinished(() => d.close());
    await d.apps.create({ tag: 'api', envs: [{ slug: 'prd', base_url: up.url }] });
    await d.apps.actions.create({ app: 'api', event: 'big', method: 'GET', path: '/big' });
    await d.products.create({ tag: 'p', envs: ['prd'] });
    await d.products.apps.connect({ product: 'p', app: 'api' });
    const err = await caught(d.actions.run({ env: 'prd', product: 'p', app: 'api', event: 'big', retries: 2 }));
    expect(err.code).toBe('NETWORK_ERROR');
    expect(err.details.errno).toBe('UND_ERR_RES_EXCEEDED_MAX_SIZE');
    expect(up.requests).toHaveLength(1);
  });
});

describe('connection config placeholders', () => {
  it('blames the connection, not the caller, for a placeholder it cannot resolve', async () => {
    const { d, up, exec } = await setup();
    await d.products.apps.configure({ product: 'p', app: 'api', env: 'prd', headers: { 'x-key': '$Secret{MISSING_KEY}' } });
    const err = await caught(exec('get_x', { params: { id: 'a' } }));
    expect(err.code).toBe('CONFIG_ERROR');
    expect(err.details.field).toBe('connection.headers.x-key');
    expect(up.requests).toHaveLength(0);
    // The caller's own bad placeholder is still the caller's.
    const mine = await caught(exec('get_x', { params: { id: '$Secret{ALSO_MISSING}' }, headers: { 'x-key': 'given' } }));
    expect(mine.code).toBe('INVALID_INPUT');
  });
});
