// Credentials and run input (#11, API.md §4): $Secret/$Auth typed by end users are refused; errors list no secret names.
import { describe, expect, it, onTestFinished } from 'vitest';
import type { DuctapeError } from '../../src/errors.js';
import { newClient } from '../helpers/client.js';
import { startUpstream } from '../helpers/upstream.js';

async function setup(opts: Parameters<typeof newClient>[0] = {}) {
  const up = await startUpstream();
  const d = newClient(opts);
  onTestFinished(async () => {
    await d.close();
    await up.close();
  });
  await d.apps.create({ tag: 'pay', envs: [{ slug: 'prd', base_url: up.url }, { slug: 'dev', base_url: up.url }] });
  await d.apps.actions.create({ app: 'pay', event: 'create_note', method: 'POST', path: '/notes' });
  await d.products.create({ tag: 'shop', envs: ['prd', 'dev'] });
  await d.products.apps.connect({ product: 'shop', app: 'pay' });
  await d.secrets.set({ key: 'STRIPE_KEY', value: 'sk_live_do_not_send', envs: ['prd'] });
  await d.secrets.set({ key: 'TWILIO_TOKEN', value: 'tw_live_do_not_send', envs: ['staging'] });
  const run = (input: unknown, env = 'prd') => d.actions.run({ env, product: 'shop', app: 'pay', event: 'create_note', input: input as never });
  return { up, d, run };
}

const failure = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a failure'); }, (e: DuctapeError) => e);

describe('credential placeholders in run input', () => {
  it('#11: refuses $Secret{…} typed into a field with INVALID_INPUT that says where credentials belong; nothing is sent', async () => {
    const { up, run } = await setup();
    // A backend passing an end user's form field along, as it would any text.
    const err = await failure(run({ body: { note: 'please refund $Secret{STRIPE_KEY}', nested: { list: ['$Secret{STRIPE_KEY}'] } } }));
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.details.issues).toEqual([
      { location: 'body', path: '/note', message: expect.stringContaining('holds $Secret{STRIPE_KEY}') },
      { location: 'body', path: '/nested/list/0', message: expect.stringContaining('holds $Secret{STRIPE_KEY}') },
    ]);
    expect(err.message).toMatch(/connection \(products\.apps\.configure: auth, headers or query\)/);
    expect(err.message).toMatch(/secrets_in_input: true/);
    expect(up.requests).toHaveLength(0);
  });

  it('#11: refuses $Auth{…} in run input, saying it belongs in the connection\'s auth templates', async () => {
    const { up, run } = await setup();
    const err = await failure(run({ headers: { 'x-token': '$Auth{token}' } }));
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.message).toMatch(/headers\/x-token: holds \$Auth\{token\}: a login result \(\$Auth\) can only be used in the connection's auth templates/);
    expect(up.requests).toHaveLength(0);
  });

  it('resolves $Secret in run input for a client created with secrets_in_input: true', async () => {
    const { up, run } = await setup({ secrets_in_input: true });
    await run({ body: { key: '$Secret{STRIPE_KEY}' } });
    expect(JSON.parse(up.requests[0].body)).toEqual({ key: 'sk_live_do_not_send' });
  });

  it('still resolves $Secret in stored definitions (connection headers), and an escaped \\$Secret in input is text', async () => {
    const { d, up, run } = await setup();
    await d.products.apps.configure({ product: 'shop', app: 'pay', env: 'prd', headers: { 'x-key': '$Secret{STRIPE_KEY}' } } as never);
    await run({ body: { note: '\\$Secret{STRIPE_KEY}' } });
    expect(up.requests[0].headers['x-key']).toBe('sk_live_do_not_send');
    expect(JSON.parse(up.requests[0].body)).toEqual({ note: '$Secret{STRIPE_KEY}' });
  });

  it('refuses secrets_in_input that is not a boolean', () => {
    expect(() => newClient({ secrets_in_input: 'yes' as never })).toThrow(/secrets_in_input must be true or false/);
  });
});

describe('errors of a run name no other secret', () => {
  it('#11: a missing $Secret{X} in the connection names X only, not the workspace\'s other secrets or their envs', async () => {
    const { d, run } = await setup();
    await d.products.apps.configure({ product: 'shop', app: 'pay', env: 'prd', auth: { type: 'bearer', token: '$Secret{STRIPE_KY}' } });
    const err = await failure(run({ body: {} }));
    const shown = `${err.message} ${JSON.stringify(err.toJSON())}`;
    expect(shown).toContain('STRIPE_KY');
    for (const other of ['STRIPE_KEY"', 'STRIPE_KEY ', 'TWILIO_TOKEN', 'staging']) expect(shown).not.toContain(other);
  });

  it('#11: a secret set for other envs only is reported for the run\'s env, without listing where else it is set', async () => {
    const { d, run } = await setup();
    await d.products.apps.configure({ product: 'shop', app: 'pay', env: 'dev', auth: { type: 'bearer', token: '$Secret{TWILIO_TOKEN}' } });
    const err = await failure(run({ body: {} }, 'dev'));
    expect(err.code).toBe('CONFIG_ERROR');
    expect(err.message).toContain('secret TWILIO_TOKEN is not available in env dev');
    expect(err.message).toMatch(/secrets\.set/);
    const shown = `${err.message} ${JSON.stringify(err.toJSON())}`;
    for (const other of ['STRIPE_KEY', 'staging', 'prd']) expect(shown).not.toContain(other);
  });
});
