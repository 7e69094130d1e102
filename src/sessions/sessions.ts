// Sessions (API.md §4): start, verify, refresh with rotation and reuse detection, revoke, list.
import { randomUUID } from 'node:crypto';
import { DuctapeError, InvalidInputError } from '../errors.js';
import { getPath, parsePlaceholder } from '../model/placeholders.js';
import type { StoredRecord } from '../store/store.js';
import { requireCurrentKey } from '../workspace/deps.js';
import { announceRevocations, pruneRevocations, writeRevocations } from './revocations.js';
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
  refreshTokenReused,
  hashRefreshToken,
  newRefreshToken,
  openJson,
  openSessionToken,
  sealJson,
  sealSessionToken,
  sessionExpired,
  sessionInvalid,
  sessionKey,
  tokenTooLarge,
  MAX_TOKEN_CHARS,
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
  const type = await requireScope(deps, args);
  const data = asJsonData(args.data);
  const issues = checkSessionData(type, data);
  if (issues.length) throw new InvalidInputError(issues, `Session data does not match session type "${type.tag}"`);
  const identifier = identifierOf(type, data);
  const scope = scopeOf(deps, args);
  const sid = randomUUID();
  const now = clock(deps);
  const sealed = await sealJson(await sessionKey(deps.privateKey, scope, 'session-data'), data, sessionRecordKey(args.product, args.env, args.tag, sid));
  const rec: SessionRecord = { sid, product: args.product, env: args.env, tag: args.tag, identifier, sealed, createdAt: now, expiresAt: 0, refreshExpiresAt: 0, revokedAt: null };
  return deps.store.transaction(async (tx) => {
    // Again inside the transaction: a type deleted since it was read above (deleteSessionType revokes its sessions in
    // the transaction that removes it) must not get a session that nothing revokes, whose token runs would accept.
    await fetchSessionType({ ...deps, store: tx }, args);
    return issue({ ...deps, store: tx }, type, scope, rec, data, now);
  });
}

/**
 * The data as the token and the store will hold it: JSON. Checked in that form, so what verify and runs read is what
 * start checked (a Date is its ISO text). Data JSON cannot carry is INVALID_INPUT: a BigInt threw a raw TypeError, and
 * a function a DataCloneError from sealing.
 */
function asJsonData(data: unknown): unknown {
  let text: string | undefined;
  try {
    text = JSON.stringify(data, (_key, v: unknown) => {
      if (typeof v === 'function' || typeof v === 'symbol') throw new TypeError(`a ${typeof v} has no JSON form`);
      return v;
    });
  } catch (err) {
    throw new InvalidInputError([{ location: 'session', path: '', message: `is not JSON data: ${(err as Error).message}` }], 'Session data cannot be sealed');
  }
  if (text === undefined) throw new InvalidInputError([{ location: 'session', path: '', message: 'is not JSON data' }], 'Session data cannot be sealed');
  return JSON.parse(text) as unknown;
}

