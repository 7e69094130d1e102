// Ductape's own pipeline alone: the `run` benchmark's action with undici's dispatch() answered in process (no socket,
// no upstream), so the CPU per run is what Ductape adds, steady even on a loaded machine. SQLite file store, logs on.
import { Agent } from 'undici';
import { benchAction, median, report } from './lib.js';

export async function benchPipeline(): Promise<void> {
  const answer = Buffer.from(JSON.stringify({ id: 'item_1', ok: true, tags: ['a', 'b'] }));
  const rawHeaders = [Buffer.from('content-type'), Buffer.from('application/json'), Buffer.from('content-length'), Buffer.from(String(answer.length))];
  const { ductape, run } = await benchAction('http://127.0.0.1:9/v1');
  // A run reads its answer through dispatch() (src/runtime/send.ts): the handler is called as a socket would call it.
  type Handler = { onConnect(abort: () => void): void; onHeaders(s: number, h: Buffer[], r: () => void, t: string): boolean; onData(c: Buffer): boolean; onComplete(t: null): void };
  const proto = Agent.prototype as unknown as { dispatch: unknown };
  const original = proto.dispatch;
  proto.dispatch = (_opts: unknown, handler: Handler) => {
    void Promise.resolve().then(() => {
      handler.onConnect(() => {});
      handler.onHeaders(200, rawHeaders, () => {}, 'OK');
      handler.onData(answer);
      handler.onComplete(null);
    });
    return true;
  };
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
    proto.dispatch = original;
  }
}
