// End users' connections (API.md §13): one record per (product, env, access tag, owner), with status and scopes.
// The owner's tokens are kept apart, sealed, in the OAuth2 token cache (runtime/auth/oauth2.ts) under ownerTokenKey.
import { DuctapeError } from '../errors.js';
import { fingerprint } from '../model/keys.js';
import { getPath, parsePlaceholder } from '../model/placeholders.js';
import { OAUTH_TOKEN_KIND } from '../runtime/auth/oauth2.js';
import { DEFAULT_LEASE_WAIT_MS } from '../runtime/auth/token-cache.js';
import type { Store } from '../store/store.js';

export const OWNER_KIND = 'owner-connection';

/** The longest owner id (the per_user selector's value) a connection can have. */
export const MAX_OWNER_LENGTH = 256;

export type OwnerStatus = 'active' | 'expired' | 'revoked';

/** What the store keeps about one owner's connection: never a token. */
export interface OwnerConnection {
  product: string;
  env: string;
  /** The access tag (what `run({ app })` names). */
  app: string;
  owner: string;
  /** Random per consent: a token from an earlier connection of the same owner is never used for this one. */
  id: string;
  status: OwnerStatus;
  /** Why the connection is expired or revoked. */
  reason: string | null;
  scopes: string[];
  connected_at: string;
  updated_at: string;
}

/** Where one connection lives: product, env and access tag. */
export interface ConnectionAt {
  product: string;
  env: string;
  app: string;
}

/** The record key; the owner is percent-encoded so that no owner id can reach into another connection's keys. */
export function ownerKey(at: ConnectionAt, owner: string): string {
  return `${connectionRef(at)}/${encodeURIComponent(owner)}`;
}

/** The ref shared by every owner of one connection (listing by connection). */
export function connectionRef(at: ConnectionAt): string {
  return `${at.product}/${at.env}/${at.app}`;
}

/**
 * The owner's token record key in the OAuth2 token cache: a fingerprint, so the store file does not index tokens by
 * user id, and it does not depend on private_key (rotate-key re-seals the token in place).
 */
export function ownerTokenKey(at: ConnectionAt, owner: string): string {
  return fingerprint('owner-token', at.product, at.env, at.app, owner);
}

/**
 * Runs `fn` holding the lease a refresh of the owner's token holds (token-cache.ts names it `${kind}/${key}`), so a
 * refresh in flight in any process stores its token first. Revoke and complete replace the token: without the lease,
 * the refresh's late write put an old-chain token over theirs (a revoked owner's grant left alive; a reconnected
 * owner's connection marked expired).
 */
export function withOwnerTokenLease<T>(store: Store, ws: string, at: ConnectionAt, owner: string, fn: () => Promise<T>): Promise<T> {
  const lease = { waitMs: DEFAULT_LEASE_WAIT_MS, what: `the token of owner "${owner}" of app "${at.app}"` };
  return store.withLease(ws, `${OAUTH_TOKEN_KIND}/${ownerTokenKey(at, owner)}`, lease, () => fn());
}

export async function getOwner(store: Store, ws: string, at: ConnectionAt, owner: string): Promise<OwnerConnection | undefined> {
  return (await store.getRecord<OwnerConnection>(ws, OWNER_KIND, ownerKey(at, owner)))?.data;
}

export async function putOwner(store: Store, ws: string, c: OwnerConnection): Promise<void> {
  await store.putRecord(ws, OWNER_KIND, ownerKey(c, c.owner), c, { ref: connectionRef(c) });
}

/**
 * Marks a connection expired or revoked and drops its token, in one transaction. Only the connection `id` names is
 * changed: a newer consent of the same owner (another process completed it meanwhile) stays as it is.
 */
export async function endOwner(store: Store, ws: string, at: ConnectionAt, owner: string, id: string | undefined, status: 'expired' | 'revoked', reason: string): Promise<OwnerConnection | undefined> {
  return store.transaction(async (tx) => {
    const current = await getOwner(tx, ws, at, owner);
    if (!current || (id !== undefined && current.id !== id)) return current;
    // A revoke overrides an expiry; a late refusal never turns a revoked connection back into "expired".
    if (current.status === 'revoked' || (current.status === 'expired' && status === 'expired')) return current;
    const ended: OwnerConnection = { ...current, status, reason, updated_at: new Date().toISOString() };
    await putOwner(tx, ws, ended);
    await tx.deleteRecord(ws, OAUTH_TOKEN_KIND, ownerTokenKey(at, owner));
    return ended;
  });
}

