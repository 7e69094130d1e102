import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { redactText } from '../../../src/model/redact.js';
import { AUTH_LOGIN_KIND, createLoginManager } from '../../../src/runtime/auth/login.js';
import { openSqliteStore } from '../../../src/store/sqlite.js';
import type { Store } from '../../../src/store/store.js';

describe('action login manager', () => {
  let store: Store;
  let clock: number;
  const deps = () => ({ store, workspace: 'acme', privateKey: 'pk_login', now: () => clock });
  const identity = { scope: ['payments', 'prd', 'crm', 'login'], input: { body: { user: 'ada', password: 'pw_login_identity' } } };
  beforeEach(async () => {
    store = await openSqliteStore(':memory:');
    clock = Date.parse('2030-01-01T00:00:00Z');
  });
  afterEach(async () => store.close());

  it('logs in once for concurrent runs and again only after expiry', async () => {
    const m = createLoginManager(deps());
    let calls = 0;
    const login = async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 10));
      return { session: { token: `sess_login_token_${calls}` } };
    };
    const results = await Promise.all(Array.from({ length: 50 }, () => m.getLogin(identity, 600, login)));
    expect(calls).toBe(1);
    expect(new Set(results.map((r) => JSON.stringify(r))).size).toBe(1);
    clock += 500_000;
    await m.getLogin(identity, 600, login);
    expect(calls).toBe(1);
    clock += 100_000;
    expect(await m.getLogin(identity, 600, login)).toEqual({ session: { token: 'sess_login_token_2' } });
    expect(calls).toBe(2);
  });

  it('logs in again once after a 401 with the held result', async () => {
    const m = createLoginManager(deps());
    let calls = 0;
    const login = async () => ({ token: `tok_after_401_${++calls}` });
    const first = await m.getLogin(identity, undefined, login);
    const again = await Promise.all(Array.from({ length: 10 }, () => m.loginAfterUnauthorized(identity, undefined, first, login)));
    expect(calls).toBe(2);
    expect(again.every((r) => (r as { token: string }).token === 'tok_after_401_2')).toBe(true);
  });

  it('persists the result sealed and reuses it from another manager', async () => {
    let calls = 0;
    const login = async () => ({ token: `tok_persisted_${++calls}` });
    await createLoginManager(deps()).getLogin(identity, 600, login);
    expect(await createLoginManager(deps()).getLogin(identity, 600, login)).toEqual({ token: 'tok_persisted_1' });
    expect(calls).toBe(1);
    const [rec] = await store.listRecords('acme', AUTH_LOGIN_KIND);
    expect(JSON.stringify(rec)).not.toContain('tok_persisted_1');
    expect(rec.key).not.toContain('ada');
  });

  it('logs in again when the login input changed', async () => {
    let calls = 0;
    const login = async () => ({ token: `tok_input_${++calls}` });
    const m = createLoginManager(deps());
    await m.getLogin(identity, 600, login);
    expect(await m.getLogin({ ...identity, input: { body: { user: 'ada', password: 'new-password' } } }, 600, login)).toEqual({ token: 'tok_input_2' });
    expect(await createLoginManager(deps()).getLogin({ ...identity, input: { body: { user: 'ada', password: 'new-password' } } }, 600, login)).toEqual({ token: 'tok_input_2' });
  });

  it('registers secret-looking fields of the result for redaction but not short harmless ones', async () => {
    const m = createLoginManager(deps());
    await m.getLogin(identity, 600, async () => ({ access_token: 'shorttok', token_type: 'Bearer', user: { id: '42' } }));
    expect(redactText('shorttok Bearer 42')).toBe('[REDACTED] Bearer 42');
  });
});
