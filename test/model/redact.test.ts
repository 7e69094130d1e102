// Redaction: known secret values disappear in every form they travel in, sensitive names are blanked.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { redact, redactText, redactUrl, registerSecret } from '../../src/model/redact.js';

describe('redactText', () => {
  const secret = "my secret!(value)*'x";
  registerSecret(secret);

  it.each([
    ['raw', secret],
    ['encodeURIComponent', encodeURIComponent(secret)],
    ['strict (path segment)', encodeURIComponent(secret).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)],
    ['form (+ for spaces)', 'my+secret%21%28value%29%2A%27x'],
  ])('removes the %s form', (_, form) => {
    expect(redactText(`before ${form} after`)).toBe('before [REDACTED] after');
  });

  it('replaces a longer secret whole when it contains a shorter one', () => {
    registerSecret('tok_abcd');
    registerSecret('tok_abcd_extended');
    expect(redactText('x tok_abcd_extended y tok_abcd z')).toBe('x [REDACTED] y [REDACTED] z');
  });

  it('keeps a value that is still in use among the known ones, however many others come after', () => {
    registerSecret('sk_long_lived_value');
    for (let i = 0; i < 12_000; i++) {
      registerSecret(`per-user-token-${i}`);
      if (i % 1000 === 0) registerSecret('sk_long_lived_value'); // used now and then, as a cached secret is
    }
    expect(redactText('key=sk_long_lived_value')).toBe('key=[REDACTED]');
  });
});

describe('redact', () => {
  it('blanks sensitive names and keeps "__proto__" a plain key', () => {
    const body = JSON.parse('{"authorization":"Bearer x","__proto__":{"isAdmin":true},"n":1}');
    const out = redact(body) as Record<string, unknown>;
    expect(out.authorization).toBe('[REDACTED]');
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect((out as { isAdmin?: boolean }).isAdmin).toBeUndefined();
    expect(Object.keys(out)).toEqual(['authorization', '__proto__', 'n']);
  });

  it('redacts sensitive query params in URLs', () => {
    expect(redactUrl('http://h.test/a?api_key=abc&q=1&access%5Ftoken=z')).toBe('http://h.test/a?api_key=[REDACTED]&q=1&access%5Ftoken=[REDACTED]');
    expect(redactUrl('http://h.test/a?&token&token=&=x&&Token=1&', new Set(['id']))).toBe('http://h.test/a?&token&token=[REDACTED]&=x&&Token=[REDACTED]&');
    expect(redactUrl('http://h.test/a?id=7&q=id', new Set(['id']))).toBe('http://h.test/a?id=[REDACTED]&q=id');
    expect(redactUrl('http://h.test/a?q=1')).toBe('http://h.test/a?q=1');
  });

  it("redacts the credentials of signed URLs (the keys OpenTelemetry's url.full convention names), in URLs only", () => {
    // Before: a presigned S3 / GCS URL or an Azure SAS kept its signature and access key id in run logs and url.full.
    const url = 'https://b.test/o?X-Amz-Credential=AKIA%2F1&X-Amz-Signature=f00d&X-Amz-Security-Token=t&AWSAccessKeyId=AKIA&Signature=s&sig=z&X-Goog-Signature=g&X-Amz-Date=20260101';
    expect(redactUrl(url)).toBe(
      'https://b.test/o?X-Amz-Credential=[REDACTED]&X-Amz-Signature=[REDACTED]&X-Amz-Security-Token=[REDACTED]&AWSAccessKeyId=[REDACTED]&Signature=[REDACTED]&sig=[REDACTED]&X-Goog-Signature=[REDACTED]&X-Amz-Date=20260101',
    );
    // A body field named "signature" is data (a document's signature line), not a credential.
    expect(redact({ signature: 'Jane Doe' })).toEqual({ signature: 'Jane Doe' });
  });

  it('redacts a query the same as splitting it on & and = would (any parameter list)', () => {
    const names = new Set(['sig']);
    // The plain model of the rule: each name=value part whose (decoded) name is sensitive keeps its name, loses its value.
    const model = (url: string) => {
      const q = url.indexOf('?');
      if (q < 0) return url;
      const parts = url.slice(q + 1).split('&').map((p) => {
        const eq = p.indexOf('=');
        let name = eq < 0 ? p : p.slice(0, eq);
        try {
          name = decodeURIComponent(name);
        } catch {}
        return eq >= 0 && ['token', 'api_key', 'sig'].includes(name.toLowerCase()) ? `${p.slice(0, eq)}=[REDACTED]` : p;
      });
      return `${url.slice(0, q)}?${parts.join('&')}`;
    };
    const part = fc.oneof(fc.constantFrom('token', 'TOKEN', 'api%5Fkey', 'sig', 'q', '', '%E0%A4%A', 'a=b'), fc.string({ maxLength: 4 }));
    fc.assert(
      fc.property(fc.array(fc.tuple(part, fc.option(part, { nil: undefined })), { maxLength: 6 }), (pairs) => {
        const query = pairs.map(([k, v]) => (v === undefined ? k : `${k}=${v}`)).join('&');
        const url = `http://h.test/p?${query}`;
        expect(redactUrl(url, names)).toBe(model(url));
      }),
      { numRuns: 3000 },
    );
  });
});
