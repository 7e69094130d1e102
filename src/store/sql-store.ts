// Store over Kysely: one set of queries for SQLite and PostgreSQL (dialect-specific bits are passed in).
import { Kysely, Migrator, type Transaction } from 'kysely';
import type { ActionDef } from '../model/action.js';
import type { AppDef, ConnectionConfig, ProductDef } from '../model/app.js';
import { migrations } from './migrations/index.js';

/** Columns of run_logs in the order insertLogs passes values. */
export const LOG_COLUMNS = ['id', 'workspace_id', 'time', 'actor', 'product', 'env', 'app', 'event', 'status', 'ok', 'attempts', 'cached', 'duration_ms', 'error_code', 'request', 'response'];
import type { ConnectionRow, LogQuery, RunLogRow, Store, StoredRecord } from './store.js';

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

/** Dialect-specific extras: closing, and a synchronous bulk insert for run logs where the driver offers one. */
export interface SqlStoreHooks {
  onClose?: () => Promise<void>;
  /** Inserts log rows, values in LOG_COLUMNS order (possibly off-thread); false when it cannot right now. */
  insertLogRows?: (rows: unknown[][]) => boolean | Promise<boolean>;
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

  async insertLogs(ws: string, rows: RunLogRow[]) {
    if (rows.length === 0) return;
    // Straight to positional values in LOG_COLUMNS order: this runs for every run, so no intermediate objects.
    const values = rows.map((r): unknown[] => [
      r.id,
      ws,
      r.time,
      r.actor,
      r.product,
      r.env,
      r.app,
      r.event,
      r.status,
      r.ok ? 1 : 0,
      r.attempts,
      r.cached ? 1 : 0,
      r.durationMs,
      r.errorCode,
      r.request === undefined ? null : JSON.stringify(r.request),
      r.response === undefined ? null : JSON.stringify(r.response),
    ]);
    if (await this.hooks.insertLogRows?.(values)) return;
    const objects = values.map((v) => Object.fromEntries(LOG_COLUMNS.map((c, i) => [c, v[i]])));
    // SQLite limits bound variables per statement; 50 rows × 16 columns stays well under it.
    for (let i = 0; i < objects.length; i += 50) await this.db.insertInto('run_logs').values(objects.slice(i, i + 50)).execute();
  }
  async queryLogs(ws: string, query: LogQuery) {
    let q = this.db.selectFrom('run_logs').selectAll().where('workspace_id', '=', ws);
    if (query.product) q = q.where('product', '=', query.product);
    if (query.app) q = q.where('app', '=', query.app);
    if (query.event) q = q.where('event', '=', query.event);
    if (query.status === 'ok') q = q.where('ok', '=', 1);
    else if (query.status === 'error') q = q.where('ok', '=', 0);
    else if (typeof query.status === 'number') q = q.where('status', '=', query.status);
    if (query.since) q = q.where('time', '>=', new Date(query.since).toISOString());
    const rows = await q.orderBy('time', 'desc').orderBy('seq', 'desc').limit(query.limit ?? 100).execute();
    return rows.map(
      (r): RunLogRow => ({
        id: r.id,
        time: r.time,
        actor: r.actor,
        product: r.product,
        env: r.env,
        app: r.app,
        event: r.event,
        status: r.status == null ? null : Number(r.status),
        ok: Number(r.ok) === 1,
        attempts: Number(r.attempts),
        cached: Number(r.cached) === 1,
        durationMs: Number(r.duration_ms),
        errorCode: r.error_code,
        request: parse(r.request),
        response: parse(r.response),
      }),
    );
  }

  async close() {
    await this.hooks.onClose?.();
  }
}

function toRecord<T>(row: any): StoredRecord<T> {
  return { key: row.key, ref: row.ref ?? null, data: parse<T>(row.data), expiresAt: row.expires_at == null ? null : Number(row.expires_at) };
}
