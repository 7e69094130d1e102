// Key derivation. The private_key goes through scrypt once per client (a memory-hard work factor, parameters and salt
// stored with the key check); every key Ductape uses then comes from that master key through HKDF-SHA256, bound to
// its purpose. Stores written before #11 (no work factor) still open, and are migrated by the first client to open them.
import { createHash, createHmac, hkdfSync, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { ConfigError } from '../errors.js';

/**
 * Derives a 32-byte key for one purpose (e.g. 'seal', 'session') bound to context parts (workspace, record, …).
 * Different purposes or contexts never share a key, so a value sealed for one cannot be opened as another.
 * `keyMaterial` is a workspace's master key (WorkspaceKey.material), never the private_key as given.
 */
export function deriveKey(keyMaterial: string, purpose: string, ...context: string[]): Buffer {
  const info = [purpose, ...context].map((p) => `${p.length}:${p}`).join('|');
  return Buffer.from(hkdfSync('sha256', keyMaterial, 'ductape/v1', info, 32));
}

/** scrypt cost parameters (RFC 7914): N CPU/memory cost, r block size, p parallelism. */
export interface KdfParams {
  N: number;
  r: number;
  p: number;
}

/**
 * N = 2^15, r = 8: 32 MiB and ~90 ms of one core per derivation (docs/credentials.md, `BENCH key_derivation_ms`). A
 * client pays it once when it opens the workspace; someone holding a copy of the store pays it for every guess.
 */
export const KDF_DEFAULTS: Readonly<KdfParams> = { N: 2 ** 15, r: 8, p: 1 };
// Bounds on parameters read from a store: a tampered key check must not make a client allocate gigabytes.
const KDF_MAX: Readonly<KdfParams> = { N: 2 ** 20, r: 32, p: 16 };
const PREFIX = 'scrypt';

/** What a client holds once it opened a workspace: the master key, and the key check it was verified against. */
export interface WorkspaceKey {
  /** The master key (scrypt output, encoded), or for a store not yet migrated the private_key itself. */
  material: string;
  /** The key check value as stored: `scrypt$N$r$p$salt$check`, or a bare check for a store written before #11. */
  keyCheck: string;
  /** A store written before #11: material is the private_key itself, with no work factor. */
  isLegacy: boolean;
}

/** A new master key for `privateKey` with a fresh salt, and its key check (workspace creation and rotateKey). */
export async function createWorkspaceKey(privateKey: string, workspaceId: string, params: KdfParams = KDF_DEFAULTS): Promise<WorkspaceKey> {
  const salt = randomBytes(16);
  const material = await masterKey(privateKey, salt, params);
  const keyCheck = [PREFIX, params.N, params.r, params.p, salt.toString('base64url'), checkOf(material, workspaceId)].join('$');
  return { material, keyCheck, isLegacy: false };
}

/**
 * Opens a workspace's key: the master key when `privateKey` matches the stored key check, undefined when it does not.
 * A wrong key costs the same scrypt work as the right one.
 */
export async function openWorkspaceKey(privateKey: string, workspaceId: string, stored: string): Promise<WorkspaceKey | undefined> {
  if (!stored.startsWith(`${PREFIX}$`)) {
    return sameText(legacyCheck(privateKey, workspaceId), stored) ? { material: privateKey, keyCheck: stored, isLegacy: true } : undefined;
  }
  const [, n, r, p, salt, check] = stored.split('$');
  const params = { N: Number(n), r: Number(r), p: Number(p) };
  if (!isSane(params) || !salt || !check) {
    throw new ConfigError(`The key check of workspace ${workspaceId} is malformed; the store may be damaged. Restore it from a backup.`, { workspace: workspaceId });
  }
  const material = await masterKey(privateKey, Buffer.from(salt, 'base64url'), params);
  return sameText(checkOf(material, workspaceId), check) ? { material, keyCheck: stored, isLegacy: false } : undefined;
}

function masterKey(privateKey: string, salt: Buffer, params: KdfParams): Promise<string> {
  return new Promise((resolve, reject) => {
    // Async: the work runs on libuv's pool, so opening a client never blocks the event loop for ~90 ms.
    scrypt(privateKey, salt, 32, { ...params, maxmem: 256 * params.N * params.r + 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(`scrypt:${key.toString('base64url')}`),
    );
  });
}

function isSane(k: KdfParams): boolean {
  const ok = (v: number, max: number) => Number.isInteger(v) && v >= 1 && v <= max;
  return ok(k.N, KDF_MAX.N) && (k.N & (k.N - 1)) === 0 && k.N >= 2 && ok(k.r, KDF_MAX.r) && ok(k.p, KDF_MAX.p);
}

/** Proves a master key opens a workspace without storing it or anything derived for use. */
function checkOf(material: string, workspaceId: string): string {
  return createHmac('sha256', deriveKey(material, 'key-check', workspaceId)).update('ductape key check').digest('base64url');
}

/** The key check of stores written before #11: HKDF straight from the private_key (no work factor). */
function legacyCheck(privateKey: string, workspaceId: string): string {
  return checkOf(privateKey, workspaceId);
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** 32 random bytes (256 bits), base64url: what `ductape keygen` prints. */
export function generatePrivateKey(): string {
  return randomBytes(32).toString('base64url');
}

/** Short, stable, non-reversible fingerprint (for cache keys and log fields: never the secret itself). */
export function fingerprint(...parts: string[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('base64url').slice(0, 22);
}
