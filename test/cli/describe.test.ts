// `ductape actions describe`: the description in a separate process, human and --json.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const petstore = fileURLToPath(new URL('../fixtures/specs/swagger-petstore-3.0.yaml', import.meta.url));
let dir: string;
let env: Record<string, string>;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ductape-describe-'));
  env = { DUCTAPE_WORKSPACE: 'acme', DUCTAPE_PRIVATE_KEY: 'cli-test-key-123456', DUCTAPE_STORE: `sqlite:${join(dir, 'ws.db')}` };
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ductape actions describe', () => {
  it('prints parameters with their style, the security and an example; --json prints the resolved schemas', { timeout: 120_000 }, async () => {
    expect((await runCli(['apps', 'import', petstore, '--app', 'petstore'], env)).code).toBe(0);
    const human = await runCli(['actions', 'describe', '--app', 'petstore', '--event', 'find_pets_by_status'], env);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('GET /pet/findByStatus');
    expect(human.stdout).toMatch(/status\s+query\s+\S*\s+.*form, explode/);
    expect(human.stdout).toContain('Security: petstore_auth');
    expect(human.stdout).toContain('Example input:');
    const json = await runCli(['--json', 'actions', 'describe', '--app', 'petstore', '--event', 'add_pet'], env);
    expect(json.code).toBe(0);
    const d = JSON.parse(json.stdout);
    expect(JSON.stringify(d)).not.toContain('components#/schemas/');
    expect(d.body.media['application/json'].schema.properties.category.properties).toHaveProperty('name');
    expect(d.example.body).toMatchObject({ name: 'doggie' });

    for (const args of [['products', 'create', 'shop', '--envs', 'dev'], ['connect', '--product', 'shop', '--app', 'petstore', '--access-tag', 'pets']]) {
      expect((await runCli(args, env)).code).toBe(0);
    }
    const out = join(dir, 'types', 'ductape-types.d.ts');
    const types = await runCli(['types', '--out', out], env);
    expect(types.stderr).toBe('');
    expect(types.stdout).toContain(`Wrote ${out}: 19 events of petstore for shop`);
    const source = readFileSync(out, 'utf8');
    expect(source).toContain(`declare module 'ductape' {`);
    expect(source).toMatch(/shop: \{\n\s+pets: \{\n\s+add_pet: Petstore\.AddPet;/);
    // --out naming a folder said node's "EISDIR: illegal operation on a directory, open …".
    const folder = await runCli(['types', '--out', dir], env);
    expect([folder.code, folder.stderr]).toEqual([2, `CONFIG_ERROR: Cannot write the declaration file ${dir}: it is a folder; name a file such as src/ductape-types.d.ts.\n`]);
  });
});
