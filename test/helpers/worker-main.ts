// The child side of test/helpers/worker.ts: one Ductape client in its own node process, driven over stdin/stdout.
// Each stdin line is a JSON request { id, op, ... }; each answer is one stdout line { id, ok, value | error }.
import { createInterface } from 'node:readline';
import { Ductape } from '../../src/index.js';
import type { DuctapeOptions } from '../../src/options.js';

type Request =
  | { id: number; op: 'call'; path: string; args: unknown[] }
  | { id: number; op: 'runMany'; n: number; input: Record<string, unknown>; at?: number };

const options = JSON.parse(process.argv[2]) as DuctapeOptions;
const ductape = new Ductape(options);

const send = (msg: unknown) => process.stdout.write(JSON.stringify(msg) + '\n');
const errorOf = (err: unknown) => {
  const e = err as { code?: string; message?: string; details?: unknown };
  return { code: e.code ?? 'INTERNAL', message: e.message ?? String(err) };
};

/** `ductape.<path>(...args)`, e.g. 'products.apps.configure' or 'caches.clear'. */
async function call(path: string, args: unknown[]): Promise<unknown> {
  const parts = path.split('.');
  let target: unknown = ductape;
  for (const p of parts.slice(0, -1)) target = (target as Record<string, unknown>)[p];
  const fn = (target as Record<string, (...a: unknown[]) => unknown>)[parts[parts.length - 1]];
  if (typeof fn !== 'function') throw new Error(`no method ${path}`);
  return fn.apply(target, args);
}

/** `n` concurrent `actions.execute(input)`, started together at `at` (epoch ms) so that workers overlap. */
async function runMany(n: number, input: Record<string, unknown>, at?: number) {
  if (at !== undefined && at > Date.now()) await new Promise((r) => setTimeout(r, at - Date.now()));
  return Promise.all(
    Array.from({ length: n }, () =>
      ductape.actions.execute(input as never).then(
        (env) => ({ ok: true as const, status: env.status, cached: env.cached, data: env.data }),
        (err: unknown) => ({ ok: false as const, error: errorOf(err) }),
      ),
    ),
  );
}

async function handle(req: Request): Promise<unknown> {
  if (req.op === 'call') return call(req.path, req.args);
  return runMany(req.n, req.input, req.at);
}

createInterface({ input: process.stdin }).on('line', (line) => {
  if (!line.trim()) return;
  const req = JSON.parse(line) as Request;
  handle(req).then(
    (value) => send({ id: req.id, ok: true, value: value ?? null }),
    (err: unknown) => send({ id: req.id, ok: false, error: errorOf(err) }),
  );
});
// The parent closing stdin (or dying) ends this process too: no orphans.
process.stdin.on('end', () => {
  ductape.close().finally(() => process.exit(0));
});
ductape.ready().then(
  () => send({ ready: true }),
  (err: unknown) => send({ ready: false, error: errorOf(err) }),
);
