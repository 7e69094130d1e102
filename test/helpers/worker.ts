// Real node processes, each holding one Ductape client, for tests of what several processes do at once.
// Bounded: every request has a deadline, and stop() kills the process by pid (SIGKILL after a grace period).
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import type { DuctapeOptions } from '../../src/options.js';

const MAIN = fileURLToPath(new URL('./worker-main.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface RunOutcome {
  ok: boolean;
  status?: number;
  cached?: boolean;
  data?: unknown;
  error?: { code: string; message: string };
}

export interface Worker {
  readonly pid: number;
  /** `ductape.<path>(...args)` in the worker; rejects with the worker's error (code and message). */
  call<T = unknown>(path: string, ...args: unknown[]): Promise<T>;
  /** `n` concurrent `actions.execute(input)` in the worker, started at `at` (epoch ms) when given. */
  runMany(n: number, input: Record<string, unknown>, at?: number): Promise<RunOutcome[]>;
  /** SIGKILL: the process dies at once, in the middle of whatever it does. */
  kill(): Promise<void>;
  /** Closes the client and exits; SIGKILL if it has not exited within 5 s. */
  stop(): Promise<void>;
}

export interface WorkerOptions {
  /** Bound on every request, in ms. @default 60_000 */
  timeoutMs?: number;
}

/** Starts one worker process and resolves once its client is open (workspace created or key checked). */
export async function startWorker(options: DuctapeOptions, opts: WorkerOptions = {}): Promise<Worker> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', MAIN, JSON.stringify(options)], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, NODE_NO_WARNINGS: '1' },
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let ready!: (msg: { ready: boolean; error?: { message: string } }) => void;
  const readyMsg = new Promise<{ ready: boolean; error?: { message: string } }>((r) => (ready = r));

  createInterface({ input: child.stdout! }).on('line', (line) => {
    let msg: { id?: number; ready?: boolean; ok?: boolean; value?: unknown; error?: { code: string; message: string } };
    try {
      msg = JSON.parse(line);
    } catch {
      return; // stray output (a warning) is not a reply
    }
    if (msg.ready !== undefined) return ready(msg as { ready: boolean });
    const p = msg.id === undefined ? undefined : pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id!);
    if (msg.ok) p.resolve(msg.value);
    else p.reject(Object.assign(new Error(msg.error!.message), { code: msg.error!.code }));
  });
  void exited.then(() => {
    for (const p of pending.values()) p.reject(new Error(`worker ${child.pid} exited: ${stderr.slice(-2000)}`));
    pending.clear();
    ready({ ready: false, error: { message: `worker exited before it was ready: ${stderr.slice(-2000)}` } });
  });

  const request = <T>(msg: Record<string, unknown>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`worker ${child.pid}: no answer to ${String(msg.op)} within ${timeoutMs} ms`));
      }, timeoutMs);
      pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      child.stdin!.write(JSON.stringify({ id, ...msg }) + '\n');
    });

  const kill = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    process.kill(child.pid!, 'SIGKILL');
    await exited;
  };

  const startTimer = setTimeout(() => ready({ ready: false, error: { message: `worker did not start within ${timeoutMs} ms` } }), timeoutMs);
  const first = await readyMsg;
  clearTimeout(startTimer);
  if (!first.ready) {
    await kill();
    throw new Error(first.error?.message ?? 'worker failed to start');
  }

  return {
    pid: child.pid!,
    call: (path, ...args) => request({ op: 'call', path, args }),
    runMany: (n, input, at) => request({ op: 'runMany', n, input, at }),
    kill,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const grace = setTimeout(() => void kill(), 5_000);
      child.stdin!.end();
      await exited;
      clearTimeout(grace);
    },
  };
}

/** Starts `n` workers in parallel; if one fails to start, the others are stopped again. */
export async function startWorkers(n: number, options: DuctapeOptions, opts?: WorkerOptions): Promise<Worker[]> {
  const settled = await Promise.allSettled(Array.from({ length: n }, () => startWorker(options, opts)));
  const started = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await Promise.all(started.map((w) => w.kill()));
    throw failed.reason;
  }
  return started;
}
