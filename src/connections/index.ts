// End-user connections: per-user owners, the authorization code consent with PKCE, list and revoke (API.md §13).
export { createConnectionsApi, type RevokeResult } from './api.js';
export { STATE_KIND, STATE_TTL_MS, type AuthorizeResult, type CompletedConnection, type ConnectionView } from './consent.js';
export { OWNER_KIND, type OwnerConnection, type OwnerStatus } from './owners.js';
