// Opens the embedded SQLite store (better-sqlite3 through Kysely) and brings its schema up to date.
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { ConfigError } from '../errors.js';
import { migrate, SqlStore } from './sql-store.js';

export async function openSqliteStore(path: string): Promise<SqlStore> {
  const file = path === ':memory:' ? path : resolve(path);
  let database: Database.Database;
  try {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    database = new Database(file);
  } catch (err) {
    throw new ConfigError(`Cannot open the SQLite store at ${file}: ${(err as Error).message}`, { store: file }, { cause: err });
  }
  // WAL lets a CLI and a server share one file; busy_timeout waits for a writer instead of failing at once.
  database.pragma('journal_mode = WAL');
  // In WAL mode NORMAL still survives a process crash (only a power cut may lose the last commits), and it spares
  // an fsync per commit: SQLite's own recommendation for WAL.
  database.pragma('synchronous = NORMAL');
  database.pragma('busy_timeout = 5000');
  database.pragma('foreign_keys = ON');
  const db = new Kysely<any>({ dialect: new SqliteDialect({ database }) });
  await migrate(db);
  return new SqlStore('sqlite', db, { onClose: () => db.destroy() });
}
