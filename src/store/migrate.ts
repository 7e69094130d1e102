// Brings a store's schema up to date under a lock, so any number of processes may open one store at the same moment.
import { sql, type Kysely } from 'kysely';
import { ConfigError } from '../errors.js';
import { migrations, type Dialect } from './migrations/index.js';

/** The key space of Ductape's PostgreSQL advisory locks (pg_advisory_xact_lock(class, id)): 'Duct' in ASCII. */
export const PG_LOCK_CLASS = 0x44756374;
export const PG_LOCK = { migrate: 1, write: 2 } as const;

/**
 * Applies the migrations not yet recorded. Opening an up-to-date store only reads (no lock); otherwise:
 * - SQLite: one `BEGIN IMMEDIATE` transaction (the write lock first, waited for asynchronously by driver.ts), then
 *   guarded DDL, so a second process that opened the same new file waits and then finds nothing left to do.
 * - PostgreSQL: DDL is transactional; `pg_advisory_xact_lock` inside the migration transaction serializes migrators
 *   and ends with the transaction (a session-scoped lock would outlive it behind a pooler such as PgBouncer).
 * The `kysely_migration` table is the one Kysely's Migrator created in earlier versions, so old files carry on.
 */
export async function migrate(db: Kysely<any>, dialect: Dialect): Promise<void> {
  const names = Object.keys(migrations);
  const applied = await appliedMigrations(db, dialect);
  refuseNewerSchema(applied);
  if (applied.size === names.length) return;
  await db.connection().execute(async (conn) => {
    await sql.raw(dialect === 'sqlite' ? 'begin immediate' : 'begin').execute(conn);
    try {
      if (dialect === 'postgres') await sql`select pg_advisory_xact_lock(${PG_LOCK_CLASS}, ${PG_LOCK.migrate})`.execute(conn);
      await conn.schema
        .createTable('kysely_migration')
        .ifNotExists()
        .addColumn('name', 'varchar(255)', (c) => c.notNull().primaryKey())
        .addColumn('timestamp', 'varchar(255)', (c) => c.notNull())
        .execute();
      const done = await appliedMigrations(conn, dialect);
      for (const name of names) {
        if (done.has(name)) continue;
        try {
          await migrations[name].up(conn, dialect);
        } catch (err) {
          (err as Error).message = `migration ${name}: ${(err as Error).message}`;
          throw err;
        }
        await conn.insertInto('kysely_migration').values({ name, timestamp: new Date().toISOString() }).execute();
      }
      await sql`commit`.execute(conn);
    } catch (err) {
      await sql`rollback`.execute(conn).catch(() => {});
      throw err;
    }
  });
}

async function appliedMigrations(db: Kysely<any>, dialect: Dialect): Promise<Set<string>> {
  const exists =
    dialect === 'sqlite'
      ? await sql<{ n: number }>`select count(*) as n from sqlite_master where type = 'table' and name = 'kysely_migration'`.execute(db)
      : await sql<{ n: number }>`select count(*)::int as n from pg_tables where schemaname = current_schema() and tablename = 'kysely_migration'`.execute(db);
  if (Number(exists.rows[0]?.n) === 0) return new Set();
  const rows = await db.selectFrom('kysely_migration').select('name').execute();
  return new Set(rows.map((r) => r.name as string));
}

/**
 * A store migrated by a newer Ductape has a schema this version does not know: writing to it could leave rows the
 * newer version misreads, so it is refused before anything is read or written.
 */
function refuseNewerSchema(applied: Set<string>): void {
  const unknown = [...applied].filter((name) => !Object.hasOwn(migrations, name));
  if (unknown.length === 0) return;
  throw new ConfigError(
    `This store was migrated by a newer version of Ductape (schema ${unknown.join(', ')}, unknown to this one). ` +
      'Upgrade Ductape: every process that shares a store must run the same version.',
    { option: 'store', migrations: unknown },
  );
}
