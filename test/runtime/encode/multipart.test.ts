// multipart/form-data bodies, checked by serializing the FormData exactly as undici sends it.
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { MediaDef } from '../../../src/model/action.js';
import { compileBodyEncoder } from '../../../src/runtime/encode/index.js';
import { issuesOf } from './helpers.js';

interface Part {
  headers: Record<string, string>;
  body: string;
}

/** Serializes the FormData the way undici does (Response shares its body extractor) and splits it into parts. */
async function partsOf(value: unknown, media?: MediaDef): Promise<Part[]> {
  const encoded = compileBodyEncoder('multipart/form-data', media)(value);
  expect(encoded.contentType).toBeUndefined();
  expect(encoded.body).toBeInstanceOf(FormData);
  const response = new Response(encoded.body as FormData);
  const boundary = /boundary=(.+)$/.exec(response.headers.get('content-type')!)![1];
  const text = await response.text();
  const chunks = text.split(`--${boundary}`);
  expect(chunks.at(-1)).toBe('--\r\n');
  return chunks.slice(1, -1).map((chunk) => {
    const [head, ...rest] = chunk.slice(2, -2).split('\r\n\r\n');
    const headers = Object.fromEntries(head.split('\r\n').map((line) => [line.slice(0, line.indexOf(': ')), line.slice(line.indexOf(': ') + 2)]));
    return { headers, body: rest.join('\r\n\r\n') };
  });
}

