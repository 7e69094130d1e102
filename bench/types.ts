// Typed actions: generating Stripe's declarations, and tsc on a file that uses them (issue #14: ≤ 2 s and ≤ 10 s).
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ductape } from '../dist/index.js';
import { report } from './lib.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export async function benchTypes(): Promise<void> {
  const project = mkdtempSync(join(tmpdir(), 'ductape-bench-types-'));
  const ductape = new Ductape({ workspace_id: 'bench', private_key: 'bench-key-0123456789', store: ':memory:', revision_poll_ms: 0 });
  try {
    await ductape.apps.import({ app: 'stripe', file: join(ROOT, 'test/fixtures/specs/stripe-api-2020-08-27-spec3-2022-04.json') });
    await ductape.apps.import({ app: 'twilio', file: join(ROOT, 'test/fixtures/specs/twilio-api-v2010.json') });
    await ductape.products.create({ tag: 'payments', envs: ['dev'] });
    await ductape.products.apps.connect({ product: 'payments', app: 'stripe' });
    await ductape.products.apps.connect({ product: 'payments', app: 'twilio', access_tag: 'sms' });
    // Stripe alone for the generation figure; the fixture uses both apps, so the file tsc reads has both.
    await ductape.products.create({ tag: 'stripe-only', envs: ['dev'] });
    await ductape.products.apps.connect({ product: 'stripe-only', app: 'stripe' });
    const t = performance.now();
    await ductape.types.generate({ out: join(project, 'stripe-types.d.ts'), product: 'stripe-only' });
    report('types_generate_stripe_s', (performance.now() - t) / 1000, 's');

    await ductape.types.generate({ out: join(project, 'ductape-types.d.ts'), product: 'payments' });
    mkdirSync(join(project, 'node_modules'));
    symlinkSync(ROOT, join(project, 'node_modules/ductape'), 'dir');
    copyFileSync(join(ROOT, 'test/fixtures/types/usage.ts'), join(project, 'usage.ts'));
    writeFileSync(join(project, 'package.json'), JSON.stringify({ type: 'module', private: true }));
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true, types: [], lib: ['ES2023', 'DOM'] },
        files: ['usage.ts', 'ductape-types.d.ts'],
      }),
    );
    const s = performance.now();
    execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', project], { stdio: 'inherit' });
    report('types_tsc_stripe_s', (performance.now() - s) / 1000, 's');
  } finally {
    await ductape.close();
    rmSync(project, { recursive: true, force: true });
  }
}
