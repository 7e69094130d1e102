// The demo is an example users run first: it must keep working, so the test suite runs it.
import { describe, expect, it } from 'vitest';
import { demo } from '../../examples/demo.js';
import { hasPython, runSeedExamples } from '../helpers/python.js';

describe('examples/demo', () => {
  it('runs every seed example against the local example API', async () => {
    const lines: string[] = [];
    const { runs } = await demo((l) => lines.push(l));
    expect(runs).toBeGreaterThanOrEqual(8);
    const text = lines.join('\n');
    expect(text).toContain('"served_by":"prd"');
    expect(text).toContain('"served_by":"dev"');
    expect(text).toContain('INVALID_INPUT');
    expect(text).toContain('/v1/users/42/stats'); // $Session{user}{id} from the verified session
    expect(text).toContain('cached: true; upstream calls for both runs: 1');
    expect(text).toContain('sealed at rest (in the store files: not found)');
    expect(text).toContain('Run input cannot read secrets');
  });

  // The Python example's docstring sends users here: `npm run demo -- --serve` is the workspace it runs against.
  it.skipIf(!hasPython)('with --serve, serves the demo workspace for examples/python/seed_examples.py', { timeout: 180_000 }, async () => {
    const lines: string[] = [];
    let python: Awaited<ReturnType<typeof runSeedExamples>> | undefined;
    await demo((l) => lines.push(l), {
      serve: {
        port: 0,
        until: async (url, key) => {
          python = await runSeedExamples(url, key);
        },
      },
    });
    expect(lines.join('\n')).toMatch(/DUCTAPE_URL=http:\/\/127\.0\.0\.1:\d+ DUCTAPE_KEY=dtk_\S+ python3 examples\/python\/seed_examples\.py/);
    expect(python?.stderr).toBe('');
    expect(python?.stdout).toContain('all seed examples passed');
  });
});