describe('multipart/form-data body', () => {
  it('sends a Buffer, a Uint8Array, a Blob, a File and a { data, filename, contentType } file', async () => {
    const parts = await partsOf({
      buffer: Buffer.from('from buffer'),
      bytes: new TextEncoder().encode('from bytes'),
      blob: new Blob(['from blob'], { type: 'image/png' }),
      file: new File(['from file'], 'report.pdf', { type: 'application/pdf' }),
      upload: { data: Buffer.from('a,b\n1,2'), filename: 'data.csv', contentType: 'text/csv' },
      note: { data: 'plain text', filename: 'note.txt' },
    });
    expect(parts).toEqual([
      { headers: { 'Content-Disposition': 'form-data; name="buffer"; filename="buffer"', 'Content-Type': 'application/octet-stream' }, body: 'from buffer' },
      { headers: { 'Content-Disposition': 'form-data; name="bytes"; filename="bytes"', 'Content-Type': 'application/octet-stream' }, body: 'from bytes' },
      { headers: { 'Content-Disposition': 'form-data; name="blob"; filename="blob"', 'Content-Type': 'image/png' }, body: 'from blob' },
      { headers: { 'Content-Disposition': 'form-data; name="file"; filename="report.pdf"', 'Content-Type': 'application/pdf' }, body: 'from file' },
      { headers: { 'Content-Disposition': 'form-data; name="upload"; filename="data.csv"', 'Content-Type': 'text/csv' }, body: 'a,b\n1,2' },
      { headers: { 'Content-Disposition': 'form-data; name="note"; filename="note.txt"', 'Content-Type': 'application/octet-stream' }, body: 'plain text' },
    ]);
  });

  it('types a file part with the field encoding contentType when the file has no type of its own', async () => {
    const media: MediaDef = { encoding: { image: { contentType: 'image/jpeg' }, any: { contentType: 'image/png, image/jpeg' } } };
    const parts = await partsOf({ image: Buffer.from([0xff, 0xd8]), any: Buffer.from('x') }, media);
    expect(parts[0].headers['Content-Type']).toBe('image/jpeg');
    expect(parts[1].headers['Content-Type']).toBe('application/octet-stream');
  });

  it('sends primitives as text parts, objects as JSON parts and arrays as repeated parts', async () => {
    const parts = await partsOf({ purpose: 'dispute_evidence', count: 3, flag: true, meta: { a: [1, 2] }, tags: ['x', 'y'], rows: [{ n: 1 }, { n: 2 }], skip: null });
    expect(parts.map((p) => [p.headers['Content-Disposition'], p.headers['Content-Type'], p.body])).toEqual([
      ['form-data; name="purpose"', undefined, 'dispute_evidence'],
      ['form-data; name="count"', undefined, '3'],
      ['form-data; name="flag"', undefined, 'true'],
      ['form-data; name="meta"; filename="blob"', 'application/json', '{"a":[1,2]}'],
      ['form-data; name="tags"', undefined, 'x'],
      ['form-data; name="tags"', undefined, 'y'],
      ['form-data; name="rows"; filename="blob"', 'application/json', '{"n":1}'],
      ['form-data; name="rows"; filename="blob"', 'application/json', '{"n":2}'],
    ]);
  });

  it('writes an explicit deepObject field as bracket-named parts, as Stripe reads POST /v1/files (file_link_data, expand)', async () => {
    const media: MediaDef = { encoding: { expand: { style: 'deepObject', explode: true }, file_link_data: { style: 'deepObject', explode: true } } };
    const parts = await partsOf(
      { file: Buffer.from('%PDF'), file_link_data: { create: true, expires_at: 1700000000, metadata: { order: '7' }, none: null }, expand: ['links', 'x'] },
      media,
    );
    expect(parts.map((p) => [p.headers['Content-Disposition'], p.body])).toEqual([
      ['form-data; name="file"; filename="file"', '%PDF'],
      ['form-data; name="file_link_data[create]"', 'true'],
      ['form-data; name="file_link_data[expires_at]"', '1700000000'],
      ['form-data; name="file_link_data[metadata][order]"', '7'],
      ['form-data; name="expand[0]"', 'links'],
      ['form-data; name="expand[1]"', 'x'],
    ]);
    // A primitive under deepObject is one plain part.
    expect((await partsOf({ expand: 'links' }, media)).map((p) => p.body)).toEqual(['links']);
  });

  it('joins an array into one part when its encoding says explode false (Swagger 2.0 formData csv and pipes)', async () => {
    const media: MediaDef = {
      encoding: { csv: { style: 'form', explode: false }, pipes: { style: 'pipeDelimited', explode: false }, multi: { style: 'form', explode: true }, plain: { style: 'form' } },
    };
    const parts = await partsOf({ csv: ['a', null, 'b'], pipes: [1, 2], multi: ['p', 'q'], plain: ['r', 's'] }, media);
    expect(parts.map((p) => [p.headers['Content-Disposition'], p.body])).toEqual([
      ['form-data; name="csv"', 'a,b'],
      ['form-data; name="pipes"', '1|2'],
      ['form-data; name="multi"', 'p'],
      ['form-data; name="multi"', 'q'],
      ['form-data; name="plain"', 'r'],
      ['form-data; name="plain"', 's'],
    ]);
  });

  it('sends a primitive as a typed part when its encoding names a concrete non-text type', async () => {
    const parts = await partsOf({ doc: '<a/>', j: 'x' }, { encoding: { doc: { contentType: 'application/xml' }, j: { contentType: 'application/merge-patch+json' } } });
    expect(parts.map((p) => [p.headers['Content-Type'], p.body])).toEqual([
      ['application/xml', '<a/>'],
      ['application/merge-patch+json', '"x"'],
    ]);
  });

  it('keeps quotes and line breaks in names and filenames from breaking the part headers', async () => {
    const parts = await partsOf({ 'a"b\r\nX: y': { data: Buffer.from('z'), filename: 'evil"\r\n.txt' } });
    expect(parts[0].headers['Content-Disposition']).toBe('form-data; name="a%22b%0D%0AX: y"; filename="evil%22%0D%0A.txt"');
  });

  it('passes a FormData through unchanged', () => {
    const form = new FormData();
    form.append('a', '1');
    expect(compileBodyEncoder('multipart/form-data')(form).body).toBe(form);
  });

  it('refuses streams, non-objects and objects typed as non-JSON parts, naming the field', () => {
    const encode = compileBodyEncoder('multipart/form-data', { encoding: { x: { contentType: 'text/plain' } } });
    expect(issuesOf(() => encode({ f: Readable.from(['a']) }))).toEqual([{ location: 'body', path: '/f', message: expect.stringContaining('openAsBlob') }]);
    // A file object wrapping a web stream: before, checking it converted the stream (locking it) and reading it again
    // threw a raw TypeError "ReadableStream is locked".
    const web = new ReadableStream({ start: (c) => c.close() });
    expect(issuesOf(() => encode({ f: { data: web, filename: 'a.txt' } }))).toEqual([{ location: 'body', path: '/f', message: expect.stringContaining('openAsBlob') }]);
    expect(issuesOf(() => encode({ x: { a: 1 } }))[0]).toMatchObject({ path: '/x', message: expect.stringContaining('text/plain') });
    expect(issuesOf(() => encode({ list: ['a', Symbol('b')] }))[0].path).toBe('/list/1');
    expect(issuesOf(() => encode('text'))[0].path).toBe('');
  });
});
