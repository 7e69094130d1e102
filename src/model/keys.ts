// Key derivation: every key Ductape uses comes from the workspace private_key through HKDF-SHA256, bound to its purpose.
import { createHash, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

/**
 * Derives a 32-byte key for one purpose (e.g. 'seal', 'session') bound to context parts (workspace, record, …).
 * Different purposes or contexts never share a key, so a value sealed for one cannot be opened as another.
 */
export function deriveKey(privateKey: string, purpose: string, ...context: string[]): Buffer {
  const info = [purpose, ...context].map((p) => `${p.length}:${p}`).join('|');
  return Buffer.from(hkdfSync('sha256', privateKey, 'ductape/v1', info, 32));
}

/** A key check value: proves a private_key opens a workspace without storing the key or anything derived for use. */
export function keyCheckValue(privateKey: string, workspaceId: string): string {
  return createHmac('sha256', deriveKey(privateKey, 'key-check', workspaceId)).update('ductape key check').digest('base64url');
}

export function keyCheckMatches(privateKey: string, workspaceId: string, stored: string): boolean {
  const a = Buffer.from(keyCheckValue(privateKey, workspaceId));
  const b = Buffer.from(stored);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Short, stable, non-reversible fingerprint (for cache keys and log fields: never the secret itself). */
export function fingerprint(...parts: string[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('base64url').slice(0, 22);
}
