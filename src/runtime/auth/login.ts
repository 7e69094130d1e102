// `action` login: runs the app's login action once per expiry, keeps its result sealed, exposes it as $Auth{path}.
import { fingerprint } from '../../model/keys.js';
import { registerSecret } from '../../model/redact.js';
import { createTokenCache, type TokenCacheDeps } from './token-cache.js';

export const AUTH_LOGIN_KIND = 'auth-login';
/** Seconds a login result is kept when the form gives no expiry. */
export const DEFAULT_LOGIN_EXPIRY_S = 3600;

/** Which login: `scope` (product, env, access tag, event) names the record; `input` (with passwords) is sealed with it. */
export interface LoginIdentity {
  scope: string[];
  input: unknown;
}

export interface LoginManager {
  /**
   * The login result for `identity`: cached until `expirySeconds` pass; concurrent callers share one `login` call, in
   * this process and across processes (a caller waits up to `waitMs` for another process's login, then TIMEOUT).
   */
  getLogin(identity: LoginIdentity, expirySeconds: number | undefined, login: () => Promise<unknown>, waitMs?: number): Promise<unknown>;
  /** The 401 hook: drops `rejected` and logs in again (once, however many runs were refused with it). */
  loginAfterUnauthorized(
    identity: LoginIdentity,
    expirySeconds: number | undefined,
    rejected: unknown,
    login: () => Promise<unknown>,
    waitMs?: number,
  ): Promise<unknown>;
}

export function createLoginManager(deps: TokenCacheDeps): LoginManager {
  const cache = createTokenCache<{ result: unknown; origin: string }>(deps, AUTH_LOGIN_KIND, 'the login of this connection');
  const now = deps.now ?? Date.now;
  // The record key holds no secret and does not depend on private_key (rotate-key re-seals in place); the login
  // input may hold passwords, so only its fingerprint is kept, sealed with the result: another input logs in again.
  const keyOf = (identity: LoginIdentity) => fingerprint('auth-login', ...identity.scope);
  const originOf = (identity: LoginIdentity) => fingerprint('auth-login-input', JSON.stringify(identity.input ?? null));

  const get = async (identity: LoginIdentity, expirySeconds: number | undefined, login: () => Promise<unknown>, waitMs?: number) => {
    const origin = originOf(identity);
    const obtain = async () => {
      const obtainedAt = now();
      const result = await login();
      return { value: { result, origin }, obtainedAt, expiresAt: obtainedAt + (expirySeconds ?? DEFAULT_LOGIN_EXPIRY_S) * 1000 };
    };
    const held = await cache.get(keyOf(identity), obtain, (v) => v.origin === origin, waitMs);
    registerLoginSecrets(held.value.result);
    return held.value.result;
  };

  return {
    getLogin: get,
    async loginAfterUnauthorized(identity, expirySeconds, rejected, login, waitMs) {
      const same = JSON.stringify(rejected);
      cache.invalidate(keyOf(identity), (v) => JSON.stringify(v.result) === same);
      return get(identity, expirySeconds, login, waitMs);
    },
  };
}

const SECRET_FIELD = /token|secret|pass|key|session|cookie|auth|sid|jwt/i;
// Fields about a token rather than the token itself (token_type, expires_in, scope…).
const META_FIELD = /type|expir|scope|_in$|_at$/i;

/**
 * Login results mix secrets with harmless fields (ids, "Bearer", expires_in). Registering every string would redact
 * common words everywhere, so only long strings and fields whose names say they are secret are registered.
 */
export function registerLoginSecrets(value: unknown, name = '', depth = 0): void {
  if (depth > 8) return;
  if (typeof value === 'string') {
    if (value.length >= 16 || (SECRET_FIELD.test(name) && !META_FIELD.test(name))) registerSecret(value);
  } else if (Array.isArray(value)) {
    for (const v of value) registerLoginSecrets(v, name, depth + 1);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) registerLoginSecrets(v, k, depth + 1);
  }
}
