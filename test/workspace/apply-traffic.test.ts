// ductape.yaml: rate limits of apps and connections, and the pagination of imported actions; a second apply changes nothing.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Ductape } from '../../src/index.js';
import { newClient } from '../helpers/client.js';

let dir: string;
let ductape: Ductape;
afterEach(async () => {
  await ductape?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('ductape.yaml traffic settings', () => {
  it('sets rate limits and an action pagination, then finds nothing to change', async () => {
    dir = mkdtempSync(join(tmpdir(), 'ductape-apply-traffic-'));
    writeFileSync(
      join(dir, 'api.json'),
      JSON.stringify({
        openapi: '3.0.3', info: { title: 'api', version: '1' }, servers: [{ url: 'https://api.example.test' }],
        paths: { '/items': { get: { operationId: 'listItems', parameters: [{ name: 'page', in: 'query', schema: { type: 'integer' } }], responses: { '200': { description: 'ok' } } } } },
      }),
    );
    writeFileSync(
      join(dir, 'ductape.yaml'),
      `apps:
  api:
    spec: ./api.json
    rate_limit: [{ requests: 100, per_ms: 10000 }, { requests: 10000, per_ms: 86400000 }]
    actions:
      list_items:
        pagination: { type: page, param: query.page, items: data }
products:
  shop:
    envs: [prd]
    apps:
      api:
        envs:
          prd: { rate_limit: { requests: 5, per_ms: 1000, concurrency: 2 } }
`,
    );
    ductape = newClient();
    const first = await ductape.apply({ file: join(dir, 'ductape.yaml') });
    expect(first.changes.map((c) => `${c.kind}:${c.target}:${c.detail ?? ''}`)).toEqual(
      expect.arrayContaining(['app:api:rate_limit', 'action:api/list_items:pagination']),
    );
    expect((await ductape.apps.fetch({ app: 'api' })).rate_limit).toEqual([{ requests: 100, per_ms: 10000 }, { requests: 10000, per_ms: 86400000 }]);
    expect((await ductape.apps.actions.fetch({ app: 'api', event: 'list_items' })).pagination).toEqual({ type: 'page', param: 'query.page', items: 'data' });
    const conn = await ductape.products.apps.configure({ product: 'shop', app: 'api', env: 'prd' });
    expect(conn.rate_limit).toEqual({ requests: 5, per_ms: 1000, concurrency: 2 });
    expect((await ductape.apply({ file: join(dir, 'ductape.yaml') })).changes).toEqual([]);
  });
});
