// Definition changes announced on PostgreSQL: NOTIFY at commit, LISTEN on one connection per process.
import { Socket } from 'node:net';
import pg from 'pg';

/** How long close() waits for the server to acknowledge the listening connection's goodbye. */
const CLOSE_WAIT_MS = 1_000;

/** The channel a revision bump notifies, with the workspace id as payload. */
export const REVISION_CHANNEL = 'ductape_revision';

export interface RevisionListener {
  /** Calls `onChange` when workspace `ws` announces a change, and after every reconnect (changes may have been missed). */
  subscribe(ws: string, onChange: () => void): () => void;
  close(): Promise<void>;
}

/**
 * One dedicated connection (not from the pool: LISTEN belongs to a session) that listens while anyone subscribes.
 * NOTIFY is transactional, so a notification arrives only once the change is committed and readable. The revision
 * poll stays on as the fallback: behind a pooler in transaction mode (PgBouncer) LISTEN hears nothing, and while
 * this connection is down it is reopened with growing pauses (up to 5 s).
 */
export function createRevisionListener(connectionString: string): RevisionListener {
  const subscribers = new Map<string, Set<() => void>>();
  let client: pg.Client | undefined;
  let connecting: Promise<void> | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let failures = 0;
  let closed = false;
  let socket: Socket | undefined;

  const notifyAll = () => {
    for (const set of subscribers.values()) for (const cb of set) cb();
  };

  function scheduleReconnect(): void {
    if (closed || retryTimer || subscribers.size === 0) return;
    const delay = Math.min(5_000, 100 * 2 ** Math.min(failures++, 6));
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void connect();
    }, delay);
    retryTimer.unref();
  }

  function connect(): Promise<void> {
    if (closed || client || connecting) return connecting ?? Promise.resolve();
    // Our own socket, so that close() can end it when the server never answers the goodbye.
    const c = new pg.Client({ connectionString, application_name: 'ductape-listen', stream: () => (socket = new Socket()) });
    const lost = () => {
      if (client === c) client = undefined;
      c.removeAllListeners('notification');
      c.end().catch(() => undefined);
      scheduleReconnect();
    };
    // Without an error listener a dropped connection would crash the process.
    c.on('error', lost);
    c.on('end', lost);
    c.on('notification', (msg) => {
      if (msg.channel !== REVISION_CHANNEL || msg.payload === undefined) return;
      for (const cb of subscribers.get(msg.payload) ?? []) cb();
    });
    connecting = c
      .connect()
      .then(() => c.query(`LISTEN ${REVISION_CHANNEL}`))
      .then(
        () => {
          if (closed) return void c.end().catch(() => undefined);
          client = c;
          // Anything committed while no one listened is caught by one check now.
          if (failures > 0) notifyAll();
          failures = 0;
        },
        () => lost(),
      )
      .finally(() => {
        connecting = undefined;
      });
    return connecting;
  }

  return {
    subscribe(ws, onChange) {
      let set = subscribers.get(ws);
      if (!set) subscribers.set(ws, (set = new Set()));
      set.add(onChange);
      void connect();
      return () => {
        set!.delete(onChange);
        if (set!.size === 0) subscribers.delete(ws);
      };
    },
    async close() {
      closed = true;
      clearTimeout(retryTimer);
      await connecting?.catch(() => undefined);
      const c = client;
      client = undefined;
      if (c) {
        c.removeAllListeners('end');
        // end() waits for the server to close its side: a frozen server (or one cut off by the network) never does,
        // and close() of the client, and so the drain of `ductape serve` on SIGTERM, waited for ever.
        const own = socket;
        const timer = setTimeout(() => own?.destroy(), CLOSE_WAIT_MS);
        await c.end().catch(() => undefined);
        clearTimeout(timer);
      }
    },
  };
}
