import { describe, expect, it } from 'vitest';
import { cacheKey, cacheKeyPrefix, canonicalHeaders, canonicalUrl, type CacheKeyParts } from '../../src/cache/key.js';

const base: CacheKeyParts = {
  workspace: 'acme',
  product: 'catalog',
  cacheTag: 'products-list',
  env: 'prd',
  accessTag: 'shop',
  event: 'list_products',
  method: 'GET',
  url: 'https://api.shop.test/products?category=electronics&limit=10',
  body: null,
  credentialId: 'cred-fp-1',
  headers: { accept: 'application/json', authorization: 'Bearer sk_live_abc123' },
};

describe('canonicalUrl', () => {
  it.each([
    ['https://a.test/x?b=2&a=1', 'https://a.test/x?a=1&b=2'],
    ['https://a.test/x?id=2&z=0&id=1', 'https://a.test/x?id=2&id=1&z=0'],
    ['https://a.test/x', 'https://a.test/x'],
    ['https://a.test/x?', 'https://a.test/x?'],
    ['https://a.test/x?b&a=', 'https://a.test/x?a=&b'],
    ['https://a.test/x?a=1#frag', 'https://a.test/x?a=1'],
    ['https://a.test/x?q=%2F&p=a%20b', 'https://a.test/x?p=a%20b&q=%2F'],
    ['https://a.test/x?a=1&a=0&b', 'https://a.test/x?a=1&a=0&b'],
    ['https://a.test/x?a=1&&b=2', 'https://a.test/x?a=1&b=2'],
    ['https://a.test/x?a=1&b=2&', 'https://a.test/x?a=1&b=2'],
    ['https://a.test/x?ab=1&a=2', 'https://a.test/x?a=2&ab=1'],
  ])('turns %s into %s', (input, expected) => {
    expect(canonicalUrl(input)).toBe(expected);
  });
});

describe('canonicalHeaders', () => {
  it('lowercases and sorts names and merges case variants in order', () => {
    expect(canonicalHeaders({ 'X-B': '2', accept: 'a', 'x-b': ['3'], 'X-Skip': undefined })).toEqual([
      ['accept', ['a']],
      ['x-b', ['2', '3']],
    ]);
    expect(canonicalHeaders({ 'x-b': '2', accept: 'a', authorization: 'k' })).toEqual([
      ['accept', ['a']],
      ['authorization', ['k']],
      ['x-b', ['2']],
    ]);
  });
});

describe('cacheKey', () => {
  const key = (over: Partial<CacheKeyParts>) => cacheKey({ ...base, ...over });

  it('is the same for requests that differ only in query order, header order or header case', () => {
    expect(key({})).toBe(key({ url: 'https://api.shop.test/products?limit=10&category=electronics' }));
    expect(key({})).toBe(key({ headers: { Authorization: 'Bearer sk_live_abc123', Accept: 'application/json' } }));
    expect(key({ method: 'get' })).toBe(key({}));
  });

  it.each<[string, Partial<CacheKeyParts>]>([
    ['env', { env: 'dev' }],
    ['access tag', { accessTag: 'shop-eu' }],
    ['event', { event: 'list_products_v2' }],
    ['method', { method: 'POST' }],
    ['path', { url: 'https://api.shop.test/products/?category=electronics&limit=10' }],
    ['query value', { url: 'https://api.shop.test/products?category=books&limit=10' }],
    ['origin', { url: 'https://eu.api.shop.test/products?category=electronics&limit=10' }],
    ['order of a repeated query name', { url: 'https://api.shop.test/products?category=electronics&limit=10&t=1&t=2' }],
    ['body', { body: '{"a":1}' }],
    ['credential identity', { credentialId: 'cred-fp-2' }],
    ['missing credential identity', { credentialId: undefined }],
    ['authorization value', { headers: { accept: 'application/json', authorization: 'Bearer sk_live_other' } }],
    ['an extra header', { headers: { ...base.headers, 'x-tenant': '7' } }],
  ])('differs when the %s differs', (_what, over) => {
    expect(key(over)).not.toBe(key({}));
  });

  it('keeps repeated query names distinct by order', () => {
    expect(key({ url: 'https://a.test/x?t=1&t=2' })).not.toBe(key({ url: 'https://a.test/x?t=2&t=1' }));
  });

  it('treats no body, an empty string and empty bytes alike, and equal bytes and text alike', () => {
    expect(key({ body: '' })).toBe(key({ body: null }));
    expect(key({ body: new Uint8Array(0) })).toBe(key({ body: undefined }));
    expect(key({ body: new TextEncoder().encode('{"a":1}') })).toBe(key({ body: '{"a":1}' }));
  });

  it('starts with the product cache prefix and never holds a credential in clear', () => {
    const k = key({});
    expect(k.startsWith(cacheKeyPrefix(base))).toBe(true);
    expect(k).not.toContain('sk_live_abc123');
    expect(k).not.toContain('cred-fp-1');
    expect(k).not.toContain('electronics');
  });

  it('keeps each workspace, product and cache tag under its own prefix', () => {
    const prefixes = [
      cacheKeyPrefix(base),
      cacheKeyPrefix({ ...base, workspace: 'other' }),
      cacheKeyPrefix({ ...base, product: 'catalog2' }),
      cacheKeyPrefix({ ...base, cacheTag: 'products' }),
    ];
    for (const a of prefixes) for (const b of prefixes) if (a !== b) expect(a.startsWith(b)).toBe(false);
    // A slash in a name cannot reach into another product's prefix.
    expect(cacheKeyPrefix({ ...base, product: 'catalog/products-list' })).not.toContain('catalog/products-list/');
  });

  it('depends on the secret when one is given (keyed hash)', () => {
    const a = cacheKey(base, { secret: Buffer.alloc(32, 1) });
    const b = cacheKey(base, { secret: Buffer.alloc(32, 2) });
    expect(a).not.toBe(b);
    expect(a).not.toBe(cacheKey(base));
    expect(cacheKey(base, { secret: Buffer.alloc(32, 1) })).toBe(a);
  });

  it('gives the same keys with a memo of digests, which it keeps bounded', () => {
    const secret = Buffer.alloc(32, 1);
    const memo = new Map<string, string>();
    const a = cacheKey(base, { secret, memo });
    expect(a).toBe(cacheKey(base, { secret }));
    expect(memo.size).toBe(1);
    // A remembered digest is used again: same key, no new entry.
    expect(cacheKey(base, { secret, memo })).toBe(a);
    expect(memo.size).toBe(1);
    for (let i = 0; i < 1500; i++) {
      const over = { ...base, url: `https://api.shop.test/products?page=${i}` };
      expect(cacheKey(over, { secret, memo })).toBe(cacheKey(over, { secret }));
    }
    expect(memo.size).toBe(1024);
  });
});
