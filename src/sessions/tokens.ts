// Session tokens (compact JWE, dir + A256GCM, via jose) and opaque refresh tokens (random, stored hashed).
import { createHash, randomBytes, webcrypto } from 'node:crypto';
import { CompactEncrypt, compactDecrypt, EncryptJWT, errors as joseErrors, jwtDecrypt } from 'jose';
import { DuctapeError } from '../errors.js';
import { deriveKey } from '../model/keys.js';

/** Where a token belongs. The key is derived from all four, so a token of another scope never opens. */
export interface SessionScope {
  workspace: string;
  product: string;
  env: string;
  tag: string;
}

export interface SessionClaims {
  sid: string;
  data: unknown;
  /** Issued at, seconds since the epoch (JWT NumericDate). */
  iat: number;
  /** Expires at, seconds since the epoch. */
  exp: number;
}

const HEADER = { alg: 'dir', enc: 'A256GCM' } as const;
const DECRYPT_OPTIONS = { keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'] };
// A sane upper bound: jose would otherwise base64-decode whatever it is handed.
const MAX_TOKEN_CHARS = 64 * 1024;

/**
 * Imports the AES-256-GCM key for one scope as a non-extractable CryptoKey. `purpose` separates token keys
 * ('session') from the key that seals session data at rest ('session-data').
 * Callers on the hot path cache the result: HKDF plus importKey costs tens of microseconds.
 */
export async function sessionKey(privateKey: string, scope: SessionScope, purpose: 'session' | 'session-data' = 'session'): Promise<webcrypto.CryptoKey> {
  const raw = deriveKey(privateKey, purpose, scope.workspace, scope.product, scope.env, scope.tag);
  return webcrypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']);
}

/**
 * Seals a session token. `expiresAt` is in seconds since the epoch.
 * @example const token = await sealSessionToken(key, { sid, data: { user: { id: '42' } }, iat, exp: iat + 3600 });
 */
export async function sealSessionToken(key: webcrypto.CryptoKey, claims: SessionClaims): Promise<string> {
  return new EncryptJWT({ sid: claims.sid, data: claims.data as Record<string, unknown> })
    .setProtectedHeader(HEADER)
    .setIssuedAt(claims.iat)
    .setExpirationTime(claims.exp)
    .encrypt(key);
}

/**
 * Opens and checks a session token. Throws `SESSION_EXPIRED` for an authentic but expired token and
 * `SESSION_INVALID` for anything else (tampered, foreign scope, other private_key, malformed), without saying which:
 * a caller probing tokens learns nothing. Expiry is only reported once the token has been authenticated.
 */
export async function openSessionToken(key: webcrypto.CryptoKey, token: unknown, nowMs = Date.now()): Promise<SessionClaims> {
  if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_CHARS || !isCanonicalCompact(token)) throw sessionInvalid();
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtDecrypt(token, key, {
      ...DECRYPT_OPTIONS,
      currentDate: new Date(nowMs),
      requiredClaims: ['sid', 'iat', 'exp'],
      clockTolerance: 0,
    }));
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) throw sessionExpired();
    throw sessionInvalid();
  }
  const { sid, data, iat, exp } = payload;
  if (typeof sid !== 'string' || typeof iat !== 'number' || typeof exp !== 'number' || !('data' in payload)) throw sessionInvalid();
  return { sid, data, iat, exp };
}

// Base64url decoders ignore the unused low bits of a last character, so 'abc' and 'abd' may decode alike. Only the
// one canonical spelling of a token is accepted: a token is never valid in two forms (and never cached twice).
function isCanonicalCompact(token: string): boolean {
  const parts = token.split('.');
  if (parts.length !== 5 || parts[1] !== '') return false;
  for (const i of [0, 2, 3, 4]) {
    const p = parts[i];
    if (!p || !/^[A-Za-z0-9_-]+$/.test(p) || Buffer.from(p, 'base64url').toString('base64url') !== p) return false;
  }
  return true;
}

/** Seals arbitrary JSON (session data kept in the store for refreshes) under a 'session-data' key. */
export async function sealJson(key: webcrypto.CryptoKey, value: unknown): Promise<string> {
  return new CompactEncrypt(Buffer.from(JSON.stringify(value))).setProtectedHeader(HEADER).encrypt(key);
}

export async function openJson<T>(key: webcrypto.CryptoKey, sealed: string): Promise<T> {
  try {
    const { plaintext } = await compactDecrypt(sealed, key, DECRYPT_OPTIONS);
    return JSON.parse(Buffer.from(plaintext).toString('utf8')) as T;
  } catch {
    throw sessionInvalid();
  }
}

/** A new opaque refresh token: 32 random bytes, base64url. Only its hash is ever stored. */
export function newRefreshToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The stored form of a refresh token. The scope is hashed in, so a token presented for another product, env or tag
 * simply does not exist there (and is not consumed by the mistaken call).
 */
export function hashRefreshToken(token: string, scope: SessionScope): string {
  return createHash('sha256')
    .update(`${scope.workspace}\0${scope.product}\0${scope.env}\0${scope.tag}\0`)
    .update(token)
    .digest('base64url');
}

export function sessionInvalid(): DuctapeError {
  return new DuctapeError('SESSION_INVALID', 'The session token is not valid for this product, env and session type. Start a new session with sessions.start().');
}

export function sessionExpired(): DuctapeError {
  return new DuctapeError('SESSION_EXPIRED', 'The session token has expired. Get a new one with sessions.refresh() or sessions.start().');
}
