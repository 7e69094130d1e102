// Versioned schema migrations for both SQL dialects (run in order under a lock by migrate.ts; never edit a released
// one). Every statement is guarded (IF NOT EXISTS) so a migration that meets a half-built schema still completes.
import { sql, type Kysely, type RawBuilder } from 'kysely';

export type Dialect = 'sqlite' | 'postgres';

export interface StoreMigration {
  up(db: Kysely<any>, dialect: Dialect): Promise<void>;
}

export const migrations: Record<string, StoreMigration> = {
  '0001_initial': {
    async up(db, dialect) {
      // Keys compare byte by byte on both dialects (SQLite's BINARY): PostgreSQL's default collation may ignore
      // punctuation, which would break prefix ranges over record keys and change list order.
      const key: 'text' | RawBuilder<unknown> = dialect === 'postgres' ? sql`text collate "C"` : 'text';
      await db.schema
        .createTable('workspaces')
        .ifNotExists()
        .addColumn('id', key, (c) => c.primaryKey())
        .addColumn('key_check', 'text')
        .addColumn('revision', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('apps')
        .ifNotExists()
        .addColumn('workspace_id', key, (c) => c.notNull())
        .addColumn('tag', key, (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        // Shared schemas of imported specs; large (Stripe: megabytes), so kept apart from `data`.
        .addColumn('components', 'text')
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('apps_pk', ['workspace_id', 'tag'])
        .execute();
      await db.schema
        .createTable('actions')
        .ifNotExists()
        .addColumn('workspace_id', key, (c) => c.notNull())
        .addColumn('app_tag', key, (c) => c.notNull())
        .addColumn('event', key, (c) => c.notNull())
        .addColumn('source', 'text')
        .addColumn('data', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('actions_pk', ['workspace_id', 'app_tag', 'event'])
        .execute();
      await db.schema
        .createTable('products')
        .ifNotExists()
        .addColumn('workspace_id', key, (c) => c.notNull())
        .addColumn('tag', key, (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('products_pk', ['workspace_id', 'tag'])
        .execute();
      await db.schema
        .createTable('connections')
        .ifNotExists()
        .addColumn('workspace_id', key, (c) => c.notNull())
        .addColumn('product', key, (c) => c.notNull())
        .addColumn('env', key, (c) => c.notNull())
        .addColumn('access_tag', key, (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        // AES-256-GCM sealed credentials (see store/seal.ts); never plaintext.
        .addColumn('credentials', 'text')
        .addPrimaryKeyConstraint('connections_pk', ['workspace_id', 'product', 'env', 'access_tag'])
        .execute();
      // Everything else that is keyed (secrets, session types, sessions, refresh tokens, auth tokens) is a record of a kind.
      await db.schema
        .createTable('records')
        .ifNotExists()
        .addColumn('workspace_id', key, (c) => c.notNull())
        .addColumn('kind', key, (c) => c.notNull())
        .addColumn('key', key, (c) => c.notNull())
        .addColumn('ref', key)
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint')
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('records_pk', ['workspace_id', 'kind', 'key'])
        .execute();
      await db.schema.createIndex('records_ref').ifNotExists().on('records').columns(['workspace_id', 'kind', 'ref']).execute();
      if (dialect === 'sqlite') await createLogSegments(db);
      else await createLogRows(db);
    },
  },
};

/**
 * SQLite keeps run logs in segments: one row per flushed batch (JSON rows), since one SQLite row per run costs more
 * CPU than the run itself on a fast upstream. first/last time let queries skip whole segments.
 */
async function createLogSegments(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('run_log_segments')
    .ifNotExists()
    .addColumn('seq', 'integer', (c) => c.primaryKey())
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('first_time', 'text', (c) => c.notNull())
    .addColumn('last_time', 'text', (c) => c.notNull())
    .addColumn('count', 'integer', (c) => c.notNull())
    .addColumn('rows', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('run_log_segments_time').ifNotExists().on('run_log_segments').columns(['workspace_id', 'last_time']).execute();
}

/**
 * PostgreSQL keeps a row per run, so logs.query filters and orders in SQL through these indexes, and many processes
 * insert without contending on anything (a multi-row insert per batch is cheap there).
 */
async function createLogRows(db: Kysely<any>): Promise<void> {
  const key = sql`text collate "C"`;
  await db.schema
    .createTable('run_logs')
    .ifNotExists()
    .addColumn('id', 'bigint', (c) => c.generatedByDefaultAsIdentity().primaryKey())
    .addColumn('workspace_id', key, (c) => c.notNull())
    // Epoch milliseconds, as the log stage records them.
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .addColumn('duration_ms', 'double precision', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('product', key, (c) => c.notNull())
    .addColumn('env', key, (c) => c.notNull())
    .addColumn('app', key, (c) => c.notNull())
    .addColumn('event', key, (c) => c.notNull())
    .addColumn('status', 'integer')
    .addColumn('ok', 'boolean', (c) => c.notNull())
    .addColumn('cached', 'boolean', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('error_code', 'text')
    .addColumn('method', 'text')
    .addColumn('url', 'text')
    // The error message of a failed run, else the response content type (as in the SQLite segments).
    .addColumn('detail', 'text')
    // The end user whose connection the run used (per-user connections); null otherwise.
    .addColumn('owner', key)
    // Time spent waiting for a rate limit, in ms; null when the run never waited.
    .addColumn('wait_ms', 'double precision')
    .execute();
  // Newest first per workspace (also serves retention and the status filter); then the common filters.
  await db.schema.createIndex('run_logs_time').ifNotExists().on('run_logs').columns(['workspace_id', 'started_at', 'id']).execute();
  await db.schema.createIndex('run_logs_product').ifNotExists().on('run_logs').columns(['workspace_id', 'product', 'started_at']).execute();
  await db.schema.createIndex('run_logs_event').ifNotExists().on('run_logs').columns(['workspace_id', 'app', 'event', 'started_at']).execute();
}
