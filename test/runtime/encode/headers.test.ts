// Header and cookie parameters: simple and form styles, and values that must never reach the wire.
import { describe, expect, it } from 'vitest';
import { compileCookieParam, compileHeaderParam } from '../../../src/runtime/encode/index.js';
import { issuesOf } from './helpers.js';

const header = compileHeaderParam({ name: 'X-Trace', in: 'header' });
const cookie = compileCookieParam({ name: 'session', in: 'cookie' });

describe('compileHeaderParam', () => {
  it('joins arrays with commas and writes objects exploded or not', () => {
    expect(header(['a', 'b'])).toBe('a,b');
    expect(header({ k: 'v', n: 1 })).toBe('k,v,n,1');
    expect(compileHeaderParam({ name: 'X', in: 'header', explode: true })({ k: 'v', n: 1 })).toBe('k=v,n=1');
  });

  it('does not percent-encode header values', () => {
    expect(header('W/"etag value" ; q=0.5 ü')).toBe('W/"etag value" ; q=0.5 ü');
  });

  it.each([
    ['a\r\nSet-Cookie: x=1', 'line break'],
    ['a\nb', 'line break'],
    ['a\rb', 'line break'],
    ['a\0b', 'NUL'],
    ['a\x7Fb', 'U+007F'],
    ['snow ☃', 'U+2603'],
  ])('refuses %j', (value, message) => {
    expect(issuesOf(() => header(value))).toEqual([{ location: 'headers', path: '/X-Trace', message: expect.stringContaining(message) }]);
  });

  it('refuses CR/LF inside array items and object values too', () => {
    expect(() => header(['ok', 'bad\r\n'])).toThrow(/line break/);
    expect(() => header({ k: 'v\nX: y' })).toThrow(/line break/);
  });

  it('sends content-encoded headers as JSON text, still refusing line breaks', () => {
    const json = compileHeaderParam({ name: 'X-Meta', in: 'header', contentType: 'application/json' });
    expect(json({ a: 'b\nc' })).toBe('{"a":"b\\nc"}');
    const text = compileHeaderParam({ name: 'X-Text', in: 'header', contentType: 'text/plain' });
    expect(() => text('a\r\nb')).toThrow(/line break/);
  });

  it('joins items with the Swagger 2.0 ssv, tsv and pipes delimiters, raw', () => {
    const with_ = (style: 'spaceDelimited' | 'tabDelimited' | 'pipeDelimited') => compileHeaderParam({ name: 'X', in: 'header', style, explode: false });
    expect(with_('pipeDelimited')(['a b', 'c'])).toBe('a b|c');
    expect(with_('spaceDelimited')(['a', 'c'])).toBe('a c');
    expect(with_('tabDelimited')(['a', 'c'])).toBe('a\tc');
  });

  it('fails at compile time for a style a header cannot have', () => {
    expect(() => compileHeaderParam({ name: 'X', in: 'header', style: 'form' })).toThrow(/"simple"/);
  });
});

describe('compileCookieParam', () => {
  it('writes name=value with the value percent-encoded so it cannot break the Cookie header', () => {
    expect(cookie('abc')).toBe('session=abc');
    expect(cookie('a; admin=1, "x" \\')).toBe('session=a%3B%20admin%3D1%2C%20%22x%22%20%5C');
    expect(cookie(7)).toBe('session=7');
  });

  it('writes exploded arrays as separate cookie pairs and non-exploded ones joined by commas', () => {
    expect(cookie(['a', 'b'])).toBe('session=a; session=b');
    expect(compileCookieParam({ name: 'c', in: 'cookie', explode: false })(['a', 'b'])).toBe('c=a,b');
  });

  it('sends a content-encoded cookie as given but refuses ";" and control characters', () => {
    const raw = compileCookieParam({ name: 'pref', in: 'cookie', contentType: 'text/plain' });
    expect(raw('dark')).toBe('pref=dark');
    expect(issuesOf(() => raw('a; admin=1'))).toEqual([{ location: 'cookies', path: '/pref', message: expect.stringContaining(';') }]);
    expect(() => raw('a\r\nb')).toThrow(/control/);
  });
});
