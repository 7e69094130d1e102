// External $refs stay inside the spec's folder (#11): what a $ref names is read and stored in the app.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { importSpec } from '../../src/importers/index.js';
import { newClient } from '../helpers/client.js';

const spec = (ref: string) =>
  JSON.stringify({
    openapi: '3.0.3',
    info: { title: 'T', version: '1' },
    paths: { '/a': { post: { operationId: 'a', requestBody: { content: { 'application/json': { schema: { $ref: ref } } } }, responses: { 200: { description: 'ok' } } } } },
  });
const secretFile = JSON.stringify({ type: 'object', properties: { db_password: { type: 'string', default: 'hunter2-outside-the-folder' } } });

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ductape-refs-'));
  mkdirSync(join(dir, 'specs/api/schemas'), { recursive: true });
  mkdirSync(join(dir, 'other'));
  writeFileSync(join(dir, 'other/config.json'), secretFile);
  writeFileSync(join(dir, 'specs/api/schemas/ok.json'), JSON.stringify({ type: 'object', properties: { name: { type: 'string' } } }));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const failure = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a failure'); }, (e) => e);

describe('external $ref confinement', () => {
  it('#11: refuses a $ref to a file outside the spec\'s folder with CONFIG_ERROR, and stores nothing of it', async () => {
    writeFileSync(join(dir, 'specs/api/openapi.json'), spec('../../other/config.json'));
    const d = newClient();
    try {
      const err = await failure(d.apps.import({ app: 'api', file: join(dir, 'specs/api/openapi.json') }));
      expect(err.code).toBe('CONFIG_ERROR');
      expect(err.message).toMatch(/points outside the spec's folder/);
      expect(err.message).toMatch(/refs_root/);
      expect(JSON.stringify(err.toJSON())).not.toContain('hunter2');
      expect(await d.apps.list()).toEqual([]);
    } finally {
      await d.close();
    }
  });

  it('#11: refuses a nested $ref that steps out from an allowed file, and a symlink that leads out', async () => {
    writeFileSync(join(dir, 'specs/api/schemas/hop.json'), JSON.stringify({ $ref: '../../../other/config.json' }));
    writeFileSync(join(dir, 'specs/api/openapi.json'), spec('./schemas/hop.json'));
    const nested = await failure(importSpec({ file: join(dir, 'specs/api/openapi.json') }));
    expect(nested.code).toBe('CONFIG_ERROR');
    expect(JSON.stringify(nested.toJSON())).not.toContain('hunter2');

    symlinkSync(join(dir, 'other/config.json'), join(dir, 'specs/api/schemas/link.json'));
    writeFileSync(join(dir, 'specs/api/openapi.json'), spec('./schemas/link.json'));
    expect((await failure(importSpec({ file: join(dir, 'specs/api/openapi.json') }))).code).toBe('CONFIG_ERROR');
  });

  it('#11: refuses file $refs in a spec given as text, unless refs_root names a folder', async () => {
    const text = spec(join(dir, 'other/config.json'));
    const err = await failure(importSpec({ spec: text }));
    expect(err.code).toBe('CONFIG_ERROR');
    expect(err.message).toMatch(/not read from a file; pass refs_root/);
  });

  it('reads files under the spec\'s folder, and under refs_root when the caller widens it', async () => {
    writeFileSync(join(dir, 'specs/api/openapi.json'), spec('./schemas/ok.json'));
    const app = await importSpec({ file: join(dir, 'specs/api/openapi.json') });
    expect(JSON.stringify(app)).toContain('"name"');

    writeFileSync(join(dir, 'specs/api/openapi.json'), spec('../../other/config.json'));
    const d = newClient();
    try {
      await d.apps.import({ app: 'api', file: join(dir, 'specs/api/openapi.json'), refs_root: dir });
      expect(JSON.stringify(await d.apps.actions.fetch({ app: 'api', event: 'a' }))).toContain('db_password');
    } finally {
      await d.close();
    }
  });
});
