// Pagination detected at import: set only where the spec is unambiguous (docs/pagination.md lists the rules).
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { Ductape } from '../../src/index.js';
import { newClient } from '../helpers/client.js';

let ductape: Ductape;
afterEach(async () => {
  await ductape?.close();
});

const list = (props: Record<string, unknown>) => ({ type: 'object', properties: props });
function spec(op: Record<string, unknown>, query: string[] = []): Record<string, unknown> {
  return {
    openapi: '3.0.3',
    info: { title: 't', version: '1' },
    servers: [{ url: 'https://api.example.test' }],
    paths: { '/items': { get: { operationId: 'listItems', parameters: query.map((name) => ({ name, in: 'query', schema: { type: 'string' } })), ...op } } },
  };
}
const ok = (schema: unknown, headers?: Record<string, unknown>) => ({ responses: { '200': { description: 'ok', ...(headers ? { headers } : {}), content: { 'application/json': { schema } } } } });

async function detected(doc: Record<string, unknown>): Promise<unknown> {
  ductape = newClient();
  await ductape.apps.import({ app: 'api', spec: doc });
  return (await ductape.apps.actions.fetch({ app: 'api', event: 'list_items' })).pagination;
}

describe('pagination detected at import', () => {
  it.each([
    ['a Stripe-style list', spec(ok(list({ has_more: { type: 'boolean' }, data: { type: 'array', items: {} } })), ['starting_after', 'limit']),
      { type: 'cursor', cursor: 'data[-1].id', param: 'query.starting_after', has_more: 'has_more', items: 'data' }],
    ['a declared Link header', spec(ok({ type: 'array', items: {} }, { Link: { schema: { type: 'string' } } })), { type: 'link' }],
    ['a next URL beside one list', spec(ok(list({ results: { type: 'array', items: {} }, next: { type: 'string', nullable: true } }))), { type: 'link', next: 'next' }],
    ['a Slack-style next_cursor', spec(ok(list({ members: { type: 'array' }, response_metadata: list({ next_cursor: { type: 'string' } }) })), ['cursor']),
      { type: 'cursor', cursor: 'response_metadata.next_cursor', param: 'query.cursor' }],
  ])('%s', async (_name, doc, expected) => {
    expect(await detected(doc)).toEqual(expected);
  });

  it.each([
    ['offset and limit alone (never guessed)', spec(ok(list({ results: { type: 'array' } })), ['offset', 'limit'])],
    ['has_more without starting_after', spec(ok(list({ has_more: { type: 'boolean' }, data: { type: 'array' } })))],
    ['a next URL beside two lists', spec(ok(list({ a: { type: 'array' }, b: { type: 'array' }, next: { type: 'string' } })))],
    ['two rules at once', spec(ok(list({ results: { type: 'array' }, next: { type: 'string' } }), { Link: { schema: { type: 'string' } } }))],
  ])('sets nothing for %s', async (_name, doc) => {
    expect(await detected(doc)).toBeUndefined();
  });

  it('finds Stripe\'s own list endpoints in its real spec', async () => {
    ductape = newClient();
    const stripe = JSON.parse(readFileSync(new URL('../fixtures/specs/stripe-api-2020-08-27-spec3-2022-04.json', import.meta.url), 'utf8'));
    await ductape.apps.import({ app: 'stripe', spec: stripe });
    expect((await ductape.apps.actions.fetch({ app: 'stripe', event: 'get_customers' })).pagination).toEqual({
      type: 'cursor', cursor: 'data[-1].id', param: 'query.starting_after', has_more: 'has_more', items: 'data',
    });
    expect((await ductape.apps.actions.fetch({ app: 'stripe', event: 'post_customers' })).pagination).toBeUndefined();
  }, 60_000);

  it('a re-import keeps a pagination set by hand', async () => {
    const doc = spec(ok(list({ results: { type: 'array' } })), ['page']);
    ductape = newClient();
    await ductape.apps.import({ app: 'api', spec: doc });
    const mine = { type: 'page', param: 'query.page', items: 'results' } as const;
    await ductape.apps.actions.update({ app: 'api', event: 'list_items', pagination: mine });
    const report = await ductape.apps.import({ app: 'api', spec: doc });
    expect(report.unchanged).toContain('list_items');
    expect((await ductape.apps.actions.fetch({ app: 'api', event: 'list_items' })).pagination).toEqual(mine);
  });
});
