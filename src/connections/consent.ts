// The consent flow of a per-user connection: authorization code with PKCE (RFC 6749 §4.1, RFC 7636 S256).
// `state` is single use, expiring, and bound to product, env, app and owner; the code verifier never leaves the store.
import { createHash, randomBytes } from 'node:crypto';
import { DuctapeError } from '../errors.js';
import { fingerprint } from '../model/keys.js';
import { registerSecret } from '../model/redact.js';
import { endpointUrl, OAUTH_TOKEN_KIND, requestToken, type OAuth2Token, type TokenResponse } from '../runtime/auth/oauth2.js';
import { saveToken } from '../runtime/auth/token-cache.js';
import type { Runtime } from '../runtime/runtime.js';
import { openJson, sealJson } from '../store/seal.js';
import { loadOAuthClient } from './client-config.js';
import { getOwner, ownerTokenKey, putOwner, withOwnerTokenLease, type ConnectionAt, type OwnerConnection } from './owners.js';

export const STATE_KIND = 'oauth-state';
/** How long a consent URL can be completed. @default 10 minutes */
export const STATE_TTL_MS = 10 * 60_000;

/** What a state is bound to, sealed in its record. */
interface PendingConsent extends ConnectionAt {
  owner: string;
  verifier: string;
  redirectUri: string;
  scopes: string[];
}

export interface AuthorizeResult {
  /** The provider's consent page: send the user's browser there. */
  url: string;
  /** Single use; comes back on the redirect and goes into connections.complete. */
  state: string;
  /** ISO time after which the state is refused. */
  expires_at: string;
}

/** One consent in this many (and the first of each client) also deletes abandoned, expired states. */
const SWEEP_EVERY = 100;

/** A user who never comes back from the consent page leaves a state behind: expired ones are deleted here. */
async function sweepAbandoned(runtime: Runtime, now: number): Promise<void> {
  const states = await runtime.store.listRecords(runtime.workspace, STATE_KIND);
  for (const r of states) if (r.expiresAt !== null && r.expiresAt <= now) await runtime.store.deleteRecord(runtime.workspace, STATE_KIND, r.key);
}

// The record is found by a hash of the state: the store file never holds a usable state.
const stateKey = (state: string) => fingerprint('oauth-state', state);
const base64url = (b: Buffer) => b.toString('base64url');

/** Starts a consent: a fresh state and PKCE verifier, stored sealed; resolves to the URL to send the user to. */
export async function authorize(runtime: Runtime, at: ConnectionAt, owner: string, now = Date.now()): Promise<AuthorizeResult> {
  const client = await loadOAuthClient(runtime, at);
  // Checked before a state is stored: a placeholder or a bare "https://" can resolve to no URL at all.
  const url = endpointUrl(client.authorizeUrl, 'authorize_url');
  if (runtime.state.consentsStarted++ % SWEEP_EVERY === 0) await sweepAbandoned(runtime, now);
  const state = base64url(randomBytes(32));
  // RFC 7636 §4.1: 32 random octets give a 43-character verifier, the shortest allowed and 256 bits of entropy.
  const verifier = base64url(randomBytes(32));
  const challenge = base64url(createHash('sha256').update(verifier).digest());
  const pending: PendingConsent = { ...at, owner, verifier, redirectUri: client.redirectUri, scopes: client.scopes };
  const key = stateKey(state);
  const expiresAt = now + STATE_TTL_MS;
  await runtime.store.putRecord(runtime.workspace, STATE_KIND, key, { sealed: sealJson(runtime.privateKey, { workspace: runtime.workspace, kind: STATE_KIND, key }, pending) }, { expiresAt });

  // set(), not append(): fixed parameters of the configured URL (access_type=offline…) stay, ours win on a clash.
  const params: Record<string, string> = {
    response_type: 'code',
    client_id: client.token.clientId,
    redirect_uri: client.redirectUri,
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  };
  if (client.scopes.length) params.scope = client.scopes.join(' ');
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return { url: url.toString(), state, expires_at: new Date(expiresAt).toISOString() };
}

export interface CompleteInput {
  state: string;
  code: string;
  /** When given, the state must have been issued for exactly these (the callback knows who is logged in). */
  expect?: Partial<ConnectionAt> & { owner?: string };
}

export interface ConnectionView {
  product: string;
  env: string;
  app: string;
  owner: string;
  status: OwnerConnection['status'];
  reason: string | null;
  scopes: string[];
  /** When the current access token expires (it is refreshed on use); null when the provider gave no lifetime. */
  expires_at: string | null;
  connected_at: string;
  updated_at: string;
}

export interface CompletedConnection extends ConnectionView {
  /** The connection's `return_url`: where a callback route sends the browser next (null when none is set). */
  return_url: string | null;
}

/**
 * Trades the code for the owner's tokens and stores them sealed. The state is taken from the store first (exactly one
 * caller can use it), so a replayed, expired or unknown state never reaches the provider.
 */
