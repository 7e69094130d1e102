// SQLite run logs: one row per flushed batch (a segment of JSON tuples), read newest-first and filtered in memory.
import { fromTuple, toTuple, type LogTuple, type RunLogEntry, type RunLogRow } from '../../model/run-log.js';
import { timeMs } from '../../model/time.js';
import type { LogQuery } from '../store.js';
import type { RunLogTable } from './table.js';

export const segmentLogs: RunLogTable = {
  async insert(db, ws, entries) {
    await db.insertInto('run_log_segments').values(segmentRow(ws, entries)).execute();
  },

  /**
   * Newest runs first. Segments are read newest-first and only while they can still hold one of the `limit` newest
   * matches (segments overlap a little in time: a run is logged when it ends, stamped when it started).
   */
  async query(db, ws, query) {
    const limit = query.limit ?? 100;
    const sinceMs = query.since === undefined ? undefined : timeMs(query.since);
    const matches = tupleFilter(query, sinceMs);
    const found: Found[] = [];
    let floor = -Infinity;
    const page = 32;
    for (let offset = 0; ; offset += page) {
      let q = db.selectFrom('run_log_segments').select(['seq', 'last_time', 'rows']).where('workspace_id', '=', ws);
      if (sinceMs !== undefined) q = q.where('last_time', '>=', new Date(sinceMs).toISOString());
      const segments = await q.orderBy('last_time', 'desc').orderBy('seq', 'desc').limit(page).offset(offset).execute();
      for (const seg of segments) {
        if (found.length >= limit && Date.parse(seg.last_time) < floor) return finish(found, limit);
        const tuples = JSON.parse(seg.rows) as LogTuple[];
        for (let i = 0; i < tuples.length; i++) if (matches(tuples[i])) found.push({ t: tuples[i], id: `${seg.seq}.${i}` });
        if (found.length >= limit) {
          found.sort(newestFirst);
          found.length = limit;
          floor = found[limit - 1].t[0];
        }
      }
      if (segments.length < page) return finish(found, limit);
    }
  },

  // A segment goes when its newest run is older than the cutoff, so no run younger than the cutoff is ever lost.
  async prune(db, ws, beforeMs) {
    const res = await db
      .deleteFrom('run_log_segments')
      .where('workspace_id', '=', ws)
      .where('last_time', '<', new Date(beforeMs).toISOString())
      .executeTakeFirst();
    return Number(res.numDeletedRows);
  },
};

/** One batch as its segment row (also what the run-log thread inserts, segment-thread.ts). */
export function segmentRow(ws: string, entries: RunLogEntry[]): { workspace_id: string; first_time: string; last_time: string; count: number; rows: string } {
  let first = entries[0].startedAt;
  let last = first;
  for (const e of entries) {
    if (e.startedAt < first) first = e.startedAt;
    if (e.startedAt > last) last = e.startedAt;
  }
  return {
    workspace_id: ws,
    first_time: new Date(first).toISOString(),
    last_time: new Date(last).toISOString(),
    count: entries.length,
    rows: JSON.stringify(entries.map(toTuple)),
  };
}

type Found = { t: LogTuple; id: string };

function tupleFilter({ product, app, event, owner, status }: LogQuery, sinceMs: number | undefined): (t: LogTuple) => boolean {
  // Flag bit 1 is `ok` (model/run-log.ts).
  return (t) =>
    (!product || t[3] === product) &&
    (!app || t[5] === app) &&
    (!event || t[6] === event) &&
    (owner === undefined || t[14] === owner) &&
    (status === undefined || (status === 'ok' ? (t[8] & 1) !== 0 : status === 'error' ? (t[8] & 1) === 0 : t[7] === status)) &&
    (sinceMs === undefined || t[0] >= sinceMs);
}

// By start time, then by position in the log (segment, index), newest first.
const newestFirst = (a: Found, b: Found) => b.t[0] - a.t[0] || b.id.localeCompare(a.id, 'en', { numeric: true });

function finish(found: Found[], limit: number): RunLogRow[] {
  found.sort(newestFirst);
  return found.slice(0, limit).map((f) => fromTuple(f.t, f.id));
}
