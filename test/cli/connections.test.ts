// `ductape connections authorize|complete|list|revoke` and `configure --per-user` in child processes over one SQLite file.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ductape } from '../../src/index.js';
import { startAuthorizationServer, type AuthorizationServer } from '../helpers/authorization-server.js';
import { runCli } from '../helpers/cli.js';
import { definePerUser, REDIRECT_URI } from '../connections/setup.js';

let dir: string;
let as: AuthorizationServer;
let env: Record<string, string>;
const at = ['--product', 'dash', '--env', 'prd', '--app', 'crm'];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ductape-cli-connections-'));
  as = await startAuthorizationServer({ redirectUris: [REDIRECT_URI] });
  env = { DUCTAPE_WORKSPACE: 'acme', DUCTAPE_USER: 'cli@acme.test', DUCTAPE_PRIVATE_KEY: 'cli-connections-key-123', DUCTAPE_STORE: `sqlite:${join(dir, 'ws.db')}` };
  const d = new Ductape({ workspace_id: 'acme', private_key: env.DUCTAPE_PRIVATE_KEY, store: env.DUCTAPE_STORE, revision_poll_ms: 0 });
  await definePerUser(d, as);
  await d.close();
});

afterAll(async () => {
  await as.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('ductape connections', () => {
  it('authorizes, completes, lists and revokes an owner', async () => {
    const authorized = await runCli(['--json', 'connections', 'authorize', ...at, '--owner', '42'], env);
    expect(authorized.stderr).toBe('');
    const { url, state } = JSON.parse(authorized.stdout);
    expect(new URL(url).searchParams.get('state')).toBe(state);
    // An owner id as typed, not JSON (it was refused as "--owner must be JSON").
    const human = await runCli(['connections', 'authorize', ...at, '--owner', 'alice@acme.test'], env);
    expect([human.code, human.stderr]).toEqual([0, '']);
    expect(human.stdout).toContain(`Send the user to:\n${as.authorizeUrl}?`);

    const { code } = await as.approve(url, 'alice@crm');
    const completed = await runCli(['--json', 'connections', 'complete', '--state', state, '--code', code], env);
    expect(completed.stderr).toBe('');
    expect(JSON.parse(completed.stdout)).toMatchObject({ owner: '42', status: 'active', scopes: ['contacts.read', 'contacts.write'] });
    const replay = await runCli(['connections', 'complete', '--state', state, '--code', code], env);
    expect(replay.code).not.toBe(0);
    expect(replay.stderr).toMatch(/^AUTH_FAILED: This consent state is unknown, already used or expired/);

    const listed = await runCli(['connections', 'list', '--product', 'dash'], env);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain('42');
    expect(listed.stdout).toContain('active');
    for (const t of as.issued) expect(listed.stdout + completed.stdout).not.toContain(t);

    const revoked = await runCli(['connections', 'revoke', ...at, '--owner', '42'], env);
    expect(revoked.stdout).toContain('Revoked the connection of 42 to crm in dash/prd');
    expect(as.revokeCalls).toHaveLength(1);
    const after = JSON.parse((await runCli(['--json', 'connections', 'list', '--product', 'dash'], env)).stdout);
    expect(after).toMatchObject([{ owner: '42', status: 'revoked' }]);
  }, 240_000); // seven CLI processes, each starting tsx: slow on a loaded machine
});
