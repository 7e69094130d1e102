// A bound on every PostgreSQL statement: a server that stops answering (frozen, or cut off by the network with the
// connection left open) fails the statement with STORE_ERROR instead of holding the caller for as long as it is gone.
import type { PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';
import type pg from 'pg';

/**
 * Statements that may take long on purpose, left unbounded: lock waits (a write transaction's turn, a lease bounded by
 * its own `lock_timeout`, a migration), whose wait is another process's work; schema changes (a migration building an
 * index on a large table); and the hourly prune of old run logs, which may delete many rows at once.
 */
const LONG_BY_DESIGN = /pg_advisory_xact_lock|^\s*(create|alter|drop)\s|^delete from "run_logs"/i;

/**
 * The pool as Kysely sees it, with each statement bounded by `timeoutMs`. A statement with no answer by then rejects
 * (ETIMEDOUT, so the store reports it as `unreachable`), and its connection is dropped rather than reused: pg would
 * queue every later statement of that connection behind the unanswered one. A pooled connection from before the
 * server froze was the one case not bounded by the pool's connect timeout: a run's first read of a definition, with
 * `timeout: 3000`, waited as long as the server was frozen.
 */
export function boundedPool(pool: pg.Pool, timeoutMs: number): PostgresPool {
  const clients = new WeakMap<pg.PoolClient, PostgresPoolClient>();
  return {
    async connect() {
      const client = await pool.connect();
      let bounded = clients.get(client);
      if (!bounded) clients.set(client, (bounded = boundedClient(client, timeoutMs)));
      return bounded;
    },
    end: () => pool.end(),
  };
}

function boundedClient(client: pg.PoolClient, timeoutMs: number): PostgresPoolClient {
  let dropped: Error | undefined;
  return {
    query<R>(sql: unknown, parameters?: ReadonlyArray<unknown>): never {
      // Never a cursor here (no `cursor` in the dialect config): only (sql, parameters).
      return run<R>(sql as string, parameters ?? []) as never;
    },
    release(destroy?: boolean) {
      // A dropped connection is closed, not handed to the next caller with its unanswered statement still in front.
      client.release(dropped ?? destroy);
    },
  };

  async function run<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>> {
    // The rollback that follows a timed-out statement would queue behind it too.
    if (dropped) throw dropped;
    const answer = client.query(sql, parameters as unknown[]) as unknown as Promise<PostgresQueryResult<R>>;
    if (LONG_BY_DESIGN.test(sql)) return answer;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        dropped = Object.assign(new Error(`the server did not answer a statement within ${timeoutMs} ms; its connection was dropped`), { code: 'ETIMEDOUT' });
        reject(dropped);
      }, timeoutMs);
      timer.unref();
    });
    // The unanswered statement fails later, when its connection closes: nobody waits for it then.
    answer.catch(() => undefined);
    try {
      return await Promise.race([answer, late]);
    } finally {
      clearTimeout(timer);
    }
  }
}
