// What a session adds to a run: the session stage alone (warm and first-seen tokens), $Session binding, and end to end.
import Ductape from '../src/index.js';
import type { RunContext } from '../src/runtime/context.js';
import { bind } from '../src/runtime/bind.js';
import type { Runtime } from '../src/runtime/runtime.js';
import { RuntimeState } from '../src/runtime/state.js';
import { session } from '../src/runtime/session.js';
import { startSession, createSessionType } from '../src/sessions/index.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import { median, report, sequential, startUpstreamProcess } from './lib.js';

const ITER = 50_000;

async function perCallUs(fn: () => unknown, n: number): Promise<number> {
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const r = fn();
    if (r instanceof Promise) await r;
  }
  return Number(process.hrtime.bigint() - t) / n / 1000;
}

export async function benchSessions(): Promise<void> {
  // 1. The session stage alone, on a real SQLite store (the default 100 ms revocation window applies).
  const store = await openSqliteStore(':memory:');
  const deps = { store, workspace: 'bench', privateKey: 'bench-private-key' };
  await store.putProduct('bench', { tag: 'dashboard', envs: ['prd'], connections: {} });
  await createSessionType(deps, { product: 'dashboard', tag: 'user-session', sample: { user: { id: '42', name: 'Jo', roles: ['a'] } }, selector: '$Session{user}{id}' });
  const { token } = await startSession(deps, { product: 'dashboard', env: 'prd', tag: 'user-session', data: { user: { id: '42', name: 'Jo', roles: ['a'] } } });
  const runtime = { ...deps, state: new RuntimeState() } as unknown as Runtime;
  const ctxFor = (t: string) =>
    ({ runtime, run: { env: 'prd', product: 'dashboard', app: 'a', event: 'e', input: {}, session: { tag: 'user-session', token: t } }, attempts: 0, cached: false }) as unknown as RunContext;
  const warm = ctxFor(token);
  await perCallUs(() => session(warm), 5_000);
  const rounds: number[] = [];
  for (let r = 0; r < 5; r++) rounds.push(await perCallUs(() => session(warm), ITER));
  report('session_verify_us', median(rounds), 'us');

  // First sight of a token: jose decrypts it (later runs with it hit the verified-token cache).
  const fresh: string[] = [];
  for (let i = 0; i < 2_000; i++) fresh.push((await startSession(deps, { product: 'dashboard', env: 'prd', tag: 'user-session', data: { user: { id: String(i), name: 'Jo', roles: ['a'] } } })).token);
  let k = 0;
  report('session_verify_first_use_us', await perCallUs(() => session(ctxFor(fresh[k++])), fresh.length), 'us');

  // $Session binding on the verified data.
  const bindCtx = { ...warm, session: { data: { user: { id: '42' } }, sessionId: 's' }, plan: { env: 'prd', accessTag: 'a', app: { tag: 'a' } }, run: { ...warm.run, input: { params: { userId: '$Session{user}{id}' } } } } as unknown as RunContext;
  await perCallUs(() => bind(bindCtx), 5_000);
  report('session_bind_us', await perCallUs(() => bind(bindCtx), ITER), 'us');
  await store.close();

  // 2. End to end: the same GET with a session and $Session param vs. a literal param, interleaved, p50 difference.
  const upstream = await startUpstreamProcess();
  const ductape = new Ductape({ workspace_id: 'bench', private_key: 'bench-private-key', store: ':memory:', revision_poll_ms: 0 });
  try {
    await ductape.apps.create({ tag: 'api', envs: [{ slug: 'prd', base_url: `${upstream.url}/v1` }] });
    await ductape.apps.actions.create({ app: 'api', event: 'get_user_stats', method: 'GET', path: '/users/{userId}/stats' });
    await ductape.products.create({ tag: 'dashboard', envs: ['prd'] });
    await ductape.products.apps.connect({ product: 'dashboard', app: 'api' });
    await ductape.products.sessions.create({ product: 'dashboard', tag: 'user-session', sample: { user: { id: '42' } }, selector: '$Session{user}{id}' });
    const s = await ductape.sessions.start({ product: 'dashboard', env: 'prd', tag: 'user-session', data: { user: { id: '42' } } });
    const plain = () => ductape.actions.run({ env: 'prd', product: 'dashboard', app: 'api', event: 'get_user_stats', input: { params: { userId: '42' } } });
    const withSession = () =>
      ductape.actions.run({ env: 'prd', product: 'dashboard', app: 'api', event: 'get_user_stats', input: { params: { userId: '$Session{user}{id}' } }, session: { tag: 'user-session', token: s.token } });
    await sequential(plain, 2000);
    await sequential(withSession, 2000);
    const a: number[] = [];
    const b: number[] = [];
    for (let round = 0; round < 10; round++) {
      const order = round % 2 === 0 ? [plain, withSession] : [withSession, plain];
      for (const fn of order) (fn === plain ? a : b).push(...(await sequential(fn, 500)));
    }
    report('session_run_p50_delta_us', (median(b) - median(a)) * 1000, 'us');
  } finally {
    await ductape.close();
    await upstream.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchSessions();
