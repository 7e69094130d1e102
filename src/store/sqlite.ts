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
  database.pragma('busy_timeout = 5000');
  database.pragma('foreign_keys = ON');
  const db = new Kysely<any>({ dialect: new SqliteDialect({ database }) });
  await migrate(db);
  return new SqlStore('sqlite', db, {
    onClose: () => db.destroy(),
    insertLogRows: logInserter(database),
  });
}

const LOG_COLUMNS = ['id', 'workspace_id', 'time', 'actor', 'product', 'env', 'app', 'event', 'status', 'ok', 'attempts', 'cached', 'duration_ms', 'error_code', 'request', 'response'];

/**
 * Run logs are the only write on the hot path's side, so they skip the query builder: one prepared statement in one
 * transaction per batch. While a Kysely transaction is open on the connection the rows would join it (and vanish
 * with a rollback), so the inserter declines and the caller uses the ordinary path, which waits its turn.
 */
function logInserter(database: Database.Database): (rows: Record<string, unknown>[]) => boolean {
  const stmt = database.prepare(`INSERT INTO run_logs (${LOG_COLUMNS.join(', ')}) VALUES (${LOG_COLUMNS.map((c) => '@' + c).join(', ')})`);
  const insertAll = database.transaction((rows: Record<string, unknown>[]) => {
    for (const row of rows) stmt.run(row);
  });
  return (rows) => {
    if (database.inTransaction) return false;
    insertAll(rows);
    return true;
  };
}
