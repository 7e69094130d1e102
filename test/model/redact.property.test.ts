// Redaction over every encoding a value travels in (#11), property-tested with fast-check against the real encoders.
import fc from 'fast-check';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { encodeForm, encodeFormReserved, encodeReserved, encodeStrict } from '../../src/runtime/encode/percent.js';

type Redact = typeof import('../../src/model/redact.js');
let R: Redact;
// A fresh registry per test: what one property registered cannot match inside another's text.
beforeEach(async () => {
  vi.resetModules();
  R = await import('../../src/model/redact.js');
});

const ENCODINGS: [string, (s: string) => string][] = [
  ['raw', (s) => s],
  ['encodeURIComponent', encodeURIComponent],
  ['strict (path segment)', encodeStrict],
  ['reserved (allowReserved)', encodeReserved],
  ['form', encodeForm],
  ['form under allowReserved', encodeFormReserved],
];
// Spaces, reserved and sub-delims characters, '%', non-ASCII: everything the encoders treat differently. '<' and '>'
// are left out: the texts below use them as neighbours.
const CHARS = [...'abcXYZ019 /?#[]@!$&\'()*+,;=%~-._:é☃'];
const secretArb = fc.string({ unit: fc.constantFrom(...CHARS), minLength: 1, maxLength: 16 }).filter((s) => s.trim().length > 0);

describe('redactText (property)', () => {
  it('#11: replaces a known value wherever it stands alone, in every encoding, short values and allowReserved ones included', () => {
    fc.assert(
      fc.property(secretArb, (secret) => {
        R.registerSecret(secret);
        for (const [, encode] of ENCODINGS) {
          const form = encode(secret);
          expect(R.redactText(`<${form}>`)).toBe(`<${R.REDACTED}>`);
          expect(R.redactText(`GET /x?q=${form}&next=1`)).not.toContain(`=${form}&`);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('#11: never cuts a value out of a longer word ("othello" with a secret "hello")', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z]{1,10}$/), fc.stringMatching(/^[a-zA-Z0-9]{1,5}$/), fc.stringMatching(/^[a-zA-Z0-9]{1,5}$/), (secret, before, after) => {
        R.registerSecret(secret);
        const glued = `{"${before}${secret}${after}":"${before.toUpperCase()}${secret}${after}"}`;
        expect(R.redactText(glued)).toBe(glued);
        expect(R.redactText(`token ${secret}, and more`)).toBe(`token ${R.REDACTED}, and more`);
      }),
      { numRuns: 300 },
    );
  });

  it('#11: the CLI case from the issue: a secret "hello" leaves "othello":"Othello" whole', () => {
    R.registerSecret('hello');
    expect(R.redactText('{"othello":"Othello","greeting":"hello"}')).toBe('{"othello":"Othello","greeting":"[REDACTED]"}');
  });
});

describe('redact (deep values)', () => {
  it('#11: replaces whatever lies past the depth limit with [REDACTED] instead of returning it unread', () => {
    fc.assert(
      fc.property(fc.integer({ min: R.MAX_REDACT_DEPTH + 1, max: 60 }), (depth) => {
        let body: unknown = { note: 'Bearer tok_deep_secret_value' };
        for (let i = 0; i < depth; i++) body = i % 2 ? [body] : { inner: body };
        R.registerSecret('tok_deep_secret_value');
        const out = JSON.stringify(R.redact({ status: 500, body }));
        expect(out).not.toContain('tok_deep_secret_value');
        expect(out).toContain(R.REDACTED);
      }),
      { numRuns: 40 },
    );
  });
});

describe('sensitive names', () => {
  it('#11: a name one client\'s credentials use is sensitive in that client\'s output only, not process-wide', async () => {
    const { newClient } = await import('../helpers/client.js');
    const { startUpstream } = await import('../helpers/upstream.js');
    const up = await startUpstream();
    const a = newClient();
    const b = newClient();
    try {
      for (const d of [a, b]) {
        await d.apps.create({ tag: 'api', envs: [{ slug: 'prd', base_url: up.url }] });
        await d.apps.actions.create({ app: 'api', event: 'get_x', method: 'GET', path: '/x' });
        await d.products.create({ tag: 'p', envs: ['prd'] });
        await d.products.apps.connect({ product: 'p', app: 'api' });
      }
      // Client a's app calls its query key "id".
      await a.products.apps.configure({ product: 'p', app: 'api', env: 'prd', auth: { type: 'apiKey', in: 'query', name: 'id', value: 'k-123456789' } });
      const run = (d: typeof a) => d.actions.execute({ env: 'prd', product: 'p', app: 'api', event: 'get_x', input: { query: { id: 'order-42' } } });
      const ea = await run(a);
      expect(ea.request.url).toContain('id=[REDACTED]');
      // Client b has no such credential: its "id" stays readable, in the envelope and in its run log.
      const eb = await run(b);
      expect(eb.request.url).toContain('id=order-42');
      const [log] = await b.logs.query({ limit: 1 });
      expect(JSON.stringify(log)).toContain('order-42');
      expect(R.isSensitiveName('id')).toBe(false);
    } finally {
      await a.close();
      await b.close();
      await up.close();
    }
  });
});
