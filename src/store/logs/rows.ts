// PostgreSQL run logs: a row per run, filtered, ordered and limited in SQL through the run_logs indexes.
// A column per LogTuple field (model/run-log.ts): a field added there needs its column here and in the migration.
import { fromTuple, toTuple, type LogTuple } from '../../model/run-log.js';
import type { RunLogTable } from './table.js';

export const rowLogs: RunLogTable = {
  async insert(db, ws, entries) {
    // toTuple redacts the URL and rounds the duration, exactly as for SQLite segments.
    const values = entries.map((e) => {
      const t = toTuple(e);
      return {
        workspace_id: ws,
        started_at: t[0],
        duration_ms: t[1],
        actor: t[2],
        product: t[3],
        env: t[4],
        app: t[5],
        event: t[6],
        status: t[7],
        ok: (t[8] & 1) !== 0,
        cached: (t[8] & 2) !== 0,
        attempts: t[9],
        error_code: t[10],
        method: t[11],
        url: t[12],
        detail: t[13],
        owner: t[14] ?? null,
        wait_ms: t[15] ?? null,
      };
    });
    await db.insertInto('run_logs').values(values).execute();
  },

  async query(db, ws, { product, app, event, owner, status, since, limit = 100 }) {
    let q = db.selectFrom('run_logs').selectAll().where('workspace_id', '=', ws);
    if (product) q = q.where('product', '=', product);
    if (app) q = q.where('app', '=', app);
    if (event) q = q.where('event', '=', event);
    if (owner !== undefined) q = q.where('owner', '=', owner);
    if (status === 'ok' || status === 'error') q = q.where('ok', '=', status === 'ok');
    else if (status !== undefined) q = q.where('status', '=', status);
    if (since !== undefined) q = q.where('started_at', '>=', new Date(since).getTime());
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
