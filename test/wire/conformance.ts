// Runs every operation of one vendor spec through actions.execute against the corrected judge, and tallies verdicts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuctapeError } from '../../src/index.js';
import { importSpec } from '../../src/importers/index.js';
import type { ImportedApp } from '../../src/importers/types.js';
import type { ActionDef, JsonSchema } from '../../src/model/action.js';
import { newClient } from '../helpers/client.js';
import { startJudge, type JudgedRequest } from '../helpers/prism.js';
import { buildInput, credentialsFor, type RunInput } from './inputs.js';
import { writeJudgeSpec } from './judge/spec-copy.js';
import { PRISM_PATCH, SPEC_DIR, type WireSpec } from './specs.js';

export interface SpecResult {
  spec: string;
  /** Operations in the file: imported actions plus those the importer skipped. */
  operations: number;
  accepted: number;
  rejected: { event: string; reason: string }[];
  skipped: { operation: string; reason: string }[];
  /** Deliberately invalid inputs: how many were made, and those that Ductape did not stop before sending. */
  invalidTried: number;
  invalidLeaked: { event: string; what: string }[];
  corrections: string[];
  ms: number;
}

const PRODUCT = 'wire';
const ENV = 'test';

/**
 * Judges every operation of `spec`; the Prism process and temp files are gone when it resolves. `uncorrected` runs
 * the plain Prism on the vendor file (to measure what the corrections change; Stripe's then never loads).
 */
export async function judgeSpec(spec: WireSpec, opts: { uncorrected?: boolean } = {}): Promise<SpecResult> {
  const started = Date.now();
  const file = join(SPEC_DIR, spec.file);
  const dir = mkdtempSync(join(tmpdir(), 'ductape-judge-'));
  const imported = await importSpec({ file });
  const copy = writeJudgeSpec(file, dir, opts.uncorrected ? [] : spec.corrections);
  const env = imported.envs[0];
  const basePath = basePathOf(env?.base_url ?? '/', { ...env?.variables });
  const judge = await startJudge(copy.path, basePath, opts.uncorrected ? {} : { preload: PRISM_PATCH });
  const ductape = newClient();
  const result: SpecResult = {
    spec: spec.name,
    operations: imported.actions.length + imported.skipped.filter((s) => !s.operation.startsWith('webhook')).length,
    accepted: 0,
    rejected: [],
    skipped: imported.skipped.filter((s) => !s.operation.startsWith('webhook')),
    invalidTried: 0,
    invalidLeaked: [],
    corrections: copy.applied,
    ms: 0,
  };
  try {
    await connectApp(ductape, spec.name, file, imported, judge.baseUrl);
    const components = imported.components.schemas;
    for (const action of imported.actions) {
      const verdict = await judgeAction(ductape, spec.name, action, components, judge.requests);
      if (verdict === true) result.accepted++;
      else if ('skip' in verdict) result.skipped.push({ operation: action.event, reason: verdict.skip });
      else result.rejected.push({ event: action.event, reason: 'crash' in verdict ? `threw ${verdict.crash}` : verdict.reason });
      const leak = await tryInvalid(ductape, spec.name, action, components, judge.requests);
      if (leak !== undefined) {
        result.invalidTried++;
        if (leak) result.invalidLeaked.push({ event: action.event, what: leak });
      }
    }
  } finally {
    await ductape.close();
    await judge.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  result.ms = Date.now() - started;
  return result;
}

/** Creates the app from `file`, a product connected to it, and a connection that sends to `baseUrl` with credentials. */
export async function connectApp(ductape: Client, app: string, file: string, imported: ImportedApp, baseUrl: string): Promise<void> {
  await ductape.apps.create({ tag: app });
  await ductape.apps.import({ app, file });
  await ductape.products.create({ tag: PRODUCT, envs: [ENV] });
  await ductape.products.apps.connect({ product: PRODUCT, app });
  const variables: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(imported.variables)) variables[k] = v.default ?? `var-${k}`;
  const auth = credentialsFor(imported.auth_schemes);
  await ductape.products.apps.configure({
    product: PRODUCT,
    app,
    env: ENV,
    app_env: imported.envs[0]?.slug,
    base_url: baseUrl,
    variables,
    ...(auth.length ? { auth: auth as never } : {}),
  });
}

