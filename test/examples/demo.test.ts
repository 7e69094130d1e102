// The demo is an example users run first: it must keep working, so the test suite runs it.
import { describe, expect, it } from 'vitest';
import { demo } from '../../examples/demo.js';

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
});