export async function complete(runtime: Runtime, input: CompleteInput, now = Date.now()): Promise<CompletedConnection> {
  const { store, workspace: ws, privateKey } = runtime;
  const key = stateKey(input.state);
  const rec = await store.takeRecord<{ sealed: string }>(ws, STATE_KIND, key);
  if (!rec || (rec.expiresAt !== null && rec.expiresAt <= now)) {
    throw new DuctapeError(
      'AUTH_FAILED',
      `This consent state is unknown, already used or expired (a state is good for one completion within ${STATE_TTL_MS / 60_000} minutes). Start again with connections.authorize.`,
      { reason: rec ? 'state_expired' : 'state_unknown' },
    );
  }
  const pending = openJson<PendingConsent>(privateKey, { workspace: ws, kind: STATE_KIND, key }, rec.data.sealed);
  const at: ConnectionAt = { product: pending.product, env: pending.env, app: pending.app };
  for (const field of ['product', 'env', 'app', 'owner'] as const) {
    const expected = input.expect?.[field];
    if (expected !== undefined && expected !== pending[field]) {
      throw new DuctapeError('AUTH_FAILED', `This consent state was issued for another ${field}; it has been discarded. Start again with connections.authorize.`, {
        reason: 'state_foreign',
      });
    }
  }
  const client = await loadOAuthClient(runtime, at);
  // A provider may echo what it refused (error_description: "code … is invalid"): neither may reach an error or a log.
  registerSecret(input.code);
  registerSecret(pending.verifier);
  const obtainedAt = Date.now();
  let body: TokenResponse;
  try {
    body = await requestToken(runtime, client.token, { code: input.code, redirect_uri: pending.redirectUri, code_verifier: pending.verifier });
  } catch (err) {
    if (err instanceof DuctapeError && err.code === 'AUTH_FAILED') {
      const oauthError = typeof err.details.oauthError === 'string' ? err.details.oauthError : undefined;
      // invalid_client is the app's registration; anything else is this code (used, expired, or not this consent's).
      const fix =
        oauthError === 'invalid_client' || oauthError === 'unauthorized_client'
          ? `Check the client_id and client_secret of app "${at.app}" in ${at.product}/${at.env}.`
          : 'A code is good once, for minutes, and only with the consent it came from: start again with connections.authorize.';
      const status = err.details.status as number;
      // A 2xx without an access_token is no refusal of the code: token_url is likely not the token endpoint.
      const what =
        status >= 200 && status <= 299
          ? `The token endpoint answered the authorization code for owner "${pending.owner}" of app "${at.app}" with ${status} but no access_token. Check that auth.token_url of ${at.product}/${at.env} is the provider's token endpoint (it must answer JSON).`
          : `The provider refused the authorization code for owner "${pending.owner}" of app "${at.app}" with ${status}${oauthError ? ` ${oauthError}` : ''}. ${fix}`;
      throw new DuctapeError(
        'AUTH_FAILED',
        what,
        { ...at, owner: pending.owner, status: err.details.status, oauthError: oauthError ?? null },
        { cause: err },
      );
    }
    throw err;
  }
  registerSecret(body.access_token);
  registerSecret(body.refresh_token);

  const id = base64url(randomBytes(12));
  const stamp = new Date().toISOString();
  // RFC 6749 §5.1: without `scope` in the answer, the scopes granted are the ones asked for.
  const scopes = body.scope !== undefined ? body.scope.split(' ').filter(Boolean) : pending.scopes;
  const expiresAt = body.expires_in === undefined ? null : obtainedAt + body.expires_in * 1000;
  const token: OAuth2Token = { access_token: body.access_token, token_type: body.token_type, refresh_token: body.refresh_token, origin: id };
  // A refresh of the owner's earlier token still in flight stores its token first; this one then replaces it.
  const replaced = await withOwnerTokenLease(store, ws, at, pending.owner, () => store.transaction(async (tx) => {
    const previous = await getOwner(tx, ws, at, pending.owner);
    const connection: OwnerConnection = {
      ...at,
      owner: pending.owner,
      id,
      status: 'active',
      reason: null,
      scopes,
      connected_at: stamp,
      updated_at: stamp,
    };
    await putOwner(tx, ws, connection);
    await saveToken({ store: tx, workspace: ws, privateKey }, OAUTH_TOKEN_KIND, ownerTokenKey(at, pending.owner), { value: token, expiresAt, obtainedAt });
    // Processes that know the owner's earlier connection forget it within revision_poll_ms.
    if (previous?.status === 'active') await tx.bumpRevision(ws);
    return previous?.status === 'active';
  }));
  if (replaced) runtime.plans.clear();
  return {
    ...at,
    owner: pending.owner,
    status: 'active',
    reason: null,
    scopes,
    expires_at: expiresAt === null ? null : new Date(expiresAt).toISOString(),
    connected_at: stamp,
    updated_at: stamp,
    return_url: client.returnUrl ?? null,
  };
}
