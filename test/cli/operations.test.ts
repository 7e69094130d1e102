// CLI commands derived from the operation table, in real processes: the ones a new user found missing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

let dir: string;
let env: Record<string, string>;
const cli = async (args: string[]) => {
  const r = await runCli(args, env);
  if (r.code !== 0) throw new Error(`ductape ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ductape-cli-ops-'));
  env = { DUCTAPE_WORKSPACE: 'acme', DUCTAPE_USER: 'cli@acme.test', DUCTAPE_PRIVATE_KEY: 'cli-ops-key-123456', DUCTAPE_STORE: `sqlite:${join(dir, 'ws.db')}`, DUCTAPE_SECRET_VALUE: 'sk_cli_ops_0123456789' };
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('derived CLI commands', () => {
  it('prints the version', async () => {
    expect((await cli(['--version'])).trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  // `apps update --help` listed every option without a word (the nullable schemas lost their descriptions), and
  // `keys create --role <value>` did not say which roles there are.
  it('describes every option of apps update and keys create in --help', async () => {
    const update = await cli(['apps', 'update', '--help']);
    expect(update).toMatch(/--name <value> +display name\n/);
    expect(update).toMatch(/--rate-limit <json> +default rate limit/);
    expect(update).toContain('null removes it');
    expect(await cli(['keys', 'create', '--help'])).toMatch(/--role <value> +'admin' \(every route\) or 'run'/);
  });

  // logs --help said "rows (default 20) (default: 20)" and nothing at all for --product, --app and --event.
  it('describes the logs filters once each in --help', async () => {
    const help = await cli(['logs', '--help']);
    expect(help).toMatch(/--product <tag> +product tag\n/);
    expect(help).toMatch(/--event <event> +action event tag\n/);
    expect(help).toMatch(/--limit <n> +rows, newest first \(default: 20\)\n/);
  });

  it("runs the README's sessions start example after creating the session type from the CLI", { timeout: 480_000 }, async () => {
    await cli(['products', 'create', 'payments', '--envs', 'dev,prd']);
    await cli(['session-types', 'create', '--product', 'payments', '--tag', 'user-session', '--sample', '{"user":{"id":"1"}}', '--selector', '$Session{user}{id}', '--expiry', '3600']);
    const started = JSON.parse(await cli(['--json', 'sessions', 'start', '--product', 'payments', '--env', 'prd', '--tag', 'user-session', '--data', '{"user":{"id":"42"}}']));
    expect(started.token).toEqual(expect.any(String));

    await cli(['caches', 'create', '--product', 'payments', '--tag', 'products-list', '--expiry', '60000']);
    expect(await cli(['caches', 'clear', '--product', 'payments', '--tag', 'products-list'])).toContain('Cleared 0 entries');
    expect(JSON.parse(await cli(['--json', 'products', 'fetch', 'payments']))).toMatchObject({ tag: 'payments', caches: { 'products-list': { expiry_ms: 60000 } } });

    await cli(['secrets', 'set', 'STRIPE_KEY', '--value-env', 'DUCTAPE_SECRET_VALUE']);
    expect((await cli(['secrets', 'get', 'STRIPE_KEY'])).trim()).toBe('sk_cli_ops_0123456789');

    const key = JSON.parse(await cli(['--json', 'keys', 'create', '--name', 'ci', '--role', 'run', '--product', 'payments', '--env', 'prd']));
    expect(key).toEqual({ id: expect.any(String), key: expect.stringMatching(/^dtk_/) });
    expect(await cli(['keys', 'revoke', key.id])).toContain(`Revoked key ${key.id}`);

    expect(JSON.parse(await cli(['--json', 'products', 'delete', 'payments']))).toEqual({ deleted: true });
  });
});
