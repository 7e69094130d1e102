// No owner's token (access, refresh), authorization code or client secret appears in the store file, run logs,
// errors or envelopes, across connects, refreshes, a refused refresh, a revoke and failed completions.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DuctapeError, type Ductape } from '../../src/index.js';
import { startAuthorizationServer, type AuthorizationServer } from '../helpers/authorization-server.js';
import { newClient } from '../helpers/client.js';
import { AT, connect, definePerUser, me, REDIRECT_URI, sessionOf } from './setup.js';

let dir: string;
let as: AuthorizationServer;
let ductape: Ductape;

afterEach(async () => {
  await ductape?.close();
  await as?.close();
  rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('per-user connections leak nothing', () => {
  it('keeps tokens, codes and the client secret out of the store file, logs, errors and envelopes', async () => {
    dir = mkdtempSync(join(tmpdir(), 'ductape-owner-leaks-'));
    as = await startAuthorizationServer({ redirectUris: [REDIRECT_URI], expiresIn: 1 });
    ductape = newClient({ store: `sqlite:${join(dir, 'ws.db')}` });
    await definePerUser(ductape, as);
    const seen: string[] = [];
    const capture = async (p: Promise<unknown>) => {
      try {
        seen.push(JSON.stringify(await p));
      } catch (err) {
        if (!(err instanceof DuctapeError)) throw err;
        seen.push(err.message, JSON.stringify(err), String(err.stack));
      }
    };

    await connect(ductape, as, '1', 'alice@crm');
    await connect(ductape, as, '2', 'bob@crm');
    const [sa, sb] = [await sessionOf(ductape, '1'), await sessionOf(ductape, '2')];
    for (const s of [sa, sb]) await capture(ductape.actions.execute({ ...AT, event: 'me', session: s }));
    await sleep(1100);
    await capture(ductape.actions.execute({ ...AT, event: 'me', session: sa })); // refreshed
    as.revokeGrantsOf('bob@crm');
    await capture(me(ductape, sb)); // refused refresh: expired
    await capture(me(ductape, sb));
    const { url, state } = await ductape.connections.authorize({ ...AT, owner: '3' });
    const { code } = await as.approve(url, 'carol@crm');
    await capture(ductape.connections.complete({ state, code: `${code}x` })); // the provider refuses the code
    await capture(ductape.connections.complete({ state, code })); // the state is spent
    await capture(ductape.connections.revoke({ ...AT, owner: '1' }));
    await capture(me(ductape, sa));
    await capture(ductape.connections.list({ product: 'dash' }));
    seen.push(JSON.stringify(await ductape.logs.query({ limit: 1000 })));
    await ductape.close();

    const store = Buffer.concat(readdirSync(dir).map((f) => readFileSync(join(dir, f)))).toString('latin1');
    const everything = seen.join('\n');
    const secrets = [...as.issued, 'app-client-secret-0042', state];
    expect(as.issued.size).toBeGreaterThan(8); // codes, access and refresh tokens were really issued
    for (const s of secrets) {
      expect(store, `store file holds ${s.slice(0, 6)}…`).not.toContain(s);
      expect(everything, `output holds ${s.slice(0, 6)}…`).not.toContain(s);
    }
    // The logs carry the owners, and what happened to them.
    const logs = JSON.parse(seen.at(-1)!) as { owner: string | null; errorCode: string | null }[];
    expect(new Set(logs.map((l) => l.owner))).toEqual(new Set(['1', '2']));
    expect(logs.filter((l) => l.owner === '2' && l.errorCode === 'AUTH_FAILED')).toHaveLength(2);
  });
});
