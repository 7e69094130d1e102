// `ductape sessions start|verify|refresh|revoke|list` in child processes over one SQLite file, and a run with --session.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ductape } from '../../src/index.js';
import { runCli } from '../helpers/cli.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

let dir: string;
let upstream: Upstream;
let env: Record<string, string>;
const scope = ['--product', 'dashboard', '--env', 'prd', '--tag', 'user-session'];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ductape-cli-sessions-'));
  upstream = await startUpstream();
  env = { DUCTAPE_WORKSPACE: 'acme', DUCTAPE_USER: 'cli@acme.test', DUCTAPE_PRIVATE_KEY: 'cli-sessions-key-123', DUCTAPE_STORE: `sqlite:${join(dir, 'ws.db')}` };
  const d = new Ductape({ workspace_id: 'acme', private_key: env.DUCTAPE_PRIVATE_KEY, store: env.DUCTAPE_STORE, revision_poll_ms: 0 });
  await d.apps.create({ tag: 'analytics', envs: [{ slug: 'prd', base_url: upstream.url }] });
  await d.apps.actions.create({ app: 'analytics', event: 'get_user_stats', method: 'GET', path: '/users/{userId}/stats' });
  await d.products.create({ tag: 'dashboard', envs: ['prd'] });
  await d.products.apps.connect({ product: 'dashboard', app: 'analytics' });
  await d.products.sessions.create({ product: 'dashboard', tag: 'user-session', sample: { user: { id: '42' } }, selector: '$Session{user}{id}' });
  await d.close();
});

afterAll(async () => {
  await upstream.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('ductape sessions', () => {
  it('starts, verifies, runs with, refreshes and revokes a session', async () => {
    const started = await runCli(['--json', 'sessions', 'start', ...scope, '--data', '{"user":{"id":"42"}}'], env);
    expect(started.stderr).toBe('');
    expect(started.code).toBe(0);
    const s = JSON.parse(started.stdout);
    expect(s).toEqual({ token: expect.stringMatching(/^[\w-]+\.\.[\w-]+\.[\w-]+\.[\w-]+$/), refreshToken: expect.any(String), sessionId: expect.any(String), expiresAt: expect.any(String), refreshExpiresAt: expect.any(String) });

    const verified = await runCli(['--json', 'sessions', 'verify', ...scope, '--token', s.token], env);
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ valid: true, data: { user: { id: '42' } }, sessionId: s.sessionId });

    const run = await runCli(['--json', 'run', '--env', 'prd', '--product', 'dashboard', '--app', 'analytics', '--event', 'get_user_stats', '--params', '{"userId":"$Session{user}{id}"}', '--session', `user-session:${s.token}`], env);
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout).request.url).toBe(`${upstream.url}/users/42/stats`);

    const human = await runCli(['sessions', 'refresh', ...scope, '--refresh-token', s.refreshToken], env);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^token: +[\w-]+\.\.[\w-]+/m);
    expect(human.stdout).not.toContain('[REDACTED]');

    const listed = await runCli(['--json', 'sessions', 'list', '--product', 'dashboard'], env);
    expect(JSON.parse(listed.stdout).map((x: { sessionId: string }) => x.sessionId)).toEqual([s.sessionId]);

    const revoked = await runCli(['sessions', 'revoke', ...scope, '--identifier', '42'], env);
    expect(revoked.stdout.trim()).toBe('Revoked 1 session');

    const after = await runCli(['sessions', 'verify', ...scope, '--token', s.token], env);
    expect(after.code).toBe(5);
    expect(after.stderr).toMatch(/^SESSION_INVALID: /);
  });

  it('exits non-zero with the code for a bad token, bad data and a missing revoke target', async () => {
    const bad = await runCli(['sessions', 'verify', ...scope, '--token', 'nope'], env);
    expect(bad.code).toBe(5);
    const data = await runCli(['sessions', 'start', ...scope, '--data', '{"user":{}}'], env);
    expect(data.code).toBe(3);
    expect(data.stderr).toMatch(/^INVALID_INPUT: /);
    const neither = await runCli(['sessions', 'revoke', ...scope], env);
    expect(neither.code).toBe(2);
    expect(neither.stderr).toContain('exactly one of --session-id or --identifier');
  });
});
