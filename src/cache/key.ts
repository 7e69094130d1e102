// Cache keys: a readable prefix (workspace, product, cache tag) plus a hash of the canonical resolved request.
import { createHash, createHmac } from 'node:crypto';

export interface CacheKeyParts {
  workspace: string;
  product: string;
  /** The product cache's tag (`run({ cache })`); part of the prefix so `caches.clear({ product, tag })` finds it. */
  cacheTag: string;
  env: string;
  /** The connected app's access tag (`run({ app })`). */
  accessTag: string;
  event: string;
  method: string;
  /** Absolute URL as sent: origin, path and query. */
  url: string;
  /** Body bytes as sent (null/undefined when there is none). Streams and FormData are not cacheable. */
  body?: string | Uint8Array | null;
  /** Identity of the credentials applied (already a fingerprint, see OutgoingRequest.credentialId). */
  credentialId?: string;
  /** Request headers as sent, credentials included: they are hashed with the rest, never kept. */
  headers?: Record<string, string | string[] | undefined>;
  /** The end user whose connection was used (per-user connections): their entries are theirs alone. */
  owner?: string;
}

export interface CacheKeyOptions {
  /**
   * Key for an HMAC over the canonical form. With it (derived from the workspace private_key), someone who can read
   * the shared Redis cannot confirm a guessed credential by hashing candidate requests.
   */
  secret?: Uint8Array;
  /**
   * Digests of recent canonical forms (filled and bounded here): an HMAC costs a few µs, a lookup a fraction of one,
   * and a cache that answers at all sees the same requests again. Hold one per secret (runtime.state does).
   */
  memo?: Map<string, string>;
}

/** Canonical forms a memo remembers; past this the oldest is forgotten (at ~0.5 KB each, well under 1 MB). */
const MEMO_SIZE = 1024;

// Bumped whenever the canonical form changes, so old entries are never read with a new meaning.
const KEY_VERSION = 'v1';

/**
 * The prefix every key of one product cache starts with (what `Cache.clear` takes); without `cacheTag`, the prefix
 * of all the product's caches.
 */
export function cacheKeyPrefix(p: { workspace: string; product: string; cacheTag?: string }): string {
  // Tags are slugs, but escaping keeps a crafted name from reaching into another product's prefix.
  const product = `${KEY_VERSION}/${enc(p.workspace)}/${enc(p.product)}/`;
  return p.cacheTag === undefined ? product : `${product}${enc(p.cacheTag)}/`;
}

/**
 * The cache key of one resolved request. Equal for requests that would get the same upstream answer, and different
 * whenever anything that can change the answer differs (API.md §4 Caching).
 * @example cacheKey({ workspace: 'acme', product: 'catalog', cacheTag: 'products-list', env: 'prd', accessTag: 'shop',
 *   event: 'list_products', method: 'GET', url: 'https://api.test/products?b=2&a=1', headers: { accept: 'application/json' } })
 */
export function cacheKey(parts: CacheKeyParts, options: CacheKeyOptions = {}): string {
  const fields: unknown[] = [
    parts.env,
    parts.accessTag,
    parts.event,
    parts.method.toUpperCase(),
    canonicalUrl(parts.url),
    bodyDigest(parts.body),
    parts.credentialId ?? '',
    canonicalHeaders(parts.headers ?? {}),
  ];
  // Appended only when there is one, so keys of shared connections stay as they were.
  if (parts.owner !== undefined) fields.push(['owner', parts.owner]);
  const canonical = JSON.stringify(fields);
  const { memo } = options;
  let digest = memo?.get(canonical);
  if (digest === undefined) {
    const mac = options.secret ? createHmac('sha256', options.secret) : createHash('sha256');
    digest = mac.update(canonical).digest('base64url');
    if (memo) {
      if (memo.size >= MEMO_SIZE) memo.delete(memo.keys().next().value as string);
      memo.set(canonical, digest);
    }
  }
  return cacheKeyPrefix(parts) + digest;
}

/**
 * The URL with its query parameters sorted by name. The sort is stable, so repeated names keep their order:
 * `b=1&a=2` equals `a=2&b=1`, but `id=1&id=2` (an ordered list for most servers) stays distinct from `id=2&id=1`.
 * Encoding is left as sent: the encode stage is deterministic, and decoding could merge requests that differ on the wire.
 */
export function canonicalUrl(url: string): string {
  const hash = url.indexOf('#');
  const bare = hash < 0 ? url : url.slice(0, hash);
  const q = bare.indexOf('?');
  if (q < 0 || isSortedQuery(bare, q + 1)) return bare;
  const pairs = bare
    .slice(q + 1)
    .split('&')
    .filter((p) => p !== '');
  const named = pairs.map((pair, i) => ({ pair, name: pair.split('=', 1)[0], i }));
  named.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.i - b.i));
  return `${bare.slice(0, q)}?${named.map((n) => n.pair).join('&')}`;
}

/** Whether the query from `start` already is canonical: no empty pair, names in order (the usual case: no copy). */
function isSortedQuery(url: string, start: number): boolean {
  let previous = '';
  for (let i = start; i <= url.length; ) {
    let end = url.indexOf('&', i);
    if (end < 0) end = url.length;
    if (end === i) return false;
    const eq = url.indexOf('=', i);
    const name = url.slice(i, eq >= 0 && eq < end ? eq : end);
    if (name < previous) return false;
    previous = name;
    i = end + 1;
  }
  return true;
}

/** Header names lowercased and sorted; repeated values kept in order. */
export function canonicalHeaders(headers: Record<string, string | string[] | undefined>): [string, string[]][] {
  // The usual case (what the encode stage sends): lowercase names, one string each. Then only the names need sorting.
  const names = Object.keys(headers);
  let plain = true;
  for (let i = 0; plain && i < names.length; i++) plain = typeof headers[names[i]] === 'string' && names[i] === names[i].toLowerCase();
  if (plain) return names.sort().map((name) => [name, [headers[name] as string]]);
  const merged = new Map<string, string[]>();
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    const list = merged.get(lower) ?? [];
    list.push(...(Array.isArray(value) ? value : [value]).map(String));
    merged.set(lower, list);
  }
  return [...merged.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function bodyDigest(body: string | Uint8Array | null | undefined): string {
  // No body, an empty string and empty bytes are the same on the wire, and so key the same.
  if (body === null || body === undefined || body.length === 0) return '';
  return createHash('sha256').update(body).digest('base64url');
}

function enc(s: string): string {
  return encodeURIComponent(s);
}
