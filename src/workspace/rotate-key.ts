// `ductape rotate-key`: re-seals every sealed value of a workspace under a new private_key, in one transaction.
import { STATE_KIND } from '../connections/consent.js';
import { ConfigError } from '../errors.js';
import { keyCheckMatches, keyCheckValue } from '../model/keys.js';
import { connectionScope } from '../runtime/auth/credentials.js';
import { AUTH_LOGIN_KIND } from '../runtime/auth/login.js';
import { OAUTH_TOKEN_KIND } from '../runtime/auth/oauth2.js';
import { SESSION_KIND } from '../sessions/sessions.js';
import { openJson, sealJson, sessionKey } from '../sessions/tokens.js';
import { openValue, sealValue } from '../store/seal.js';
import type { Store } from '../store/store.js';
import { SECRET_KIND } from './secrets.js';

export interface RotateKeyResult {
  connections: number;
  secrets: number;
  tokens: number;
  sessions: number;
}

// Record kinds whose data holds one value sealed by store/seal.ts under the record's own key, and its field.
const SEALED_FIELDS: [kind: string, field: string][] = [
  [SECRET_KIND, 'value'],
  [OAUTH_TOKEN_KIND, 'sealed'],
  [AUTH_LOGIN_KIND, 'sealed'],
  // Consents in progress: their code verifiers.
  [STATE_KIND, 'sealed'],
];

/**
 * Opens every sealed value with `oldKey` and seals it again with `newKey`, then stores the new key check value. All in
 * one transaction: a value that does not open aborts the rotation and nothing changes. Session tokens already handed
 * out were sealed with the old key and stop verifying; their refresh tokens still work (session data is re-sealed).
 */
export async function rotateKey(deps: { store: Store; workspace: string }, oldKey: string, newKey: string): Promise<RotateKeyResult> {
  const ws = deps.workspace;
  if (typeof newKey !== 'string' || newKey.length < 8) throw new ConfigError('The new private_key must be at least 8 characters long.');
  if (newKey === oldKey) throw new ConfigError('The new private_key is the same as the current one.');
  return deps.store.transaction(async (tx) => {
    const row = await tx.getWorkspace(ws);
    if (!row?.keyCheck || !keyCheckMatches(oldKey, ws, row.keyCheck)) throw new ConfigError(`private_key does not open workspace ${ws}.`, { workspace: ws });
    const out: RotateKeyResult = { connections: 0, secrets: 0, tokens: 0, sessions: 0 };

    for (const c of await tx.listConnections(ws)) {
      if (!c.credentials) continue;
      const scope = connectionScope(ws, c.product, c.env, c.accessTag);
      const credentials = sealValue(newKey, scope, openValue(oldKey, scope, c.credentials));
      await tx.putConnection(ws, c.product, c.env, c.accessTag, { config: c.config, credentials });
      out.connections++;
    }

    for (const [kind, field] of SEALED_FIELDS) {
      for (const r of await tx.listRecords<Record<string, unknown>>(ws, kind)) {
        const scope = { workspace: ws, kind, key: r.key };
        const data = { ...r.data, [field]: sealValue(newKey, scope, openValue(oldKey, scope, r.data[field] as string)) };
        await tx.putRecord(ws, kind, r.key, data, { ref: r.ref, expiresAt: r.expiresAt });
        if (kind === SECRET_KIND) out.secrets++;
        else out.tokens++;
      }
    }

    for (const r of await tx.listRecords<{ product: string; env: string; tag: string; sealed: string }>(ws, SESSION_KIND)) {
      const scope = { workspace: ws, product: r.data.product, env: r.data.env, tag: r.data.tag };
      const data = await openJson(await sessionKey(oldKey, scope, 'session-data'), r.data.sealed, r.key);
      const sealed = await sealJson(await sessionKey(newKey, scope, 'session-data'), data, r.key);
      await tx.putRecord(ws, SESSION_KIND, r.key, { ...r.data, sealed }, { ref: r.ref, expiresAt: r.expiresAt });
      out.sessions++;
    }

    await tx.setKeyCheck(ws, keyCheckValue(newKey, ws));
    await tx.bumpRevision(ws);
    return out;
  });
}
