// Issue 4 acceptance: sealing at rest, the key check, secret scope and expiry, injection, and no leaks after many runs.
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DuctapeError, type Ductape } from '../../src/index.js';
import { newClient } from '../helpers/client.js';
import { startOAuthServer, type OAuthServer } from '../helpers/oauth-server.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';
import { authSpec } from '../helpers/auth-spec.js';
import { errorOf as failure } from '../helpers/errors.js';

let dir: string;
let upstream: Upstream;
let oauth: OAuthServer;
let ductape: Ductape;
const storeUrl = () => `sqlite:${join(dir, 'ws.db')}`;


/** Every byte of the store: the database file and its WAL/SHM siblings. */
function storeBytes(): Buffer {
  return Buffer.concat(readdirSync(dir).map((f) => readFileSync(join(dir, f))));
}

async function define(d: Ductape) {
  await d.apps.import({ app: 'demo', spec: authSpec(oauth.tokenUrl) });
  await d.apps.envs.upsert({ app: 'demo', slug: 'prd', base_url: `${upstream.url}/v1` });
  await d.apps.envs.upsert({ app: 'demo', slug: 'dev', base_url: `${upstream.url}/v1` });
  await d.products.create({ tag: 'shop', envs: ['dev', 'prd'] });
  for (const tag of ['bearer', 'basic', 'q', 'oauth', 'pair']) await d.products.apps.connect({ product: 'shop', app: 'demo', access_tag: tag });
}

