// The CLI end to end: definitions written by one process are run by another (the SQLite store persists).
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ductape } from '../../src/index.js';
import { runCli } from '../helpers/cli.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

let dir: string;
let upstream: Upstream;
let env: Record<string, string>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ductape-cli-'));
  upstream = await startUpstream();
  env = { DUCTAPE_WORKSPACE: 'acme', DUCTAPE_USER: 'cli@acme.test', DUCTAPE_PRIVATE_KEY: 'cli-test-key-123456', DUCTAPE_STORE: `sqlite:${join(dir, 'ws.db')}` };
});

afterAll(async () => {
  await upstream.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('ductape CLI', () => {
  it('defines an app, product and connection in separate processes, then runs with --json', { timeout: 240_000 }, async () => {
    for (const args of [
      ['apps', 'create', 'internal-api', '--env', `dev=${upstream.url}`],
      ['actions', 'create', '--app', 'internal-api', '--event', 'fetch_user', '--method', 'GET', '--path', '/users/:userId'],
      ['products', 'create', 'api-gateway', '--envs', 'dev,prd'],
      ['connect', '--product', 'api-gateway', '--app', 'internal-api'],
      ['configure', '--product', 'api-gateway', '--app', 'internal-api', '--env', 'dev', '--header', 'x-tenant=acme'],
    ]) {
      const r = await runCli(args, env);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
    const list = await runCli(['actions', 'list', '--app', 'internal-api'], env);
    expect(list.stdout).toContain('fetch_user');
    // "List apps with their envs": the table left the envs out (a list, where it showed only scalars).
    expect((await runCli(['apps', 'list'], env)).stdout).toMatch(/^TAG +NAME +ENVS +ACTIONS\ninternal-api +internal-api +dev +1\n/);

    const r = await runCli(
      ['--json', 'run', '--env', 'dev', '--product', 'api-gateway', '--app', 'internal-api', '--event', 'fetch_user', '--params', '{"userId":"42"}', '--headers', '{"X-Request-ID":"req_1"}'],
      env,
    );
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ status: 200, attempts: 1, cached: false, request: { method: 'GET', url: `${upstream.url}/users/42` } });
    expect(out.data.headers['x-tenant']).toBe('acme');
    expect(out.data.headers['x-request-id']).toBe('req_1');

    const logs = await runCli(['--json', 'logs', '--product', 'api-gateway'], env);
    expect(JSON.parse(logs.stdout)[0]).toMatchObject({ event: 'fetch_user', status: 200, actor: 'cli@acme.test' });
  });

  it('writes binary bodies as base64 under --json, as ductape serve does, and as a note for people', { timeout: 240_000 }, async () => {
    // Before: { "type": "Buffer", "data": [0, 1, 2, 255] } (node's own form, four times the size), in both outputs.
    const bytes = await startUpstream((req, res) => {
      res.writeHead(req.url === '/fail' ? 500 : 200, { 'content-type': 'application/octet-stream' });
      res.end(Buffer.from([0, 1, 2, 255]));
    });
    try {
      for (const args of [
        ['apps', 'create', 'files', '--env', `dev=${bytes.url}`],
        ['actions', 'create', '--app', 'files', '--event', 'download', '--method', 'GET', '--path', '/file'],
        ['actions', 'create', '--app', 'files', '--event', 'broken', '--method', 'GET', '--path', '/fail'],
        ['products', 'create', 'downloads', '--envs', 'dev'],
        ['connect', '--product', 'downloads', '--app', 'files'],
      ]) expect((await runCli(args, env)).code).toBe(0);
      const run = (event: string, json: boolean) => runCli([...(json ? ['--json'] : []), 'run', '--env', 'dev', '--product', 'downloads', '--app', 'files', '--event', event], env);
      const [asJson, asText, failed] = await Promise.all([run('download', true), run('download', false), run('broken', true)]);
      expect(JSON.parse(asJson.stdout)).toMatchObject({ status: 200, data: 'AAEC/w==', encoding: 'base64' });
      expect(asText.stdout).toContain('(4 bytes of application/octet-stream; --json gives them as base64)');
      expect(failed.code).toBe(7);
      expect(JSON.parse(failed.stdout).error).toMatchObject({ code: 'UPSTREAM_ERROR', status: 500, body: 'AAEC/w==' });
    } finally {
      await bytes.close();
    }
  });

  it('exits non-zero with the error code on failure', async () => {
    const r = await runCli(['--json', 'run', '--env', 'dev', '--product', 'api-gateway', '--app', 'internal-api', '--event', 'nope'], env);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/^NOT_FOUND: No event "nope"/);
    expect(JSON.parse(r.stdout).error).toMatchObject({ code: 'NOT_FOUND', name: 'nope' });
  });

  it('reports bad JSON options as CONFIG_ERROR', async () => {
    const r = await runCli(['run', '--env', 'dev', '--product', 'p', '--app', 'a', '--event', 'e', '--body', '{oops'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('CONFIG_ERROR: --body must be JSON');
  });

  // These printed raw JSON ({ "deleted": true }) where every other command prints a line.
  it('says in a line what a delete, disconnect or env change did, also when there was nothing to delete', { timeout: 240_000 }, async () => {
    const lines: string[] = [];
    for (const args of [
      ['apps', 'create', 'scratch-api', '--env', `dev=${upstream.url}`],
      ['apps', 'env', 'scratch-api', 'prd', upstream.url],
      ['actions', 'create', '--app', 'scratch-api', '--event', 'ping', '--method', 'GET', '--path', '/ping'],
      ['actions', 'delete', '--app', 'scratch-api', '--event', 'ping'],
      ['actions', 'delete', '--app', 'scratch-api', '--event', 'ping'],
      ['apps', 'delete', 'scratch-api'],
    ]) {
      const r = await runCli(args, env);
      expect([r.code, r.stderr]).toEqual([0, '']);
      lines.push(r.stdout.trim());
    }
    expect(lines.slice(1)).toEqual([
      `Set env prd of app scratch-api: ${upstream.url}`,
      'Created ping: GET /ping',
      'Deleted action ping of app scratch-api',
      'Nothing to do: there is no action ping of app scratch-api',
      'Deleted app scratch-api',
    ]);
  });

  // Commander turns a parsed null into '': "--rate-limit null" was refused as "Invalid input" and "--auth null"
  // as a bad auth form, though the help says null removes them.
  it('removes a connection field given null on the command line', { timeout: 240_000 }, async () => {
    const at = ['--product', 'api-gateway', '--app', 'internal-api', '--env', 'dev'];
    for (const args of [
      ['configure', ...at, '--rate-limit', '{"requests":5,"per_ms":1000}', '--auth', '{"type":"bearer","token":"tok_cli_null_0001"}'],
      ['configure', ...at, '--rate-limit', 'null', '--auth', 'null', '--per-user', 'null'],
    ]) {
      const r = await runCli(args, env);
      expect([r.code, r.stderr]).toEqual([0, '']);
    }
    const d = new Ductape({ workspace_id: 'acme', private_key: env.DUCTAPE_PRIVATE_KEY, store: env.DUCTAPE_STORE, revision_poll_ms: 0 });
    try {
      const config = await d.products.apps.configure({ product: 'api-gateway', app: 'internal-api', env: 'dev' });
      expect(config).not.toHaveProperty('rate_limit');
      expect(config.auth ?? null).toBeNull();
      expect(config).not.toHaveProperty('per_user');
    } finally {
      await d.close();
    }
  });

  it('refuses a wrong private key for an existing workspace', async () => {
    const r = await runCli(['apps', 'list'], { ...env, DUCTAPE_PRIVATE_KEY: 'another-key-000000' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('private_key does not open workspace acme');
  });
});

describe('ductape command line mistakes', () => {
  it('reports a missing option, an unknown command and a bad serve port as CONFIG_ERROR with exit 2', { timeout: 240_000 }, async () => {
    const env = { DUCTAPE_WORKSPACE: 'acme', DUCTAPE_PRIVATE_KEY: 'cli-test-key-123456', DUCTAPE_STORE: ':memory:' };
    const missing = await runCli(['run', '--env', 'dev'], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(`CONFIG_ERROR: Required option '--product <tag>' not specified. See "ductape run --help".\n`);
    const unknown = await runCli(['nope'], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('CONFIG_ERROR: Unknown command');
    // env's store is ':memory:': a server there could never have an API key, so every request would be a 401.
    const memory = await runCli(['serve', '--port', '0'], env);
    expect([memory.code, memory.stderr]).toEqual([2, "CONFIG_ERROR: ductape serve needs a store that 'ductape keys create' can write to: with ':memory:' no API key can exist. Use sqlite:<path> or postgres://….\n"]);
    const serve = await runCli(['serve', '--port', '70000'], env);
    expect(serve.code).toBe(2);
    expect(serve.stderr).toContain('CONFIG_ERROR: --port must be a port number');
    const group = await runCli(['apps'], env);
    expect(group.code).toBe(2);
    expect(group.stderr).toBe('CONFIG_ERROR: "ductape apps" needs a command: create, update, import, list, fetch, delete, env, envs. See "ductape apps --help".\n');
    const sub = await runCli(['apps', 'frob'], env);
    expect(sub.code).toBe(2);
    expect(sub.stderr).toBe(`CONFIG_ERROR: Unknown command 'frob'. See "ductape apps --help".\n`);
    const noFile = await runCli(['apps', 'import', '--app', 'x'], env);
    expect([noFile.code, noFile.stderr]).toEqual([2, 'CONFIG_ERROR: Missing the definition file: ductape apps import <file> --app <tag>.\n']);
    const badAuth = await runCli(['configure', '--product', 'p', '--app', 'a', '--env', 'dev', '--auth', '5'], env);
    expect([badAuth.code, badAuth.stderr]).toEqual([2, 'CONFIG_ERROR: Invalid auth: expected an auth form ({ type: "bearer", token } …), a list of forms, or null.\n']);
    const noUrl = await runCli(['apps', 'create', 'x', '--env', 'dev'], env);
    expect([noUrl.code, noUrl.stderr]).toEqual([2, 'CONFIG_ERROR: --env expects slug=url, got "dev".\n']);
    const help = await runCli(['--help'], env);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: ductape');
  });

  it('says a serve port is taken in its own words, not as node\'s EADDRINUSE', { timeout: 120_000 }, async () => {
    // A port held by this test's own listener (port 0: the OS picks it), so no other process can be the one holding it.
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const dir = mkdtempSync(join(tmpdir(), 'ductape-cli-port-'));
    try {
      const port = (holder.address() as AddressInfo).port;
      const env = { DUCTAPE_WORKSPACE: 'acme', DUCTAPE_PRIVATE_KEY: 'cli-test-key-123456', DUCTAPE_STORE: `sqlite:${join(dir, 'w.db')}` };
      const taken = await runCli(['serve', '--port', String(port)], env);
      expect([taken.code, taken.stderr]).toEqual([
        2,
        `CONFIG_ERROR: Port ${port} on 127.0.0.1 is already in use by another process. Choose another with --port (env DUCTAPE_PORT), or stop that process.\n`,
      ]);
    } finally {
      await new Promise<void>((resolve) => holder.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
