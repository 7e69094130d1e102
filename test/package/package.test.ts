// The package as users install it: typed actions checked by tsc, and require()/import from a scratch project.
// Uses the built dist/ (rebuilt by ensureBuilt when src is newer), linked into a temp project as node_modules/ductape.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ductape } from '../../src/index.js';
import { ensureBuilt, ROOT } from '../helpers/build.js';
import { newClient } from '../helpers/client.js';
import { startUpstream } from '../helpers/upstream.js';

const run = promisify(execFile);
const specs = join(ROOT, 'test/fixtures/specs');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
let project: string;

beforeAll(() => {
  ensureBuilt();
  project = mkdtempSync(join(tmpdir(), 'ductape-package-'));
  mkdirSync(join(project, 'node_modules'));
  symlinkSync(ROOT, join(project, 'node_modules/ductape'), 'dir');
}, 900_000);
afterAll(() => rmSync(project, { recursive: true, force: true }));

async function tsc(files: string[]): Promise<{ code: number; output: string }> {
  const config = {
    compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true, types: [], lib: ['ES2023', 'DOM'] },
    files,
  };
  writeFileSync(join(project, 'tsconfig.json'), JSON.stringify(config));
  try {
    const r = await run(process.execPath, [TSC, '-p', project], { cwd: project, timeout: 120_000 });
    return { code: 0, output: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, output: e.stdout + e.stderr };
  }
}

describe('typed actions (ductape types)', () => {
  let ductape: Ductape;
  beforeAll(async () => {
    ductape = newClient();
    await ductape.apps.import({ app: 'stripe', file: join(specs, 'stripe-api-2020-08-27-spec3-2022-04.json') });
    await ductape.apps.import({ app: 'twilio', file: join(specs, 'twilio-api-v2010.json') });
    await ductape.products.create({ tag: 'payments', envs: ['dev'] });
    await ductape.products.apps.connect({ product: 'payments', app: 'stripe' });
    await ductape.products.apps.connect({ product: 'payments', app: 'twilio', access_tag: 'sms' });
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'scratch', type: 'module', private: true }));
  }, 120_000);
  afterAll(() => ductape.close());

  it('types correct calls and refuses a wrong event, access tag, missing body field, field type and query key', { timeout: 300_000 }, async () => {
    const result = await ductape.types.generate({ out: join(project, 'types/ductape-types.d.ts') });
    expect(result).toMatchObject({ products: ['payments'], apps: ['stripe', 'twilio'] });
    expect(result.events).toBeGreaterThan(600);
    const fixture = readFileSync(join(ROOT, 'test/fixtures/types/usage.ts'), 'utf8');
    writeFileSync(join(project, 'usage.ts'), fixture);
    // Every @ts-expect-error must be needed: tsc reports an unneeded one as error TS2578, so a clean run proves each.
    const ok = await tsc(['usage.ts', 'types/ductape-types.d.ts']);
    expect(ok.output).toBe('');
    expect(ok.code).toBe(0);

    // The same file without the directives: exactly the marked lines fail, each for its own reason.
    const marked = fixture.split('\n').flatMap((l, i) => (l.trim().startsWith('// @ts-expect-error') ? [i + 2] : []));
    expect(marked).toHaveLength(5);
    writeFileSync(join(project, 'bare.ts'), fixture.replace(/\/\/ @ts-expect-error .*/g, '// (directive removed)'));
    const bare = await tsc(['bare.ts', 'types/ductape-types.d.ts']);
    const lines = [...new Set([...bare.output.matchAll(/^bare\.ts\((\d+),/gm)].map((m) => Number(m[1])))];
    expect(lines).toEqual(marked);
    expect(bare.output).toMatch(/'limt' does not exist.*Did you mean to write 'limit'\?/s);
  });

  it('types awkward names and forms exactly as a run validates them', { timeout: 300_000 }, async () => {
    // A component or event named Record, Blob or Uint8Array shadowed the globals the file used (TS2315 'Record is not
    // generic'); JSON fields typed as files that the encoder refuses; multipart files behind a $ref typed as strings;
    // a number for a string path parameter refused; a map beside declared properties refusing them; tuples as never[];
    // text/json typed as a string and `*/*` as bytes.
    const d = newClient();
    const upstream = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
    try {
      await d.apps.import({ app: 'awkward', file: join(ROOT, 'test/fixtures/types/awkward-openapi-3.1.json') });
      await d.apps.envs.upsert({ app: 'awkward', slug: 'dev', base_url: upstream.url });
      await d.products.create({ tag: 'shop', envs: ['dev'] });
      await d.products.apps.connect({ product: 'shop', app: 'awkward' });
      // Written as .ts so that tsc checks the declarations themselves too (skipLibCheck skips .d.ts files).
      await d.types.generate({ out: join(project, 'types/awkward.ts') });
      writeFileSync(join(project, 'awkward-usage.ts'), readFileSync(join(ROOT, 'test/fixtures/types/awkward-usage.ts'), 'utf8'));
      const checked = await tsc(['awkward-usage.ts', 'types/awkward.ts']);
      expect(checked.output).toBe('');
      // The same calls at run time: those that compile pass validation, the refused ones fail it.
      // (Imported by path: the fixture is compiled against the generated file only, not with the repository's tests.)
      const fixture = join(ROOT, 'test/fixtures/types/awkward-usage.ts');
      const { calls } = (await import(fixture)) as { calls: (d: Ductape) => Record<string, () => Promise<unknown>> };
      for (const [name, call] of Object.entries(calls(d))) {
        const outcome = await call().then(() => 'ok', (err: { code?: string }) => err.code);
        expect(`${name}: ${outcome}`).toBe(`${name}: ${name.startsWith('refused:') ? 'INVALID_INPUT' : 'ok'}`);
      }
    } finally {
      await d.close();
      await upstream.close();
    }
  });

  it('leaves run and execute loosely typed without the generated file', { timeout: 120_000 }, async () => {
    writeFileSync(
      join(project, 'loose.ts'),
      [
        `import Ductape from 'ductape';`,
        `export async function f(d: Ductape) {`,
        `  const a = await d.actions.run<{ id: string }>({ env: 'x', product: 'any', app: 'thing', event: 'whatever', input: { query: { anything: 1 } } });`,
        `  const b = await d.actions.execute({ env: 'x', product: 'p', app: 'a', event: 'e', stream: true });`,
        `  const id: string = a.id; const data: unknown = b.data; void [id, data];`,
        `}`,
      ].join('\n'),
    );
    const loose = await tsc(['loose.ts']);
    expect(loose.output).toBe('');
  });
});

