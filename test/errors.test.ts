// DuctapeError: fields, printing, JSON and instanceof.
import { inspect } from 'node:util';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ConfigError, DuctapeError, InvalidInputError, NotFoundError, StoreError } from '../src/errors.js';
import { newClient } from './helpers/client.js';
import { startUpstream } from './helpers/upstream.js';

describe('DuctapeError', () => {
  it('#11: console.log(err) does not print the upstream body or headers, which stay on the error and in toJSON()', async () => {
    const up = await startUpstream((req, res) => {
      res.writeHead(502, { 'content-type': 'application/json', 'x-upstream-trace': 'trace-value-7781' });
      res.end(JSON.stringify({ error: 'customer card 4242-4242-4242-4242 declined' }));
    });
    const d = newClient();
    onTestFinished(async () => {
      await d.close();
      await up.close();
    });
    await d.apps.create({ tag: 'api', envs: [{ slug: 'prd', base_url: up.url }] });
    await d.apps.actions.create({ app: 'api', event: 'get_x', method: 'GET', path: '/x' });
    await d.products.create({ tag: 'p', envs: ['prd'] });
    await d.products.apps.connect({ product: 'p', app: 'api' });
    const err = (await d.actions.run({ env: 'prd', product: 'p', app: 'api', event: 'get_x' }).catch((e) => e)) as DuctapeError & Record<string, unknown>;
    expect(err.code).toBe('UPSTREAM_ERROR');

    // What console.log prints is util.inspect of the error.
    const printed = inspect(err, { depth: 10 });
    expect(printed).not.toContain('trace-value-7781');
    expect(printed).not.toMatch(/\bbody: /);
    expect(printed).not.toMatch(/\bheaders: /);
    expect(printed).not.toMatch(/details:/);
    expect(printed).toContain('UPSTREAM_ERROR');
    expect(printed).toMatch(/status: 502/);
    expect(Object.keys(err)).not.toContain('details');
    expect(Object.keys(err)).not.toContain('body');

    // The documented fields and toJSON() are unchanged.
    expect(err.status).toBe(502);
    expect(err.body).toEqual({ error: 'customer card 4242-4242-4242-4242 declined' });
    expect((err.headers as Record<string, string>)['x-upstream-trace']).toBe('trace-value-7781');
    expect(err.details.status).toBe(502);
    const json = err.toJSON();
    expect(json).toMatchObject({ code: 'UPSTREAM_ERROR', status: 502, body: { error: expect.any(String) }, attempts: 1 });
    expect(JSON.stringify(err)).toContain('trace-value-7781');
  });

  it('keeps small fields enumerable so that a printed error still says what happened', () => {
    const err = new DuctapeError('RATE_LIMITED', 'Slow down.', { status: 429, retryAfterMs: 1000, body: 'x' });
    expect(Object.keys(err)).toEqual(expect.arrayContaining(['code', 'status', 'retryAfterMs']));
    expect(Object.keys(err)).not.toContain('body');
  });
});

describe('instanceof', () => {
  it('holds for DuctapeError across copies, and for a subclass only on its own errors', () => {
    const store = new StoreError('the store is busy', { reason: 'busy', dialect: 'sqlite' });
    const config = new ConfigError('bad option');
    expect(store).toBeInstanceOf(DuctapeError);
    expect(config).toBeInstanceOf(DuctapeError);
    expect(config).toBeInstanceOf(ConfigError);
    // Subclasses inherit DuctapeError's brand check; it must not make every DuctapeError one of each subclass.
    expect(store instanceof ConfigError).toBe(false);
    expect(store instanceof InvalidInputError).toBe(false);
    expect(config instanceof NotFoundError).toBe(false);
    expect(new DuctapeError('NOT_FOUND', 'x') instanceof NotFoundError).toBe(false);
    expect(new InvalidInputError([{ location: 'body', path: '/a', message: 'is required' }])).toBeInstanceOf(InvalidInputError);
    // An error made by another installed copy of Ductape carries the same brand (Symbol.for) but another prototype.
    const foreign = Object.defineProperty(new Error('x'), Symbol.for('ductape.error'), { value: true });
    expect(foreign instanceof DuctapeError).toBe(true);
    expect(foreign instanceof ConfigError).toBe(false);
    expect(new Error('plain') instanceof DuctapeError).toBe(false);
  });
});
