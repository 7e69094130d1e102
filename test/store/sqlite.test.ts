// The store contract on SQLite: in memory, and on a file (where two stores share one database); a newer schema refused.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { storeContract } from '../contract/store.js';

const dir = mkdtempSync(join(tmpdir(), 'ductape-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

storeContract('sqlite :memory:', () => openSqliteStore(':memory:'));
storeContract('sqlite file', () => openSqliteStore(join(dir, 'store.db')), { shared: true });

describe('a store migrated by a newer Ductape', () => {
  it('is refused with CONFIG_ERROR naming the unknown migration, and left as it was', async () => {
    const file = join(dir, 'newer.db');
    await (await openSqliteStore(file)).close();
    const raw = new Database(file);
    raw.prepare("insert into kysely_migration (name, timestamp) values ('9999_from_the_future', '2030-01-01')").run();
    raw.close();
    const err = await openSqliteStore(file).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CONFIG_ERROR', details: { migrations: ['9999_from_the_future'] } });
    expect((err as Error).message).toMatch(/newer version of Ductape.*Upgrade Ductape/);
    const after = new Database(file, { readonly: true });
    expect(after.prepare('select count(*) as n from kysely_migration').get()).toEqual({ n: 2 });
    after.close();
  });
});
