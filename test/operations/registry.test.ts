// The operation table is the one description: every SDK method and CLI command it names exists, and inputs are
// checked against the same schema on every surface.
import { afterAll, describe, expect, it } from 'vitest';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/index.js';
import { operationList } from '../../src/operations/index.js';
import { checkTag } from '../../src/model/definitions.js';
import { MAX_INPUT_DEPTH } from '../../src/model/json.js';
import { checkInput } from '../../src/operations/invoke.js';
import { newClient } from '../helpers/client.js';
import { errorOf } from '../helpers/errors.js';

const ductape = newClient();
afterAll(() => ductape.close());

function commandOf(program: Command, words: string[]): Command | undefined {
  let node: Command | undefined = program;
  for (const w of words) node = node?.commands.find((c) => c.name() === w);
  return node;
}

describe('operation table', () => {
  it('gives every SDK operation a method on the client', () => {
    for (const op of operationList()) {
      let node: any = ductape;
      for (const p of op.name.split('.')) node = node?.[p];
      expect(typeof node, op.name).toBe('function');
    }
  });

  it('gives every operation with a CLI twin a command with its options', () => {
    const program = buildProgram();
    for (const op of operationList()) {
      if (!op.cli) continue;
      const words = (op.cli.command ?? op.name.replace(/\./g, ' ')).split(' ');
      const cmd = commandOf(program, words);
      expect(cmd, op.name).toBeDefined();
      expect(cmd!.description()).toBe(op.summary);
    }
    // The commands the issue found missing.
    for (const words of ['session-types create', 'caches create', 'caches clear', 'products fetch', 'products delete', 'disconnect', 'actions update', 'actions delete', 'secrets get', 'keys create', 'keys list', 'keys revoke']) {
      expect(commandOf(program, words.split(' ')), words).toBeDefined();
    }
  });

  it('names operations uniquely and routes them uniquely', () => {
    const ops = operationList();
    expect(new Set(ops.map((o) => o.name)).size).toBe(ops.length);
    const routes = ops.filter((o) => o.http).map((o) => (o.http ? `${o.http.method} ${o.http.path}` : ''));
    expect(new Set(routes).size).toBe(routes.length);
  });

  it('refuses bad input as CONFIG_ERROR in the SDK and INVALID_INPUT over HTTP, from the same schema', async () => {
    const op = operationList().find((o) => o.name === 'products.create')!;
    const bad = { tag: 'shop', envs: [], colour: 'red' };
    const sdk = await errorOf(ductape.products.create(bad as never));
    expect(sdk.code).toBe('CONFIG_ERROR');
    expect(sdk.message).toContain('product.colour');
    let http: any;
    try {
      checkInput(op, bad, 'http');
    } catch (err) {
      http = err;
    }
    expect(http.code).toBe('INVALID_INPUT');
    expect(http.issues.map((i: { path: string }) => i.path).sort()).toEqual(['/colour', '/envs']);
    // Over HTTP the route says where each top-level field came from (the path, the query string, the body).
    try {
      checkInput(op, bad, 'http', (field) => (field === 'envs' ? 'params' : 'query'));
    } catch (err) {
      http = err;
    }
    expect(http.issues.map((i: { location: string; path: string }) => `${i.location} ${i.path}`).sort()).toEqual(['params /envs', 'query /colour']);
  });

  it('words a tag refusal the same at the edge (the schema) and in the definition check', async () => {
    const rule = "expected 1–100 ASCII letters, digits, '_', '.' or '-', starting with a letter or digit";
    // Starts with '_': allowed inside a tag, not first.
    expect((await errorOf(ductape.products.create({ tag: '_shop', envs: ['dev'] }))).message).toBe(`Invalid tag: ${rule}.`);
    expect(() => checkTag('app.tag', 'ströme')).toThrow(`Invalid app.tag: ${rule} (got "ströme").`);
  });

  it('refuses input nested past MAX_INPUT_DEPTH or holding itself with a DuctapeError, before any recursive step can overflow', async () => {
    await ductape.products.create({ tag: 'deep', envs: ['dev'] });
    await ductape.products.sessions.create({ product: 'deep', tag: 's', sample: { user: { id: '1' } }, selector: '$Session{user}{id}' });
    let nested: unknown = 'leaf';
    for (let i = 0; i < 100_000; i++) nested = [nested];
    const deep = await errorOf(ductape.sessions.start({ env: 'dev', product: 'deep', tag: 's', data: { user: { id: '1' }, nested } }));
    expect([deep.code, deep.message]).toEqual(['CONFIG_ERROR', `Invalid data.nested[0][0][0][0][0][0]: holds values nested more than ${MAX_INPUT_DEPTH} levels deep.`]);

    const sample: Record<string, unknown> = { user: { id: '1' } };
    sample.again = { sample };
    const cyclic = await errorOf(ductape.products.sessions.create({ product: 'deep', tag: 'c', sample, selector: '$Session{user}{id}' }));
    expect([cyclic.code, cyclic.message]).toEqual(['CONFIG_ERROR', 'Invalid sample.again.sample: holds a circular reference; pass plain JSON data.']);

    // Exactly at the limit (input, data, then the arrays), the input reaches the operation.
    let fits: unknown = 'leaf';
    for (let i = 0; i < MAX_INPUT_DEPTH - 2; i++) fits = [fits];
    const started = await ductape.sessions.start({ env: 'dev', product: 'deep', tag: 's', data: { user: { id: '1' }, fits } });
    expect(started.token).toEqual(expect.any(String));
  });
});