export function basePathOf(baseUrl: string, vars: Record<string, string>): string {
  const url = baseUrl.replace(/\{([^{}]+)\}/g, (_, n: string) => vars[n] ?? 'https');
  return new URL(url, 'http://placeholder').pathname.replace(/\/+$/, '');
}

/** A crash is anything thrown that is not a DuctapeError: Ductape must never fail that way. */
export type Verdict = true | { reason: string } | { skip: string } | { crash: string };
type Client = ReturnType<typeof newClient>;

export async function judgeAction(ductape: Client, app: string, action: ActionDef, components: Record<string, JsonSchema>, log: JudgedRequest[]): Promise<Verdict> {
  let lastInvalid = '';
  // Examples first; a spec's own example may break its own schema, so a generated input is the fallback.
  for (const useExamples of [true, false]) {
    const input = buildInput(action, components, { useExamples });
    const before = log.length;
    let failure = '';
    try {
      await run(ductape, app, action.event, input);
    } catch (err) {
      if (!(err instanceof DuctapeError)) return { crash: `${(err as Error).name}: ${(err as Error).message}`.slice(0, 300) };
      failure = `${err.code}: ${err.message.slice(0, 200)}`;
      if (err.code === 'INVALID_INPUT') {
        lastInvalid = JSON.stringify((err as DuctapeError & { issues?: unknown }).issues ?? err.message).slice(0, 300);
        if (log.length !== before) return { reason: 'INVALID_INPUT after a request was sent' };
        continue;
      }
    }
    const sent = log.slice(before);
    if (sent.length !== 1) return { reason: `${sent.length} requests reached the judge ${failure}` };
    return verdictOf(sent[0], Object.keys(action.responses ?? {}));
  }
  return { skip: `no input that Ductape accepts could be generated: ${lastInvalid}` };
}

/**
 * Accepted: Prism found no error in the request. Its answer may still be a 500 when it then fails to mock a response
 * (no response defined, or its own generated response breaking the spec's response schema): the request was judged
 * valid by then, since Prism validates the request first and answers 422 (--errors) when it is not.
 *
 * `declared` is the operation's response codes (`action.responses`). An operation that declares no success response
 * (no 2xx, no `default`: bigoven's `POST /recipe/scan` declares only 401, 402, 415 and 500) is answered, once the
 * request is judged valid, with the first response it declares (Prism's `findFirstResponse`): that answer is accepted
 * too, but only when it is such a mock (a declared code, no request violation, not one of Prism's own error documents).
 */
export function verdictOf(r: JudgedRequest, declared?: string[]): Verdict {
  const errors = r.violations.filter((v) => (v.severity === 'Error' || v.severity === undefined) && v.location?.[0] !== 'response');
  const mockFailure = r.status >= 500 && (r.violations.some((v) => v.location?.[0] === 'response') || r.responseBody.includes('NO_RESPONSE_RESPONSE_DEFINED'));
  if ((r.status < 400 || mockFailure || mocksFailureOnly(r, declared)) && errors.length === 0) return true;
  const said = errors.map((v) => `${(v.location ?? []).join('.')}: ${v.message}`).join('; ') || problemOf(r.responseBody) || r.responseBody.slice(0, 300);
  return { reason: `${r.status} ${r.method} ${r.url.slice(0, 120)} — ${said}` };
}

/** Prism answered a valid request with the declared response of an operation that declares no success response. */
function mocksFailureOnly(r: JudgedRequest, declared: string[] | undefined): boolean {
  if (!declared?.length || declared.some((c) => c.startsWith('2') || c === 'default')) return false;
  const status = String(r.status);
  if (!declared.some((c) => c === status || c.toUpperCase() === `${status[0]}XX`)) return false;
  // Prism's own answers (no route, security, invalid content type, ...) are problem documents typed by its error URL.
  return !r.responseBody.includes('https://stoplight.io/prism/errors#');
}

/** Prism's problem+json answer in a line: its title and each validation error with where it is. */
function problemOf(body: string): string | undefined {
  try {
    const p = JSON.parse(body) as { title?: string; validation?: { location?: string[]; message?: string }[] };
    if (typeof p.title !== 'string') return undefined;
    const list = (p.validation ?? []).map((v) => `${(v.location ?? []).join('.')}: ${v.message}`);
    return list.length ? `${p.title}: ${list.join('; ')}` : p.title;
  } catch {
    return undefined;
  }
}