/** Verifies a token against the store (revocations included). Invalid tokens give `{ valid: false, code }`. */
export async function verifySession(deps: SessionDeps, args: SessionArgs & { token: string }): Promise<VerifyResult> {
  await requireScope(deps, args);
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
  const type = await requireScope(deps, args);
  if (typeof args.refreshToken !== 'string' || !args.refreshToken) throw sessionInvalid();
  const scope = scopeOf(deps, args);
  const hash = hashRefreshToken(args.refreshToken, scope);
  const now = clock(deps);
  const dataKey = await sessionKey(deps.privateKey, scope, 'session-data');
  // One transaction reads, checks and writes (#11): the refresh token is taken (of two concurrent refreshes one wins,
  // the other is seen as reuse), the session row read inside it, and the new state written only if the row is still
  // the one that was checked. A revoke that commits in between makes that write miss, so the refresh fails and rolls
  // back instead of writing the stale unrevoked copy back.
  const outcome = await deps.store.transaction(async (tx): Promise<StartedSession | 'reused' | 'invalid' | 'expired'> => {
    // First, as issue() would: after another process rotated the key, this client cannot open the session data, and
    // that failure said SESSION_INVALID ("start a new session") about a session that is fine under the current key.
    await requireCurrentKey(tx, deps);
    const taken = await tx.takeRecord<{ session: string }>(deps.workspace, REFRESH_KIND, hash);
    if (!taken) return (await tx.getRecord(deps.workspace, REFRESH_USED_KIND, hash)) ? 'reused' : 'invalid';
    await tx.putRecord(deps.workspace, REFRESH_USED_KIND, hash, taken.data, { ref: taken.data.session, expiresAt: taken.expiresAt });
    if (taken.expiresAt !== null && taken.expiresAt <= now) return 'expired';
    const found = await tx.getRecord<SessionRecord>(deps.workspace, SESSION_KIND, taken.data.session);
    if (!found || found.data.revokedAt !== null) return 'invalid';
    const data = await openJson(dataKey, found.data.sealed, taken.data.session);
    // Re-sealed on every refresh, so a blob written before bindings existed becomes bound to its session.
    const current = { ...found.data, sealed: await sealJson(dataKey, data, taken.data.session) };
    return issue({ ...deps, store: tx }, type, scope, current, data, now, found.data);
  });
  if (outcome === 'reused') {
    // Presenting a used refresh token means two parties hold copies: the session is ended for both.
    const used = await deps.store.getRecord<{ session: string }>(deps.workspace, REFRESH_USED_KIND, hash);
    const rec = used ? await deps.store.getRecord<SessionRecord>(deps.workspace, SESSION_KIND, used.data.session) : undefined;
    if (rec) await revokeRecords(deps, [rec], 'refresh token reused');
    throw refreshTokenReused();
  }
  if (outcome === 'expired') throw sessionExpired();
  if (outcome === 'invalid') throw sessionInvalid();
  return outcome;
}

