// Runs a TypeScript file in a real child node process (through tsx) and collects its output; bounded in time.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface ChildHandle {
  pid: number;
  /** Resolves when the child exits (killed after timeoutMs). */
  done: Promise<ChildResult>;
  /** Resolves with the first stdout line that matches. */
  waitFor(pattern: RegExp): Promise<string>;
  kill(signal?: NodeJS.Signals): void;
}

export function startChild(file: string, args: string[] = [], opts: { env?: Record<string, string>; timeoutMs?: number } = {}): ChildHandle {
  const child = spawn(process.execPath, ['--import', 'tsx', file, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...opts.env, NODE_NO_WARNINGS: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const watchers: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  child.stdout.on('data', (c) => {
    stdout += c;
    for (const w of [...watchers]) {
      const line = stdout.split('\n').find((l) => w.pattern.test(l));
      if (line !== undefined) {
        watchers.splice(watchers.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  child.stderr.on('data', (c) => (stderr += c));
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
  const done = new Promise<ChildResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return {
    pid: child.pid!,
    done,
    waitFor: (pattern) =>
      new Promise((resolve, reject) => {
        watchers.push({ pattern, resolve });
        void done.then((r) => reject(new Error(`child exited (${r.code ?? r.signal}) before printing ${pattern}: ${r.stderr.slice(-2000)}`)));
      }),
    kill: (signal = 'SIGKILL') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}

export const fixture = (name: string) => fileURLToPath(new URL(`../store/fixtures/${name}`, import.meta.url));
