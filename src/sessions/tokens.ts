// Session tokens (compact JWE, dir + A256GCM: sealed with jose, opened with node:crypto) and opaque refresh tokens (random, stored hashed).
import { createDecipheriv, createHash, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { CompactEncrypt, compactDecrypt, EncryptJWT } from 'jose';
import { DuctapeError, InvalidInputError } from '../errors.js';
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
// A sane upper bound: jose would otherwise base64-decode whatever it is handed. sessions.start refuses data whose token
// would be longer (tokenTooLarge), so no token is ever issued that this bound then refuses.
export const MAX_TOKEN_CHARS = 64 * 1024;

/**
 * The AES-256-GCM key for one scope, as a KeyObject (jose seals with it; node:crypto opens with it). `purpose`
 * separates token keys ('session') from the key that seals session data at rest ('session-data').
 * Callers on the hot path cache the result: HKDF costs tens of microseconds.
 */
export async function sessionKey(privateKey: string, scope: SessionScope, purpose: 'session' | 'session-data' = 'session'): Promise<KeyObject> {
  return createSecretKey(deriveKey(privateKey, purpose, scope.workspace, scope.product, scope.env, scope.tag));
}

/**
 * Seals a session token. `expiresAt` is in seconds since the epoch.
 * @example const token = await sealSessionToken(key, { sid, data: { user: { id: '42' } }, iat, exp: iat + 3600 });
 */
export async function sealSessionToken(key: KeyObject, claims: SessionClaims): Promise<string> {
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
export async function openSessionToken(key: KeyObject, token: unknown, nowMs = Date.now()): Promise<SessionClaims> {
  if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_CHARS || !isCanonicalCompact(token)) throw sessionInvalid();
  const payload = decryptCompact(key, token);
  const { sid, data, iat, exp } = payload;
  if (typeof sid !== 'string' || typeof iat !== 'number' || typeof exp !== 'number' || !('data' in payload)) throw sessionInvalid();
  // RFC 7519 §4.1.4: the token must not be accepted on or after its expiry (no clock tolerance).
  if (exp * 1000 <= nowMs) throw sessionExpired();
  return { sid, data, iat, exp };
}

/**
 * Opens a compact JWE sealed with `dir` + `A256GCM` (RFC 7516 §5.2) with node:crypto: tokens are sealed by jose, but
 * opening one this way costs a few microseconds instead of ~100, which matters once per new token on the run path.
 * The protected header is the AAD, so any change to it, the IV, the ciphertext or the tag fails authentication.
 */
function decryptCompact(key: KeyObject, token: string): Record<string, unknown> {
  const [protectedHeader, , iv, ciphertext, tag] = token.split('.');
  try {
    const header = JSON.parse(Buffer.from(protectedHeader, 'base64url').toString('utf8')) as Record<string, unknown>;
    // Only what we issue: no compression, no critical extensions, exactly these algorithms.
    if (header.alg !== 'dir' || header.enc !== 'A256GCM' || 'zip' in header || 'crit' in header) throw sessionInvalid();
    const ivBytes = Buffer.from(iv, 'base64url');
    const tagBytes = Buffer.from(tag, 'base64url');
    if (ivBytes.length !== 12 || tagBytes.length !== 16) throw sessionInvalid();
    const decipher = createDecipheriv('aes-256-gcm', key, ivBytes, { authTagLength: 16 });
    decipher.setAAD(Buffer.from(protectedHeader, 'ascii'));
    decipher.setAuthTag(tagBytes);
    const plaintext = Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]);
    const payload = JSON.parse(plaintext.toString('utf8')) as unknown;
    if (!payload || typeof payload !== 'object' || Array.isArray(payload)) throw sessionInvalid();
    return payload as Record<string, unknown>;
  } catch {
    throw sessionInvalid();
  }
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

/**
 * Seals arbitrary JSON (session data kept in the store for refreshes) under a 'session-data' key. `boundTo` (the
 * session's record key) goes into the protected header, which GCM authenticates: the blob opens only for that session,
 * so one copied onto another session's row (same product, env and type, hence the same key) is refused there.
 */
export async function sealJson(key: KeyObject, value: unknown, boundTo?: string): Promise<string> {
  return new CompactEncrypt(Buffer.from(JSON.stringify(value)))
    .setProtectedHeader(boundTo === undefined ? HEADER : { ...HEADER, [BOUND]: boundTo })
    .encrypt(key);
}

/**
 * Opens what sealJson sealed. With `boundTo`, a blob bound to another record is refused; a blob without a binding is
 * one written before bindings existed (#11), accepted until the next refresh or rotateKey re-seals it bound.
 */
export async function openJson<T>(key: KeyObject, sealed: string, boundTo?: string): Promise<T> {
  let opened: Awaited<ReturnType<typeof compactDecrypt>>;
  try {
    opened = await compactDecrypt(sealed, key, DECRYPT_OPTIONS);
  } catch {
    throw sessionInvalid();
  }
  const bound = opened.protectedHeader[BOUND];
  if (boundTo !== undefined && bound !== undefined && bound !== boundTo) throw sessionInvalid();
  try {
    return JSON.parse(Buffer.from(opened.plaintext).toString('utf8')) as T;
  } catch {
    throw sessionInvalid();
  }
}

/** Protected-header field of sealJson holding the record a blob belongs to. */
const BOUND = 'dtb';

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

/** A refresh token presented a second time: item 12 of #11 (it used to read as an invalid session token). */
export function refreshTokenReused(): DuctapeError {
  return new DuctapeError(
    'SESSION_INVALID',
    'This refresh token was already used: each one works once, and a new one comes with every refresh. The session was revoked, since a copy of the token may be in other hands. Start a new session with sessions.start().',
    { reason: 'refresh_token_reused' },
  );
}

/**
 * Session data too large for a token: refused when the token is issued, since opening refuses every token longer than
 * MAX_TOKEN_CHARS (a token sealed anyway could never be used). The data travels in every run's token; large data
 * belongs in the caller's own store, with its id in the session.
 */
export function tokenTooLarge(chars: number): InvalidInputError {
  return new InvalidInputError(
    [{ location: 'session', path: '', message: `the data makes a token of ${chars} characters, more than the ${MAX_TOKEN_CHARS} a token may have; keep large data in your own store and put its id in the session` }],
    'Session data is too large',
  );
}

export function sessionExpired(): DuctapeError {
  return new DuctapeError('SESSION_EXPIRED', 'The session token has expired. Get a new one with sessions.refresh() or sessions.start().');
}
