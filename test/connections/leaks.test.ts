// No owner's token (access, refresh), authorization code or client secret appears in the store file, run logs,
// errors or envelopes, across connects, refreshes, a refused refresh, a revoke and failed completions.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { DuctapeError, type Ductape } from '../../src/index.js';
import { startAuthorizationServer, type AuthorizationServer } from '../helpers/authorization-server.js';
import { newClient, TEST_KEY } from '../helpers/client.js';
import { send, readBody } from '../helpers/oauth-server.js';
import { startWorker, type Worker } from '../helpers/worker.js';
import { AT, connect, definePerUser, me, REDIRECT_URI, sessionOf } from './setup.js';

let dir: string;
let as: AuthorizationServer;
let ductape: Ductape;
let worker: Worker | undefined;

afterEach(async () => {
  await worker?.stop();
  worker = undefined;
  await ductape?.close();
  await as?.close();
  rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('per-user connections leak nothing', () => {
  it('keeps tokens, codes and the client secret out of the store file, logs, errors and envelopes', async () => {
    dir = mkdtempSync(join(tmpdir(), 'ductape-owner-leaks-'));
    as = await startAuthorizationServer({ redirectUris: [REDIRECT_URI], expiresIn: 1 });
    ductape = newClient({ store: `sqlite:${join(dir, 'ws.db')}` });
    await definePerUser(ductape, as);
    const seen: string[] = [];
    const capture = async (p: Promise<unknown>) => {
      try {
        seen.push(JSON.stringify(await p));
      } catch (err) {
        if (!(err instanceof DuctapeError)) throw err;
        seen.push(err.message, JSON.stringify(err), String(err.stack));
      }
    };

    await connect(ductape, as, '1', 'alice@crm');
    await connect(ductape, as, '2', 'bob@crm');
    const [sa, sb] = [await sessionOf(ductape, '1'), await sessionOf(ductape, '2')];
    for (const s of [sa, sb]) await capture(ductape.actions.execute({ ...AT, event: 'me', session: s }));
    await sleep(1100);
    await capture(ductape.actions.execute({ ...AT, event: 'me', session: sa })); // refreshed
    as.revokeGrantsOf('bob@crm');
    await capture(me(ductape, sb)); // refused refresh: expired
    await capture(me(ductape, sb));
    const { url, state } = await ductape.connections.authorize({ ...AT, owner: '3' });
    const { code } = await as.approve(url, 'carol@crm');
    await capture(ductape.connections.complete({ state, code: `${code}x` })); // the provider refuses the code
    await capture(ductape.connections.complete({ state, code })); // the state is spent
    await capture(ductape.connections.revoke({ ...AT, owner: '1' }));
    await capture(me(ductape, sa));
    await capture(ductape.connections.list({ product: 'dash' }));
    seen.push(JSON.stringify(await ductape.logs.query({ limit: 1000 })));
    await ductape.close();

    const store = Buffer.concat(readdirSync(dir).map((f) => readFileSync(join(dir, f)))).toString('latin1');
    const everything = seen.join('\n');
    const secrets = [...as.issued, 'app-client-secret-0042', state];
    expect(as.issued.size).toBeGreaterThan(8); // codes, access and refresh tokens were really issued
    for (const s of secrets) {
      expect(store, `store file holds ${s.slice(0, 6)}…`).not.toContain(s);
      expect(everything, `output holds ${s.slice(0, 6)}…`).not.toContain(s);
    }
    // The logs carry the owners, and what happened to them.
    const logs = JSON.parse(seen.at(-1)!) as { owner: string | null; errorCode: string | null }[];
    expect(new Set(logs.map((l) => l.owner))).toEqual(new Set(['1', '2']));
    expect(logs.filter((l) => l.owner === '2' && l.errorCode === 'AUTH_FAILED')).toHaveLength(2);
  });

  it('keeps an owner\'s refresh token out of the error and the log of a process that only read it from the store, when the provider echoes it', async () => {
    // A fresh process knows the stored refresh token from no redaction yet; a refusal quoting it used to reach
    // err.message and the run log as is.
    dir = mkdtempSync(join(tmpdir(), 'ductape-owner-leaks-'));
    const REFRESH = 'rt-owner-refresh-0123456789';
    const provider = createServer(async (req, res) => {
      const form = new URLSearchParams(await readBody(req));
      if (form.get('grant_type') === 'authorization_code') return send(res, 200, { access_token: 'at-owner-0123456789', refresh_token: REFRESH, expires_in: 1 });
      send(res, 400, { error: 'invalid_request', error_description: `refresh_token ${form.get('refresh_token')} is malformed` });
    });
    await new Promise<void>((r) => provider.listen(0, '127.0.0.1', r));
    onTestFinished(() => new Promise<void>((r) => provider.close(() => r())));
    const url = `http://127.0.0.1:${(provider.address() as AddressInfo).port}`;
    const store = `sqlite:${join(dir, 'ws.db')}`;
    ductape = newClient({ store });
    await ductape.apps.create({ tag: 'crm', envs: [{ slug: 'prd', base_url: url }] });
    await ductape.apps.actions.create({ app: 'crm', event: 'me', method: 'GET', path: '/me' });
    await ductape.products.create({ tag: 'dash', envs: ['prd'] });
    await ductape.products.apps.connect({ product: 'dash', app: 'crm' });
    await ductape.products.sessions.create({ product: 'dash', tag: 'user', sample: { user: { id: '42' } }, selector: '$Session{user}{id}' });
    await ductape.products.apps.configure({
      ...AT,
      per_user: '$Session{user}{id}',
      auth: { type: 'oauth2', grant: 'authorization_code', authorize_url: `${url}/authorize`, token_url: `${url}/token`, client_id: 'c', redirect_uri: REDIRECT_URI },
    });
    const { state } = await ductape.connections.authorize({ ...AT, owner: '42' });
    await ductape.connections.complete({ state, code: 'code-42' });
    const session = await sessionOf(ductape, '42');
    await ductape.close();
    await sleep(1100); // the access token has expired: the next run refreshes

    worker = await startWorker({ workspace_id: 'acme', user_id: 'tester@acme.test', private_key: TEST_KEY, store, revision_poll_ms: 0 });
    const err = await worker.call('actions.run', { ...AT, event: 'me', session }).catch((e: Error & { code?: string }) => e);
    expect(err).toMatchObject({ code: 'AUTH_FAILED' });
    const logs = JSON.stringify(await worker.call('logs.query', { limit: 10 }));
    expect(logs).toContain('invalid_request');
    for (const text of [(err as Error).message, logs]) expect(text).not.toContain(REFRESH);
  });

  it('keeps the authorization code and the PKCE verifier out of the error when the provider echoes them in its refusal', async () => {
    // complete() registered neither as a secret: a refusal quoting them reached err.message (5xx) and err.cause (4xx),
    // and with them the callback page and the CLI's output.
    dir = mkdtempSync(join(tmpdir(), 'ductape-owner-leaks-'));
    const verifiers: string[] = [];
    let status = 400;
    const provider = createServer(async (req, res) => {
      const form = new URLSearchParams(await readBody(req));
      verifiers.push(form.get('code_verifier')!);
      send(res, status, { error: status === 400 ? 'invalid_grant' : 'server_error', error_description: `code ${form.get('code')} with verifier ${form.get('code_verifier')} is not valid` });
    });
    await new Promise<void>((r) => provider.listen(0, '127.0.0.1', r));
    onTestFinished(() => new Promise<void>((r) => provider.close(() => r())));
    const url = `http://127.0.0.1:${(provider.address() as AddressInfo).port}`;
    ductape = newClient();
    await ductape.apps.create({ tag: 'crm', envs: [{ slug: 'prd', base_url: url }] });
    await ductape.products.create({ tag: 'dash', envs: ['prd'] });
    await ductape.products.apps.connect({ product: 'dash', app: 'crm' });
    await ductape.products.apps.configure({
      ...AT,
      per_user: '$Session{user}{id}',
      auth: { type: 'oauth2', grant: 'authorization_code', authorize_url: `${url}/authorize`, token_url: `${url}/token`, client_id: 'c', redirect_uri: REDIRECT_URI },
    });
    for (const [s, code, expected] of [[400, 'code-refused-0123456789', 'AUTH_FAILED'], [503, 'code-outage-0123456789', 'UPSTREAM_ERROR']] as const) {
      status = s;
      const { state } = await ductape.connections.authorize({ ...AT, owner: '42' });
      const err = (await ductape.connections.complete({ state, code }).catch((e: DuctapeError) => e)) as DuctapeError;
      expect(err).toMatchObject({ code: expected });
      const text = [err.message, JSON.stringify(err), String(err.stack), (err.cause as Error | undefined)?.message ?? ''].join('\n');
      expect(text).toContain('is not valid');
      expect(text).not.toContain(code);
      expect(text).not.toContain(verifiers.at(-1));
    }
  });
});