describe('CommonJS and ESM', () => {
  it('require() and import both load the package, with types for both', { timeout: 180_000 }, async () => {
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'scratch', private: true }));
    const body = (load: string) => `${load}
const ductape = new Ductape({ workspace_id: 'scratch', private_key: 'scratch-key-0123456789', store: ':memory:' });
const app = await ductape.apps.create({ tag: 'demo' });
const err = await ductape.apps.fetch({ app: 'nope' }).catch((e: unknown) => e);
console.log(JSON.stringify({ tag: app.tag, isError: err instanceof DuctapeError, code: (err as InstanceType<typeof DuctapeError>).code }));
await ductape.close();`;
    writeFileSync(join(project, 'esm.mts'), body(`import Ductape, { DuctapeError } from 'ductape';`));
    writeFileSync(join(project, 'cjs.cts'), `import ductape_ = require('ductape');\nconst { Ductape, DuctapeError } = ductape_;\n(async () => {${body('')}\n})();\nexport {};`);
    const types = await tsc(['esm.mts', 'cjs.cts']);
    expect(types.output).toBe('');
    // The same files, stripped of their types by Node itself is not available on Node 20: plain JS twins run instead.
    writeFileSync(join(project, 'esm.mjs'), body(`import Ductape, { DuctapeError } from 'ductape';`).replace(/: unknown/g, '').replace(/ as InstanceType<typeof DuctapeError>/g, ''));
    writeFileSync(
      join(project, 'cjs.cjs'),
      `const { Ductape, DuctapeError } = require('ductape');\nif (require('ductape').default !== Ductape) throw new Error('default export');\n(async () => {${body('')
        .replace(/: unknown/g, '')
        .replace(/ as InstanceType<typeof DuctapeError>/g, '')}\n})();`,
    );
    for (const file of ['esm.mjs', 'cjs.cjs']) {
      const r = await run(process.execPath, [file], { cwd: project, timeout: 60_000 });
      expect(JSON.parse(r.stdout)).toEqual({ tag: 'demo', isError: true, code: 'NOT_FOUND' });
    }
  });
});

