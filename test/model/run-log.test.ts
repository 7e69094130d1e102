// Run-log records: the URL is redacted when the run is captured, and once more when stored only if a secret was
// registered in between (src/model/run-log.ts toTuple).
import { describe, expect, it } from 'vitest';
import { toTuple, type RunLogEntry } from '../../src/model/run-log.js';
import { redactUrl, registerSecret, secretsGeneration } from '../../src/model/redact.js';

const entry = (url: string, urlRedactedAt?: number): RunLogEntry => ({
  startedAt: 1_700_000_000_000, durationMs: 1, actor: 'a', product: 'p', env: 'prd', app: 'api', event: 'e', status: 200, ok: true,
  cached: false, attempts: 1, errorCode: undefined, errorMessage: undefined, method: 'GET', url, contentType: 'application/json', urlRedactedAt,
});
const URL_AT = 12;

describe('run-log URL redaction', () => {
  it('stores a URL captured at the current generation without a second pass', () => {
    const captured = redactUrl('https://api.test/x?api_key=abc&q=1');
    expect(captured).toBe('https://api.test/x?api_key=[REDACTED]&q=1');
    expect(toTuple(entry(captured, secretsGeneration()))[URL_AT]).toBe(captured);
  });

  it('redacts again a secret registered after the run was captured', () => {
    const value = `late-secret-${Date.now()}`;
    const captured = redactUrl(`https://api.test/x?q=${value}`);
    const e = entry(captured, secretsGeneration());
    registerSecret(value);
    expect(toTuple(e)[URL_AT]).toBe('https://api.test/x?q=[REDACTED]');
  });

  it('redacts an entry that does not say when it was redacted', () => {
    expect(toTuple(entry('https://api.test/x?access_token=abc'))[URL_AT]).toBe('https://api.test/x?access_token=[REDACTED]');
  });
});
