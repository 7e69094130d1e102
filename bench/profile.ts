// The warm path alone (one action, c=64, real upstream process), for `node --import tsx --cpu-prof bench/profile.ts` (N=runs).
import { benchAction, concurrent, startUpstreamProcess } from './lib.js';
const upstream = await startUpstreamProcess();
const { ductape, run } = await benchAction(`${upstream.url}/v1`);
await concurrent(run, 5000, 64);
const n = Number(process.env.N ?? 60000);
const t = process.cpuUsage();
await concurrent(run, n, 64);
const c = process.cpuUsage(t);
console.log('client cpu us/req', (c.user + c.system) / n);
await ductape.close();
await upstream.stop();
