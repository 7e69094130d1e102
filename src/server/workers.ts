// `ductape serve --workers N`: N serve processes on one listening socket (node:cluster), so that one machine's cores
// all serve requests. Each worker is an ordinary `serve` process (its own client, key ring, caches and limiters, as
// several `serve` processes behind a load balancer are: docs/serve.md); this primary only starts, replaces and stops
// them, and prints the one "listening on" line once every worker listens.
import cluster, { type Worker } from 'node:cluster';

/** What a worker tells the primary once its server listens. */
export interface ListeningMessage {
  ductapeServeListening: string;
}

/** In a worker: reports the URL to the primary instead of printing it (the primary prints it once). */
export function reportListening(url: string): boolean {
  if (!cluster.isWorker || !process.send) return false;
  process.send({ ductapeServeListening: url } satisfies ListeningMessage);
  return true;
}

export const isServeWorker = (): boolean => cluster.isWorker;

/**
 * Runs the primary: forks `count` workers (each re-runs this same command line), prints "listening on URL" once all
 * listen, replaces a worker that dies after it listened, and on SIGTERM/SIGINT drains every worker and resolves 0
 * (1 when a worker fails to start or does not exit cleanly).
 */
export function superviseWorkers(count: number, print: (line: string) => void, warn: (line: string) => void): Promise<number> {
  return new Promise<number>((resolve) => {
    let stopping = false;
    let failed = false;
    let listening = 0;
    let announced = false;
    const live = new Set<Worker>();
    const ready = new WeakSet<Worker>();

    const fork = () => {
      const w = cluster.fork();
      live.add(w);
      w.on('message', (m: Partial<ListeningMessage>) => {
        if (typeof m?.ductapeServeListening !== 'string' || ready.has(w)) return;
        ready.add(w);
        listening++;
        if (!announced && listening === count) {
          announced = true;
          print(`ductape serve listening on ${m.ductapeServeListening} (${count} workers)`);
        }
      });
      w.on('exit', (code, signal) => {
        live.delete(w);
        if (stopping) {
          // A worker still starting has nothing in flight: the signal ending it is no failure.
          if (code !== 0 && ready.has(w)) {
            failed = true;
            warn(`ductape serve: worker ${w.process.pid} exited (${signal ?? code}) while stopping.`);
          }
          if (live.size === 0) finish();
          return;
        }
        if (!ready.has(w)) {
          // A worker that never listened (a port in use, a bad store URL) would fail again: stop them all.
          warn(`ductape serve: a worker exited (${signal ?? code}) before listening; stopping.`);
          failed = true;
          stop();
          return;
        }
        listening--;
        warn(`ductape serve: worker ${w.process.pid} exited (${signal ?? code}); starting another.`);
        fork();
      });
    };

    const finish = () => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      resolve(failed ? 1 : 0);
    };
    function stop(): void {
      if (stopping) return;
      stopping = true;
      if (live.size === 0) return finish();
      // Each worker drains as a lone `serve` does on SIGTERM: in-flight requests finish, logs are flushed.
      for (const w of live) w.process.kill('SIGTERM');
    }
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    for (let i = 0; i < count; i++) fork();
  });
}
