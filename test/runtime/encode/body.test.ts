// Request bodies by media type: JSON, text, XML, bytes and streams, and media ranges.
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { compileBodyEncoder } from '../../../src/runtime/encode/index.js';
import { rangeScore } from '../../../src/runtime/encode/media-type.js';
import { issuesOf } from './helpers.js';

describe('compileBodyEncoder', () => {
  it.each(['application/json', 'application/merge-patch+json', 'application/json-patch+json', 'application/vnd.api+json; charset=utf-8'])(
    'writes JSON text for %s with the declared type',
    (type) => {
      expect(compileBodyEncoder(type)({ a: [1, 'é'], b: null })).toEqual({ body: '{"a":[1,"é"],"b":null}', contentType: type });
    },
  );

  it('writes JSON for every JSON value, including a top-level string, array and null', () => {
    const json = compileBodyEncoder('application/json');
    expect(json('abc').body).toBe('"abc"');
    expect(json([{ op: 'add', path: '/a', value: 1 }]).body).toBe('[{"op":"add","path":"/a","value":1}]');
    expect(json(null).body).toBe('null');
    expect(json(0).body).toBe('0');
  });

  it('sends bytes given for a JSON body as they are (pre-serialized JSON)', () => {
    const bytes = Buffer.from('{"raw":true}');
    expect(compileBodyEncoder('application/json')(bytes)).toEqual({ body: bytes, contentType: 'application/json' });
  });

  it('refuses JSON bodies with cycles or BigInt values', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(issuesOf(() => compileBodyEncoder('application/json')(cyclic))).toEqual([{ location: 'body', path: '', message: expect.stringContaining('JSON') }]);
    expect(() => compileBodyEncoder('application/json')({ n: 1n })).toThrow(/JSON/);
  });

  it('refuses bytes inside a JSON value, naming where, instead of writing {"type":"Buffer","data":[…]} or {}', () => {
    const json = compileBodyEncoder('application/json');
    const bytes = 'is bytes (a Buffer, Blob or stream), which JSON cannot carry; give text, e.g. the base64 of the bytes';
    expect(issuesOf(() => json({ doc: Buffer.from('hi') }))).toEqual([{ location: 'body', path: '/doc', message: bytes }]);
    expect(issuesOf(() => json({ files: [{ content: new Uint8Array([1]) }] }))[0].path).toBe('/files/0/content');
    expect(issuesOf(() => json({ blob: new Blob(['x']) }))[0].path).toBe('/blob');
    expect(issuesOf(() => json({ s: Readable.from(['x']) }))[0].path).toBe('/s');
    expect(issuesOf(() => compileBodyEncoder('*/*')({ doc: new ArrayBuffer(1) }))[0].path).toBe('/doc');
    // Bytes as the whole body are pre-made JSON, sent as given.
    expect(json(Buffer.from('{"a":1}')).body).toEqual(Buffer.from('{"a":1}'));
  });

  it('sends text/* bodies as strings and writes numbers and booleans as text', () => {
    expect(compileBodyEncoder('text/plain')('hello')).toEqual({ body: 'hello', contentType: 'text/plain' });
    expect(compileBodyEncoder('text/csv; charset=utf-8')(42)).toEqual({ body: '42', contentType: 'text/csv; charset=utf-8' });
    expect(issuesOf(() => compileBodyEncoder('text/plain')({ a: 1 }))[0].message).toContain('must be a string');
  });

  it.each(['application/xml', 'text/xml', 'application/atom+xml'])('sends %s from a string and refuses objects', (type) => {
    expect(compileBodyEncoder(type)('<pet><name>Rex</name></pet>')).toEqual({ body: '<pet><name>Rex</name></pet>', contentType: type });
    expect(issuesOf(() => compileBodyEncoder(type)({ pet: { name: 'Rex' } }))[0]).toMatchObject({ location: 'body', message: expect.stringContaining('XML') });
  });

  it('sends binary bodies from Buffer, Uint8Array, ArrayBuffer, views, Blob, streams and strings', () => {
    const octet = compileBodyEncoder('application/octet-stream');
    const buffer = Buffer.from([1, 2, 3]);
    expect(octet(buffer)).toEqual({ body: buffer, contentType: 'application/octet-stream' });
    const ab = new Uint8Array([4, 5, 6, 7]).buffer;
    expect(octet(ab).body).toEqual(new Uint8Array([4, 5, 6, 7]));
    expect(octet(new DataView(ab, 1, 2)).body).toEqual(new Uint8Array([5, 6]));
    const blob = new Blob(['x']);
    expect(octet(blob).body).toBe(blob);
    const stream = Readable.from(['chunk']);
    expect(octet(stream).body).toBe(stream);
    expect(octet('text').body).toBe('text');
    expect(compileBodyEncoder('image/png')({ data: buffer, filename: 'a.png' })).toEqual({ body: buffer, contentType: 'image/png' });
  });

  it('turns a web ReadableStream into a Node stream', async () => {
    const web = new Blob(['web stream']).stream();
    const { body } = compileBodyEncoder('application/octet-stream')(web);
    expect(body).toBeInstanceOf(Readable);
    const chunks: Buffer[] = [];
    for await (const chunk of body as Readable) chunks.push(Buffer.from(chunk));
    expect(Buffer.concat(chunks).toString()).toBe('web stream');
  });

  it('refuses an object for a binary type', () => {
    expect(issuesOf(() => compileBodyEncoder('application/pdf')({ a: 1 }))[0].message).toContain('application/pdf body must be bytes');
  });

  it('lets the input pick the type when the spec declares a range', () => {
    const any = compileBodyEncoder('*/*');
    expect(any({ a: 1 })).toEqual({ body: '{"a":1}', contentType: 'application/json' });
    expect(any('hi')).toEqual({ body: 'hi', contentType: 'text/plain; charset=utf-8' });
    expect(any(new Blob(['x'], { type: 'image/gif' })).contentType).toBe('image/gif');
    expect(any(Buffer.from('x')).contentType).toBe('application/octet-stream');
    expect(compileBodyEncoder('image/*')({ data: Buffer.from('x'), contentType: 'image/webp' }).contentType).toBe('image/webp');
    expect(() => compileBodyEncoder('image/*')({ a: 1 })).toThrow(/image\/\* body must be bytes/);
  });

  it('sends no body for undefined, whatever the type', () => {
    for (const type of ['application/json', 'text/plain', 'multipart/form-data', 'application/octet-stream']) {
      expect(compileBodyEncoder(type)(undefined)).toEqual({ body: null });
    }
  });
});

describe('rangeScore', () => {
  it.each([
    ['*/*', 'application/x-protobuf', 1],
    ['image/*', 'image/png', 2],
    ['image/*', 'text/plain', 0],
    ['application/*+json', 'application/merge-patch+json', 3],
    ['application/*+json', 'application/json', 0],
    ['application/*+json', 'text/plain+json', 0],
    ['application/json', 'application/json', 0],
    ['*/*', 'image/*', 0],
  ])('scores range %s for %s as %i', (range, type, score) => {
    expect(rangeScore(range, type)).toBe(score);
  });
});
