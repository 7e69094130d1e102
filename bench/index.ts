// `npm run bench`: every benchmark, each printing `BENCH <name> <value> <unit>` lines (ratios against raw undici
// are measured side by side in the same run). Pass names to run a subset: `npm run bench -- run import`.
import { benchCache } from './cache.js';
import { benchConnections } from './connections.js';
import { benchEncode } from './encode.js';
import { benchImport } from './import.js';
import { benchKeys } from './keys.js';
import { benchPipeline } from './pipeline.js';
import { benchRun } from './run.js';
import { benchServe } from './serve.js';
import { benchSessions } from './sessions.js';
import { benchStore } from './store.js';
import { benchTraffic } from './traffic.js';
import { benchTypes } from './types.js';

const suites: Record<string, () => Promise<void>> = {
  run: benchRun,
  pipeline: benchPipeline,
  import: benchImport,
  encode: benchEncode,
  sessions: benchSessions,
  cache: benchCache,
  connections: benchConnections,
  traffic: benchTraffic,
  keys: benchKeys,
  serve: benchServe,
  store: benchStore,
  types: benchTypes,
};

const wanted = process.argv.slice(2);
for (const [name, fn] of Object.entries(suites)) {
  if (wanted.length && !wanted.includes(name)) continue;
  await fn();
}