// Secret values the tests plant; none may ever be readable in the store file, logs, errors, envelopes or CLI output.
const SECRETS = {
  bearer: 'tok_LEAKCHECK_bearer_0001',
  bearerDev: 'tok_LEAKCHECK_bearer_dev_0002',
  basicPw: 'pw_LEAKCHECK_basic_0003',
  queryKey: 'key_LEAKCHECK_query_0004',
  pairA: 'key_LEAKCHECK_pair_0005',
  pairB: 'sec_LEAKCHECK_pair_0006',
  literal: 'lit_LEAKCHECK_literal_0007',
};

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ductape-safety-'));
  // The upstream answers by path; /v1/items/leak echoes the Authorization header inside an error body.
  upstream = await startUpstream((req, res) => {
    const id = decodeURIComponent(req.url.split('?')[0].split('/').pop() ?? '');
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (id === 'fail') return send(500, { error: 'boom' });
    if (id === 'leak') return send(400, { error: `bad credentials: ${req.headers.authorization ?? req.headers['x-api-key'] ?? ''}`, echo: req.headers });
    if (id === 'deny') return send(401, { error: 'unauthorized' });
    send(200, { ok: true, path: req.url.split('?')[0] });
  });
  oauth = await startOAuthServer({ clients: { 'client-1': 'cs_LEAKCHECK_client_0008' } });
});
afterEach(async () => {
  await ductape?.close();
  await upstream.close();
  await oauth.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('sealing at rest and the key check', () => {
  it('fails with a clear CONFIG_ERROR for a wrong private_key and leaves the store file byte for byte unchanged', async () => {
    ductape = newClient({ store: storeUrl() });
    await define(ductape);
    await ductape.secrets.set({ key: 'DEMO_TOKEN', value: SECRETS.bearer });
    await ductape.close();
    const hash = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    const before = hash(readFileSync(join(dir, 'ws.db')));
    const filesBefore = readdirSync(dir).sort();

    const wrong = newClient({ store: storeUrl(), private_key: 'not-the-right-key-000' });
    for (const call of [
      () => wrong.secrets.list(),
      () => wrong.secrets.set({ key: 'X', value: 'would-overwrite' }),
      () => wrong.products.apps.configure({ product: 'shop', app: 'bearer', env: 'prd', auth: { type: 'bearer', token: 'x-token' } }),
      () => wrong.actions.run({ env: 'prd', product: 'shop', app: 'bearer', event: 'get_item', input: { params: { id: '1' } } }),
    ]) {
      const err = await failure(call());
      expect(err.code).toBe('CONFIG_ERROR');
      expect(err.message).toContain('private_key does not open workspace acme');
    }
    await wrong.close();
    expect(hash(readFileSync(join(dir, 'ws.db')))).toBe(before);
    expect(readdirSync(dir).sort()).toEqual(filesBefore);
  });

  it('writes no secret, credential or token value into the raw SQLite file', async () => {
    ductape = newClient({ store: storeUrl() });
    await define(ductape);
    await ductape.secrets.set({ key: 'DEMO_TOKEN', value: SECRETS.bearer, envs: ['prd'] });
    await ductape.secrets.set({ key: 'DEMO_TOKEN', value: SECRETS.bearerDev, envs: ['dev'] });
    await ductape.secrets.set({ key: 'CLIENT_SECRET', value: 'cs_LEAKCHECK_client_0008' });
    await ductape.products.apps.configure({ product: 'shop', app: 'bearer', env: 'prd', auth: { type: 'bearer', token: '$Secret{DEMO_TOKEN}' } });
    await ductape.products.apps.configure({ product: 'shop', app: 'basic', env: 'prd', auth: { type: 'basic', username: 'shop', password: SECRETS.basicPw } });
    await ductape.products.apps.configure({ product: 'shop', app: 'q', env: 'prd', auth: { type: 'apiKey', in: 'query', value: SECRETS.queryKey } });
    await ductape.products.apps.configure({ product: 'shop', app: 'oauth', env: 'prd', auth: { type: 'oauth2', grant: 'client_credentials', client_id: 'client-1', client_secret: '$Secret{CLIENT_SECRET}' } });
    for (const app of ['bearer', 'basic', 'q', 'oauth']) await ductape.actions.run({ env: 'prd', product: 'shop', app, event: 'get_item', input: { params: { id: '1' } } });
    await ductape.close();
    const accessToken = upstream.requests.find((r) => r.headers.authorization?.startsWith('Bearer at_'))!.headers.authorization!.slice(7);
    const bytes = storeBytes();
    for (const value of [...Object.values(SECRETS), 'cs_LEAKCHECK_client_0008', accessToken, Buffer.from(`shop:${SECRETS.basicPw}`).toString('base64')]) {
      expect(bytes.includes(Buffer.from(value)), value).toBe(false);
    }
    expect(bytes.includes(Buffer.from('LEAKCHECK'))).toBe(false);
  });
});

describe('secrets in runs', () => {
  beforeEach(async () => {
    ductape = newClient();
    await define(ductape);
  });

  it('does not resolve a secret scoped to prd in dev', async () => {
    await ductape.secrets.set({ key: 'PRD_ONLY', value: SECRETS.bearer, envs: ['prd'] });
    for (const env of ['dev', 'prd']) {
      await ductape.products.apps.configure({ product: 'shop', app: 'bearer', env, auth: { type: 'bearer', token: '$Secret{PRD_ONLY}' } });
    }
    await ductape.actions.run({ env: 'prd', product: 'shop', app: 'bearer', event: 'get_item', input: { params: { id: '1' } } });
    const err = await failure(ductape.actions.run({ env: 'dev', product: 'shop', app: 'bearer', event: 'get_item', input: { params: { id: '1' } } }));
    expect(err.code).toBe('CONFIG_ERROR');
    expect(err.message).toContain('secret PRD_ONLY is not available in env dev');
    expect(upstream.requests).toHaveLength(1);
  });

  it('refuses an expired secret with an error that says so', async () => {
    await ductape.secrets.set({ key: 'OLD', value: SECRETS.bearer, expires_at: new Date(Date.now() - 1000).toISOString() });
    await ductape.products.apps.configure({ product: 'shop', app: 'bearer', env: 'prd', auth: { type: 'bearer', token: '$Secret{OLD}' } });
    const err = await failure(ductape.actions.run({ env: 'prd', product: 'shop', app: 'bearer', event: 'get_item', input: { params: { id: '1' } } }));
    expect(err.code).toBe('CONFIG_ERROR');
    expect(err.message).toMatch(/secret OLD expired at/);
    expect(upstream.requests).toHaveLength(0);
  });

  it('names an unknown secret with NOT_FOUND', async () => {
    await ductape.products.apps.configure({ product: 'shop', app: 'bearer', env: 'prd', auth: { type: 'bearer', token: '$Secret{MISSING_KEY}' } });
    const err = await failure(ductape.actions.run({ env: 'prd', product: 'shop', app: 'bearer', event: 'get_item', input: { params: { id: '1' } } }));
    expect(err.code).toBe('NOT_FOUND');
    expect(err.message).toContain('"MISSING_KEY"');
  });
});

describe('injection', () => {
  beforeEach(async () => {
    ductape = newClient();
    await define(ductape);
    await ductape.products.apps.configure({ product: 'shop', app: 'bearer', env: 'prd', auth: { type: 'bearer', token: SECRETS.literal } });
  });

  it.each(['http://evil.test/', '//evil.test', '..%2f', '../../admin', 'a/b?c#d'])('keeps the path param %j on the configured origin as one segment', async (id) => {
    const env = await ductape.actions.execute({ env: 'prd', product: 'shop', app: 'bearer', event: 'get_item', input: { params: { id } } });
    expect(env.request.url.startsWith(`${upstream.url}/v1/items/`)).toBe(true);
    const got = upstream.requests[upstream.requests.length - 1];
    expect(got.url.split('/')).toHaveLength(4); // '', 'v1', 'items', '<one segment>'
    expect(decodeURIComponent(got.url.split('/')[3])).toBe(id);
  });

  it('refuses CR/LF inside a header value with INVALID_INPUT, in input and in credentials', async () => {
    const viaInput = await failure(
      ductape.actions.run({ env: 'prd', product: 'shop', app: 'bearer', event: 'get_item', input: { params: { id: '1' }, headers: { 'x-note': 'a\r\nX-Injected: 1' } } }),
    ).catch((e) => e);
    if (viaInput instanceof DuctapeError) expect(viaInput.code).toBe('INVALID_INPUT');
    await ductape.secrets.set({ key: 'CRLF', value: 'tok\r\nX-Injected: yes' });
    await ductape.products.apps.configure({ product: 'shop', app: 'basic', env: 'prd', auth: { type: 'bearer', token: '$Secret{CRLF}', scheme: 'bearerAuth' } });
    const viaSecret = await failure(ductape.actions.run({ env: 'prd', product: 'shop', app: 'basic', event: 'get_item', input: { params: { id: '1' } } }));
    expect(viaSecret.code).toBe('INVALID_INPUT');
    expect(upstream.requests.some((r) => 'x-injected' in r.headers)).toBe(false);
  });

  // The README's own 'sk_live_…' pasted as a secret: undici refused the header at send time, and the run failed as
  // NETWORK_ERROR ("check the base URL", reachedServer: true) without naming the header or the character.
  it('refuses a credential a header cannot carry with INVALID_INPUT naming the header and character, not the value', async () => {
    await ductape.secrets.set({ key: 'ELLIPSIS', value: 'sk_live_SECRET…' });
    await ductape.products.apps.configure({ product: 'shop', app: 'basic', env: 'prd', auth: { type: 'bearer', token: '$Secret{ELLIPSIS}', scheme: 'bearerAuth' } });
    const before = upstream.requests.length;
    const err = await failure(ductape.actions.run({ env: 'prd', product: 'shop', app: 'basic', event: 'get_item', input: { params: { id: '1' } } }));
    expect([err.code, err.message]).toEqual([
      'INVALID_INPUT',
      'Invalid credentials: headers/authorization: contains U+2026, which an HTTP header cannot carry (RFC 9110 §5.5); check the credential and the secret or variable it comes from.',
    ]);
    expect(JSON.stringify(err.toJSON())).not.toContain('SECRET');
    expect(upstream.requests.length).toBe(before);
  });
});

describe('redaction after many runs', () => {
  it('shows no secret in logs, errors or envelopes after 50 varied runs, failures included', async () => {
    ductape = newClient();
    await define(ductape);
    await ductape.secrets.set({ key: 'DEMO_TOKEN', value: SECRETS.bearer, envs: ['prd'] });
    await ductape.secrets.set({ key: 'CLIENT_SECRET', value: 'cs_LEAKCHECK_client_0008' });
    await ductape.secrets.set({ key: 'OLD', value: SECRETS.bearerDev, expires_at: new Date(Date.now() - 1).toISOString() });
    const cfg = (app: string, auth: unknown, env = 'prd') => ductape.products.apps.configure({ product: 'shop', app, env, auth: auth as never });
    await cfg('bearer', { type: 'bearer', token: '$Secret{DEMO_TOKEN}' });
    await cfg('bearer', { type: 'bearer', token: '$Secret{OLD}' }, 'dev');
    await cfg('basic', { type: 'basic', username: 'shop', password: SECRETS.basicPw });
    await cfg('q', { type: 'apiKey', in: 'query', value: SECRETS.queryKey });
    await cfg('oauth', { type: 'oauth2', grant: 'client_credentials', client_id: 'client-1', client_secret: '$Secret{CLIENT_SECRET}' });
    await cfg('pair', [
      { type: 'apiKey', name: 'X-Api-Key', value: SECRETS.pairA },
      { type: 'apiKey', name: 'X-Api-Secret', value: SECRETS.pairB },
    ]);

    // The spec declares no query parameters; each run sends its own `n` anyway, so this action opts out of the guard.
    await ductape.apps.actions.configure({ app: 'demo', event: 'get_item', allow_unknown_params: true });
    const seen: string[] = [];
    const apps = ['bearer', 'basic', 'q', 'oauth', 'pair'];
    const ids = ['1', 'fail', 'leak', 'deny', 'x'];
    for (let i = 0; i < 50; i++) {
      const app = apps[i % apps.length];
      const id = ids[Math.floor(i / apps.length) % ids.length];
      const env = i % 17 === 0 ? 'dev' : 'prd';
      const event = i % 23 === 0 ? 'no_such_event' : 'get_item';
      try {
        const envelope = await ductape.actions.execute({ env, product: 'shop', app, event, input: { params: { id }, query: { n: i } }, retries: id === 'fail' ? 1 : 0 });
        seen.push(JSON.stringify(envelope));
      } catch (err) {
        expect(err).toBeInstanceOf(DuctapeError);
        const e = err as DuctapeError;
        seen.push(JSON.stringify(e.toJSON()), e.message, String(e.stack), JSON.stringify(e));
      }
    }
    const logs = await ductape.logs.query({ limit: 1000 });
    expect(logs.length).toBeGreaterThanOrEqual(50);
    expect(logs.some((l) => !l.ok)).toBe(true);
    seen.push(JSON.stringify(logs));
    const accessToken = upstream.requests.find((r) => r.headers.authorization?.startsWith('Bearer at_'))?.headers.authorization?.slice(7);
    const text = seen.join('\n');
    for (const value of [...Object.values(SECRETS), 'cs_LEAKCHECK_client_0008', accessToken!, Buffer.from(`shop:${SECRETS.basicPw}`).toString('base64')]) {
      expect(text.includes(value), value).toBe(false);
      expect(text.includes(encodeURIComponent(value)), value).toBe(false);
    }
    // The upstream echoed credentials inside error bodies: they arrive redacted, not dropped.
    expect(text).toMatch(/bad credentials: (Bearer |Basic )?\[REDACTED\]/);
  });
});
