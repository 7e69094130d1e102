// Sessions (API.md §4): start, verify, refresh with rotation and reuse detection, revoke, list.
import { randomUUID } from 'node:crypto';
import { DuctapeError, InvalidInputError } from '../errors.js';
import { getPath, parsePlaceholder } from '../model/placeholders.js';
import type { StoredRecord } from '../store/store.js';
import { pruneRevocations, recordRevocations } from './revocations.js';
import {
  checkSessionData,
  clock,
  fetchSessionType,
  removeSessionType,
  requireProductEnv,
  type SessionDeps,
  type SessionType,
} from './session-types.js';
import {
  hashRefreshToken,
  newRefreshToken,
  openJson,
  openSessionToken,
  sealJson,
  sealSessionToken,
  sessionExpired,
  sessionInvalid,
  sessionKey,
  type SessionScope,
} from './tokens.js';

export const SESSION_KIND = 'session';
export const REFRESH_KIND = 'session_refresh';
export const REFRESH_USED_KIND = 'session_refresh_used';

/** One session family: every token and refresh token issued from one start() shares it. Times in ms. */
interface SessionRecord {
  sid: string;
  product: string;
  env: string;
  tag: string;
  identifier: string;
  /** The session data, sealed (it may hold personal data; the store never sees it in clear). */
  sealed: string;
  createdAt: number;
  /** Expiry of the latest token issued. */
  expiresAt: number;
  refreshExpiresAt: number;
  revokedAt: number | null;
  revokedReason?: string;
}

export interface SessionArgs {
  product: string;
  env: string;
  tag: string;
}

export interface StartedSession {
  token: string;
  refreshToken: string;
  sessionId: string;
  /** When the token expires (ISO 8601). */
  expiresAt: string;
  /** When the refresh token expires (ISO 8601). */
  refreshExpiresAt: string;
}

export interface VerifyResult {
  valid: boolean;
  data?: unknown;
  sessionId?: string;
  expiresAt?: string;
  /** Why not, when invalid: 'SESSION_INVALID' or 'SESSION_EXPIRED' (never more detail). */
  code?: 'SESSION_INVALID' | 'SESSION_EXPIRED';
}

export interface ActiveSession {
  sessionId: string;
  product: string;
  env: string;
  tag: string;
  identifier: string;
  createdAt: string;
  expiresAt: string;
  refreshExpiresAt: string;
}

/** Record key of a session; '/' never occurs in tags or env slugs. Also the key the verifier checks revocations by. */
export function sessionRecordKey(product: string, env: string, tag: string, sid: string): string {
  return `${product}/${env}/${tag}/${sid}`;
}

/**
 * Starts a session: checks the data against the type's schema, seals a token and issues a refresh token.
 * @example const { token, refreshToken } = await startSession(deps, { product: 'dashboard', env: 'prd', tag: 'user-session', data: { user: { id: '42' } } });
 */
export async function startSession(deps: SessionDeps, args: SessionArgs & { data: unknown }): Promise<StartedSession> {
  const type = await fetchSessionType(deps, args);
  await requireProductEnv(deps.store, deps.workspace, args.product, args.env);
  const issues = checkSessionData(type, args.data);
  if (issues.length) throw new InvalidInputError(issues, `Session data does not match session type "${type.tag}"`);
  const identifier = identifierOf(type, args.data);
  const scope = scopeOf(deps, args);
  const sid = randomUUID();
  const now = clock(deps);
  const sealed = await sealJson(await sessionKey(deps.privateKey, scope, 'session-data'), args.data);
  const rec: SessionRecord = { sid, product: args.product, env: args.env, tag: args.tag, identifier, sealed, createdAt: now, expiresAt: 0, refreshExpiresAt: 0, revokedAt: null };
  return deps.store.transaction((tx) => issue({ ...deps, store: tx }, type, scope, rec, args.data, now));
}

/** Verifies a token against the store (revocations included). Invalid tokens give `{ valid: false, code }`. */
export async function verifySession(deps: SessionDeps, args: SessionArgs & { token: string }): Promise<VerifyResult> {
  await fetchSessionType(deps, args);
  try {
    const claims = await openSessionToken(await sessionKey(deps.privateKey, scopeOf(deps, args)), args.token, clock(deps));
    const rec = await deps.store.getRecord<SessionRecord>(deps.workspace, SESSION_KIND, sessionRecordKey(args.product, args.env, args.tag, claims.sid));
    if (!rec || rec.data.revokedAt !== null) throw sessionInvalid();
    return { valid: true, data: claims.data, sessionId: claims.sid, expiresAt: iso(claims.exp * 1000) };
  } catch (err) {
    if (err instanceof DuctapeError && (err.code === 'SESSION_INVALID' || err.code === 'SESSION_EXPIRED')) return { valid: false, code: err.code };
    throw err;
  }
}

