// logs_retention_days: normalized once, and enforced by the log writer after a flush (both stores prune the same way).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { normalizeOptions } from '../../src/options.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { logEntry } from '../contract/store.js';
import { newClient, TEST_KEY } from '../helpers/client.js';
import { startUpstream } from '../helpers/upstream.js';

const dir = mkdtempSync(join(tmpdir(), 'ductape-retention-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const DAY = 86_400_000;

describe('logs_retention_days', () => {
  it('defaults to 30 days, accepts 0 (keep forever), and refuses anything but a number ≥ 0', () => {
    const base = { workspace_id: 'acme', private_key: TEST_KEY };
    expect(normalizeOptions(base, {}).logsRetentionDays).toBe(30);
    expect(normalizeOptions({ ...base, logs_retention_days: 0 }, {}).logsRetentionDays).toBe(0);
    expect(normalizeOptions({ ...base, logs_retention_days: 0.5 }, {}).logsRetentionDays).toBe(0.5);
    for (const bad of [-1, '7', Number.NaN]) {
      expect(() => normalizeOptions({ ...base, logs_retention_days: bad as number }, {})).toThrow(/logs_retention_days must be a number ≥ 0/);
    }
    expect(() => normalizeOptions({ ...base, log_retention_days: 7 } as never, {})).toThrow(/Did you mean "logs_retention_days"/);
  });

  for (const [days, kept] of [
    [7, false],
    [0, true],
  ] as const) {
    it(`${kept ? 'keeps' : 'deletes'} runs older than the retention after a flush when it is ${days}`, async () => {
      const upstream = await startUpstream();
      const file = join(dir, `logs-${days}.db`);
      const ductape = newClient({ store: `sqlite:${file}`, logs_retention_days: days });
      try {
        await ductape.apps.create({ tag: 'api', envs: [{ slug: 'prd', base_url: upstream.url }] });
        await ductape.apps.actions.create({ app: 'api', event: 'ping', method: 'GET', path: '/ping' });
        await ductape.products.create({ tag: 'shop', envs: ['prd'] });
        await ductape.products.apps.connect({ product: 'shop', app: 'api' });
        // Runs logged earlier (by this or another process): 60 days old, and 1 day old.
        const other = await openSqliteStore(file);
        await other.insertLogs('acme', [logEntry(1, { startedAt: Date.now() - 60 * DAY, url: 'http://127.0.0.1/x/1' })]);
        await other.insertLogs('acme', [logEntry(2, { startedAt: Date.now() - DAY, url: 'http://127.0.0.1/x/2' })]);
        await other.close();
        await ductape.actions.run({ env: 'prd', product: 'shop', app: 'api', event: 'ping' });
        const urls = (await ductape.logs.query({})).map((r) => r.request?.url);
        expect(urls).toContain('http://127.0.0.1/x/2');
        expect(urls.some((u) => u?.endsWith('/ping'))).toBe(true);
        expect(urls.includes('http://127.0.0.1/x/1')).toBe(kept);
      } finally {
        await ductape.close();
        await upstream.close();
      }
    });
  }
});