function run(ductape: Client, app: string, event: string, input: RunInput) {
  return ductape.actions.execute({ env: ENV, product: PRODUCT, app, event, input: input as never });
}

/**
 * Sends a deliberately invalid input (a required body field or parameter left out, else a wrong type) and returns
 * undefined when the action has nothing to break, '' when Ductape refused it before sending, or what leaked.
 */
async function tryInvalid(ductape: Client, app: string, action: ActionDef, components: Record<string, JsonSchema>, log: JudgedRequest[]): Promise<string | undefined> {
  const input = buildInput(action, components, { useExamples: false });
  const broken = breakInput(action, input);
  if (!broken) return undefined;
  const before = log.length;
  try {
    await run(ductape, app, action.event, broken.input);
    return `${broken.what}: accepted`;
  } catch (err) {
    if (!(err instanceof DuctapeError) || err.code !== 'INVALID_INPUT') return `${broken.what}: ${(err as Error).message.slice(0, 200)}`;
    return log.length === before ? '' : `${broken.what}: sent before being refused`;
  }
}

function breakInput(action: ActionDef, input: RunInput): { input: RunInput; what: string } | undefined {
  const body = input.body;
  if (body && typeof body === 'object' && !Array.isArray(body) && !Buffer.isBuffer(body)) {
    const keys = Object.keys(body);
    const required = requiredOf(action);
    const drop = keys.find((k) => required.includes(k));
    if (drop) {
      const { [drop]: _, ...rest } = body as Record<string, unknown>;
      return { input: { ...input, body: rest }, what: `body without required ${drop}` };
    }
  }
  const loc = { query: 'query', header: 'headers', cookie: 'cookies' } as const;
  for (const p of action.parameters) {
    if (p.in === 'path' || !p.required || p.value !== undefined) continue;
    const where = loc[p.in];
    const group = { ...(input[where] as Record<string, unknown>) };
    delete group[p.name];
    return { input: { ...input, [where]: group }, what: `${p.in} without required ${p.name}` };
  }
  for (const p of action.parameters) {
    const s = p.schema as Record<string, unknown> | undefined;
    if (p.in === 'path' && s && (s.type === 'integer' || s.type === 'number')) {
      return { input: { ...input, params: { ...input.params, [p.name]: 'not-a-number' } }, what: `path ${p.name} as text` };
    }
  }
  return undefined;
}

function requiredOf(action: ActionDef): string[] {
  const media = action.body?.media[action.body.default];
  const schema = media?.schema as Record<string, unknown> | undefined;
  return Array.isArray(schema?.required) ? (schema.required as string[]) : [];
}

/** The summary table printed by the suite. */
export function formatTable(results: SpecResult[]): string {
  const rows = [['spec', 'operations', 'accepted', 'rejected', 'skipped', 'invalid refused', 'judge corrections', 'ms']];
  for (const r of results) {
    rows.push([r.spec, String(r.operations), String(r.accepted), String(r.rejected.length), String(r.skipped.length), `${r.invalidTried - r.invalidLeaked.length}/${r.invalidTried}`, r.corrections.join(', ') || '-', String(r.ms)]);
  }
  const total = (f: (r: SpecResult) => number) => String(results.reduce((n, r) => n + f(r), 0));
  rows.push(['total', total((r) => r.operations), total((r) => r.accepted), total((r) => r.rejected.length), total((r) => r.skipped.length), `${total((r) => r.invalidTried - r.invalidLeaked.length)}/${total((r) => r.invalidTried)}`, '', total((r) => r.ms)]);
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  const lines = rows.map((row) => row.map((c, i) => c.padEnd(widths[i])).join(' | '));
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const r of results) {
    for (const s of r.skipped) lines.push(`skipped  ${r.spec} ${s.operation}: ${s.reason}`);
    for (const x of r.rejected) lines.push(`rejected ${r.spec} ${x.event}: ${x.reason}`);
    for (const x of r.invalidLeaked) lines.push(`LEAKED   ${r.spec} ${x.event}: ${x.what}`);
  }
  return lines.join('\n');
}
