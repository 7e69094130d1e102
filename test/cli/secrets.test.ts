// `ductape secrets …`, `configure --auth` and `rotate-key` in real processes: values never reach stdout or stderr.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authSpec } from '../helpers/auth-spec.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

const VALUE = 'sk_live_CLILEAK_0123456789';
let dir: string;
let upstream: Upstream;
let env: Record<string, string>;
const outputs: CliResult[] = [];

async function cli(args: string[], extra: Record<string, string> = {}): Promise<CliResult> {
  const r = await runCli(args, { ...env, ...extra });
  outputs.push(r);
  return r;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ductape-cli-secrets-'));
  upstream = await startUpstream((req, res) => {
    const leak = req.url.includes('/leak');
    res.writeHead(leak ? 400 : 200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(leak ? { error: `bad ${req.headers.authorization}` } : { ok: true }));
  });
  env = { DUCTAPE_WORKSPACE: 'acme', DUCTAPE_USER: 'cli@acme.test', DUCTAPE_PRIVATE_KEY: 'cli-secrets-key-123456', DUCTAPE_STORE: `sqlite:${join(dir, 'ws.db')}` };
  writeFileSync(join(dir, 'spec.json'), JSON.stringify(authSpec('https://auth.example.test/token')));
});

afterAll(async () => {
  await upstream.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('ductape secrets CLI', () => {
  it('sets, lists and uses a secret, rotates the key, and never prints the value', { timeout: 240_000 }, async () => {
    for (const args of [
      ['apps', 'create', 'demo', '--env', `prd=${upstream.url}/v1`, '--env', `dev=${upstream.url}/v1`],
      ['apps', 'import', join(dir, 'spec.json'), '--app', 'demo'],
      ['products', 'create', 'shop', '--envs', 'dev,prd'],
      ['connect', '--product', 'shop', '--app', 'demo'],
      ['configure', '--product', 'shop', '--app', 'demo', '--env', 'prd', '--auth', '{"type":"bearer","token":"$Secret{STRIPE_KEY}"}'],
      ['configure', '--product', 'shop', '--app', 'demo', '--env', 'dev', '--auth', '{"type":"bearer","token":"$Secret{STRIPE_KEY}"}'],
    ]) {
      const r = await cli(args);
      expect(r.stderr, args.join(' ')).toBe('');
      expect(r.code).toBe(0);
    }
    const set = await cli(['secrets', 'set', 'STRIPE_KEY', '--value-env', 'MY_VALUE', '--envs', 'prd'], { MY_VALUE: VALUE });
    expect(set.code).toBe(0);
    expect(set.stdout).toContain('Set secret STRIPE_KEY for env prd');

    const list = await cli(['secrets', 'list', '--json']);
    expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ key: 'STRIPE_KEY', envs: ['prd'], apps: null })]);
    expect((await cli(['secrets', 'list'])).stdout).toMatch(/STRIPE_KEY\s+prd\s+\*/);

    const ok = await cli(['run', '--env', 'prd', '--product', 'shop', '--app', 'demo', '--event', 'get_item', '--params', '{"id":"1"}', '--json']);
    expect(ok.code).toBe(0);
    expect(upstream.requests[upstream.requests.length - 1].headers.authorization).toBe(`Bearer ${VALUE}`);

    const dev = await cli(['run', '--env', 'dev', '--product', 'shop', '--app', 'demo', '--event', 'get_item', '--params', '{"id":"1"}']);
    expect(dev.code).toBe(2);
    expect(dev.stderr).toContain('CONFIG_ERROR: secret STRIPE_KEY is not available in env dev');

    const leak = await cli(['run', '--env', 'prd', '--product', 'shop', '--app', 'demo', '--event', 'get_item', '--params', '{"id":"leak"}', '--json']);
    expect(leak.code).not.toBe(0);
    expect(leak.stdout + leak.stderr).toContain('[REDACTED]');

    const noValue = await cli(['secrets', 'set', 'OTHER', '--value-env', 'UNSET_VARIABLE_X']);
    expect(noValue.code).toBe(2);

    // --expires-at takes the ISO time as typed (it said "--expires-at must be JSON" unless quoted as a JSON string).
    const expiring = await cli(['secrets', 'set', 'EXPIRING', '--value-env', 'MY_VALUE', '--expires-at', '2099-01-01T00:00:00Z'], { MY_VALUE: VALUE });
    expect([expiring.code, expiring.stderr, expiring.stdout]).toEqual([0, '', 'Set secret EXPIRING for every env, until 2099-01-01T00:00:00.000Z\n']);
    const badTime = await cli(['secrets', 'set', 'EXPIRING', '--value-env', 'MY_VALUE', '--expires-at', 'tomorrow'], { MY_VALUE: VALUE });
    expect([badTime.code, badTime.stderr]).toEqual([2, 'CONFIG_ERROR: Invalid expires_at: expected an ISO 8601 time such as 2026-12-06T09:00:00Z (or a date, 2026-12-06), or milliseconds since the epoch.\n']);
    const badStatus = await cli(['logs', '--status', 'oops']);
    expect([badStatus.code, badStatus.stderr]).toEqual([2, "CONFIG_ERROR: Invalid status: expected an HTTP status (such as 404), 'ok' or 'error'.\n"]);
    expect((await cli(['secrets', 'delete', 'EXPIRING'])).code).toBe(0);

    const rotated = await cli(['rotate-key'], { DUCTAPE_NEW_PRIVATE_KEY: 'cli-secrets-key-rotated-99' });
    expect(rotated.code).toBe(0);
    expect(rotated.stdout).toContain('Re-sealed 2 connection credential(s), 1 secret value(s)');
    const stale = await cli(['secrets', 'list']);
    expect(stale.code).toBe(2);
    expect(stale.stderr).toContain('private_key does not open workspace acme');
    const after = await cli(['run', '--env', 'prd', '--product', 'shop', '--app', 'demo', '--event', 'get_item', '--params', '{"id":"1"}'], {
      DUCTAPE_PRIVATE_KEY: 'cli-secrets-key-rotated-99',
    });
    expect(after.code).toBe(0);

    const del = await cli(['secrets', 'delete', 'STRIPE_KEY', '--envs', 'prd'], { DUCTAPE_PRIVATE_KEY: 'cli-secrets-key-rotated-99' });
    expect(del.stdout).toContain('Deleted 1 value of secret STRIPE_KEY');

    for (const r of outputs) {
      expect(r.stdout + r.stderr).not.toContain(VALUE);
      expect(r.stdout + r.stderr).not.toContain('cli-secrets-key');
    }
  });
});
