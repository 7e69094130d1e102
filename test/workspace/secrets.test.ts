import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { redactText } from '../../src/model/redact.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/store.js';
import { deleteSecret, getSecret, listSecrets, resolveSecret, setSecret, type SecretDeps } from '../../src/workspace/secrets.js';
import { errorOf as failure } from '../helpers/errors.js';

const PK = 'pk_secrets_test_key';


describe('secrets', () => {
  let store: Store;
  let deps: SecretDeps;
  let clock = Date.parse('2030-01-01T00:00:00Z');
  beforeEach(async () => {
    store = await openSqliteStore(':memory:');
    await store.createWorkspace('acme', 'kcv');
    clock = Date.parse('2030-01-01T00:00:00Z');
    deps = { store, workspace: 'acme', privateKey: PK, now: () => clock };
  });
  afterEach(async () => store.close());

  it('resolves a value set for every env in any env and app', async () => {
    await setSecret(deps, { key: 'API_TOKEN', value: 'tok_everywhere_1' });
    expect(await resolveSecret(deps, 'API_TOKEN', { env: 'dev', app: 'stripe' })).toBe('tok_everywhere_1');
    expect(await resolveSecret(deps, 'API_TOKEN', { env: 'prd' })).toBe('tok_everywhere_1');
  });

  it('holds a different value per env when set per env', async () => {
    await setSecret(deps, { key: 'STRIPE_KEY', value: 'sk_test_dev_value', envs: ['dev'] });
    await setSecret(deps, { key: 'STRIPE_KEY', value: 'sk_live_prd_value', envs: ['prd'] });
    expect(await resolveSecret(deps, 'STRIPE_KEY', { env: 'dev' })).toBe('sk_test_dev_value');
    expect(await resolveSecret(deps, 'STRIPE_KEY', { env: 'prd' })).toBe('sk_live_prd_value');
  });

  it('prefers the most specific slot: env+app, then env, then app, then any', async () => {
    await setSecret(deps, { key: 'K', value: 'any-any' });
    await setSecret(deps, { key: 'K', value: 'any-stripe', apps: ['stripe'] });
    await setSecret(deps, { key: 'K', value: 'prd-any', envs: ['prd'] });
    await setSecret(deps, { key: 'K', value: 'prd-stripe', envs: ['prd'], apps: ['stripe'] });
    expect(await resolveSecret(deps, 'K', { env: 'prd', app: 'stripe' })).toBe('prd-stripe');
    expect(await resolveSecret(deps, 'K', { env: 'prd', app: 'twilio' })).toBe('prd-any');
    expect(await resolveSecret(deps, 'K', { env: 'dev', app: 'stripe' })).toBe('any-stripe');
    expect(await resolveSecret(deps, 'K', { env: 'dev', app: 'twilio' })).toBe('any-any');
  });

  it('replaces only the envs a later set names', async () => {
    await setSecret(deps, { key: 'K', value: 'first-value', envs: ['dev', 'prd'] });
    await setSecret(deps, { key: 'K', value: 'second-value', envs: ['prd'] });
    expect(await resolveSecret(deps, 'K', { env: 'dev' })).toBe('first-value');
    expect(await resolveSecret(deps, 'K', { env: 'prd' })).toBe('second-value');
    const list = await listSecrets(deps);
    expect(list.map((l) => [l.key, l.envs, l.apps])).toEqual([
      ['K', ['dev'], null],
      ['K', ['prd'], null],
    ]);
  });

  it('refuses a secret scoped to prd in dev with CONFIG_ERROR', async () => {
    await setSecret(deps, { key: 'STRIPE_KEY', value: 'sk_live_only_prd', envs: ['prd'] });
    const err = await failure(resolveSecret(deps, 'STRIPE_KEY', { env: 'dev', app: 'stripe' }));
    expect(err.code).toBe('CONFIG_ERROR');
    expect(err.message).toContain('secret STRIPE_KEY is not available in env dev');
    expect(err.message).not.toContain('sk_live_only_prd');
  });

  it('refuses a secret scoped to another app', async () => {
    await setSecret(deps, { key: 'K', value: 'only-for-stripe', envs: ['prd'], apps: ['stripe'] });
    const err = await failure(resolveSecret(deps, 'K', { env: 'prd', app: 'twilio' }));
    expect(err.code).toBe('CONFIG_ERROR');
    expect(err.message).toContain('secret K is not available in env prd for app twilio');
    // #11: a run's error names the secret asked for, never where else it is set.
    expect(err.message).not.toContain('stripe');
  });

  it('#11: gives NOT_FOUND naming the key asked for, and never the workspace\'s other secrets or their envs', async () => {
    await setSecret(deps, { key: 'STRIPE_KEY', value: 'sk_live_x', envs: ['prd'] });
    await setSecret(deps, { key: 'TWILIO_TOKEN', value: 'tw_x', envs: ['staging'] });
    const err = await failure(resolveSecret(deps, 'STRIPE_KY', { env: 'prd' }));
    expect(err.code).toBe('NOT_FOUND');
    expect(err.message).toContain('"STRIPE_KY"');
    expect(err.message).toMatch(/secrets\.set/);
    const shown = JSON.stringify(err.toJSON());
    for (const other of ['STRIPE_KEY', 'TWILIO_TOKEN', 'staging']) expect(shown).not.toContain(other);
  });

  it('gives CONFIG_ERROR saying it expired once expires_at has passed', async () => {
    await setSecret(deps, { key: 'TEMP', value: 'temporary-value', expires_at: '2030-01-01T01:00:00Z' });
    expect(await resolveSecret(deps, 'TEMP', { env: 'dev' })).toBe('temporary-value');
    clock = Date.parse('2030-01-01T01:00:01Z');
    const err = await failure(resolveSecret(deps, 'TEMP', { env: 'dev' }));
    expect(err.code).toBe('CONFIG_ERROR');
    expect(err.message).toMatch(/secret TEMP expired at 2030-01-01T01:00:00.000Z/);
  });

  it('reads an expires_at without a time zone as UTC, whatever the process zone', async () => {
    const tz = process.env.TZ;
    process.env.TZ = 'Asia/Tokyo';
    try {
      const set = await setSecret(deps, { key: 'TEMP', value: 'temporary-value', expires_at: '2030-01-01T01:00:00' });
      expect(set.expires_at).toBe('2030-01-01T01:00:00.000Z');
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
  });

  it('lists keys and scopes but never values', async () => {
    await setSecret(deps, { key: 'B', value: 'value-of-b-123', envs: ['prd', 'dev'], apps: ['stripe'] });
    await setSecret(deps, { key: 'A', value: 'value-of-a-123', expires_at: Date.parse('2031-01-01T00:00:00Z') });
    const list = await listSecrets(deps);
    expect(list).toEqual([
      { key: 'A', envs: null, apps: null, expires_at: '2031-01-01T00:00:00.000Z', updated_at: '2030-01-01T00:00:00.000Z' },
      { key: 'B', envs: ['dev', 'prd'], apps: ['stripe'], expires_at: null, updated_at: '2030-01-01T00:00:00.000Z' },
    ]);
    expect(JSON.stringify(list)).not.toMatch(/value-of/);
  });

  it('gets a value with its scope, and asks for env when there is no any-env value', async () => {
    await setSecret(deps, { key: 'K', value: 'prd-only-value', envs: ['prd'] });
    expect(await getSecret(deps, { key: 'K', env: 'prd' })).toMatchObject({ key: 'K', value: 'prd-only-value', envs: ['prd'] });
    const err = await failure(getSecret(deps, { key: 'K' }));
    expect(err.code).toBe('CONFIG_ERROR');
    expect(err.message).toContain('Pass env');
  });

  it('deletes some envs or the whole key', async () => {
    await setSecret(deps, { key: 'K', value: 'multi-env-value', envs: ['dev', 'prd'] });
    expect(await deleteSecret(deps, { key: 'K', envs: ['dev'] })).toEqual({ deleted: 1 });
    expect((await failure(resolveSecret(deps, 'K', { env: 'dev' }))).code).toBe('CONFIG_ERROR');
    expect(await resolveSecret(deps, 'K', { env: 'prd' })).toBe('multi-env-value');
    expect(await deleteSecret(deps, { key: 'K' })).toEqual({ deleted: 1 });
    expect((await failure(resolveSecret(deps, 'K', { env: 'prd' }))).code).toBe('NOT_FOUND');
    expect((await failure(deleteSecret(deps, { key: 'K' }))).code).toBe('NOT_FOUND');
  });

  it('rejects bad arguments with INVALID_INPUT listing every issue', async () => {
    const err = await failure(setSecret(deps, { key: 'bad key!', value: '', envs: [], expires_at: 'soon', extra: 1 } as never));
    expect(err.code).toBe('INVALID_INPUT');
    expect((err.details.issues as { path: string }[]).map((i) => i.path).sort()).toEqual(['/envs', '/expires_at', '/extra', '/key', '/value']);
  });

  it('fails with CONFIG_ERROR when opened with another private_key', async () => {
    await setSecret(deps, { key: 'K', value: 'sealed-under-pk' });
    const err = await failure(resolveSecret({ ...deps, privateKey: 'other' }, 'K', { env: 'dev' }));
    expect(err.code).toBe('CONFIG_ERROR');
    expect(err.message).toMatch(/^private_key does not open workspace acme/);
  });

  it('registers opened values so that redaction removes them', async () => {
    await setSecret(deps, { key: 'R', value: 'redact-me-please-42' });
    const value = await resolveSecret(deps, 'R', { env: 'dev' });
    expect(redactText(`token=${value}`)).toBe('token=[REDACTED]');
  });
});

describe('secrets at rest', () => {
  it('writes no secret value into the SQLite file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ductape-secrets-'));
    try {
      const file = join(dir, 'ws.db');
      const store = await openSqliteStore(file);
      await store.createWorkspace('acme', 'kcv');
      const deps = { store, workspace: 'acme', privateKey: PK };
      const values = ['sk_live_RAWFILE_0001', 'whsec_RAWFILE_0002', 'pässwörd_RAWFILE_0003'];
      for (const [i, value] of values.entries()) await setSecret(deps, { key: `S${i}`, value, envs: ['prd', 'dev'] });
      await store.close();
      const bytes = Buffer.concat([readFileSync(file), ...['-wal', '-shm'].flatMap((s) => { try { return [readFileSync(file + s)]; } catch { return []; } })]);
      for (const v of values) expect(bytes.includes(Buffer.from(v))).toBe(false);
      expect(bytes.includes(Buffer.from('RAWFILE'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
