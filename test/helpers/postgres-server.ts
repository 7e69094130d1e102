// Starts a real PostgreSQL 15 server on a free loopback port in a temp dir, for store tests; stopped (by pid) when done.
// initdb refuses to run as root, so as root the server runs as the `postgres` user (runuser), in a folder it owns.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './ports.js';

const BIN_DIRS = [process.env.DUCTAPE_PG_BIN, '/usr/lib/postgresql/15/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/17/bin'];
export const pgBin: string | undefined = BIN_DIRS.find((d): d is string => !!d && existsSync(join(d, 'initdb')));
const isRoot = process.getuid?.() === 0;
const runAsUser = isRoot ? 'postgres' : undefined;
export const hasPostgres: boolean =
  pgBin !== undefined && (!isRoot || spawnSync('id', ['-u', 'postgres'], { stdio: 'ignore' }).status === 0);

export interface PostgresServer {
  /** A connection string for the `ductape` database, e.g. postgres://postgres@127.0.0.1:5433/ductape */
  readonly url: string;
  readonly port: number;
  readonly pid: number | undefined;
  /** A connection string for another, freshly created database on the same server. */
  createDatabase(name: string): Promise<string>;
  /** SIGKILL of the postmaster: the way a crashed server disappears. */
  kill(): Promise<void>;
  /**
   * SIGSTOP / SIGCONT of the postmaster and every backend: a server whose connections stay open but which answers
   * nothing (frozen, or cut off by the network).
   */
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

function command(bin: string, args: string[]): [string, string[]] {
  const full = join(pgBin!, bin);
  return runAsUser ? ['runuser', ['-u', runAsUser, '--', full, ...args]] : [full, args];
}

export async function startPostgresServer(): Promise<PostgresServer> {
  if (!pgBin) throw new Error('PostgreSQL is not installed (apt-get install postgresql-15)');
  const dir = mkdtempSync(join(tmpdir(), 'ductape-pg-'));
  if (runAsUser) {
    const uid = Number(spawnSync('id', ['-u', runAsUser]).stdout.toString().trim());
    const gid = Number(spawnSync('id', ['-g', runAsUser]).stdout.toString().trim());
    chownSync(dir, uid, gid);
  }
  const data = join(dir, 'data');
  const [initCmd, initArgs] = command('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const init = spawnSync(initCmd, initArgs, { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.stdout}`);

  // The port was free when asked, but another test may take it before postgres binds it: then try another.
  let port = 0;
  let child!: ChildProcess;
  let stderr = '';
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    const [cmd, args] = command('postgres', [
      '-D', data, '-h', '127.0.0.1', '-p', String(port), '-k', dir,
      '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200',
    ]);
    child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    stderr = '';
    child.stderr!.on('data', (d) => (stderr += d.toString()));
    try {
      await waitForServer(`postgres://postgres@127.0.0.1:${port}/postgres`, data, child, () => stderr);
      break;
    } catch (err) {
      // Not ours in time: stop the postmaster if it did start (runuser does not pass SIGKILL on), then try again.
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        try {
          process.kill(Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]), 'SIGKILL');
        } catch {
          child.kill('SIGKILL');
        }
        await exited;
      }
      if (attempt === 5) throw err;
    }
  }
  const base = `postgres://postgres@127.0.0.1:${port}`;
  await adminQuery(base, 'CREATE DATABASE ductape');

  // The postmaster's own pid (runuser does not forward every signal to it): the first line of postmaster.pid.
  const postmasterPid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  async function killWith(signal: NodeJS.Signals): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      process.kill(postmasterPid, signal);
    } catch {
      child.kill('SIGKILL');
    }
    await exited;
  }

  // The postmaster and its backends (their pids, never a name): all must stop for the server to answer nothing.
  const processes = () => [
    postmasterPid,
    ...spawnSync('pgrep', ['-P', String(postmasterPid)], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number),
  ];
  const signalAll = (signal: NodeJS.Signals) => {
    for (const pid of processes()) {
      try {
        process.kill(pid, signal);
      } catch {
        // a backend that ended meanwhile
      }
    }
  };

  // runuser stops itself when the postmaster stops, and would never reap it: it is woken too.
  const resume = () => {
    signalAll('SIGCONT');
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGCONT');
  };

  return {
    url: `${base}/ductape`,
    port,
    get pid() {
      return postmasterPid;
    },
    async createDatabase(name: string) {
      await adminQuery(base, `CREATE DATABASE "${name.replace(/"/g, '')}"`);
      return `${base}/${name}`;
    },
    kill: () => killWith('SIGKILL'),
    pause: () => signalAll('SIGSTOP'),
    resume,
    async stop() {
      resume();
      // SIGINT is PostgreSQL's "fast shutdown": disconnect clients, then exit.
      await killWith('SIGINT');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function adminQuery(base: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: `${base}/postgres` });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * Resolves once this server accepts connections. It must serve our data directory: a port found free may have gone to
 * another test's PostgreSQL meanwhile, which would accept connections just as well.
 */
async function waitForServer(url: string, data: string, child: ChildProcess, stderr: () => string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (child.exitCode !== null) throw new Error(`postgres exited: ${stderr()}`);
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      const { rows } = await client.query<{ data_directory: string }>('show data_directory');
      await client.end();
      if (rows[0]?.data_directory === data) return;
    } catch {
      await client.end().catch(() => {});
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`postgres did not start: ${stderr()}`);
}
