// Path parameters: one value, one segment, whatever the value holds.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DuctapeError } from '../../../src/errors.js';
import type { ParamDef } from '../../../src/model/action.js';
import { compilePathParam, encodePathLiteral } from '../../../src/runtime/encode/index.js';
import { issuesOf } from './helpers.js';

const simple = compilePathParam({ name: 'id', in: 'path' });

/** The path a WHATWG URL parser (undici, fetch) actually requests for /users/{id}/orders. */
function requestedPath(segment: string): string {
  return new URL(`http://api.test/users/${segment}/orders`).pathname;
}

describe('compilePathParam', () => {
  it.each([
    ['../admin', '..%2Fadmin'],
    ['a/b?x=1#y', 'a%2Fb%3Fx%3D1%23y'],
    ['%2f', '%252f'],
    ['http://evil.test/', 'http%3A%2F%2Fevil.test%2F'],
    ['//evil.test', '%2F%2Fevil.test'],
    ['..\\admin', '..%5Cadmin'],
    ['a b\tc\nd', 'a%20b%09c%0Ad'],
    ['...', '...'],
    ['.hidden', '.hidden'],
    ["it's (1+1)*2!", 'it%27s%20%281%2B1%29%2A2%21'],
    ['naïve ☃', 'na%C3%AFve%20%E2%98%83'],
  ])('keeps %j inside one segment', (value, expected) => {
    const text = simple(value);
    expect(text).toBe(expected);
    expect(requestedPath(text)).toBe(`/users/${expected}/orders`);
    expect(decodeURIComponent(text)).toBe(value);
  });

  it.each(['..', '.'])('refuses %j, which would be a dot-segment even when percent-encoded', (value) => {
    // WHATWG URL treats %2E%2E like '..', so encoding the dots is not enough: the value cannot be sent.
    expect(requestedPath('%2E%2E')).toBe('/orders');
    expect(issuesOf(() => simple(value))).toEqual([{ location: 'params', path: '/id', message: expect.stringContaining('dot-segment') }]);
  });

  it('refuses an empty value, which would leave an empty segment', () => {
    expect(issuesOf(() => simple(''))[0]).toMatchObject({ location: 'params', path: '/id', message: expect.stringContaining('empty') });
    expect(() => simple([])).toThrow(DuctapeError);
    expect(() => simple(undefined)).toThrow(/required/);
  });

  it('refuses a label value of "." that would render as ".."', () => {
    const label = compilePathParam({ name: 'v', in: 'path', style: 'label' });
    expect(() => label('.')).toThrow(/dot-segment/);
    expect(label('..')).toBe('...');
  });

  it('keeps every generated value inside one segment and decodable to itself', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1 }), (value) => {
        fc.pre(value !== '.' && value !== '..');
        const text = simple(value);
        expect(text).not.toMatch(/[/?#\\]/);
        expect(decodeURIComponent(text)).toBe(value);
        expect(requestedPath(text)).toBe(`/users/${text}/orders`);
      }),
      { numRuns: 500 },
    );
  });

  it('encodes delimiters inside array items and object values so they stay data', () => {
    expect(simple(['a,b', 'c/d'])).toBe('a%2Cb,c%2Fd');
    const matrix = compilePathParam({ name: 'm', in: 'path', style: 'matrix', explode: true });
    expect(matrix({ 'k;x': 'v=1' })).toBe(';k%3Bx=v%3D1');
  });

  it('ignores allowReserved, which OAS defines for query parameters only', () => {
    const p: ParamDef = { name: 'id', in: 'path', allowReserved: true };
    expect(compilePathParam(p)('a/b:c')).toBe('a%2Fb%3Ac');
  });

  it('writes numbers, booleans and dates as text when given primitives', () => {
    expect(simple(42)).toBe('42');
    expect(simple(-1.5)).toBe('-1.5');
    expect(simple(false)).toBe('false');
    expect(simple(new Date('2024-01-02T03:04:05Z'))).toBe('2024-01-02T03%3A04%3A05.000Z');
  });

  it('sends a content-encoded value as JSON text in one segment', () => {
    const json = compilePathParam({ name: 'f', in: 'path', contentType: 'application/json' });
    expect(json({ a: '/' })).toBe('%7B%22a%22%3A%22%2F%22%7D');
  });

  it('names the entry that cannot be written when an array holds an object', () => {
    expect(issuesOf(() => simple(['a', { b: 1 }]))).toEqual([{ location: 'params', path: '/id/1', message: expect.stringContaining('an object') }]);
  });

  it('refuses non-finite numbers and unpaired surrogates', () => {
    expect(() => simple(Number.NaN)).toThrow(/finite/);
    expect(() => simple('a\uD800b')).toThrow(/surrogate/);
  });

  it('joins items with the Swagger 2.0 ssv, tsv and pipes delimiters, percent-encoded', () => {
    expect(compilePathParam({ name: 'ids', in: 'path', style: 'pipeDelimited' })(['a|b', 'c'])).toBe('a%7Cb%7Cc');
    expect(compilePathParam({ name: 'ids', in: 'path', style: 'spaceDelimited' })(['a', 'c'])).toBe('a%20c');
    expect(compilePathParam({ name: 'ids', in: 'path', style: 'tabDelimited' })(['a', 'c'])).toBe('a%09c');
  });

  it('fails at compile time for a style a path cannot have', () => {
    expect(() => compilePathParam({ name: 'id', in: 'path', style: 'form' })).toThrow(/simple, label or matrix/);
  });
});

describe('encodePathLiteral', () => {
  it.each([
    ['/v1/items/', '/v1/items/'],
    ["/docs('x')/a:b@c,d;e=f+g!$&*~", "/docs('x')/a:b@c,d;e=f+g!$&*~"],
    ['/already%20encoded', '/already%20encoded'],
    ['/Your Path', '/Your%20Path'],
    ['/café', '/caf%C3%A9'],
    ['/dossier"', '/dossier%22'],
    ['/100%', '/100%25'],
    ['/x%zz', '/x%25zz'],
    ['/lone\uD800', '/lone%EF%BF%BD'],
  ])('sends the spec literal %j as %j', (literal, expected) => {
    expect(encodePathLiteral(literal)).toBe(expected);
  });
});
