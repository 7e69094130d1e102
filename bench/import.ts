// Import speed of the real Stripe and Twilio specs, and the first-run plan compile of an imported action.
import { fileURLToPath } from 'node:url';
import Ductape from '../src/index.js';
import { median, report } from './lib.js';

const spec = (name: string) => fileURLToPath(new URL(`../test/fixtures/specs/${name}`, import.meta.url));

export async function benchImport(): Promise<void> {
  for (const [name, file] of [
    ['stripe', 'stripe-api-2020-08-27-spec3-2022-04.json'],
    ['twilio', 'twilio-api-v2010.json'],
  ] as const) {
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const ductape = new Ductape({ workspace_id: 'bench', private_key: 'bench-private-key', store: ':memory:', revision_poll_ms: 0 });
      await ductape.ready();
      const t = performance.now();
      const r = await ductape.apps.import({ app: name, file: spec(file) });
      times.push((performance.now() - t) / 1000);
      if (r.created.length === 0) throw new Error(`${name}: nothing imported`);
      if (i === 2 && name === 'stripe') await benchPlanCompile(ductape);
      await ductape.close();
    }
    report(`import_${name}_s`, median(times), 's');
    // The first import in the process includes loading the parser and warming the JIT.
    report(`import_${name}_first_s`, times[0], 's');
  }
}

/** Compiling a plan is the first run's extra work: measured as first run minus a warm run of the same request. */
async function benchPlanCompile(ductape: Ductape): Promise<void> {
  await ductape.products.create({ tag: 'bench', envs: ['prd'] });
  await ductape.products.apps.connect({ product: 'bench', app: 'stripe' });
  // A closed loopback port: the run fails fast at connect, after the plan is compiled and the request encoded.
  await ductape.products.apps.configure({ product: 'bench', app: 'stripe', env: 'prd', base_url: 'http://127.0.0.1:9' });
  const events = ['post_customers', 'post_payment_intents', 'post_checkout_sessions', 'get_customers', 'post_subscriptions'];
  const compile: number[] = [];
  for (const event of events) {
    const run = async () => {
      const t = performance.now();
      await ductape.actions.run({ env: 'prd', product: 'bench', app: 'stripe', event, input: {} }).catch(() => {});
      return performance.now() - t;
    };
    const first = await run();
    const warm: number[] = [];
    for (let i = 0; i < 5; i++) warm.push(await run());
    compile.push(Math.max(0, first - median(warm)));
  }
  report('plan_compile_ms', median(compile), 'ms');
  report('plan_compile_max_ms', Math.max(...compile), 'ms');
}
