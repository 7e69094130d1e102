// Store over Kysely: one set of queries for SQLite and PostgreSQL (dialect-specific bits are passed in).
import { sql, type Kysely } from 'kysely';
import type { ActionDef } from '../model/action.js';
import type { AppDef, ConnectionConfig, ProductDef } from '../model/app.js';
import type { RunLogEntry } from '../model/run-log.js';
import { withLeaseRow, type LeaseOptions } from './lease.js';
import type { RunLogTable } from './logs/table.js';
import type { ConnectionRow, LogQuery, Store, StoredRecord } from './store.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Db = Kysely<any>;

const now = () => new Date().toISOString();
const parse = <T>(text: string | null | undefined): T => (text == null ? (undefined as T) : (JSON.parse(text) as T));

/** What differs between dialects; the queries themselves are shared. */
export interface SqlStoreConfig {
  /**
   * Statements that open a write transaction. Transactions are serialized with each other on both dialects
   * (SQLite: `BEGIN IMMEDIATE` takes the write lock up front; PostgreSQL: a transaction-scoped advisory lock), so a
   * read-modify-write inside one never loses a concurrent update and never fails on a lock upgrade.
   */
  begin: string[];
  logs: RunLogTable;
  onClose?: () => Promise<void>;
  /** A dialect's own lease (PostgreSQL: an advisory lock) that hands `fn` its connection; lease rows otherwise. */
  leaseOnConnection?: <T>(ws: string, name: string, opts: LeaseOptions, fn: (conn: Db) => Promise<T>) => Promise<T>;
  /** Push notice of revision bumps (PostgreSQL: LISTEN). */
  watchRevision?: Store['watchRevision'];
  /** PostgreSQL: the channel a revision bump NOTIFYs (delivered at commit) with the workspace id. */
  revisionChannel?: string;
}

export class SqlStore implements Store {
  constructor(
    readonly dialect: 'sqlite' | 'postgres',
    private readonly db: Db,
    private readonly config: SqlStoreConfig,
    private readonly inTransaction = false,
  ) {}