/**
 * Trades a refresh token for a new token and a new refresh token (rotation). A refresh token works once: presenting
 * one that was already used revokes the whole session, since either the user or a thief holds a copy.
 */
export async function refreshSession(deps: SessionDeps, args: SessionArgs & { refreshToken: string }): Promise<StartedSession> {
  const type = await fetchSessionType(deps, args);
  if (typeof args.refreshToken !== 'string' || !args.refreshToken) throw sessionInvalid();
  const scope = scopeOf(deps, args);
  const hash = hashRefreshToken(args.refreshToken, scope);
  const now = clock(deps);
  // Taking the token and leaving a used-marker in one transaction: of two concurrent refreshes, one wins and the
  // other is seen as reuse.
  const taken = await deps.store.transaction(async (tx) => {
    const rec = await tx.takeRecord<{ session: string }>(deps.workspace, REFRESH_KIND, hash);
    if (rec) await tx.putRecord(deps.workspace, REFRESH_USED_KIND, hash, rec.data, { ref: rec.data.session, expiresAt: rec.expiresAt });
    return rec;
  });
  if (!taken) {
    const used = await deps.store.getRecord<{ session: string }>(deps.workspace, REFRESH_USED_KIND, hash);
    if (used) {
      const rec = await deps.store.getRecord<SessionRecord>(deps.workspace, SESSION_KIND, used.data.session);
      if (rec) await revokeRecords(deps, [rec], 'refresh token reused');
    }
    throw sessionInvalid();
  }
  if (taken.expiresAt !== null && taken.expiresAt <= now) throw sessionExpired();
  const found = await deps.store.getRecord<SessionRecord>(deps.workspace, SESSION_KIND, taken.data.session);
  if (!found || found.data.revokedAt !== null) throw sessionInvalid();
  const data = await openJson(await sessionKey(deps.privateKey, scope, 'session-data'), found.data.sealed);
  return deps.store.transaction((tx) => issue({ ...deps, store: tx }, type, scope, found.data, data, now));
}

/** Revokes one session by id, or every session of one identifier (the selector's value), in one product env and type. */
export async function revokeSession(
  deps: SessionDeps,
  args: SessionArgs & ({ sessionId: string; identifier?: undefined } | { identifier: string | number | boolean; sessionId?: undefined }),
): Promise<{ revoked: number }> {
  await fetchSessionType(deps, args);
  if (args.sessionId !== undefined) {
    const rec = await deps.store.getRecord<SessionRecord>(deps.workspace, SESSION_KIND, sessionRecordKey(args.product, args.env, args.tag, String(args.sessionId)));
    return { revoked: rec ? await revokeRecords(deps, [rec], 'revoked') : 0 };
  }
  if (args.identifier === undefined) throw new InvalidInputError([{ location: 'session', path: '', message: 'give sessionId or identifier' }], 'Nothing to revoke');
  return revokeAllSessions(deps, args);
}

/** Revokes every active session of a product, narrowed by env, type and identifier when given ("log out everywhere"). */
export async function revokeAllSessions(deps: SessionDeps, args: { product: string; env?: string; tag?: string; identifier?: string | number | boolean }): Promise<{ revoked: number }> {
  const rows = await findSessions(deps, args);
  return { revoked: await revokeRecords(deps, rows, 'revoked') };
}

/** Sessions that can still be used or refreshed. Session data is not listed (it may be personal). */
export async function listActiveSessions(deps: SessionDeps, args: { product: string; env?: string; tag?: string; identifier?: string | number | boolean }): Promise<ActiveSession[]> {
  const now = clock(deps);
  return (await findSessions(deps, args)).map(({ data: s }) => ({
    sessionId: s.sid,
    product: s.product,
    env: s.env,
    tag: s.tag,
    identifier: s.identifier,
    createdAt: iso(s.createdAt),
    expiresAt: iso(s.expiresAt),
    refreshExpiresAt: iso(s.refreshExpiresAt),
  })).filter((s) => Date.parse(s.refreshExpiresAt) > now);
}

/** Deletes a session type after revoking its sessions, so that none of its tokens stays usable. */
export async function deleteSessionType(deps: SessionDeps, args: { product: string; tag: string }): Promise<{ deleted: boolean; revoked: number }> {
  await fetchSessionType(deps, args);
  const { revoked } = await revokeAllSessions(deps, { product: args.product, tag: args.tag });
  return { deleted: await removeSessionType(deps.store, deps.workspace, args.product, args.tag), revoked };
}

