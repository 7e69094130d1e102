// `ductape keygen` (#11): a new 256-bit private_key, printed, with nothing else needed.
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

describe('ductape keygen', () => {
  it('#11: prints a different 256-bit base64url key on each call, without a workspace or store', async () => {
    const env = { DUCTAPE_WORKSPACE: '', DUCTAPE_PRIVATE_KEY: '', DUCTAPE_STORE: '' };
    const [a, b, json] = await Promise.all([runCli(['keygen'], env), runCli(['keygen'], env), runCli(['keygen', '--json'], env)]);
    for (const r of [a, b, json]) expect(r.code).toBe(0);
    const keys = [a.stdout.trim(), b.stdout.trim(), (JSON.parse(json.stdout) as { key: string }).key];
    for (const k of keys) {
      expect(k).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(k, 'base64url')).toHaveLength(32);
    }
    expect(new Set(keys).size).toBe(3);
  }, 60_000);
});
