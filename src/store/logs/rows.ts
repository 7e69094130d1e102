// PostgreSQL run logs: a row per run, filtered, ordered and limited in SQL through the run_logs indexes.
// A column per LogTuple field (model/run-log.ts): a field added there needs its column here and in the migration.
import { sql } from 'kysely';
import { fromTuple, toTuple, type LogTuple } from '../../model/run-log.js';
import { timeMs } from '../../model/time.js';
import type { RunLogTable } from './table.js';

export const rowLogs: RunLogTable = {
  // One parameter for the whole batch (the tuples as JSON, as SQLite segments store them), unpacked by the server:
  // building a 200-row VALUES list would cost the client more CPU than the runs it logs.
  async insert(db, ws, entries) {
    const tuples = storable(JSON.stringify(entries.map(toTuple)));
    await sql`
      insert into run_logs (workspace_id, started_at, duration_ms, actor, product, env, app, event, status, ok, cached,
                            attempts, error_code, method, url, detail, owner, wait_ms)
      select ${ws}, (t->>0)::bigint, (t->>1)::float8, t->>2, t->>3, t->>4, t->>5, t->>6, (t->>7)::int,
             ((t->>8)::int & 1) = 1, ((t->>8)::int & 2) = 2, (t->>9)::int, t->>10, t->>11, t->>12, t->>13, t->>14,
             (t->>15)::float8
      from json_array_elements(${tuples}::json) as t`.execute(db);
  },

  async query(db, ws, { product, app, event, owner, status, since, limit = 100 }) {
    let q = db.selectFrom('run_logs').selectAll().where('workspace_id', '=', ws);
    if (product) q = q.where('product', '=', product);
    if (app) q = q.where('app', '=', app);
    if (event) q = q.where('event', '=', event);
    if (owner !== undefined) q = q.where('owner', '=', owner);
    if (status === 'ok' || status === 'error') q = q.where('ok', '=', status === 'ok');
    else if (status !== undefined) q = q.where('status', '=', status);
    if (since !== undefined) q = q.where('started_at', '>=', timeMs(since));
    const rows = await q.orderBy('started_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
    return rows.map((r) => {
      const t: LogTuple = [
        Number(r.started_at),
        r.duration_ms,
        r.actor,
        r.product,
        r.env,
        r.app,
        r.event,
        r.status,
        (r.ok ? 1 : 0) | (r.cached ? 2 : 0),
        r.attempts,
        r.error_code,
        r.method,
        r.url,
        r.detail,
        r.owner,
      ];
      if (r.wait_ms != null) t.push(r.wait_ms);
      return fromTuple(t, String(r.id));
    });
  },

  async prune(db, ws, beforeMs) {
    const res = await db.deleteFrom('run_logs').where('workspace_id', '=', ws).where('started_at', '<', beforeMs).executeTakeFirst();
    return Number(res.numDeletedRows);
  },
};

/**
 * PostgreSQL text cannot hold U+0000, and its JSON parser refuses a lone UTF-16 surrogate: a single run whose text held
 * one (an upstream's text/plain error body summed up in the message, an event name sent as "a\u0000b") failed the whole
 * batch's insert, and every run in it went unlogged. Such characters are stored as U+FFFD. JSON.stringify writes both
 * as escapes (a surrogate only when it is alone), and only escapes are replaced: an odd run of backslashes before
 * `u0000` is an escape, an even one is text.
 */
const UNSTORABLE = /(?<!\\)((?:\\\\)*)\\u(?:0000|d[89a-f][0-9a-f]{2})/g;
const MAYBE_UNSTORABLE = /\\u(?:0000|d[89a-f])/;

function storable(json: string): string {
  return MAYBE_UNSTORABLE.test(json) ? json.replace(UNSTORABLE, '$1\\ufffd') : json;
}
