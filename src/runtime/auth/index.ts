// Credentials at run time: forms, requirement selection, appliers, OAuth2 tokens and action logins.
export { compileAuth, credentialIdKey, type AuthEntry, type AuthKind, type CompiledAuth, type ResolvedCredential } from './apply.js';
export { connectionScope, describeCredentials, openCredentials, sealCredentials } from './credentials.js';
export { formType, isOpaque, normalizeAuth, type AuthConfig, type AuthForm, type OAuth2Auth, type ActionAuth } from './forms.js';
export { AUTH_LOGIN_KIND, createLoginManager, DEFAULT_LOGIN_EXPIRY_S, registerLoginSecrets, type LoginIdentity, type LoginManager } from './login.js';
export { createOAuth2Manager, OAUTH_TOKEN_KIND, oauth2Params, type OAuth2Manager, type OAuth2Params } from './oauth2.js';
export { requirementsFor, satisfies, selectRequirement, type Selection } from './select.js';
export { createTokenCache, refreshAt, type HeldToken, type TokenCache } from './token-cache.js';
export { compileEntryTemplates, credentialResolver, type EntryTemplates } from './values.js';