// ---- helpers ----------------------------------------------------------------------------------------------------

async function issue(deps: SessionDeps, type: SessionType, scope: SessionScope, rec: SessionRecord, data: unknown, now: number): Promise<StartedSession> {
  const iat = Math.floor(now / 1000);
  const exp = iat + type.expiry;
  const token = await sealSessionToken(await sessionKey(deps.privateKey, scope), { sid: rec.sid, data, iat, exp });
  const refreshToken = newRefreshToken();
  // Sliding: each refresh starts a new refresh lifetime; revoke or a shorter refresh_expiry ends a family sooner.
  const refreshExpiresAt = now + type.refresh_expiry * 1000;
  const key = sessionRecordKey(rec.product, rec.env, rec.tag, rec.sid);
  const next: SessionRecord = { ...rec, expiresAt: Math.max(rec.expiresAt, exp * 1000), refreshExpiresAt };
  await deps.store.putRecord(deps.workspace, SESSION_KIND, key, next, { ref: identifierRef(rec.product, rec.env, rec.tag, rec.identifier), expiresAt: refreshExpiresAt });
  await deps.store.putRecord(deps.workspace, REFRESH_KIND, hashRefreshToken(refreshToken, scope), { session: key }, { ref: key, expiresAt: refreshExpiresAt });
  return { token, refreshToken, sessionId: rec.sid, expiresAt: iso(exp * 1000), refreshExpiresAt: iso(refreshExpiresAt) };
}

// Marks sessions revoked, deletes their refresh tokens, then publishes the revocations to every verifier.
async function revokeRecords(deps: SessionDeps, rows: StoredRecord<SessionRecord>[], reason: string): Promise<number> {
  const now = clock(deps);
  const live = rows.filter((r) => r.data.revokedAt === null);
  if (!live.length) return 0;
  await deps.store.transaction(async (tx) => {
    for (const r of live) {
      await tx.putRecord(deps.workspace, SESSION_KIND, r.key, { ...r.data, revokedAt: now, revokedReason: reason }, { ref: r.ref, expiresAt: r.expiresAt });
      for (const t of await tx.listRecords(deps.workspace, REFRESH_KIND, { ref: r.key })) await tx.deleteRecord(deps.workspace, REFRESH_KIND, t.key);
    }
  });
  await recordRevocations(deps.store, deps.workspace, live.map((r) => ({ key: r.key, untilMs: r.data.expiresAt })));
  // Housekeeping rides on revocations (rare) rather than on runs.
  await pruneRevocations(deps.store, deps.workspace, now);
  return live.length;
}

async function findSessions(deps: SessionDeps, args: { product: string; env?: string; tag?: string; identifier?: string | number | boolean }): Promise<StoredRecord<SessionRecord>[]> {
  await requireProductEnv(deps.store, deps.workspace, args.product, args.env);
  const ident = args.identifier === undefined ? undefined : String(args.identifier);
  const rows =
    args.env !== undefined && args.tag !== undefined && ident !== undefined
      ? await deps.store.listRecords<SessionRecord>(deps.workspace, SESSION_KIND, { ref: identifierRef(args.product, args.env, args.tag, ident) })
      : await deps.store.listRecords<SessionRecord>(deps.workspace, SESSION_KIND, { prefix: [args.product, args.env, args.env !== undefined ? args.tag : undefined].filter((p) => p !== undefined).join('/') + '/' });
  const now = clock(deps);
  return rows.filter(
    (r) =>
      r.data.revokedAt === null &&
      r.data.refreshExpiresAt > now &&
      (args.tag === undefined || r.data.tag === args.tag) &&
      (ident === undefined || r.data.identifier === ident),
  );
}

function identifierOf(type: SessionType, data: unknown): string {
  const ref = parsePlaceholder(type.selector, ['Session']);
  const value = ref ? getPath(data, ref.path) : undefined;
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
    const path = '/' + (ref?.path ?? []).join('/');
    throw new InvalidInputError([{ location: 'session', path, message: `the selector ${type.selector} must find a string, number or boolean here` }], `Session data has no identifier`);
  }
  return String(value);
}

function identifierRef(product: string, env: string, tag: string, identifier: string): string {
  return `${product}/${env}/${tag}#${identifier}`;
}

function scopeOf(deps: SessionDeps, args: SessionArgs): SessionScope {
  return { workspace: deps.workspace, product: args.product, env: args.env, tag: args.tag };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
