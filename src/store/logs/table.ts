// How a dialect stores run logs: SQLite in segments (segments.ts), PostgreSQL a row per run (rows.ts).
import type { Kysely } from 'kysely';
import type { RunLogEntry, RunLogRow } from '../../model/run-log.js';
import type { LogQuery } from '../store.js';

export interface RunLogTable {
  /** Appends one non-empty batch. */
  insert(db: Kysely<any>, ws: string, entries: RunLogEntry[]): Promise<void>;
  /** Newest runs first, at most query.limit (default 100). */
  query(db: Kysely<any>, ws: string, query: LogQuery): Promise<RunLogRow[]>;
  /** Deletes runs that started before beforeMs; resolves to how many rows went. */
  prune(db: Kysely<any>, ws: string, beforeMs: number): Promise<number>;
}
