// The Store interface: everything Ductape persists. SQL dialects implement it with the same Kysely queries.
import type { ActionDef } from '../model/action.js';
import type { AppDef, ConnectionConfig, ProductDef } from '../model/app.js';
import type { RunLogEntry, RunLogRow } from '../model/run-log.js';
import type { LeaseOptions } from './lease.js';

export interface ConnectionRow {
  config: ConnectionConfig;
  /** Sealed credentials blob (store/seal.ts), or null when none are set. */
  credentials: string | null;
}

export interface StoredRecord<T = unknown> {
  key: string;
  ref: string | null;
  data: T;
  expiresAt: number | null;
}

export type { RunLogRow } from '../model/run-log.js';

export interface LogQuery {
  product?: string;
  app?: string;
  event?: string;
  /** Runs of one end user's connection (per-user connections). */
  owner?: string;
  /** HTTP status, or 'ok' / 'error'. */
  status?: number | 'ok' | 'error';
  since?: string | Date;
  limit?: number;
}

/**
 * Everything Ductape persists. Implementations: SqlStore over SQLite (sqlite.ts) and PostgreSQL (postgres.ts); both
 * pass test/contract/store.ts. Every failure is a DuctapeError (driver errors become STORE_ERROR, driver.ts).
 */
export interface Store {
  readonly dialect: 'sqlite' | 'postgres';
  /**
   * Runs fn in one transaction: either everything it wrote lands, or nothing does (a crash included). Transactions
   * are serialized with each other across processes, so keep them short: never wait on the network inside one.
   * A nested call joins the outer transaction.
   */
  transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T>;

  getWorkspace(id: string): Promise<{ id: string; keyCheck: string | null; revision: number } | undefined>;
  createWorkspace(id: string, keyCheck: string): Promise<void>;
  setKeyCheck(id: string, keyCheck: string): Promise<void>;
  /** A counter bumped by every definition change, so other processes can drop compiled plans. */
  getRevision(ws: string): Promise<number>;
  bumpRevision(ws: string): Promise<void>;
  /**
   * Push notice of revision bumps committed by any process (PostgreSQL: LISTEN/NOTIFY), so that they are honoured at
   * once rather than at the next poll; returns the unsubscribe. Absent or silent where the store cannot push (SQLite):
   * the client's revision poll is the bound everywhere.
   */
  watchRevision?(ws: string, onChange: () => void): () => void;

  getApp(ws: string, tag: string): Promise<AppDef | undefined>;
  listApps(ws: string): Promise<AppDef[]>;
  putApp(ws: string, app: AppDef): Promise<void>;
  deleteApp(ws: string, tag: string): Promise<boolean>;
  getComponents(ws: string, tag: string): Promise<Record<string, unknown> | undefined>;
  putComponents(ws: string, tag: string, components: Record<string, unknown> | undefined): Promise<void>;

  getAction(ws: string, app: string, event: string): Promise<ActionDef | undefined>;
  listActions(ws: string, app: string): Promise<ActionDef[]>;
  listEvents(ws: string, app: string): Promise<string[]>;
  putAction(ws: string, app: string, action: ActionDef): Promise<void>;
  /** putAction for many, in a few statements (an import writes hundreds: one round trip each was most of its time). */
  putActions(ws: string, app: string, actions: ActionDef[]): Promise<void>;
  deleteAction(ws: string, app: string, event: string): Promise<boolean>;

  getProduct(ws: string, tag: string): Promise<ProductDef | undefined>;
  listProducts(ws: string): Promise<ProductDef[]>;
  putProduct(ws: string, product: ProductDef): Promise<void>;
  deleteProduct(ws: string, tag: string): Promise<boolean>;

  getConnection(ws: string, product: string, env: string, accessTag: string): Promise<ConnectionRow | undefined>;
  listConnections(ws: string, product?: string): Promise<(ConnectionRow & { product: string; env: string; accessTag: string })[]>;
  putConnection(ws: string, product: string, env: string, accessTag: string, row: ConnectionRow): Promise<void>;
  deleteConnections(ws: string, product: string, accessTag?: string): Promise<void>;

  getRecord<T>(ws: string, kind: string, key: string): Promise<StoredRecord<T> | undefined>;
  listRecords<T>(ws: string, kind: string, opts?: { prefix?: string; ref?: string }): Promise<StoredRecord<T>[]>;
  putRecord(ws: string, kind: string, key: string, data: unknown, opts?: { ref?: string | null; expiresAt?: number | null }): Promise<void>;
  deleteRecord(ws: string, kind: string, key: string): Promise<boolean>;
  /** Deletes the records of a kind whose expiry is at or before `nowMs`, in one statement; resolves how many went. */
  deleteExpiredRecords(ws: string, kind: string, nowMs: number): Promise<number>;
  /**
   * Compare-and-set: replaces a record's data only while it still holds `expected` (compared as stored JSON text), in
   * one statement, so a writer that read a row and decided on it cannot overwrite a change made since (a revoke
   * racing a refresh). Resolves whether it wrote; a missing record is not written.
   */
  replaceRecordIf(ws: string, kind: string, key: string, expected: unknown, data: unknown, opts?: { ref?: string | null; expiresAt?: number | null }): Promise<boolean>;
  /** Atomically deletes and returns a record: exactly one caller wins (use-once tokens). */
  takeRecord<T>(ws: string, kind: string, key: string): Promise<StoredRecord<T> | undefined>;

  /**
   * Runs `fn` while holding the lease `name`: at most one holder across every process sharing this store. Waits up
   * to `opts.waitMs` for another holder (then TIMEOUT); a holder that dies loses the lease within 30 s. Used so that
   * a credential refresh happens exactly once (runtime/auth/token-cache.ts). `fn` reads and writes through the store
   * it is given: what it writes is stored by the time the lease is released, and never after.
   */
  withLease<T>(ws: string, name: string, opts: LeaseOptions, fn: (store: Store) => Promise<T>): Promise<T>;

  /** Appends a batch of runs as one segment. */
  insertLogs(ws: string, entries: RunLogEntry[]): Promise<void>;
  queryLogs(ws: string, query: LogQuery): Promise<RunLogRow[]>;
  /** Deletes runs that started before `before` (logs_retention_days); resolves to how many stored rows went. */
  pruneLogs(ws: string, before: Date): Promise<number>;

  close(): Promise<void>;
}
