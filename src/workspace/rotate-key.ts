// `ductape rotate-key`: re-seals every sealed value of a workspace under a new private_key, in one transaction.
import { STATE_KIND } from '../connections/consent.js';
import { ConfigError } from '../errors.js';
import type { WorkspaceKey } from '../model/keys.js';
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
 * Opens every sealed value with the master key `from` and seals it again with `to`, then stores `to`'s key check. All
 * in one transaction: a value that does not open aborts the rotation and nothing changes. Session tokens already handed
 * out were sealed with the old key and stop verifying; their refresh tokens still work (session data is re-sealed).
 * Also how a store written before #11 moves to a scrypt master key (same private_key, `from.isLegacy`).
 */
export async function rotateKey(deps: { store: Store; workspace: string }, from: WorkspaceKey, to: WorkspaceKey): Promise<RotateKeyResult> {
  const ws = deps.workspace;
  const oldKey = from.material;
  const newKey = to.material;
  return deps.store.transaction(async (tx) => {
    const row = await tx.getWorkspace(ws);
    // The key check this client was opened with: if another process rotated (or migrated) meanwhile, nothing here
    // would open, and nothing is changed.
    if (!row?.keyCheck || row.keyCheck !== from.keyCheck) {
      throw new ConfigError(`The key of workspace ${ws} changed since this client opened it (another process rotated it). Open a new client with the current key.`, { workspace: ws });
    }
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

    await tx.setKeyCheck(ws, to.keyCheck);
    await tx.bumpRevision(ws);
    return out;
  });
}
