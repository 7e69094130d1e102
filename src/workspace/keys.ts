// API keys for `ductape serve` (API.md §6): created once and shown once, stored as a SHA-256 hash, revocable.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { NotFoundError } from '../errors.js';
import { checkKnownKeys, checkSlug, checkTag, fail } from '../model/definitions.js';
import type { Store, StoredRecord } from '../store/store.js';
import { requireProduct } from './products.js';

export const KEY_KIND = 'api_key';
/** Every key starts with this, so secret scanners (and people) can tell what leaked. */
export const KEY_PREFIX = 'dtk_';

export type KeyRole = 'admin' | 'run';

/** A key as listed: never the key itself, nor its hash. */
export interface KeyInfo {
  id: string;
  name: string;
  role: KeyRole;
  /** run keys: the product they may run actions of. */
  product?: string;
  /** run keys: the only env they may run in (any env of the product when absent). */
  env?: string;
  created_at: string;
  revoked_at?: string;
}

export interface CreateKeyArgs {
  name: string;
  role: KeyRole;
  product?: string;
  env?: string;
}

interface KeyRecord extends KeyInfo {
  hash: string;
}

/**
 * The stored form of a key. A fast hash is enough: the key holds 256 random bits, so it cannot be guessed, and a
 * slow hash would cost the hot path of every request (API.md §6).
 */
export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('base64url');
}

export function createKeys(deps: { store: Store; workspace: string; changed?: () => void }) {
  const ws = deps.workspace;
  return {
    /** Creates a key and returns it once: only its hash is stored. */
    async create(args: CreateKeyArgs): Promise<{ id: string; key: string } & KeyInfo> {
      if (!args || typeof args !== 'object') fail('key', 'expected { name, role, product?, env? }');
      checkKnownKeys('key', args, ['name', 'role', 'product', 'env']);
      if (typeof args.name !== 'string' || !args.name.trim()) fail('name', 'expected a non-empty name');
      if (args.role !== 'admin' && args.role !== 'run') fail('role', 'expected "admin" or "run"');
      if (args.role === 'admin' && (args.product !== undefined || args.env !== undefined)) fail('role', 'admin keys are not scoped: leave out product and env');
      if (args.role === 'run') {
        if (args.product === undefined) fail('product', 'run keys need the product whose actions they may run');
        checkTag('product', args.product);
        const p = await requireProduct(deps.store, ws, args.product);
        if (args.env !== undefined && !p.envs.includes(checkSlug('env', args.env))) throw new NotFoundError('env', args.env, p.envs, undefined, `of product "${p.tag}"`);
      }
      const id = randomUUID();
      const key = KEY_PREFIX + randomBytes(32).toString('base64url');
      const info: KeyInfo = {
        id,
        name: args.name.trim(),
        role: args.role,
        ...(args.product !== undefined ? { product: args.product } : {}),
        ...(args.env !== undefined ? { env: args.env } : {}),
        created_at: new Date().toISOString(),
      };
      const hash = hashKey(key);
      await deps.store.putRecord(ws, KEY_KIND, id, { ...info, hash } satisfies KeyRecord, { ref: hash });
      return { ...info, id, key };
    },
    async list(): Promise<KeyInfo[]> {
      const rows = await deps.store.listRecords<KeyRecord>(ws, KEY_KIND);
      return rows.map((r) => info(r.data)).sort((a, b) => a.created_at.localeCompare(b.created_at));
    },
    /** Revokes a key: every serve process refuses it within 1 s. Revoking twice is harmless. */
    async revoke(args: { id: string }): Promise<KeyInfo> {
      return deps.store.transaction(async (tx) => {
        const rec = await tx.getRecord<KeyRecord>(ws, KEY_KIND, args?.id);
        if (!rec) {
          const known = (await tx.listRecords<KeyRecord>(ws, KEY_KIND)).map((r) => r.key);
          throw new NotFoundError('key', String(args?.id), known, 'List keys with "ductape keys list".');
        }
        return info(rec.data.revoked_at ? rec.data : await markRevoked(tx, ws, rec));
      });
    },
  };
}

/**
 * Revokes every run key of a product, inside the caller's transaction (products.delete). A key left live would be
 * listed as valid for a product that is gone, and would run the product again if its tag were re-created.
 */
export async function revokeProductKeys(tx: Store, ws: string, product: string): Promise<void> {
  for (const rec of await tx.listRecords<KeyRecord>(ws, KEY_KIND)) if (rec.data.product === product && !rec.data.revoked_at) await markRevoked(tx, ws, rec);
}

async function markRevoked(tx: Store, ws: string, rec: StoredRecord<KeyRecord>): Promise<KeyRecord> {
  const revoked = { ...rec.data, revoked_at: new Date().toISOString() };
  await tx.putRecord(ws, KEY_KIND, rec.key, revoked, { ref: rec.ref });
  return revoked;
}

/** Every live key by hash: what serve processes cache and refresh (server/auth.ts). */
export async function loadLiveKeys(store: Store, ws: string): Promise<Map<string, KeyInfo>> {
  const rows = await store.listRecords<KeyRecord>(ws, KEY_KIND);
  const out = new Map<string, KeyInfo>();
  for (const r of rows) if (!r.data.revoked_at) out.set(r.data.hash, info(r.data));
  return out;
}

function info(r: KeyRecord): KeyInfo {
  const { hash: _hash, ...rest } = r;
  return rest;
}
