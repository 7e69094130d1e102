// Response decoding: parsed JSON, strings for text, bytes for everything else, null for empty bodies.
import { describe, expect, it } from 'vitest';
import { decodeBody, isUtf8Text } from '../../src/runtime/decode-body.js';

const bytes = (text: string) => Buffer.from(text);

describe('decodeBody', () => {
  it.each([
    ['application/json', '{"id":"cus_1","n":[1,2]}', { id: 'cus_1', n: [1, 2] }],
    ['application/json; charset=utf-8', '"text"', 'text'],
    ['application/problem+json', '{"title":"Bad"}', { title: 'Bad' }],
    ['Application/Vnd.Api+JSON', '[1]', [1]],
    ['application/json', '\uFEFF{"bom":true}', { bom: true }],
  ])('parses %s', (type, text, expected) => {
    expect(decodeBody(type, bytes(text))).toEqual(expected);
  });

  it('returns the text when a JSON type carries text that is not JSON', () => {
    expect(decodeBody('application/json', bytes('<html>Bad Gateway</html>'))).toBe('<html>Bad Gateway</html>');
  });

  it.each([
    ['text/plain', 'hello'],
    ['text/html; charset=utf-8', '<p>é</p>'],
    ['application/xml', '<a/>'],
    ['application/rss+xml', '<rss/>'],
    ['application/x-www-form-urlencoded', 'a=1&b=2'],
    ['application/x-ndjson', '{"a":1}\n{"a":2}\n'],
  ])('returns %s as a string', (type, text) => {
    expect(decodeBody(type, bytes(text))).toBe(text);
  });

  it('decodes text in the charset the Content-Type names', () => {
    expect(decodeBody('text/plain; charset=ISO-8859-1', new Uint8Array([0x63, 0x61, 0x66, 0xe9]))).toBe('café');
    expect(decodeBody('text/plain; charset="utf-16le"', Buffer.from('hi', 'utf16le'))).toBe('hi');
    expect(decodeBody('text/plain; charset=no-such-charset', bytes('ok'))).toBe('ok');
  });

  it('returns other types, and a missing type, as a Buffer over the same bytes', () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47]);
    const out = decodeBody('image/png', png);
    expect(Buffer.isBuffer(out)).toBe(true);
    expect((out as Buffer).buffer).toBe(png.buffer);
    expect(decodeBody(undefined, bytes('{"a":1}'))).toEqual(Buffer.from('{"a":1}'));
    expect(decodeBody('application/octet-stream', bytes('x'))).toEqual(Buffer.from('x'));
  });

  it('returns null for an empty body of any type', () => {
    for (const type of ['application/json', 'text/plain', 'image/png', undefined]) {
      expect(decodeBody(type, new Uint8Array(0))).toBeNull();
    }
  });

  it('reads JSON and UTF-8 text types as text, and anything else (other charsets, binary) as bytes', () => {
    for (const t of ['application/json', 'application/problem+json; charset=UTF-8', 'text/plain', 'text/html; charset="utf8"', 'application/xml', 'application/x-ndjson']) {
      expect(isUtf8Text(t), t).toBe(true);
    }
    for (const t of [undefined, '', 'image/png', 'application/octet-stream', 'text/plain; charset=ISO-8859-1', 'application/json; charset=utf-16le']) {
      expect(isUtf8Text(t), String(t)).toBe(false);
    }
  });

  it('decodes a body already read as text the same as its bytes', () => {
    for (const [type, text] of [
      ['application/json', '{"id":"cus_1","n":[1,2]}'],
      ['application/json', '<html>Bad Gateway</html>'],
      ['text/plain', 'hello é'],
      ['application/xml', '<a/>'],
      ['application/json', ''],
    ] as const) {
      expect(decodeBody(type, text)).toEqual(decodeBody(type, bytes(text)));
    }
  });
});
