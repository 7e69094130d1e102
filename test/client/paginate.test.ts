// actions.paginate against loopback servers of each strategy: 5 pages of 100 items, max_pages, origin lock, failures.
import { afterEach, describe, expect, it } from 'vitest';
import type { Ductape } from '../../src/index.js';
import type { PaginationDef } from '../../src/model/pagination.js';
import { newClient } from '../helpers/client.js';
import { errorOf } from '../helpers/errors.js';
import { startUpstream, type Handler, type Recorded, type Upstream } from '../helpers/upstream.js';

const TOTAL = 500;
const ids = (from: number, n: number) => Array.from({ length: Math.max(0, Math.min(n, TOTAL - from)) }, (_, i) => ({ id: `it_${from + i}` }));
const json = (res: Parameters<Handler>[1], body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(200, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};
const query = (req: Recorded) => new URL(req.url, 'http://x').searchParams;

// One server per strategy, each a real API shape.
const servers: Record<string, { pagination: PaginationDef; handler: (base: () => string) => Handler }> = {
  // Stripe: has_more + starting_after = the last item's id.
  cursor: {
    pagination: { type: 'cursor', cursor: 'data[-1].id', param: 'query.starting_after', has_more: 'has_more', items: 'data' },
    handler: () => (req, res) => {
      const after = query(req).get('starting_after');
      const from = after ? Number(after.slice(3)) + 1 : 0;
      json(res, { object: 'list', data: ids(from, 100), has_more: from + 100 < TOTAL });
    },
  },
  offset: {
    pagination: { type: 'offset', param: 'query.offset', limit_param: 'query.limit', items: 'results' },
    handler: () => (req, res) => {
      const q = query(req);
      json(res, { results: ids(Number(q.get('offset') ?? 0), Number(q.get('limit'))) });
    },
  },
  page: {
    pagination: { type: 'page', param: 'query.page', items: 'items' },
    handler: () => (req, res) => {
      const page = Number(query(req).get('page') ?? 1);
      json(res, { items: ids((page - 1) * 100, 100) });
    },
  },
  // GitHub: RFC 8288 Link headers with absolute URLs.
  link: {
    pagination: { type: 'link' },
    handler: (base) => (req, res) => {
      const page = Number(query(req).get('page') ?? 1);
      const links = [`<${base()}/v1/items?page=1>; rel="first"`];
      if (page * 100 < TOTAL) links.push(`<${base()}/v1/items?page=${page + 1}&per_page=100>; rel="next"`);
      json(res, ids((page - 1) * 100, 100), { link: links.join(', ') });
    },
  },
  // A `next` URL in the body (DRF, Spotify), relative here.
  next_url: {
    pagination: { type: 'link', next: 'next' },
    handler: () => (req, res) => {
      const page = Number(query(req).get('page') ?? 1);
      json(res, { results: ids((page - 1) * 100, 100), next: page * 100 < TOTAL ? `/v1/items?page=${page + 1}` : null });
    },
  },
};

let up: Upstream;
let ductape: Ductape;

afterEach(async () => {
  await ductape?.close();
  await up?.close();
});

async function setup(handler: Handler, pagination?: PaginationDef): Promise<void> {
  up = await startUpstream(handler);
  ductape = newClient();
  await ductape.apps.create({ tag: 'api', envs: [{ slug: 'prd', base_url: `${up.url}/v1` }] });
  await ductape.apps.actions.create({ app: 'api', event: 'list_items', method: 'GET', path: '/items' });
  if (pagination) await ductape.apps.actions.update({ app: 'api', event: 'list_items', pagination });
  await ductape.products.create({ tag: 'shop', envs: ['prd'] });
  await ductape.products.apps.connect({ product: 'shop', app: 'api' });
}

const list = (extra: object = {}) => ({ env: 'prd', product: 'shop', app: 'api', event: 'list_items', ...extra });
const itemsOf = (page: unknown): { id: string }[] => (Array.isArray(page) ? page : ((page as Record<string, unknown>).data ?? (page as Record<string, unknown>).results ?? (page as Record<string, unknown>).items)) as { id: string }[];

describe('actions.paginate', () => {
  for (const [name, s] of Object.entries(servers)) {
    it(`${name}: 5 pages of 100 items come back in order, each a normal run`, async () => {
      await setup(s.handler(() => up.url), s.pagination);
      const pages: unknown[] = [];
      const input = name === 'offset' ? { input: { query: { limit: 100 } } } : {};
      for await (const page of ductape.actions.paginate(list(input))) pages.push(page);
      expect(pages).toHaveLength(5);
      expect(pages.flatMap(itemsOf).map((i) => i.id)).toEqual(Array.from({ length: TOTAL }, (_, i) => `it_${i}`));
      // A page that came back short or empty ends the walk without an extra request where the strategy can tell.
      expect(up.requests.length).toBeLessThanOrEqual(6);
      const logs = await ductape.logs.query({ event: 'list_items', limit: 10 });
      expect(logs.filter((l) => l.ok)).toHaveLength(up.requests.length);
    });
  }

  it('max_pages stops after that many pages', async () => {
    await setup(servers.cursor.handler(() => up.url), servers.cursor.pagination);
    const pages: unknown[] = [];
    for await (const page of ductape.actions.paginate(list({ max_pages: 2 }))) pages.push(page);
    expect(pages).toHaveLength(2);
    expect(up.requests).toHaveLength(2);
  });

  it('refuses a next link on another origin (the origin lock holds)', async () => {
    const other = await startUpstream();
    try {
      await setup((_req, res) => json(res, [{ id: 'it_0' }], { link: `<${other.url}/v1/items?page=2>; rel="next"` }), { type: 'link' });
      const pages: unknown[] = [];
      const err = await errorOf(
        (async () => {
          for await (const page of ductape.actions.paginate(list())) pages.push(page);
        })(),
      );
      expect(err.code).toBe('UPSTREAM_ERROR');
      expect(err.message).toContain(`points to ${other.url}`);
      expect(pages).toHaveLength(1);
      expect(other.requests).toHaveLength(0);
    } finally {
      await other.close();
    }
  });

  it('a failing page surfaces its error after the earlier pages were yielded', async () => {
    await setup((req, res) => {
      const page = Number(query(req).get('page') ?? 1);
      if (page === 3) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end('{"error":"boom"}');
        return;
      }
      json(res, { items: ids((page - 1) * 100, 100) });
    }, servers.page.pagination);
    const pages: unknown[] = [];
    const err = await errorOf(
      (async () => {
        for await (const page of ductape.actions.paginate(list())) pages.push(page);
      })(),
    );
    expect(pages).toHaveLength(2);
    expect(err).toMatchObject({ code: 'UPSTREAM_ERROR', status: 500 });
  });

  it('a next page that repeats an earlier one ends the walk with UPSTREAM_ERROR instead of looping', async () => {
    await setup((_req, res) => json(res, { data: [{ id: 'same' }], has_more: true }), servers.cursor.pagination);
    let n = 0;
    const err = await errorOf(
      (async () => {
        for await (const _page of ductape.actions.paginate(list())) n++;
      })(),
    );
    expect(err.message).toMatch(/same next page twice/);
    expect(n).toBe(2);
  });

  it('an offset or page walk whose upstream ignores the param ends with UPSTREAM_ERROR instead of looping', async () => {
    // The API pages with `skip`; the definition says `offset`: the same full first page came back forever.
    await setup((req, res) => json(res, { results: ids(Number(query(req).get('skip') ?? 0), 10) }), { type: 'offset', param: 'query.offset', items: 'results', limit_param: 'query.limit' });
    const pages: unknown[] = [];
    const err = await errorOf(
      (async () => {
        for await (const page of ductape.actions.paginate(list({ input: { query: { limit: 10 } } }))) if (pages.push(page) > 50) break;
      })(),
    );
    expect(err).toMatchObject({ code: 'UPSTREAM_ERROR' });
    expect(err.message).toMatch(/same results as page 1.*ignore query\.offset/);
    expect(pages).toHaveLength(1);
    expect(up.requests).toHaveLength(2);
  });

  it('a page without a list at items ends the walk with UPSTREAM_ERROR naming the path, instead of looking like the last page', async () => {
    // The list is under data.results; the definition says results. Each walk used to yield one page and stop quietly.
    let page = 0;
    await setup((_req, res) => json(res, page++ === 0 ? { results: ids(0, 100), next: 'c1' } : { data: { results: ids(100, 100) }, next: 'c2' }));
    for (const pagination of [
      { type: 'page', param: 'query.page', items: 'results' },
      { type: 'offset', param: 'query.offset', items: 'results' },
      { type: 'cursor', cursor: 'next', param: 'query.after', items: 'results' },
    ] as const) {
      page = 0;
      await ductape.apps.actions.update({ app: 'api', event: 'list_items', pagination });
      const pages: unknown[] = [];
      const err = await errorOf(
        (async () => {
          for await (const p of ductape.actions.paginate(list())) pages.push(p);
        })(),
      );
      expect(err).toMatchObject({ code: 'UPSTREAM_ERROR', status: 200 });
      expect(err.message).toMatch(/^Page 2 has nothing at "results" \(the action's pagination\.items\)/);
      expect(pages).toHaveLength(1);
    }
    // Not a list either: named as what it is. A null list is an empty one: the last page.
    page = 1;
    await ductape.close();
    await up.close();
    await setup((_req, res) => json(res, { results: page++ === 1 ? { total: 0 } : null }), { type: 'page', param: 'query.page', items: 'results' });
    const walk = async () => {
      for await (const _p of ductape.actions.paginate(list()));
    };
    expect((await errorOf(walk())).message).toMatch(/^Page 1 has an object at "results" \(the action's pagination\.items\), not a list, so/);
    const pages: unknown[] = [];
    for await (const p of ductape.actions.paginate(list())) pages.push(p);
    expect(pages).toEqual([{ results: null }]);
  });

  it('a first page whose next page is itself is yielded once and requested once (its own link, or the starting cursor)', async () => {
    // Some APIs answer their last page with a next link to that very page; the walk used to fetch and yield it again.
    await setup((req, res) => json(res, { data: [{ id: 'a' }], next_cursor: 'c1' }, { link: `<${up.url}/v1/items?page=1>; rel="next"` }), { type: 'link' });
    const walk = async (input: object) => {
      const pages: unknown[] = [];
      const err = await errorOf(
        (async () => {
          for await (const page of ductape.actions.paginate(list({ input }))) pages.push(page);
        })(),
      );
      return { pages, err };
    };
    const linked = await walk({ query: { page: 1 } });
    expect(linked.pages).toHaveLength(1);
    expect(linked.err.message).toMatch(/same next page twice/);
    expect(up.requests.map((r) => r.url)).toEqual(['/v1/items?page=1']);

    await ductape.apps.actions.update({ app: 'api', event: 'list_items', pagination: { type: 'cursor', cursor: 'next_cursor', param: 'query.cursor' } });
    up.requests.length = 0;
    const cursored = await walk({ query: { cursor: 'c1' } });
    expect(cursored.pages).toHaveLength(1);
    expect(cursored.err).toMatchObject({ code: 'UPSTREAM_ERROR' });
    expect(up.requests.map((r) => r.url)).toEqual(['/v1/items?cursor=c1']);
  });

  it("sends an upstream's cursor back as it came, even when it looks like a placeholder", async () => {
    // Cursors went into the next page's input unescaped: "$Session{user}{email}" sent the end user's session data to
    // the upstream, and "$Now" or "\\$" changed the cursor.
    const cursors = ['$Session{user}{email}', 'a\\$b$Now', null];
    let n = 0;
    await setup((_req, res) => json(res, { items: [n], next_cursor: cursors[n++] }), { type: 'cursor', cursor: 'next_cursor', param: 'query.cursor' });
    await ductape.products.sessions.create({ product: 'shop', tag: 's', sample: { user: { id: '1', email: 'a@b.c' } }, selector: '$Session{user}{id}' });
    const { token } = await ductape.sessions.start({ product: 'shop', env: 'prd', tag: 's', data: { user: { id: '1', email: 'private@user.test' } } });
    const pages: unknown[] = [];
    for await (const page of ductape.actions.paginate(list({ session: { tag: 's', token } }))) pages.push(page);
    expect(pages).toHaveLength(3);
    expect(up.requests.map((r) => query(r).get('cursor'))).toEqual([null, '$Session{user}{email}', 'a\\$b$Now']);
  });

  it('says how to set a pagination definition when the action has none', async () => {
    await setup(servers.page.handler(() => up.url));
    const err = await errorOf(ductape.actions.paginate(list()).next());
    expect(err).toMatchObject({ code: 'CONFIG_ERROR' });
    expect(err.message).toMatch(/apps\.actions\.update/);
  });

  it('names max_pages when it is misspelt, instead of listing the run options without it', async () => {
    await setup(servers.page.handler(() => up.url), servers.page.pagination);
    for (const typo of ['max_page', 'maxPages']) {
      const err = await errorOf(ductape.actions.paginate(list({ [typo]: 2 })).next());
      expect(err).toMatchObject({ code: 'CONFIG_ERROR', details: { option: typo } });
      expect(err.message).toContain('Did you mean "max_pages"?');
      expect(err.message).toMatch(/Accepted: .*max_pages/);
      expect(err.message).not.toMatch(/stream/);
    }
    expect(up.requests).toHaveLength(0);
  });

  it('apps.actions.update sets, keeps and removes a pagination definition', async () => {
    await setup(servers.page.handler(() => up.url), servers.page.pagination);
    const action = await ductape.apps.actions.fetch({ app: 'api', event: 'list_items' });
    expect(action).toMatchObject({ method: 'GET', path: '/items', pagination: servers.page.pagination });
    await ductape.apps.actions.update({ app: 'api', event: 'list_items', summary: 'List items' });
    expect((await ductape.apps.actions.fetch({ app: 'api', event: 'list_items' })).pagination).toEqual(servers.page.pagination);
    await ductape.apps.actions.update({ app: 'api', event: 'list_items', pagination: null });
    expect((await ductape.apps.actions.fetch({ app: 'api', event: 'list_items' })).pagination).toBeUndefined();
    const bad = await errorOf(ductape.apps.actions.update({ app: 'api', event: 'list_items', pagination: { type: 'cursor', cursor: 'next' } as never }));
    expect(bad).toMatchObject({ code: 'CONFIG_ERROR' });
    expect(bad.message).toContain('pagination.param');
  });
});
