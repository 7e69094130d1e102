// Sealing at rest: AES-256-GCM under a key derived from private_key and bound to the workspace and the record.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ConfigError } from '../errors.js';
import { deriveKey } from '../model/keys.js';

/** Where a sealed value lives. A value sealed for one scope never opens under another (moved rows fail). */
export interface SealScope {
  workspace: string;
  /** Record kind ('secret', 'oauth-token', 'auth-login') or 'connection' for connection credentials. */
  kind: string;
  /** The record key (or `product/env/access_tag` for connections). */
  key: string;
}

const VERSION = 'v1';
const IV_BYTES = 12; // 96-bit nonce, the size GCM is specified for (NIST SP 800-38D §5.2.1.1).
const TAG_BYTES = 16;

const b64 = (b: Buffer) => b.toString('base64url');

function keyFor(privateKey: string, scope: SealScope): Buffer {
  if (typeof privateKey !== 'string' || privateKey.length === 0) {
    throw new ConfigError(`No private_key: it is needed to seal and open credentials of workspace ${scope.workspace}. Pass private_key (or set DUCTAPE_PRIVATE_KEY).`);
  }
  return deriveKey(privateKey, 'seal', scope.workspace, scope.kind, scope.key);
}

// The scope is also authenticated data, so a value copied into another row fails even if keys were ever shared.
function aad(scope: SealScope): Buffer {
  return Buffer.from(JSON.stringify([VERSION, scope.workspace, scope.kind, scope.key]));
}

/**
 * Encrypts a string for one scope. Output: `v1.<iv>.<tag>.<ciphertext>`, each part base64url.
 * @example sealValue(key, { workspace: 'acme', kind: 'secret', key: 'STRIPE_KEY|prd|*' }, 'sk_live_…')
 */
export function sealValue(privateKey: string, scope: SealScope, plaintext: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', keyFor(privateKey, scope), iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad(scope));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [VERSION, b64(iv), b64(cipher.getAuthTag()), b64(ct)].join('.');
}

/**
 * Decrypts a value sealed by sealValue for the same scope. A wrong key, a tampered value or a value moved from
 * another record all fail the same way (GCM cannot tell them apart), with a ConfigError naming the workspace.
 */
export function openValue(privateKey: string, scope: SealScope, sealed: string): string {
  const parts = typeof sealed === 'string' ? sealed.split('.') : [];
  if (parts[0] !== VERSION || parts.length !== 4) {
    throw new ConfigError(`Cannot open sealed ${describe(scope)} of workspace ${scope.workspace}: unknown format (expected ${VERSION}). The store may be newer than this version of Ductape.`, {
      workspace: scope.workspace,
    });
  }
  const [, ivText, tagText, ctText] = parts;
  const iv = Buffer.from(ivText, 'base64url');
  const tag = Buffer.from(tagText, 'base64url');
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw notOpened(scope);
  try {
    const decipher = createDecipheriv('aes-256-gcm', keyFor(privateKey, scope), iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(aad(scope));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(Buffer.from(ctText, 'base64url')), decipher.final()]).toString('utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw notOpened(scope, err);
  }
}

/** sealValue for JSON data. */
export function sealJson(privateKey: string, scope: SealScope, value: unknown): string {
  return sealValue(privateKey, scope, JSON.stringify(value));
}

/** openValue for JSON data. */
export function openJson<T>(privateKey: string, scope: SealScope, sealed: string): T {
  return JSON.parse(openValue(privateKey, scope, sealed)) as T;
}

/** Whether a stored string looks like a sealed value (used to refuse plaintext where sealed data is expected). */
export function isSealed(value: unknown): value is string {
  return typeof value === 'string' && /^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(value);
}

function describe(scope: SealScope): string {
  return scope.kind === 'connection' ? `credentials of connection ${scope.key}` : `${scope.kind} "${scope.key}"`;
}

/** The errors of values that did not open, for callers that can tell why better (another process rotated the key). */
const unopened = new WeakSet<object>();

/** Whether `err` says that a sealed value did not open with this key. */
export function isUnopened(err: unknown): boolean {
  return typeof err === 'object' && err !== null && unopened.has(err);
}

function notOpened(scope: SealScope, cause?: unknown): ConfigError {
  const err = new ConfigError(
    `private_key does not open workspace ${scope.workspace}: the sealed ${describe(scope)} failed authentication (wrong private_key, or the stored value was altered or moved).`,
    { workspace: scope.workspace },
    { cause },
  );
  unopened.add(err);
  return err;
}
