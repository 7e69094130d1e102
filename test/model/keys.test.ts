// Workspace keys (#11): scrypt with stored parameters, a work factor on every guess, and stores from before it.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { Ductape } from '../../src/index.js';
import { createWorkspaceKey, KDF_DEFAULTS, openWorkspaceKey } from '../../src/model/keys.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { newClient } from '../helpers/client.js';
import { startUpstream } from '../helpers/upstream.js';

const FIXTURE = join(import.meta.dirname, '../fixtures/legacy-store');
const LEGACY_KEY = 'legacy-private-key-0123';

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ductape-keys-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('workspace keys', () => {
  it('#11: stores scrypt parameters and a salt with the key check, never the key or the master key', async () => {
    const key = await createWorkspaceKey('correct horse battery', 'acme');
    const [kdf, n, r, p, salt, check] = key.keyCheck.split('$');
    expect([kdf, Number(n), Number(r), Number(p)]).toEqual(['scrypt', KDF_DEFAULTS.N, KDF_DEFAULTS.r, KDF_DEFAULTS.p]);
    expect(Buffer.from(salt, 'base64url')).toHaveLength(16);
    expect(check).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(key.keyCheck).not.toContain(key.material.slice('scrypt:'.length));
    // Two workspaces with one private_key get different salts, hence different master keys.
    const other = await createWorkspaceKey('correct horse battery', 'acme');
    expect(other.material).not.toBe(key.material);
    expect((await openWorkspaceKey('correct horse battery', 'acme', key.keyCheck))?.material).toBe(key.material);
    expect(await openWorkspaceKey('correct horse batterz', 'acme', key.keyCheck)).toBeUndefined();
  });

  it('#11: a wrong-key open of a store costs at least 50 ms of CPU (scrypt), and changes nothing', async () => {
    const dir = tempDir();
    const store = `sqlite:${join(dir, 'ductape.db')}`;
    const d = newClient({ store, private_key: 'the-right-key-0123' });
    await d.secrets.set({ key: 'K', value: 'v' });
    await d.close();
    const row = async () => {
      const s = await openSqliteStore(join(dir, 'ductape.db'));
      try {
        return await s.getWorkspace('acme');
      } finally {
        await s.close();
      }
    };
    const before = await row();

    const wrong = newClient({ store, private_key: 'the-wrong-key-0123' });
    const started = process.cpuUsage();
    const err = await wrong.ready().catch((e) => e);
    const used = process.cpuUsage(started);
    await wrong.close();
    expect(err.code).toBe('CONFIG_ERROR');
    expect(err.message).toMatch(/private_key does not open workspace acme/);
    // user + system time of the whole process, libuv's pool included (scrypt runs there).
    expect((used.user + used.system) / 1000).toBeGreaterThanOrEqual(50);
    expect(await row()).toEqual(before);
  });

  it('#11: a store written before the change opens with its key, keeps every sealed value, and is migrated to scrypt', async () => {
    const dir = tempDir();
    cpSync(FIXTURE, dir, { recursive: true });
    const { refreshToken } = (await import(join(dir, 'session.json'), { with: { type: 'json' } })).default as { refreshToken: string };
    const up = await startUpstream();
    onTestFinished(() => up.close());
    const open = (key: string) => new Ductape({ workspace_id: 'acme', user_id: 't', private_key: key, store: `sqlite:${join(dir, 'ductape.db')}`, revision_poll_ms: 0 });

    // A wrong key neither opens nor migrates it.
    const wrong = open('not-the-legacy-key');
    expect((await wrong.ready().catch((e) => e)).code).toBe('CONFIG_ERROR');
    await wrong.close();

    const d = open(LEGACY_KEY);
    await d.apps.envs.upsert({ app: 'api', slug: 'prd', base_url: up.url });
    await d.actions.run({ env: 'prd', product: 'shop', app: 'api', event: 'get_x' });
    expect(up.requests[0].headers.authorization).toBe('Bearer sk_legacy_secret_value');
    expect(up.requests[0].headers['x-direct']).toBe('direct-credential-value');
    expect((await d.secrets.get({ key: 'API_KEY' })).value).toBe('sk_legacy_secret_value');
    const refreshed = await d.sessions.refresh({ product: 'shop', env: 'prd', tag: 'user', refreshToken });
    expect((await d.sessions.verify({ product: 'shop', env: 'prd', tag: 'user', token: refreshed.token })).data).toEqual({ user: { id: '42' } });
    await d.close();

    const s = await openSqliteStore(join(dir, 'ductape.db'));
    const ws = await s.getWorkspace('acme');
    await s.close();
    expect(ws?.keyCheck).toMatch(/^scrypt\$32768\$8\$1\$/);

    // Migrated: it opens again with the same key, through scrypt now.
    const again = open(LEGACY_KEY);
    expect((await again.secrets.get({ key: 'API_KEY' })).value).toBe('sk_legacy_secret_value');
    await again.close();
  });

  it('rotateKey moves a workspace to a new private_key under a new salt', async () => {
    const dir = tempDir();
    const store = `sqlite:${join(dir, 'ductape.db')}`;
    const d = newClient({ store, private_key: 'first-key-0123' });
    await d.secrets.set({ key: 'K', value: 'kept-across-rotation' });
    await d.rotateKey('second-key-0123');
    expect((await newClient({ store, private_key: 'first-key-0123' }).ready().catch((e) => e)).code).toBe('CONFIG_ERROR');
    const e = newClient({ store, private_key: 'second-key-0123' });
    expect((await e.secrets.get({ key: 'K' })).value).toBe('kept-across-rotation');
    await e.close();
  });
});
