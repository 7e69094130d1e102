// Starts a real `ductape serve` process (through tsx) on a free loopback port; stopped by pid.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../src/cli/bin.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface ServeProcess {
  url: string;
  pid: number;
  /** Everything the process wrote to stderr so far. */
  stderr: () => string;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after 20 s; resolves with the exit code. */
  stop: () => Promise<number | null>;
}

export async function startServe(env: Record<string, string>, args: string[] = [], readyTimeoutMs = 90_000): Promise<ServeProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', BIN, 'serve', '--host', '127.0.0.1', '--port', '0', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env, NODE_NO_WARNINGS: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (c) => (stderr += c));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`ductape serve did not listen within ${readyTimeoutMs} ms:\n${stderr}`));
    }, readyTimeoutMs);
    child.stdout!.on('data', (c) => {
      stdout += c;
      const m = /listening on (http:\/\/\S+)/.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`ductape serve exited (${code}) before listening:\n${stderr}`));
    });
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      process.kill(child.pid!, 'SIGTERM');
      const timer = setTimeout(() => child.exitCode === null && child.signalCode === null && process.kill(child.pid!, 'SIGKILL'), 20_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    }
    return exited;
  };
  return { url, pid: child.pid!, stderr: () => stderr, exited, stop };
}
