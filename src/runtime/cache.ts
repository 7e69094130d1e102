// Stage: answers from the product cache when it can; on a miss, one upstream call per key and 2xx answers stored.
import type { Readable } from 'node:stream';
import { cacheKey, type CachedResponse } from '../cache/index.js';
import { DuctapeError, NotFoundError } from '../errors.js';
import { deriveKey } from '../model/keys.js';
import type { RunContext } from './context.js';
import { contentTypeOf, isUtf8Text } from './decode-body.js';
import type { Next } from './pipeline.js';
import { withinRunDeadline } from './deadline.js';
import type { Runtime } from './runtime.js';

export function cache(ctx: RunContext, next: Next): Promise<void> {
  // Most runs name no cache: pass through without an async frame of our own.
  return ctx.run.cache === undefined ? next(ctx) : cached(ctx, next, ctx.run.cache);
}

async function cached(ctx: RunContext, next: Next, tag: string): Promise<void> {
  const plan = ctx.plan!;
  const expiryMs = Object.hasOwn(plan.caches, tag) ? plan.caches[tag].expiry_ms : undefined;
  if (expiryMs === undefined) {
    throw new NotFoundError('cache', tag, Object.keys(plan.caches), 'Create it with products.caches.create.', `in product "${plan.product}"`);
  }
  // A streamed response belongs to its caller as it arrives; storing it would mean reading it whole first.
  if (ctx.run.stream) return next(ctx);
  const req = ctx.request!;
  // Streams and multipart forms cannot be hashed without consuming them (and multipart boundaries are random).
  if (req.body !== null && typeof req.body !== 'string' && !(req.body instanceof Uint8Array)) return next(ctx);

  const { runtime } = ctx;
  const key = cacheKey(
    {
      workspace: runtime.workspace,
      product: plan.product,
      cacheTag: tag,
      env: plan.env,
      accessTag: plan.accessTag,
      event: plan.action.event,
      method: req.method,
      url: req.origin + req.path,
      body: req.body,
      credentialId: req.credentialId,
      headers: req.headers,
      owner: ctx.owner,
    },
    { secret: keySecret(runtime), memo: runtime.state.cacheKeyMemo },
  );

  let hit = await runtime.cache.get(key);
  if (hit && outlived(hit, expiryMs)) {
    // Dropped, then read again so that the miss is an ordinary one (a Redis store notes the clear epoch it saw).
    await runtime.cache.delete(key);
    hit = await runtime.cache.get(key);
    // Another process may have stored the same old entry again meanwhile: still not one to serve.
    if (hit && outlived(hit, expiryMs)) hit = undefined;
  }
  // The common hit is judged once.
  if (hit) return answer(ctx, hit);

  // Concurrent identical misses share the leader's call; its failure reaches them all but is never stored. A run that
  // starts after a caches.clear does not join a call that started before it (the generation is part of the key).
  const generation = clearGeneration(runtime, key);
  const inflightKey = sharedCallKey(key, generation, ctx.run);
  const fetch = async (): Promise<CachedResponse> => {
    await next(ctx);
    const res = ctx.response!;
    const entry: CachedResponse = { status: res.status, headers: storable(res.headers), body: await bytesOf(res.body), storedAt: Date.now(), expiryMs };
    // An answer to a request sent before a clear may predate the change the clear was for: storing it after the
    // clear would serve it for the whole expiry to runs that start after the clear resolved (API.md §6).
    const current = entry.status >= 200 && entry.status < 300 && clearGeneration(runtime, key) === generation;
    if (current) await runtime.cache.set(key, entry, { ttlMs: expiryMs });
    return entry;
  };
  const what = `the answer to the identical request another run is sending (cache "${tag}")`;
  const wait = (pending: Promise<CachedResponse>) => withinRunDeadline(ctx, what, pending.catch(unlessOthersDeadline));
  for (;;) {
    try {
      const { value, leader } = await runtime.state.cacheInflight.run(inflightKey, fetch, wait);
      if (leader) ctx.response = { ...ctx.response!, body: ownBytes(value) };
      else answer(ctx, value);
      return;
    } catch (err) {
      // The shared call ended at its leader's own timeout.run: that deadline is not this run's, so it tries again
      // (leading a call of its own, or joining one started meanwhile), within its own deadline.
      if (!(err instanceof OthersDeadline)) throw err;
    }
  }
}