/** Revokes one session by id, or every session of one identifier (the selector's value), in one product env and type. */
export async function revokeSession(
  deps: SessionDeps,
  args: SessionArgs & ({ sessionId: string; identifier?: undefined } | { identifier: string | number | boolean; sessionId?: undefined }),
): Promise<{ revoked: number }> {
  await requireScope(deps, args);
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

/**
 * Deletes a session type after revoking its sessions, so that none of its tokens stays usable. Both happen in one
 * transaction: a start that commits before it has its session revoked here, and one after it finds no type. (Done
 * apart, a start committing between the two left a live session of a deleted type.)
 */
export async function deleteSessionType(deps: SessionDeps, args: { product: string; tag: string }): Promise<{ deleted: boolean; revoked: number }> {
  await fetchSessionType(deps, args);
  const revokedKeys: string[] = [];
  const out = await deps.store.transaction(async (tx) => {
    const inTx: SessionDeps = { ...deps, store: tx, announce: deps.announce ?? ((keys) => revokedKeys.push(...keys)) };
    const { revoked } = await revokeAllSessions(inTx, { product: args.product, tag: args.tag });
    return { deleted: await removeSessionType(tx, deps.workspace, args.product, args.tag), revoked };
  });
  announceRevocations(deps.store, deps.workspace, revokedKeys);
  return out;
}

// ---- helpers ----------------------------------------------------------------------------------------------------

/**
 * Seals a token and a refresh token and writes the session row. With `expected` (a refresh), the row is written only
 * if it still equals what was read; otherwise (revoked or refreshed meanwhile) SESSION_INVALID rolls the caller's
 * transaction back.
 */
async function issue(deps: SessionDeps, type: SessionType, scope: SessionScope, rec: SessionRecord, data: unknown, now: number, expected?: SessionRecord): Promise<StartedSession> {
  const iat = Math.floor(now / 1000);
  const exp = iat + type.expiry;
  const token = await sealSessionToken(await sessionKey(deps.privateKey, scope), { sid: rec.sid, data, iat, exp });
  if (token.length > MAX_TOKEN_CHARS) throw tokenTooLarge(token.length);
  const refreshToken = newRefreshToken();
  // Sliding: each refresh starts a new refresh lifetime; revoke or a shorter refresh_expiry ends a family sooner.
  const refreshExpiresAt = now + type.refresh_expiry * 1000;
  const key = sessionRecordKey(rec.product, rec.env, rec.tag, rec.sid);
  const next: SessionRecord = { ...rec, expiresAt: Math.max(rec.expiresAt, exp * 1000), refreshExpiresAt };
  const opts = { ref: identifierRef(rec.product, rec.env, rec.tag, rec.identifier), expiresAt: refreshExpiresAt };
  await requireCurrentKey(deps.store, deps);
  if (!expected) await deps.store.putRecord(deps.workspace, SESSION_KIND, key, next, opts);
  else if (!(await deps.store.replaceRecordIf(deps.workspace, SESSION_KIND, key, expected, next, opts))) throw sessionInvalid();
  await deps.store.putRecord(deps.workspace, REFRESH_KIND, hashRefreshToken(refreshToken, scope), { session: key }, { ref: key, expiresAt: refreshExpiresAt });
  return { token, refreshToken, sessionId: rec.sid, expiresAt: iso(exp * 1000), refreshExpiresAt: iso(refreshExpiresAt) };
}

/*
 * Marks sessions revoked, deletes their refresh tokens and writes the revocations every verifier reads, all in one
 * transaction (#11). Each row is re-read inside it and replaced only if unchanged since (compare-and-set), so a refresh
 * committing meanwhile is not overwritten with a stale copy: the loop reads again and revokes what the refresh wrote,
 * and the refresh tokens are listed only after the row is revoked, so one issued by that refresh is deleted too.
 */
async function revokeRecords(deps: SessionDeps, rows: StoredRecord<SessionRecord>[], reason: string): Promise<number> {
  const now = clock(deps);
  if (!rows.some((r) => r.data.revokedAt === null)) return 0;
  const revoked = await deps.store.transaction(async (tx) => {
    const done: { key: string; untilMs: number }[] = [];
    for (const r of rows) {
      for (;;) {
        const cur = await tx.getRecord<SessionRecord>(deps.workspace, SESSION_KIND, r.key);
        if (!cur || cur.data.revokedAt !== null) break;
        const next = { ...cur.data, revokedAt: now, revokedReason: reason };
        if (await tx.replaceRecordIf(deps.workspace, SESSION_KIND, r.key, cur.data, next, { ref: cur.ref, expiresAt: cur.expiresAt })) {
          done.push({ key: r.key, untilMs: next.expiresAt });
          break;
        }
      }
    }
    for (const d of done) {
      for (const t of await tx.listRecords(deps.workspace, REFRESH_KIND, { ref: d.key })) await tx.deleteRecord(deps.workspace, REFRESH_KIND, t.key);
    }
    await writeRevocations(tx, deps.workspace, done);
    return done;
  });
  const keys = revoked.map((r) => r.key);
  if (deps.announce) deps.announce(keys);
  else announceRevocations(deps.store, deps.workspace, keys);
  // Housekeeping rides on revocations (rare) rather than on runs.
  await pruneRevocations(deps.store, deps.workspace, now);
  return revoked.length;
}

async function findSessions(deps: SessionDeps, args: { product: string; env?: string; tag?: string; identifier?: string | number | boolean }): Promise<StoredRecord<SessionRecord>[]> {
  await requireProductEnv(deps.store, deps.workspace, args.product, args.env);
  // A tag that narrows must name a type: a misspelt one would revoke (or list) nothing and say nothing.
  if (args.tag !== undefined) await fetchSessionType(deps, { product: args.product, tag: args.tag });
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

/**
 * The session type of a scope, after checking that the product has the env: an unknown product, env or type is
 * NOT_FOUND for every call naming one (docs/sessions.md). verify answered { valid: false }, refresh SESSION_INVALID and
 * revoke { revoked: 0 } for an env the product does not have.
 */
async function requireScope(deps: SessionDeps, args: SessionArgs): Promise<SessionType> {
  const type = await fetchSessionType(deps, args);
  await requireProductEnv(deps.store, deps.workspace, args.product, args.env);
  return type;
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
