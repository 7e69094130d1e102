import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importSpec } from '../../src/importers/index.js';
import { DuctapeError } from '../../src/errors.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ductape-import-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

async function failure(promise: Promise<unknown>): Promise<DuctapeError & { file?: string; line?: number; column?: number }> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(DuctapeError);
  expect((err as DuctapeError).code).toBe('CONFIG_ERROR');
  return err as never;
}

const minimal = (version: string) => `{\n  "openapi": "${version}",\n  "info": { "title": "T", "version": "1" },\n  "paths": {}\n}\n`;

describe('importSpec with malformed input', () => {
  it('names the file and position when JSON is truncated', async () => {
    const path = await write('truncated.json', '{\n  "openapi": "3.0.0",\n  "info": { "title": "T",\n');
    const err = await failure(importSpec({ file: path }));
    expect(err.message).toContain(`${path}:4:1`);
    expect(err.message).toContain('truncated');
    expect(err).toMatchObject({ file: path, line: 4, column: 1 });
  });

  it('names the file and position of a JSON syntax error', async () => {
    const path = await write('comma.json', '{\n  "openapi": "3.0.0",\n  "info": { "title": "T" },,\n  "paths": {}\n}');
    const err = await failure(importSpec({ file: path }));
    expect(err).toMatchObject({ file: path, line: 3 });
  });

  it('names the file, line and column when YAML is indented with tabs', async () => {
    const path = await write('tabs.yaml', 'openapi: 3.0.0\ninfo:\n\ttitle: T\n\tversion: "1"\npaths: {}\n');
    const err = await failure(importSpec({ file: path }));
    expect(err.message).toMatch(/tabs\.yaml:3:1: invalid YAML: .*[Tt]ab/);
    expect(err).toMatchObject({ line: 3, column: 1 });
  });

  it('rejects an unknown OpenAPI version naming where it is declared', async () => {
    const path = await write('v4.json', minimal('4.0.0'));
    const err = await failure(importSpec({ file: path }));
    expect(err.message).toContain('unsupported OpenAPI version "4.0.0"');
    expect(err).toMatchObject({ line: 2, column: 3 });
    await failure(importSpec({ spec: { swagger: '1.2', info: {}, paths: {} } }));
    await failure(importSpec({ spec: { info: { name: 'x', schema: 'https://schema.getpostman.com/json/collection/v1.0.0/collection.json' }, item: [] } }));
    await failure(importSpec({ spec: { hello: 'world' } }));
  });

  it('names the missing file and the line of a $ref to it', async () => {
    const path = await write('missing-ref.yaml', [
      'openapi: 3.0.0',
      'info: { title: T, version: "1" }',
      'paths:',
      '  /a:',
      '    get:',
      '      responses:',
      "        '200':",
      '          description: ok',
      '          content:',
      '            application/json:',
      '              schema:',
      "                $ref: './schemas/nope.yaml'",
      '',
    ].join('\n'));
    const err = await failure(importSpec({ file: path }));
    expect(err.message).toContain('./schemas/nope.yaml');
    expect(err.message).toContain('missing file');
    expect(err).toMatchObject({ file: path, line: 12 });
  });

  it('refuses remote $refs instead of fetching them', async () => {
    const err = await failure(importSpec({
      spec: JSON.parse(minimal('3.0.0').replace('"paths": {}', '"paths": { "/a": { "$ref": "https://example.test/a.yaml" } }')),
    }));
    expect(err.message).toContain('remote URL');
  });

  it('rejects a file over maxBytes before reading it', async () => {
    const path = await write('big.json', minimal('3.0.0') + ' '.repeat(2048));
    const err = await failure(importSpec({ file: path }, { maxBytes: 1024 }));
    expect(err.message).toContain(path);
    expect(err.message).toContain('over the import limit of 1024 bytes');
    await failure(importSpec({ spec: minimal('3.0.0') + ' '.repeat(2048) }, { maxBytes: 1024 }));
    await expect(importSpec({ file: path })).resolves.toMatchObject({ format: 'openapi-3.0' });
  });

  it('reports a missing file and empty input as config errors', async () => {
    const err = await failure(importSpec({ file: join(dir, 'absent.json') }));
    expect(err.message).toContain('ENOENT');
    await failure(importSpec({ file: await write('empty.yaml', '  \n') }));
    await failure(importSpec({}));
  });

  it('reads YAML and JSON given as strings', async () => {
    await expect(importSpec({ spec: minimal('3.1.0') })).resolves.toMatchObject({ format: 'openapi-3.1' });
    await expect(importSpec({ spec: 'swagger: "2.0"\ninfo: {title: T, version: "1"}\npaths: {}\n' })).resolves.toMatchObject({ format: 'openapi-2.0' });
  });

  it('refuses a document nested deeper than the stack allows, or containing itself through a YAML alias, naming where', async () => {
    const levels = 6000;
    const schema = '{"type":"object","properties":{"a":'.repeat(levels) + '{"type":"string"}' + '}}'.repeat(levels);
    const body = `"requestBody":{"content":{"application/json":{"schema":${schema}}}}`;
    const deepOpenApi = `{"openapi":"3.0.3","info":{"title":"T","version":"1"},"paths":{"/x":{"post":{"operationId":"x",${body},"responses":{"200":{"description":"ok"}}}}}}`;
    const deep = await failure(importSpec({ file: await write('deep.json', deepOpenApi) }));
    expect(deep.message).toContain('/paths/~1x/post/requestBody/content/application~1json/schema/properties holds values nested more than 256 levels deep.');

    const folders = '{"name":"f","item":['.repeat(levels) + '{"name":"leaf","request":{"method":"GET","url":"http://127.0.0.1:1/x"}}' + ']}'.repeat(levels);
    const postman = `{"info":{"name":"p","schema":"https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},"item":[${folders}]}`;
    expect((await failure(importSpec({ spec: postman }))).message).toContain('Cannot import <spec>: /item/0/item/0/item/0/item/0 holds values nested more than 256 levels deep.');

    const selfAlias = 'openapi: 3.0.3\ninfo: {title: T, version: "1"}\npaths: {}\ncomponents:\n  schemas:\n    Node: &node\n      type: object\n      properties:\n        next: *node\n';
    expect((await failure(importSpec({ spec: selfAlias }))).message).toContain('/components/schemas/Node/properties/next contains itself (a YAML alias inside the node it names).');

    // Aliases of aliases ("billion laughs"): the yaml package's ReferenceError becomes a CONFIG_ERROR naming the file.
    const laughs = ['openapi: 3.1.0', "info: {title: T, version: '1'}", 'paths: {}', 'x-a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
    for (let i = 1; i < 9; i++) laughs.push(`x-a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]`);
    const bomb = await write('laughs.yaml', laughs.join('\n'));
    expect((await failure(importSpec({ file: bomb }))).message).toMatch(new RegExp(`^Cannot import ${bomb.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: invalid YAML: Excessive alias count`));

    // The same in a file that a $ref brings in, which is read after the spec itself was checked.
    await write('node.yaml', 'Node: &node\n  type: object\n  properties:\n    next: *node\n');
    const main = await write('refs-node.json', deepOpenApi.replace(schema, '{"$ref":"./node.yaml#/Node"}'));
    expect((await failure(importSpec({ file: main }))).message).toContain('with its external $refs bundled, /paths/~1x/post/requestBody/content/application~1json/schema/properties contains itself');

    // A file a $ref brings in, nested so deep that the bundler itself cannot read it.
    await write('deep-schema.json', `{"Deep":${schema}}`);
    const tooDeep = await write('refs-deep.json', deepOpenApi.replace(schema, '{"$ref":"./deep-schema.json#/Deep"}'));
    expect((await failure(importSpec({ file: tooDeep }))).message).toBe(`Cannot import ${tooDeep}: a file its $refs bring in is nested too deeply to be read (thousands of levels); real definitions nest a few dozen.`);

    // A real spec's depth is far from the limit: 120 nested objects (~250 levels) import.
    const fits = '{"type":"object","properties":{"a":'.repeat(120) + '{"type":"string"}' + '}}'.repeat(120);
    await expect(importSpec({ spec: deepOpenApi.replace(schema, fits) })).resolves.toMatchObject({ format: 'openapi-3.0' });
  });
});