/** A waiter's view of the shared call failing at the leader's `timeout.run`, which says nothing about the waiter. */
class OthersDeadline extends Error {}

function unlessOthersDeadline(err: unknown): never {
  throw err instanceof DuctapeError && err.code === 'TIMEOUT' && err.details.deadline === true ? new OthersDeadline() : err;
}

/**
 * The key under which identical misses share one upstream call: the cache key, the clear generation, and the run
 * options that shape that call (retries, attempt and phase timeouts). A run that asked for `retries: 3` used to be
 * handed the first 503 of a leader that had none, and a run with a 30 s timeout the TIMEOUT of a leader's 100 ms one.
 * `timeout.run` stays out: it is relative to each run's start (a service passing on its remaining budget gives every
 * run another), so it would end coalescing; a waiter's own deadline bounds its wait instead (withinRunDeadline).
 */
function sharedCallKey(key: string, generation: number, run: RunContext['run']): string {
  const shared = generation === 0 ? key : `${key}#${generation}`;
  const t = run.timeouts;
  // Most runs set none of these: the key stays as it is.
  if (run.retries === undefined && run.timeoutMs === undefined && t?.headersMs === undefined && t?.bodyMs === undefined) return shared;
  return `${shared}#${JSON.stringify([run.retries ?? null, run.timeoutMs ?? null, t?.headersMs ?? null, t?.bodyMs ?? null])}`;
}

/**
 * Marks a caches.clear of `prefix` (called before the entries are removed): misses in flight under it are then
 * neither stored nor joined. Per client: another process's in-flight misses are not seen (docs/caching.md).
 */
export function noteCacheClear(runtime: Runtime, prefix: string): void {
  const clears = runtime.state.cacheClears;
  clears.byPrefix.set(prefix, ++clears.seq);
}

/** The number of the last clear whose prefix covers `key` (0 when none): a few prefixes per product at most. */
function clearGeneration(runtime: Runtime, key: string): number {
  let generation = 0;
  for (const [prefix, seq] of runtime.state.cacheClears.byPrefix) if (seq > generation && key.startsWith(prefix)) generation = seq;
  return generation;
}

/**
 * Whether an entry stored under a longer expiry than the cache's now is older than the new one. The store keeps each
 * entry for the expiry it was stored with, and changing an expiry means recreating the cache: without this, a cache
 * shortened from a day to a minute went on serving day-old entries. Entries stored under the current expiry are left
 * to the store's own TTL, so clocks that differ between processes sharing Redis never make fresh entries look old.
 */
function outlived(entry: CachedResponse, expiryMs: number): boolean {
  return (entry.expiryMs === undefined || entry.expiryMs > expiryMs) && Date.now() - entry.storedAt >= expiryMs;
}

/** An answer this run did not fetch itself: no attempts of its own, and flagged as cached. */
function answer(ctx: RunContext, entry: CachedResponse): void {
  ctx.response = { status: entry.status, headers: { ...entry.headers }, body: ownBytes(entry) };
  ctx.cached = true;
}

/** The entry's bytes as this run may use them: text types decode into new strings, so only other types need a copy. */
function ownBytes(entry: CachedResponse): Uint8Array {
  return isUtf8Text(contentTypeOf(entry.headers)) ? entry.body : copy(entry.body);
}

// Binary bodies decode to a Buffer over the same bytes: without a copy, one caller writing to its result would
// change the stored entry (MemoryCache keeps the very bytes) for everyone after it.
function copy(bytes: Uint8Array): Uint8Array {
  return Buffer.from(bytes);
}

// Per-connection headers describe the original transfer, not the answer; replaying them would be wrong.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'upgrade', 'te', 'trailer']);

function storable(headers: Record<string, string | string[]>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) if (!HOP_BY_HOP.has(k.toLowerCase())) out[k] = v;
  return out;
}

async function bytesOf(body: Uint8Array | string | Readable): Promise<Uint8Array> {
  if (body instanceof Uint8Array) return body;
  if (typeof body === 'string') return Buffer.from(body);
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks);
}

// Keys are HMACs under a workspace-derived key, so a shared Redis reveals nothing testable about credentials.
function keySecret(runtime: Runtime): Buffer {
  return (runtime.state.cacheKeySecret ??= deriveKey(runtime.privateKey, 'cache-key', runtime.workspace));
}
