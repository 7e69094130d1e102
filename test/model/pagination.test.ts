// The pure pagination rules: paths, Link headers, next page per strategy, and definition checks.
import { describe, expect, it } from 'vitest';
import { checkPagination, linkNext, nextPage, readPath, withTarget } from '../../src/model/pagination.js';

describe('readPath', () => {
  it.each([
    [{ a: { b: 1 } }, 'a.b', 1],
    [{ data: [{ id: 'x' }, { id: 'y' }] }, 'data[-1].id', 'y'],
    [{ data: [] }, 'data[-1].id', undefined],
    [{ a: 1 }, 'constructor', undefined],
    [null, 'a', undefined],
  ])('%j at %s is %j', (body, path, value) => expect(readPath(body, path)).toEqual(value));
});

describe('linkNext', () => {
  it.each([
    ['<https://api.test/x?page=2>; rel="next", <https://api.test/x?page=9>; rel="last"', 'https://api.test/x?page=2'],
    ['<https://api.test/x?page=1>; rel="prev first", <https://api.test/x?page=3>; rel=next', 'https://api.test/x?page=3'],
    ['<https://api.test/a,b>; rel="next"', 'https://api.test/a,b'],
    [['<https://api.test/p1>; rel="prev"', '<https://api.test/p3>; rel="next"'], 'https://api.test/p3'],
    ['<https://api.test/x?page=9>; rel="last"', undefined],
    [undefined, undefined],
  ])('%j → %s', (header, next) => expect(linkNext(header as string)).toBe(next));
});

describe('nextPage', () => {
  it('cursor: stops on has_more false, on an empty list, or without a cursor', () => {
    const def = { type: 'cursor', cursor: 'data[-1].id', param: 'query.starting_after', has_more: 'has_more', items: 'data' } as const;
    expect(nextPage(def, { query: { limit: 3 } }, { data: [{ id: 'a' }, { id: 'b' }], has_more: true }, {})).toEqual({ input: { query: { limit: 3, starting_after: 'b' } } });
    expect(nextPage(def, {}, { data: [{ id: 'a' }], has_more: false }, {})).toBeUndefined();
    expect(nextPage(def, {}, { data: [], has_more: true }, {})).toBeUndefined();
    expect(nextPage({ type: 'cursor', cursor: 'meta.next', param: 'body.page.after' }, { body: { q: 'x' } }, { meta: { next: null } }, {})).toBeUndefined();
    expect(nextPage({ type: 'cursor', cursor: 'meta.next', param: 'body.page.after' }, { body: { q: 'x' } }, { meta: { next: 'c2' } }, {})).toEqual({ input: { body: { q: 'x', page: { after: 'c2' } } } });
  });

  it("escapes a cursor's $ so the run input carries it as data, never as a placeholder", () => {
    const def = { type: 'cursor', cursor: 'next', param: 'query.cursor' } as const;
    expect(nextPage(def, {}, { next: '$Session{user}{email}' }, {})).toEqual({ input: { query: { cursor: '\\$Session{user}{email}' } } });
    expect(nextPage(def, {}, { next: 'a\\$b$Now' }, {})).toEqual({ input: { query: { cursor: 'a\\\\$b\\$Now' } } });
    expect(nextPage(def, {}, { next: 42 }, {})).toEqual({ input: { query: { cursor: 42 } } });
  });

  it('offset: advances by the items received and stops on a short page', () => {
    const def = { type: 'offset', param: 'query.offset', limit_param: 'query.limit', items: 'results' } as const;
    expect(nextPage(def, { query: { limit: 2 } }, { results: [1, 2] }, {})).toEqual({ input: { query: { limit: 2, offset: 2 } } });
    expect(nextPage(def, { query: { limit: 2, offset: 4 } }, { results: [1, 2] }, {})).toEqual({ input: { query: { limit: 2, offset: 6 } } });
    expect(nextPage(def, { query: { limit: 2, offset: 4 } }, { results: [1] }, {})).toBeUndefined();
  });

  it('page: starts from `start` (default 1) and stops on an empty page', () => {
    expect(nextPage({ type: 'page', param: 'query.page', items: 'items' }, {}, { items: [1] }, {})).toEqual({ input: { query: { page: 2 } } });
    expect(nextPage({ type: 'page', param: 'query.page', items: 'items', start: 0 }, {}, { items: [1] }, {})).toEqual({ input: { query: { page: 1 } } });
    expect(nextPage({ type: 'page', param: 'headers.x-page', items: 'items' }, { headers: { 'X-Page': '4' } }, { items: [1] }, {})).toEqual({ input: { headers: { 'x-page': 5 } } });
    expect(nextPage({ type: 'page', param: 'query.page', items: 'items' }, {}, { items: [] }, {})).toBeUndefined();
  });

  it('link: the Link header by default, or a body path', () => {
    expect(nextPage({ type: 'link' }, {}, [], { link: '<https://a.test/p2>; rel="next"' })).toEqual({ url: 'https://a.test/p2' });
    expect(nextPage({ type: 'link', next: 'next' }, {}, { next: '/p2' }, {})).toEqual({ url: '/p2' });
    expect(nextPage({ type: 'link', next: 'next' }, {}, { next: null }, {})).toBeUndefined();
  });
});

describe('withTarget', () => {
  it('never changes the caller input', () => {
    const input = { query: { a: 1 }, body: { page: { size: 10 } } };
    withTarget(input, 'query.b', 2);
    withTarget(input, 'body.page.after', 'c');
    expect(input).toEqual({ query: { a: 1 }, body: { page: { size: 10 } } });
  });
});

describe('checkPagination', () => {
  it.each([
    [{ type: 'scroll' }, 'pagination.type'],
    [{ type: 'cursor', cursor: 'next' }, 'pagination.param'],
    [{ type: 'cursor', cursor: 'next', param: 'cursor' }, 'pagination.param'],
    [{ type: 'offset', param: 'query.offset' }, 'pagination.items'],
    [{ type: 'page', param: 'query.page', items: 'data', start: 'one' }, 'pagination.start'],
    [{ type: 'link', next: 'a..b' }, 'pagination.next'],
    [{ type: 'link', cursor: 'x' }, 'pagination.cursor'],
  ])('refuses %j naming %s', (def, field) => {
    expect(() => checkPagination('pagination', def)).toThrow(expect.objectContaining({ code: 'CONFIG_ERROR', message: expect.stringContaining(field) }));
  });
});