  /** A nested call joins the outer transaction. */
  async transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
    if (this.inTransaction) return fn(this);
    return this.db.connection().execute(async (conn) => {
      let result: T;
      try {
        for (const statement of this.config.begin) await sql.raw(statement).execute(conn);
        result = await fn(new SqlStore(this.dialect, conn, this.config, true));
        await sql`commit`.execute(conn);
      } catch (err) {
        // Harmless when nothing is open (BEGIN itself failed); PostgreSQL also needs it after a failed COMMIT.
        await sql`rollback`.execute(conn).catch(() => {});
        throw err;
      }
      return result;
    });
  }

  async getWorkspace(id: string) {
    const row = await this.db.selectFrom('workspaces').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? { id: row.id as string, keyCheck: (row.key_check as string) ?? null, revision: Number(row.revision) } : undefined;
  }
  async createWorkspace(id: string, keyCheck: string) {
    await this.db
      .insertInto('workspaces')
      .values({ id, key_check: keyCheck, revision: 0, created_at: now() })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
  }
  async setKeyCheck(id: string, keyCheck: string) {
    await this.db.updateTable('workspaces').set({ key_check: keyCheck }).where('id', '=', id).execute();
  }
  async getRevision(ws: string) {
    const row = await this.db.selectFrom('workspaces').select('revision').where('id', '=', ws).executeTakeFirst();
    return row ? Number(row.revision) : 0;
  }
  watchRevision(ws: string, onChange: () => void): () => void {
    return this.config.watchRevision?.(ws, onChange) ?? (() => {});
  }
  async bumpRevision(ws: string) {
    await this.db
      .updateTable('workspaces')
      .set((eb: any) => ({ revision: eb('revision', '+', 1) }))
      .where('id', '=', ws)
      .execute();
    if (this.config.revisionChannel) await sql`select pg_notify(${this.config.revisionChannel}, ${ws})`.execute(this.db);
  }

  // Apps and products are JSON documents keyed by (workspace, tag).
  private async getDoc<T>(table: 'apps' | 'products', ws: string, tag: string): Promise<T | undefined> {
    const row = await this.db.selectFrom(table).select('data').where('workspace_id', '=', ws).where('tag', '=', tag).executeTakeFirst();
    return row ? parse<T>(row.data) : undefined;
  }
  private async listDocs<T>(table: 'apps' | 'products', ws: string): Promise<T[]> {
    const rows = await this.db.selectFrom(table).select('data').where('workspace_id', '=', ws).orderBy('tag').execute();
    return rows.map((r) => parse<T>(r.data));
  }

  async getApp(ws: string, tag: string) {
    return this.getDoc<AppDef>('apps', ws, tag);
  }
  async listApps(ws: string) {
    return this.listDocs<AppDef>('apps', ws);
  }
  async putApp(ws: string, app: AppDef) {
    const values = { workspace_id: ws, tag: app.tag, data: JSON.stringify(app), updated_at: now() };
    await this.db
      .insertInto('apps')
      .values(values)
      .onConflict((oc) => oc.columns(['workspace_id', 'tag']).doUpdateSet({ data: values.data, updated_at: values.updated_at }))
      .execute();
  }
  async deleteApp(ws: string, tag: string) {
    await this.db.deleteFrom('actions').where('workspace_id', '=', ws).where('app_tag', '=', tag).execute();
    const res = await this.db.deleteFrom('apps').where('workspace_id', '=', ws).where('tag', '=', tag).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }
  async getComponents(ws: string, tag: string) {
    const row = await this.db.selectFrom('apps').select('components').where('workspace_id', '=', ws).where('tag', '=', tag).executeTakeFirst();
    return row?.components ? parse<Record<string, unknown>>(row.components) : undefined;
  }
  async putComponents(ws: string, tag: string, components: Record<string, unknown> | undefined) {
    await this.db
      .updateTable('apps')
      .set({ components: components ? JSON.stringify(components) : null })
      .where('workspace_id', '=', ws)
      .where('tag', '=', tag)
      .execute();
  }

  async getAction(ws: string, app: string, event: string) {
    const row = await this.db
      .selectFrom('actions')
      .select('data')
      .where('workspace_id', '=', ws)
      .where('app_tag', '=', app)
      .where('event', '=', event)
      .executeTakeFirst();
    return row ? parse<ActionDef>(row.data) : undefined;
  }
  async listActions(ws: string, app: string) {
    const rows = await this.db.selectFrom('actions').select('data').where('workspace_id', '=', ws).where('app_tag', '=', app).orderBy('event').execute();
    return rows.map((r) => parse<ActionDef>(r.data));
  }
  async listEvents(ws: string, app: string) {
    const rows = await this.db.selectFrom('actions').select('event').where('workspace_id', '=', ws).where('app_tag', '=', app).orderBy('event').execute();
    return rows.map((r) => r.event as string);
  }
  async putAction(ws: string, app: string, action: ActionDef) {
    await this.putActions(ws, app, [action]);
  }
  async putActions(ws: string, app: string, actions: ActionDef[]) {
    // 200 rows × 5 values stays far below both drivers' bound on parameters per statement.
    for (let i = 0; i < actions.length; i += 200) {
      const rows = actions.slice(i, i + 200).map((a) => ({ workspace_id: ws, app_tag: app, event: a.event, source: a.source ?? null, data: JSON.stringify(a) }));
      await this.db
        .insertInto('actions')
        .values(rows)
        .onConflict((oc) => oc.columns(['workspace_id', 'app_tag', 'event']).doUpdateSet((eb) => ({ data: eb.ref('excluded.data'), source: eb.ref('excluded.source') })))
        .execute();
    }
  }
  async deleteAction(ws: string, app: string, event: string) {
    const res = await this.db
      .deleteFrom('actions')
      .where('workspace_id', '=', ws)
      .where('app_tag', '=', app)
      .where('event', '=', event)
      .executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  async getProduct(ws: string, tag: string) {
    return this.getDoc<ProductDef>('products', ws, tag);
  }
  async listProducts(ws: string) {
    return this.listDocs<ProductDef>('products', ws);
  }
  async putProduct(ws: string, product: ProductDef) {
    const data = JSON.stringify(product);
    await this.db
      .insertInto('products')
      .values({ workspace_id: ws, tag: product.tag, data })
      .onConflict((oc) => oc.columns(['workspace_id', 'tag']).doUpdateSet({ data }))
      .execute();
  }
  async deleteProduct(ws: string, tag: string) {
    await this.deleteConnections(ws, tag);
    const res = await this.db.deleteFrom('products').where('workspace_id', '=', ws).where('tag', '=', tag).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  async getConnection(ws: string, product: string, env: string, accessTag: string): Promise<ConnectionRow | undefined> {
    const row = await this.db
      .selectFrom('connections')
      .select(['data', 'credentials'])
      .where('workspace_id', '=', ws)
      .where('product', '=', product)
      .where('env', '=', env)
      .where('access_tag', '=', accessTag)
      .executeTakeFirst();
    return row ? { config: parse<ConnectionConfig>(row.data), credentials: (row.credentials as string) ?? null } : undefined;
  }
  async listConnections(ws: string, product?: string) {
    let q = this.db.selectFrom('connections').selectAll().where('workspace_id', '=', ws);
    if (product) q = q.where('product', '=', product);
    const rows = await q.orderBy('product').orderBy('env').orderBy('access_tag').execute();
    return rows.map((r) => ({
      product: r.product as string,
      env: r.env as string,
      accessTag: r.access_tag as string,
      config: parse<ConnectionConfig>(r.data),
      credentials: (r.credentials as string) ?? null,
    }));
  }
  async putConnection(ws: string, product: string, env: string, accessTag: string, row: ConnectionRow) {
    const data = JSON.stringify(row.config);
    await this.db
      .insertInto('connections')
      .values({ workspace_id: ws, product, env, access_tag: accessTag, data, credentials: row.credentials })
      .onConflict((oc) => oc.columns(['workspace_id', 'product', 'env', 'access_tag']).doUpdateSet({ data, credentials: row.credentials }))
      .execute();
  }
  async deleteConnections(ws: string, product: string, accessTag?: string) {
    let q = this.db.deleteFrom('connections').where('workspace_id', '=', ws).where('product', '=', product);
    if (accessTag) q = q.where('access_tag', '=', accessTag);
    await q.execute();
  }

  async getRecord<T>(ws: string, kind: string, key: string): Promise<StoredRecord<T> | undefined> {
    const row = await this.db
      .selectFrom('records')
      .selectAll()
      .where('workspace_id', '=', ws)
      .where('kind', '=', kind)
      .where('key', '=', key)
      .executeTakeFirst();
    return row ? toRecord<T>(row) : undefined;
  }
  async listRecords<T>(ws: string, kind: string, opts: { prefix?: string; ref?: string } = {}) {
    let q = this.db.selectFrom('records').selectAll().where('workspace_id', '=', ws).where('kind', '=', kind);
    // Prefix match by range rather than LIKE, so '%' and '_' inside keys carry no meaning.
    if (opts.prefix) q = q.where('key', '>=', opts.prefix).where('key', '<', opts.prefix + '\uffff');
    if (opts.ref !== undefined) q = q.where('ref', '=', opts.ref);
    const rows = await q.orderBy('key').execute();
    return rows.map((r) => toRecord<T>(r));
  }
  async putRecord(ws: string, kind: string, key: string, data: unknown, opts: { ref?: string | null; expiresAt?: number | null } = {}) {
    const values = {
      workspace_id: ws,
      kind,
      key,
      ref: opts.ref ?? null,
      data: JSON.stringify(data),
      expires_at: opts.expiresAt ?? null,
      updated_at: now(),
    };
    await this.db
      .insertInto('records')
      .values(values)
      .onConflict((oc) =>
        oc.columns(['workspace_id', 'kind', 'key']).doUpdateSet({ ref: values.ref, data: values.data, expires_at: values.expires_at, updated_at: values.updated_at }),
      )
      .execute();
  }
  async replaceRecordIf(ws: string, kind: string, key: string, expected: unknown, data: unknown, opts: { ref?: string | null; expiresAt?: number | null } = {}) {
    // Rows are written by putRecord as JSON.stringify text and read back with JSON.parse; stringifying what was read
    // gives the same text again, so equality of text is equality of the record as the caller saw it.
    const res = await this.db
      .updateTable('records')
      .set({ ref: opts.ref ?? null, data: JSON.stringify(data), expires_at: opts.expiresAt ?? null, updated_at: now() })
      .where('workspace_id', '=', ws)
      .where('kind', '=', kind)
      .where('key', '=', key)
      .where('data', '=', JSON.stringify(expected))
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }
  async deleteRecord(ws: string, kind: string, key: string) {
    const res = await this.db.deleteFrom('records').where('workspace_id', '=', ws).where('kind', '=', kind).where('key', '=', key).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }
  async deleteExpiredRecords(ws: string, kind: string, nowMs: number) {
    const res = await this.db
      .deleteFrom('records')
      .where('workspace_id', '=', ws)
      .where('kind', '=', kind)
      .where('expires_at', 'is not', null)
      .where('expires_at', '<=', nowMs)
      .executeTakeFirst();
    return Number(res.numDeletedRows);
  }
  async takeRecord<T>(ws: string, kind: string, key: string) {
    const row = await this.db
      .deleteFrom('records')
      .where('workspace_id', '=', ws)
      .where('kind', '=', kind)
      .where('key', '=', key)
      .returningAll()
      .executeTakeFirst();
    return row ? toRecord<T>(row) : undefined;
  }

  async withLease<T>(ws: string, name: string, opts: LeaseOptions, fn: (store: Store) => Promise<T>): Promise<T> {
    const { leaseOnConnection } = this.config;
    // PostgreSQL: fn works on the lock's connection, inside its transaction (joined, as a nested transaction is).
    if (leaseOnConnection) return leaseOnConnection(ws, name, opts, (conn) => fn(new SqlStore(this.dialect, conn, this.config, true)));
    return withLeaseRow(this.db, ws, name, opts, () => fn(this));
  }

  async insertLogs(ws: string, entries: RunLogEntry[]) {
    if (entries.length > 0) await this.config.logs.insert(this.db, ws, entries);
  }
  async queryLogs(ws: string, query: LogQuery) {
    return this.config.logs.query(this.db, ws, query);
  }
  async pruneLogs(ws: string, before: Date) {
    return this.config.logs.prune(this.db, ws, before.getTime());
  }

  async close() {
    if (!this.inTransaction) await this.config.onClose?.();
  }
}

function toRecord<T>(row: any): StoredRecord<T> {
  return { key: row.key, ref: row.ref ?? null, data: parse<T>(row.data), expiresAt: row.expires_at == null ? null : Number(row.expires_at) };
}
