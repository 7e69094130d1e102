// Starts a real redis-server on a free loopback port in a temp dir, for cache tests; stopped (by pid) when done.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';

export const hasRedisServer: boolean = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;

export interface RedisServer {
  readonly url: string;
  readonly port: number;
  readonly pid: number | undefined;
  /** SIGKILL: the way a crashed Redis disappears (no goodbye to clients). */
  kill(): Promise<void>;
  /** Starts it again on the same port (after kill). */
  restart(): Promise<void>;
  /** SIGSTOP / SIGCONT: a Redis that accepts connections but never answers. */
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

export async function startRedisServer(): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'ductape-redis-'));
  let port = await freePort();
  let child: ChildProcess | undefined;

  async function launch(): Promise<void> {
    const c = (child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'],
      { stdio: 'ignore' },
    ));
    await waitForServer(port, c);
  }

  async function killWith(signal: NodeJS.Signals): Promise<void> {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((resolve) => c.once('exit', resolve));
    process.kill(c.pid!, 'SIGCONT');
    process.kill(c.pid!, signal);
    await exited;
  }

  // The port was free when asked, but another test may take it before redis-server binds it: then try another.
  for (let attempt = 1; ; attempt++) {
    try {
      await launch();
      break;
    } catch (err) {
      child?.kill('SIGKILL');
      if (attempt === 5) throw err;
      port = await freePort();
    }
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    get pid() {
      return child?.pid;
    },
    kill: () => killWith('SIGKILL'),
    restart: launch,
    pause: () => process.kill(child!.pid!, 'SIGSTOP'),
    resume: () => process.kill(child!.pid!, 'SIGCONT'),
    async stop() {
      await killWith('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Resolves once this redis-server answers (it needs a moment to bind). It must say its own process id: a port found
 * free may have gone to another test's Redis meanwhile, which would answer PING just as well.
 */
async function waitForServer(port: number, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`redis-server exited before listening on port ${port}`);
    const pid = await new Promise<number | undefined>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port });
      let text = '';
      socket.once('error', () => resolve(undefined));
      socket.once('connect', () => socket.write('INFO server\r\n'));
      socket.on('data', (d) => {
        text += d.toString();
        const m = /process_id:(\d+)/.exec(text);
        if (m || text.startsWith('-')) {
          socket.destroy();
          resolve(m ? Number(m[1]) : undefined);
        }
      });
      socket.once('close', () => resolve(undefined));
    });
    if (pid === child.pid) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`redis-server did not start on port ${port}`);
}
