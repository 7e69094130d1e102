// actions.run against raw undici on the same request (JSON POST, path param, query param, header), interleaved.
import { Agent } from 'undici';
import { benchAction, concurrent, concurrentWithCpu, median, report, sequential, startUpstreamProcess } from './lib.js';

export async function benchRun(): Promise<void> {
  const upstream = await startUpstreamProcess();
  const { ductape, run } = await benchAction(`${upstream.url}/v1`);
  try {
    // The same pool settings Ductape uses, so the comparison is only about what Ductape adds.
    const agent = new Agent({ connections: 128, keepAliveTimeout: 10_000, connect: { timeout: 10_000 } });
    const raw = async () => {
      const res = await agent.request({
        origin: upstream.url,
        path: '/v1/items/item_1?expand=tags',
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': 'req_1', accept: 'application/json' },
        body: JSON.stringify({ name: 'Widget', qty: 3 }),
      });
      const data = await res.body.json();
      if (res.statusCode !== 200) throw new Error('bad status');
      return data;
    };

    // Warm up both paths (connections, JIT, the compiled plan).
    await concurrent(raw, 2000, 16);
    await concurrent(run, 2000, 16);

    const rawLat: number[] = [];
    const runLat: number[] = [];
    const rawTput: number[] = [];
    const runTput: number[] = [];
    const rawCpu: number[] = [];
    const runCpu: number[] = [];
    const rawMain: number[] = [];
    const runMain: number[] = [];
    // Rounds long enough (~0.5 s at c=64) to span the periodic costs: GC cycles, run-log batches, WAL checkpoints.
    for (let round = 0; round < 10; round++) {
      // Alternate which goes first so drift (GC, CPU frequency) hits both equally.
      const order = round % 2 === 0 ? ['raw', 'run'] : ['run', 'raw'];
      for (const which of order) {
        const fn = which === 'raw' ? raw : run;
        (which === 'raw' ? rawLat : runLat).push(...(await sequential(fn, 500)));
        const { perSecond, cpuUsPerCall, mainUsPerCall } = await concurrentWithCpu(fn, 10_000, 64, upstream);
        (which === 'raw' ? rawTput : runTput).push(perSecond);
        (which === 'raw' ? rawCpu : runCpu).push(cpuUsPerCall);
        if (mainUsPerCall !== undefined) (which === 'raw' ? rawMain : runMain).push(mainUsPerCall);
      }
    }
    const p50Raw = median(rawLat);
    const p50Run = median(runLat);
    report('undici_p50_c1_ms', p50Raw, 'ms');
    report('run_p50_c1_ms', p50Run, 'ms');
    report('run_vs_undici_p50_c1', p50Run / p50Raw, 'ratio');
    report('undici_throughput_c64', median(rawTput), 'req/s');
    report('run_throughput_c64', median(runTput), 'req/s');
    report('run_vs_undici_throughput_c64', median(runTput) / median(rawTput), 'ratio');
    // Machine time per request at c=64 (client + upstream process): what a run adds, independent of wall-clock noise.
    report('undici_cpu_us_per_req', median(rawCpu), 'us');
    report('run_cpu_us_per_req', median(runCpu), 'us');
    report('run_cpu_added_us_per_req', median(runCpu) - median(rawCpu), 'us');
    // The client's main thread alone (Linux): what bounds throughput at c=64, since the other threads use other cores.
    if (rawMain.length > 0 && runMain.length > 0) {
      report('undici_main_thread_us_per_req', median(rawMain), 'us');
      report('run_main_thread_us_per_req', median(runMain), 'us');
    }
    await agent.close();
  } finally {
    await ductape.close();
    await upstream.stop();
  }
}
