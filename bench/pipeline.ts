// Ductape's own pipeline alone: the `run` benchmark's action with undici's request() answered in process (no socket,
// no upstream), so the CPU per run is what Ductape adds, steady even on a loaded machine. SQLite file store, logs on.
import { Agent } from 'undici';
import { benchAction, median, report } from './lib.js';

export async function benchPipeline(): Promise<void> {
  const answer = Buffer.from(JSON.stringify({ id: 'item_1', ok: true, tags: ['a', 'b'] }));
  const canned = {
    statusCode: 200,
    headers: { 'content-type': 'application/json', 'content-length': String(answer.length) },
    body: { text: async () => answer.toString('utf8'), bytes: async () => new Uint8Array(answer) },
  };
  const { ductape, run } = await benchAction('http://127.0.0.1:9/v1');
  const proto = Agent.prototype as unknown as { request: unknown };
  const original = proto.request;
  proto.request = () => Promise.resolve(canned);
  try {
    const loop = async (n: number, c: number) => {
      let i = 0;
      await Promise.all(Array.from({ length: c }, async () => { while (i++ < n) await run(); }));
    };
    await loop(20_000, 64);
    const c64: number[] = [];
    const c1: number[] = [];
    for (let round = 0; round < 5; round++) {
      let t = process.cpuUsage();
      await loop(40_000, 64);
      let used = process.cpuUsage(t);
      c64.push((used.user + used.system) / 40_000);
      t = process.cpuUsage();
      await loop(10_000, 1);
      used = process.cpuUsage(t);
      c1.push((used.user + used.system) / 10_000);
    }
    report('pipeline_cpu_us_per_run_c64', median(c64), 'us');
    report('pipeline_cpu_us_per_run_c1', median(c1), 'us');
  } finally {
    await ductape.close();
    proto.request = original;
  }
}
