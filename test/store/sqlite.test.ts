// The store contract on SQLite: in memory, and on a file (where two stores share one database).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { storeContract } from '../contract/store.js';

const dir = mkdtempSync(join(tmpdir(), 'ductape-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

storeContract('sqlite :memory:', () => openSqliteStore(':memory:'));
storeContract('sqlite file', () => openSqliteStore(join(dir, 'store.db')), { shared: true });
