// Sessions: session types, the session lifecycle, and the run-path verifier.
export {
  createSessionType,
  fetchSessionType,
  inferSchema,
  listSessionTypes,
  updateSessionType,
  DEFAULT_EXPIRY_SECONDS,
  DEFAULT_REFRESH_EXPIRY_SECONDS,
  type SessionDeps,
  type SessionType,
  type SessionTypeInput,
} from './session-types.js';
export {
  deleteSessionType,
  listActiveSessions,
  refreshSession,
  revokeAllSessions,
  revokeSession,
  startSession,
  verifySession,
  type ActiveSession,
  type SessionArgs,
  type StartedSession,
  type VerifyResult,
} from './sessions.js';
export { createSessionVerifier, type SessionVerifier, type VerifiedSession, type VerifierOptions } from './verifier.js';
export { DEFAULT_REVOCATION_CHECK_MS } from './revocations.js';
