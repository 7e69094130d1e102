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
  /** Writes one line to the child's stdin. */
  send(line: string): void;
  /** Closes the child's stdin (children that read commands exit then). */
  end(): void;
  /** Forgets the output seen so far: the next waitFor only matches lines printed from now on. */
  clear(): void;
}

export function startChild(file: string, args: string[] = [], opts: { env?: Record<string, string>; timeoutMs?: number } = {}): ChildHandle {
  const child = spawn(process.execPath, ['--import', 'tsx', file, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...opts.env, NODE_NO_WARNINGS: '1' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let all = '';
  let stderr = '';
  const watchers: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  child.stdout.on('data', (c) => {
    stdout += c;
    all += c;
    for (const w of [...watchers]) {
      const line = stdout.split('\n').find((l) => w.pattern.test(l));
      if (line !== undefined) {
        watchers.splice(watchers.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  child.stderr.on('data', (c) => (stderr += c));
  child.stdin.on('error', () => {}); // the child may exit before reading
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
  const done = new Promise<ChildResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: all, stderr });
    });
  });
  return {
    pid: child.pid!,
    done,
    waitFor: (pattern) =>
      new Promise((resolve, reject) => {
        const seen = stdout.split('\n').find((l) => pattern.test(l));
        if (seen !== undefined) return resolve(seen);
        watchers.push({ pattern, resolve });
        void done.then((r) => reject(new Error(`child exited (${r.code ?? r.signal}) before printing ${pattern}: ${r.stderr.slice(-2000)}`)));
      }),
    send: (line) => {
      child.stdin.write(`${line}\n`);
    },
    end: () => {
      child.stdin.end();
    },
    clear: () => {
      stdout = '';
    },
    kill: (signal = 'SIGKILL') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}

export const fixture = (name: string) => fileURLToPath(new URL(`../store/fixtures/${name}`, import.meta.url));
