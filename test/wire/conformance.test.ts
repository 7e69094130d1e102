// Conformance: every operation of every vendor spec, sent by Ductape, must be accepted by the corrected Prism judge.
import { afterAll, describe, expect, it } from 'vitest';
import { formatTable, judgeSpec, type SpecResult } from './conformance.js';
import { WIRE_SPECS } from './specs.js';

const results: SpecResult[] = [];

afterAll(() => {
  if (results.length) console.log(`\nWire conformance (Prism 5.14.2, corrected; see test/wire/README.md)\n${formatTable(results)}\n`);
});

describe('wire conformance', () => {
  // One Prism at a time: the suite must fit two cores, and Stripe alone keeps one busy.
  for (const spec of WIRE_SPECS) {
    it(`sends every ${spec.name} operation as the judge accepts it, and refuses invalid input before sending`, async () => {
      const r = await judgeSpec(spec);
      results.push(r);
      expect(r.invalidLeaked).toEqual([]);
      expect(r.accepted + r.rejected.length + r.skipped.length).toBe(r.operations);
      // Per spec, at most one operation in twenty may fail (the total below is the real bar).
      expect(r.accepted / r.operations).toBeGreaterThanOrEqual(0.95);
    }, 180_000);
  }

  it('has at least 99% of all operations accepted, with a reason for every skip', () => {
    expect(results).toHaveLength(WIRE_SPECS.length);
    const operations = results.reduce((n, r) => n + r.operations, 0);
    const accepted = results.reduce((n, r) => n + r.accepted, 0);
    for (const r of results) for (const s of r.skipped) expect(s.reason).not.toBe('');
    expect(accepted / operations).toBeGreaterThanOrEqual(0.99);
    expect(results.reduce((n, r) => n + r.invalidTried, 0)).toBeGreaterThan(100);
  });
});
