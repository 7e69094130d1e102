// Store over Kysely: one set of queries for SQLite and PostgreSQL (dialect-specific bits are passed in).
import { Kysely, Migrator, type Transaction } from 'kysely';
import type { ActionDef } from '../model/action.js';
import type { AppDef, ConnectionConfig, ProductDef } from '../model/app.js';
import { withLeaseRow, type LeaseOptions } from './lease.js';
import { migrations } from './migrations/index.js';

import { fromTuple, toTuple, type LogTuple, type RunLogEntry, type RunLogRow } from '../model/run-log.js';
import type { ConnectionRow, LogQuery, Store, StoredRecord } from './store.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Db = Kysely<any>;

const now = () => new Date().toISOString();
const parse = <T>(text: string | null | undefined): T => (text == null ? (undefined as T) : (JSON.parse(text) as T));

export async function migrate(db: Db): Promise<void> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    throw new Error(`store migration ${failed?.migrationName ?? ''} failed: ${(error as Error).message ?? error}`, { cause: error });
  }
}

/** Dialect-specific extras. */
export interface SqlStoreHooks {
  onClose?: () => Promise<void>;
  /** A dialect's own lease (PostgreSQL: an advisory lock); lease rows otherwise. */
  withLease?: Store['withLease'];
}

export class SqlStore implements Store {
  constructor(
    readonly dialect: 'sqlite' | 'postgres',
    private readonly db: Db | Transaction<any>,
    private readonly hooks: SqlStoreHooks = {},
    private readonly inTransaction = false,
  ) {}

  async transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
    if (this.inTransaction) return fn(this);
    return (this.db as Db).transaction().execute((trx) => fn(new SqlStore(this.dialect, trx, {}, true)));
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
  async bumpRevision(ws: string) {
    await this.db
      .updateTable('workspaces')
      .set((eb: any) => ({ revision: eb('revision', '+', 1) }))
      .where('id', '=', ws)
      .execute();
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
    const data = JSON.stringify(action);
    await this.db
      .insertInto('actions')
      .values({ workspace_id: ws, app_tag: app, event: action.event, source: action.source ?? null, data })
      .onConflict((oc) => oc.columns(['workspace_id', 'app_tag', 'event']).doUpdateSet({ data, source: action.source ?? null }))
      .execute();
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

  async withLease<T>(ws: string, name: string, opts: LeaseOptions, fn: () => Promise<T>): Promise<T> {
    return this.hooks.withLease ? this.hooks.withLease(ws, name, opts, fn) : withLeaseRow(this.db, ws, name, opts, fn);
  }

  async insertLogs(ws: string, entries: RunLogEntry[]) {
    if (entries.length === 0) return;
    let first = entries[0].startedAt;
    let last = first;
    for (const e of entries) {
      if (e.startedAt < first) first = e.startedAt;
      if (e.startedAt > last) last = e.startedAt;
    }
    await this.db
      .insertInto('run_log_segments')
      .values({
        workspace_id: ws,
        first_time: new Date(first).toISOString(),
        last_time: new Date(last).toISOString(),
        count: entries.length,
        rows: JSON.stringify(entries.map(toTuple)),
      })
      .execute();
  }

  /**
   * Newest runs first. Segments are read newest-first and only while they can still hold one of the `limit` newest
   * matches (segments overlap a little in time: a run is logged when it ends, stamped when it started).
   */
  async queryLogs(ws: string, query: LogQuery) {
    const limit = query.limit ?? 100;
    const sinceMs = query.since === undefined ? undefined : new Date(query.since).getTime();
    const { product, app, event, status, owner } = query;
    const matches = (t: LogTuple) =>
      (!product || t[3] === product) &&
      (!app || t[5] === app) &&
      (!event || t[6] === event) &&
      (owner === undefined || t[14] === owner) &&
      (status === undefined || (status === 'ok' ? (t[8] & 1) !== 0 : status === 'error' ? (t[8] & 1) === 0 : t[7] === status)) &&
      (sinceMs === undefined || t[0] >= sinceMs);
    const found: { t: LogTuple; id: string }[] = [];
    let floor = -Infinity;
    const page = 32;
    for (let offset = 0; ; offset += page) {
      let q = this.db.selectFrom('run_log_segments').select(['seq', 'last_time', 'rows']).where('workspace_id', '=', ws);
      if (sinceMs !== undefined) q = q.where('last_time', '>=', new Date(sinceMs).toISOString());
      const segments = await q.orderBy('last_time', 'desc').orderBy('seq', 'desc').limit(page).offset(offset).execute();
      for (const seg of segments) {
        if (found.length >= limit && Date.parse(seg.last_time) < floor) return finishLogs(found, limit);
        const tuples = parse<LogTuple[]>(seg.rows);
        for (let i = 0; i < tuples.length; i++) if (matches(tuples[i])) found.push({ t: tuples[i], id: `${seg.seq}.${i}` });
        if (found.length >= limit) {
          found.sort(newestFirst);
          found.length = limit;
          floor = found[limit - 1].t[0];
        }
      }
      if (segments.length < page) return finishLogs(found, limit);
    }
  }

  async close() {
    await this.hooks.onClose?.();
  }
}

// By start time, then by position in the log (segment, index), newest first.
const newestFirst = (a: { t: LogTuple; id: string }, b: { t: LogTuple; id: string }) =>
  b.t[0] - a.t[0] || b.id.localeCompare(a.id, 'en', { numeric: true });

function finishLogs(found: { t: LogTuple; id: string }[], limit: number): RunLogRow[] {
  found.sort(newestFirst);
  return found.slice(0, limit).map((f) => fromTuple(f.t, f.id));
}

function toRecord<T>(row: any): StoredRecord<T> {
  return { key: row.key, ref: row.ref ?? null, data: parse<T>(row.data), expiresAt: row.expires_at == null ? null : Number(row.expires_at) };
}
