// `ductape apply` in real processes: --dry-run writes nothing, a second apply changes nothing, no secret printed.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

let dir: string;
let env: Record<string, string>;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ductape-cli-apply-'));
  env = {
    DUCTAPE_WORKSPACE: 'acme',
    DUCTAPE_PRIVATE_KEY: 'cli-apply-key-123456',
    DUCTAPE_STORE: `sqlite:${join(dir, 'ws.db')}`,
    API_TOKEN: 'tok_CLIAPPLY_0001',
  };
  writeFileSync(
    join(dir, 'ductape.yaml'),
    `apps:
  internal-api:
    envs: { prd: "http://127.0.0.1:9/api" }
products:
  gateway:
    envs: [prd]
    apps:
      internal-api:
        envs:
          prd: { auth: { type: bearer, token: "$Secret{API_TOKEN}" } }
secrets:
  API_TOKEN: "$Env{API_TOKEN}"
`,
  );
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ductape apply', () => {
  it('prints the plan with --dry-run, applies once, then reports no changes', async () => {
    const file = join(dir, 'ductape.yaml');
    const dry = await runCli(['apply', file, '--dry-run'], env);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('Would apply 6 change(s)');
    expect(dry.stdout).toContain('set secret API_TOKEN (every env)');
    const hash = () => (existsSync(join(dir, 'ws.db')) ? createHash('sha256').update(readFileSync(join(dir, 'ws.db'))).digest('hex') : '');
    const afterDry = hash();
    const list = await runCli(['secrets', 'list', '--json'], env);
    expect(JSON.parse(list.stdout)).toEqual([]);
    expect(hash()).toBe(afterDry);

    const first = await runCli(['apply', file], env);
    expect(first.stdout).toContain('Applied 6 change(s)');
    const second = await runCli(['apply', file, '--json'], env);
    expect(JSON.parse(second.stdout)).toEqual({ dry_run: false, changes: [] });
    // With the product gone from the file, apply keeps it, and does not claim that the workspace matches the file.
    writeFileSync(file, readFileSync(file, 'utf8').replace(/products:[\s\S]*secrets:/, 'secrets:'));
    const third = await runCli(['apply', file], env);
    expect(third.stdout).toBe('No changes: the workspace has everything the file declares (apply deletes nothing the file leaves out).\n');
    expect((await runCli(['products', 'list'], env)).stdout).toContain('gateway');
    for (const r of [dry, first, second, third]) expect(r.stdout + r.stderr).not.toContain('tok_CLIAPPLY');
  });
});
