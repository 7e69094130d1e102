// Connection credentials at rest: the `auth` of products.apps.configure, sealed into connections.credentials.
import { registerSecret } from '../../model/redact.js';
import { openJson, sealJson, type SealScope } from '../../store/seal.js';
import { formType, normalizeAuth, type AuthForm } from './forms.js';
import { registerLoginSecrets } from './login.js';

/** The seal scope of one connection's credentials: a blob copied to another connection does not open. */
export function connectionScope(workspace: string, product: string, env: string, accessTag: string): SealScope {
  return { workspace, kind: 'connection', key: `${product}/${env}/${accessTag}` };
}

/** Checks and seals an `auth` value. Literal strings (not placeholders) are registered for redaction. */
export function sealCredentials(privateKey: string, scope: SealScope, auth: unknown): string {
  const forms = normalizeAuth(auth);
  registerLiterals(forms);
  return sealJson(privateKey, scope, forms);
}

/** Opens a sealed credentials blob (null → no credentials). */
export function openCredentials(privateKey: string, scope: SealScope, sealed: string | null): AuthForm[] | undefined {
  if (!sealed) return undefined;
  const forms = openJson<AuthForm[]>(privateKey, scope, sealed);
  registerLiterals(forms);
  return forms;
}

/** What may be shown about credentials: their kinds and non-secret coordinates, never values. */
export function describeCredentials(forms: AuthForm[] | undefined): Record<string, unknown>[] | null {
  if (!forms) return null;
  return forms.map((f) => {
    const type = formType(f);
    if (f.type === 'apiKey') return { type, ...(f.in ? { in: f.in } : {}), ...(f.name ? { name: f.name } : {}) };
    if (f.type === 'oauth2') {
      const urls = Object.fromEntries((['token_url', 'authorize_url', 'redirect_uri', 'revoke_url', 'return_url'] as const).filter((k) => f[k]).map((k) => [k, f[k]]));
      return { type, grant: f.grant, ...urls, ...(f.scopes ? { scopes: f.scopes } : {}) };
    }
    if (f.type === 'action') return { type, event: f.event };
    return { type };
  });
}

// Endpoints and the client id are not secret (RFC 6749 §2.2: the id is shown to the user in every consent URL), and
// redacting them would mangle consent URLs and the messages that name them.
const NOT_SECRET = new Set(['type', 'in', 'name', 'grant', 'event', 'scheme', 'client_auth', 'client_id', 'token_url', 'authorize_url', 'redirect_uri', 'revoke_url', 'return_url', 'scopes', 'expiry']);

function registerLiterals(value: unknown, depth = 0): void {
  if (depth > 16) return;
  if (typeof value === 'string') {
    // A value that is only a placeholder is not itself secret (its resolved value is registered when applied).
    if (!/^\$[A-Za-z]+(\{[^{}]*\})*$/.test(value)) registerSecret(value);
  } else if (Array.isArray(value)) value.forEach((v) => registerLiterals(v, depth + 1));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (NOT_SECRET.has(k)) continue;
      // A login input mixes secrets with harmless values (content types, user names): register only secret-looking ones.
      if (k === 'input') registerLoginSecrets(v);
      else registerLiterals(v, depth + 1);
    }
  }
}
