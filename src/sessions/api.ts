// The client namespaces: products.sessions.* (session types) and sessions.* (the session lifecycle), API.md §3–4.
import {
  createSessionType,
  fetchSessionType,
  listSessionTypes,
  updateSessionType,
  type SessionDeps,
  type SessionTypeInput,
} from './session-types.js';
import {
  deleteSessionType,
  listActiveSessions,
  refreshSession,
  revokeAllSessions,
  revokeSession,
  startSession,
  verifySession,
  type SessionArgs,
} from './sessions.js';

type Identifier = string | number | boolean;

/** `ductape.products.sessions`: create, list, fetch, update and delete session types. */
export function createSessionTypesApi(deps: SessionDeps) {
  return {
    /** @example await ductape.products.sessions.create({ product: 'dashboard', tag: 'user-session', sample: { user: { id: '42' } }, selector: '$Session{user}{id}', expiry: 3600 }) */
    create: (input: SessionTypeInput) => createSessionType(deps, input),
    list: (args: { product: string }) => listSessionTypes(deps, args),
    fetch: (args: { product: string; tag: string }) => fetchSessionType(deps, args),
    update: (input: Partial<SessionTypeInput> & { product: string; tag: string }) => updateSessionType(deps, input),
    /** Revokes every session of the type, then deletes it. */
    delete: (args: { product: string; tag: string }) => deleteSessionType(deps, args),
  };
}

/** `ductape.sessions`: start, verify, refresh, revoke, revokeAll, listActive. */
export function createSessionsApi(deps: SessionDeps) {
  return {
    /** @example const { token, refreshToken } = await ductape.sessions.start({ product: 'dashboard', env: 'prd', tag: 'user-session', data: { user: { id: '42' } } }) */
    start: (args: SessionArgs & { data: unknown }) => startSession(deps, args),
    verify: (args: SessionArgs & { token: string }) => verifySession(deps, args),
    refresh: (args: SessionArgs & { refreshToken: string }) => refreshSession(deps, args),
    revoke: (args: SessionArgs & ({ sessionId: string; identifier?: undefined } | { identifier: Identifier; sessionId?: undefined })) => revokeSession(deps, args),
    revokeAll: (args: { product: string; env?: string; tag?: string; identifier?: Identifier }) => revokeAllSessions(deps, args),
    listActive: (args: { product: string; env?: string; tag?: string; identifier?: Identifier }) => listActiveSessions(deps, args),
  };
}
