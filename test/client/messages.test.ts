// Messages a new user meets (#11 item 12): each says what happened and what to do.
import { describe, expect, it, onTestFinished } from 'vitest';
import type { DuctapeError } from '../../src/errors.js';
import { runCli } from '../helpers/cli.js';
import { newClient } from '../helpers/client.js';
import { startUpstream, type Handler } from '../helpers/upstream.js';

async function setup(handler: Handler, opts: Parameters<typeof newClient>[0] = {}) {
  const up = await startUpstream(handler);
  const d = newClient(opts);
  onTestFinished(async () => {
    await d.close();
    await up.close();
  });
  await d.apps.create({ tag: 'api', envs: [{ slug: 'prd', base_url: up.url }] });
  await d.apps.actions.create({ app: 'api', event: 'get_x', method: 'GET', path: '/x' });
  await d.products.create({ tag: 'p', envs: ['prd'] });
  await d.products.apps.connect({ product: 'p', app: 'api' });
  const run = (more: object = {}) => d.actions.run({ env: 'prd', product: 'p', app: 'api', event: 'get_x', ...more });
  return { up, d, run };
}
const failure = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a failure'); }, (e: DuctapeError) => e);

describe('messages that say what happened and what to do', () => {
  it('#11: an answer over max_response_bytes names max_response_bytes and stream, not the base URL', async () => {
    const { run } = await setup((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ data: 'x'.repeat(200_000) }));
    }, { max_response_bytes: 10_000 });
    const err = await failure(run());
    expect(err.code).toBe('NETWORK_ERROR');
    expect(err.message).toMatch(/larger than max_response_bytes/);
    expect(err.message).toMatch(/stream: true/);
    expect(err.message).not.toMatch(/base URL/);
    expect(err.details).toMatchObject({ errno: 'UND_ERR_RES_EXCEEDED_MAX_SIZE', retryable: false });
  });

  it('#11: a GET that failed 3 times with retries: 2 says it was retried, not "pass retries: n"', async () => {
    const { up, run } = await setup((req, res) => {
      res.writeHead(503, { 'retry-after': '0' });
      res.end();
    });
    const err = await failure(run({ retries: 2 }));
    expect(up.requests).toHaveLength(3);
    expect(err.code).toBe('UPSTREAM_ERROR');
    expect(err.message).toMatch(/after 3 attempts/);
    expect(err.message).toMatch(/retried 2 times and still failed/);
    expect(err.message).not.toMatch(/pass retries: n/);
    // One attempt and no retries asked for: then the hint is the right one.
    expect((await failure(run())).message).toMatch(/pass retries: n/);
  });

  it('#11: a run deadline of 1000 ms is reported as that deadline, not as the few ms its last attempt had left', async () => {
    let n = 0;
    const { run } = await setup((req, res) => {
      if (n++ === 0) {
        res.writeHead(503, { 'retry-after': '0' });
        res.end();
      } // later attempts never answer
    });
    const err = await failure(run({ retries: 3, timeout: { run: 1000 } }));
    expect(err.code).toBe('TIMEOUT');
    expect(err.message).toMatch(/did not finish within the run's deadline of 1000 ms \(timeout\.run/);
    expect(err.message).toMatch(/Raise timeout\.run/);
    expect(err.details.timeoutMs).toBe(1000);
  }, 15_000);

  it('#11: a 401 to the connection\'s credentials is AUTH_FAILED saying to check them; without credentials it stays UPSTREAM_ERROR', async () => {
    const { d, run } = await setup((req, res) => {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end('{"error":"invalid api key"}');
    });
    const bare = await failure(run());
    expect(bare.code).toBe('UPSTREAM_ERROR');
    await d.products.apps.configure({ product: 'p', app: 'api', env: 'prd', auth: { type: 'bearer', token: 'sk_wrong_key_1234' } });
    const err = await failure(run());
    expect(err.code).toBe('AUTH_FAILED');
    expect(err.details.status).toBe(401);
    expect(err.message).toMatch(/refused the connection's credentials \(401 Unauthorized\)/);
    expect(err.message).toMatch(/products\.apps\.configure/);
    expect(err.message).not.toContain('sk_wrong_key_1234');
  });

  it('#11: logs with a since that is not a time, or a negative limit, get CONFIG_ERROR showing the accepted form', async () => {
    const { d } = await setup((req, res) => void res.end());
    const since = await failure(d.logs.query({ since: 'yesterday' }));
    expect(since.code).toBe('CONFIG_ERROR');
    expect(since.message).toMatch(/since: expected an ISO 8601 time such as 2026-12-06T09:00:00Z/);
    const limit = await failure(d.logs.query({ limit: -3 }));
    expect(limit.code).toBe('CONFIG_ERROR');
    expect(limit.message).toMatch(/limit: expected a whole number of rows from 1 to 10000/);
  });

  it('#11: the CLI prints those as CODE: message with exit 2, never a raw JavaScript error', async () => {
    const env = { DUCTAPE_WORKSPACE: 'acme', DUCTAPE_PRIVATE_KEY: 'cli-messages-key-0123', DUCTAPE_STORE: ':memory:' };
    const [since, limit] = await Promise.all([runCli(['logs', '--since', 'yesterday'], env), runCli(['logs', '--limit', '-3'], env)]);
    for (const r of [since, limit]) {
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^CONFIG_ERROR: /);
      expect(r.stderr).not.toMatch(/Invalid time value|RangeError|at .*\.js:\d+/);
    }
    expect(since.stderr).toMatch(/ISO 8601/);
    expect(limit.stderr).toMatch(/limit/);
  }, 60_000);

  // Unions of types were refused with zod's bare "Invalid input", which names neither what was wrong nor what fits,
  // and expiries with "expected int, received number".
  it('says what a field takes when its value is none of the types it accepts', async () => {
    const { d } = await setup((req, res) => {
      res.end('{}');
    });
    const refusals = await Promise.all([
      failure(d.connections.authorize({ product: 'p', env: 'prd', app: 'api', owner: true as never })),
      failure(d.apps.import({ app: 'api', spec: 5 as never })),
      failure(d.sessions.revoke({ product: 'p', env: 'prd', tag: 't', identifier: {} as never })),
      failure(d.apps.actions.create({ app: 'api', event: 'e', method: 'GET', path: '/e', schemas: { body: 5 as never } })),
      failure(d.products.apps.configure({ product: 'p', app: 'api', env: 'prd', auth: 5 as never })),
      failure(d.products.apps.configure({ product: 'p', app: 'api', env: 'prd', rate_limit: 5 as never })),
      failure(d.products.caches.create({ product: 'p', tag: 'c', expiry: 1.5 })),
      failure(d.products.sessions.create({ product: 'p', tag: 's', sample: { id: '1' }, selector: '$Session{id}', expiry: 0 })),
    ]);
    expect(refusals.map((e) => `${e.code} ${e.message}`)).toEqual([
      'CONFIG_ERROR Invalid owner: expected the owner id as a non-empty string or a number.',
      'CONFIG_ERROR Invalid spec: expected the definition as text (JSON or YAML) or as an object.',
      "CONFIG_ERROR Invalid identifier: expected the selector's value: a string, number or boolean.",
      'CONFIG_ERROR Invalid schemas.body: expected a JSON Schema (an object, or true/false).',
      'CONFIG_ERROR Invalid auth: expected an auth form ({ type: "bearer", token } …), a list of forms, or null.',
      'CONFIG_ERROR Invalid rate_limit: expected { requests, per_ms } or a non-empty array of them.',
      'CONFIG_ERROR Invalid expiry: expected a whole number of milliseconds ≥ 1, e.g. 60000.',
      'CONFIG_ERROR Invalid expiry: expected a whole number of seconds ≥ 1, e.g. 3600.',
    ]);
  });
});
