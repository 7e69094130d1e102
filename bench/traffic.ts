// Traffic control costs: actions.run with a rate limit far above the load (and telemetry unregistered) against the
// same run without a limit and against raw undici, interleaved in one process; plus one limiter check on its own.
import { Agent } from 'undici';
import Ductape from '../dist/index.js';
import { normalizeRateLimit } from '../src/model/rate-limit.js';
import { KeyLimiter } from '../src/runtime/limits/index.js';
import { concurrentWithCpu, median, report, startUpstreamProcess, tempStore } from './lib.js';

export async function benchTraffic(): Promise<void> {
  benchLimiterCheck();
  const upstream = await startUpstreamProcess();
  const ductape = new Ductape({ workspace_id: 'bench', private_key: 'bench-private-key', store: tempStore(), revision_poll_ms: 0 });
  try {
    await ductape.apps.create({ tag: 'api', envs: [{ slug: 'prd', base_url: `${upstream.url}/v1` }] });
    await ductape.apps.actions.create({ app: 'api', event: 'get_item', method: 'GET', path: '/items/{id}' });
    for (const tag of ['free', 'limited']) {
      await ductape.products.create({ tag, envs: ['prd'] });
      await ductape.products.apps.connect({ product: tag, app: 'api' });
    }
    // Far above what one process can send: every attempt takes and returns a slot, none ever waits.
    await ductape.products.apps.configure({ product: 'limited', app: 'api', env: 'prd', rate_limit: { requests: 100_000, per_ms: 1000, concurrency: 10_000 } });

    const agent = new Agent({ connections: 128, keepAliveTimeout: 10_000, connect: { timeout: 10_000 } });
    const raw = async () => {
      const res = await agent.request({ origin: upstream.url, path: '/v1/items/item_1', method: 'GET', headers: { accept: 'application/json' } });
      await res.body.json();
    };
    const runOf = (product: string) => () => ductape.actions.run({ env: 'prd', product, app: 'api', event: 'get_item', input: { params: { id: 'item_1' } } });
    const contenders: Record<string, () => Promise<unknown>> = { raw, free: runOf('free'), limited: runOf('limited') };
    const tput: Record<string, number[]> = { raw: [], free: [], limited: [] };
    const cpu: Record<string, number[]> = { raw: [], free: [], limited: [] };
    for (const fn of Object.values(contenders)) for (let i = 0; i < 2000; i++) await fn();
    const names = Object.keys(contenders);
    for (let round = 0; round < 6; round++) {
      // Rotate who goes first so drift on a shared machine hits all three alike.
      for (let k = 0; k < names.length; k++) {
        const name = names[(round + k) % names.length];
        const { perSecond, cpuUsPerCall } = await concurrentWithCpu(contenders[name], 4000, 64, upstream);
        tput[name].push(perSecond);
        cpu[name].push(cpuUsPerCall);
      }
    }
    report('traffic_undici_throughput_c64', median(tput.raw), 'req/s');
    report('traffic_run_throughput_c64', median(tput.free), 'req/s');
    report('traffic_run_limited_throughput_c64', median(tput.limited), 'req/s');
    report('run_vs_undici_throughput_c64_no_limit', median(tput.free) / median(tput.raw), 'ratio');
    report('run_vs_undici_throughput_c64_with_limit', median(tput.limited) / median(tput.raw), 'ratio');
    report('ratelimit_cpu_added_us_per_req', median(cpu.limited) - median(cpu.free), 'us');
    await agent.close();
  } finally {
    await ductape.close();
    await upstream.stop();
  }
}

/** One uncontended acquire + release of an in-memory limiter with two windows and a concurrency cap. */
function benchLimiterCheck(): void {
  // Millisecond windows so that the loop (millions per second) never fills them; each check still prunes old ends.
  const limit = normalizeRateLimit('rate_limit', [{ requests: 100_000, per_ms: 1, concurrency: 1000 }, { requests: 100_000, per_ms: 2 }]);
  const limiter = new KeyLimiter(limit, 'bench', undefined, 'bench');
  const n = 200_000;
  const samples: number[] = [];
  for (let round = 0; round < 5; round++) {
    const start = performance.now();
    for (let i = 0; i < n; i++) {
      const grant = limiter.acquire(Infinity, 30_000);
      if (grant instanceof Promise) throw new Error('the bench limit must never make a run wait');
      grant.release();
    }
    samples.push(((performance.now() - start) * 1000) / n);
  }
  report('ratelimit_check_us', median(samples), 'us');
}
