// Versioned schema migrations, shared by every SQL dialect (run in order; never edit a released one).
import { sql, type Kysely, type Migration } from 'kysely';

export const migrations: Record<string, Migration> = {
  '0001_initial': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('workspaces')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('key_check', 'text')
        .addColumn('revision', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('apps')
        .addColumn('workspace_id', 'text', (c) => c.notNull())
        .addColumn('tag', 'text', (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        // Shared schemas of imported specs; large (Stripe: megabytes), so kept apart from `data`.
        .addColumn('components', 'text')
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('apps_pk', ['workspace_id', 'tag'])
        .execute();
      await db.schema
        .createTable('actions')
        .addColumn('workspace_id', 'text', (c) => c.notNull())
        .addColumn('app_tag', 'text', (c) => c.notNull())
        .addColumn('event', 'text', (c) => c.notNull())
        .addColumn('source', 'text')
        .addColumn('data', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('actions_pk', ['workspace_id', 'app_tag', 'event'])
        .execute();
      await db.schema
        .createTable('products')
        .addColumn('workspace_id', 'text', (c) => c.notNull())
        .addColumn('tag', 'text', (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('products_pk', ['workspace_id', 'tag'])
        .execute();
      await db.schema
        .createTable('connections')
        .addColumn('workspace_id', 'text', (c) => c.notNull())
        .addColumn('product', 'text', (c) => c.notNull())
        .addColumn('env', 'text', (c) => c.notNull())
        .addColumn('access_tag', 'text', (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        // AES-256-GCM sealed credentials (see store/seal.ts); never plaintext.
        .addColumn('credentials', 'text')
        .addPrimaryKeyConstraint('connections_pk', ['workspace_id', 'product', 'env', 'access_tag'])
        .execute();
      // Everything else that is keyed (secrets, session types, sessions, refresh tokens, auth tokens) is a record of a kind.
      await db.schema
        .createTable('records')
        .addColumn('workspace_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('ref', 'text')
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint')
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('records_pk', ['workspace_id', 'kind', 'key'])
        .execute();
      await db.schema.createIndex('records_ref').on('records').columns(['workspace_id', 'kind', 'ref']).execute();
      // Run logs are stored in segments: one row per flushed batch (JSON rows), since one SQLite row per run costs
      // more CPU than the run itself on a fast upstream. first/last time let queries skip whole segments.
      await db.schema
        .createTable('run_log_segments')
        .addColumn('seq', 'integer', (c) => c.primaryKey())
        .addColumn('workspace_id', 'text', (c) => c.notNull())
        .addColumn('first_time', 'text', (c) => c.notNull())
        .addColumn('last_time', 'text', (c) => c.notNull())
        .addColumn('count', 'integer', (c) => c.notNull())
        .addColumn('rows', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('run_log_segments_time').on('run_log_segments').columns(['workspace_id', 'last_time']).execute();
      await sql`select 1`.execute(db);
    },
  },
};