export async function listOwners(store: Store, ws: string, where: { product: string; env?: string; app?: string }): Promise<OwnerConnection[]> {
  const prefix = where.env === undefined ? `${where.product}/` : where.app === undefined ? `${where.product}/${where.env}/` : `${connectionRef(where as ConnectionAt)}/`;
  const rows = await store.listRecords<OwnerConnection>(ws, OWNER_KIND, { prefix });
  return rows.map((r) => r.data).filter((c) => c.product === where.product && (where.env === undefined || c.env === where.env) && (where.app === undefined || c.app === where.app));
}

/**
 * Deletes the owners of a product's per-user connections (of one access tag, or all) and their tokens. Called when
 * the product or the connection goes away: re-creating it must not bring old users' tokens back to life.
 */
export async function deleteOwners(store: Store, ws: string, where: { product: string; app?: string }): Promise<number> {
  const owners = (await listOwners(store, ws, { product: where.product })).filter((c) => where.app === undefined || c.app === where.app);
  for (const c of owners) {
    await store.deleteRecord(ws, OAUTH_TOKEN_KIND, ownerTokenKey(c, c.owner));
    await store.deleteRecord(ws, OWNER_KIND, ownerKey(c, c.owner));
  }
  return owners.length;
}

/** A `per_user` selector parsed once (per plan): its text for messages and its path into the session data. */
export interface OwnerSelector {
  text: string;
  path: string[];
}

export function parseOwnerSelector(text: string): OwnerSelector | undefined {
  const ref = parsePlaceholder(text, ['Session']);
  return ref && ref.path.length ? { text, path: ref.path } : undefined;
}

/** The owner a run acts for: the connection's `per_user` selector applied to the verified session data. */
export function ownerOfSession(at: ConnectionAt, selector: OwnerSelector, session: { data: unknown } | undefined): string {
  if (!session) {
    throw new DuctapeError(
      'AUTH_FAILED',
      `App "${at.app}" of ${at.product}/${at.env} is connected per user (per_user: ${selector.text}): run it with the session of the user whose account to use, run({ session }).`,
      { ...at, owner: null, connectionStatus: 'no_session' },
    );
  }
  const value = getPath(session.data, selector.path);
  // connections.authorize takes only these owners (non-empty, at most 256 characters): telling a run whose session
  // holds "" to "ask the user to connect" sent them to a consent that refuses their id.
  const id = typeof value === 'number' && Number.isFinite(value) ? String(value) : value;
  if (typeof id !== 'string' || id === '' || id.length > MAX_OWNER_LENGTH) {
    throw new DuctapeError('AUTH_FAILED', `The session has no owner at ${selector.text} (per_user of app "${at.app}" in ${at.product}/${at.env}): it must be a non-empty string of at most ${MAX_OWNER_LENGTH} characters, or a number.`, {
      ...at,
      owner: null,
      connectionStatus: 'no_owner',
    });
  }
  return id;
}

/** The AUTH_FAILED of a run whose owner has no usable connection: what happened, and how the user connects (again). */
export function notConnected(at: ConnectionAt, owner: string, c: OwnerConnection | undefined): DuctapeError {
  const how = `Ask the user to connect: ductape.connections.authorize({ product: '${at.product}', env: '${at.env}', app: '${at.app}', owner }) gives the consent URL.`;
  const what = `The connection of owner "${owner}" to app "${at.app}" (${at.product}/${at.env})`;
  const text =
    c === undefined
      ? `Owner "${owner}" has not connected app "${at.app}" (${at.product}/${at.env}). ${how}`
      : c.status === 'expired'
        ? `${what} expired: ${c.reason ?? 'its token can no longer be refreshed'}. ${how}`
        : c.status === 'revoked'
          ? `${what} was revoked${c.reason ? ` (${c.reason})` : ''}. ${how}`
          : `${what} was replaced by a newer consent; run again.`;
  return new DuctapeError('AUTH_FAILED', text, { ...at, owner, connectionStatus: c?.status ?? 'not_connected' });
}
