// The bind stage alone: identity on the hot path, every input kind, secrets from a real store, refusals.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { IActionRequest, RunContext } from '../../src/runtime/context.js';
import { bind } from '../../src/runtime/bind.js';
import type { Plan } from '../../src/runtime/plan.js';
import { PlanCache, type Runtime } from '../../src/runtime/runtime.js';
import { RuntimeState } from '../../src/runtime/state.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/store.js';
import { setSecret } from '../../src/workspace/secrets.js';
import { errorOf } from '../helpers/errors.js';

const KEY = 'bind-test-private-key';
let store: Store;

beforeEach(async () => {
  store = await openSqliteStore(':memory:');
});
afterEach(async () => store.close());

function context(input: IActionRequest, session?: unknown): RunContext {
  const runtime = { workspace: 'acme', store, privateKey: KEY, plans: new PlanCache(), state: new RuntimeState(), secretsInInput: true } as unknown as Runtime;
  const plan = {
    env: 'prd',
    accessTag: 'stripe',
    app: { tag: 'stripe', name: 'Stripe', envs: [], constants: { version: '2024-01-01', limits: { max: 5 } }, variables: { region: { default: 'eu' } } },
    connection: { config: { variables: { account: 'acct_1', nested: { a: 1 } } }, credentials: null },
  } as unknown as Plan;
  return {
    runtime,
    run: { env: 'prd', product: 'payments', app: 'stripe', event: 'x', input },
    startedAt: Date.now(),
    perfStart: 0,
    plan,
    session: session === undefined ? undefined : { data: session, sessionId: 's' },
    attempts: 0,
    cached: false,
  } as RunContext;
}

async function bound(input: IActionRequest, session?: unknown): Promise<IActionRequest> {
  const ctx = context(input, session);
  await bind(ctx);
  return ctx.bound!;
}


describe('bind', () => {
  it('keeps the caller input object itself when there is nothing to resolve, synchronously', () => {
    const input = { body: { a: 'no dollars', n: 1, list: ['$5'] }, query: { q: 'x' } };
    const ctx = context(input);
    expect(bind(ctx)).toBeUndefined();
    expect(ctx.bound).toBe(input);
  });

  it('resolves $Variable (with declared defaults), $Constant and $Session without touching the store', async () => {
    const out = await bound(
      { params: { id: '$Session{user}{id}' }, query: { acct: '$Variable{account}', region: '$Variable{region}', v: '$Constant{version}', max: '$Constant{limits}{max}', a: '$Variable{nested}{a}' } },
      { user: { id: 42 } },
    );
    expect(out).toEqual({ params: { id: 42 }, query: { acct: 'acct_1', region: 'eu', v: '2024-01-01', max: 5, a: 1 } });
  });

  it('resolves $Secret scoped to the run env and app', async () => {
    await setSecret({ store, workspace: 'acme', privateKey: KEY }, { key: 'API_KEY', value: 'prd-value-123', envs: ['prd'] });
    await setSecret({ store, workspace: 'acme', privateKey: KEY }, { key: 'API_KEY', value: 'dev-value-123', envs: ['dev'] });
    expect(await bound({ headers: { 'x-key': 'k=$Secret{API_KEY}' } })).toEqual({ headers: { 'x-key': 'k=prd-value-123' } });
  });

  it('gives INVALID_INPUT naming the placeholder for an unknown or out-of-scope secret', async () => {
    await setSecret({ store, workspace: 'acme', privateKey: KEY }, { key: 'DEV_ONLY', value: 'dev-only-value', envs: ['dev'] });
    const err = await errorOf(bound({ headers: { a: '$Secret{NOPE}', b: '$Secret{DEV_ONLY}' } }));
    expect(err.code).toBe('INVALID_INPUT');
    const issues = (err as unknown as { issues: { location: string; path: string; message: string }[] }).issues;
    expect(issues.map((i) => [i.location, i.path])).toEqual([
      ['headers', '/a'],
      ['headers', '/b'],
    ]);
    expect(issues[0].message).toContain('$Secret{NOPE} has no value');
    expect(issues[1].message).toContain('$Secret{DEV_ONLY} has no value');
    expect(JSON.stringify(err.toJSON())).not.toContain('dev-only-value');
  });

  it('uses one instant for every $Now of a run', async () => {
    const out = (await bound({ body: { a: '$Now', b: ['$Now'], c: 'at $Now' } })) as { body: { a: string; b: string[]; c: string } };
    expect(Number.isNaN(Date.parse(out.body.a))).toBe(false);
    expect(out.body.b[0]).toBe(out.body.a);
    expect(out.body.c).toBe(`at ${out.body.a}`);
  });

  it.each([
    ['$Auth{token}', /holds \$Auth\{token\}: a login result \(\$Auth\) can only be used in the connection's auth templates/],
    ['$Env{HOME}', /\$Env\{HOME\} is not allowed here/],
    ['$Sesion{user}', /did you mean \$Session/],
  ])('refuses %s in run input with INVALID_INPUT', async (text, message) => {
    const err = await errorOf(bound({ body: { x: text } }));
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.message).toMatch(message);
    expect((err as unknown as { issues: { location: string; path: string }[] }).issues[0]).toMatchObject({ location: 'body', path: '/x' });
  });

  it('unescapes \\$ without needing any value', async () => {
    const input = { body: { price: '\\$Secret{X}' } };
    expect(await bound(input)).toEqual({ body: { price: '$Secret{X}' } });
    expect(input.body.price).toBe('\\$Secret{X}');
  });

  it('reports malformed placeholders and missing values together', async () => {
    const err = await errorOf(bound({ params: { a: '$Session{missing}' }, query: { b: '$Sesion{id}' }, body: { c: '$Secret{NOPE}' } }, { user: {} }));
    expect(err.code).toBe('INVALID_INPUT');
    const issues = (err.details.issues as { location: string; path: string }[]).map((i) => `${i.location}${i.path}`).sort();
    expect(issues).toEqual(['body/c', 'params/a', 'query/b']);
  });
});
