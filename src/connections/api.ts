// ductape.connections.*: end users connect their own accounts (API.md §13, docs/connections.md).
import { ConfigError, DuctapeError, NotFoundError } from '../errors.js';
import { checkKnownKeys, fail } from '../model/definitions.js';
import { registerSecret } from '../model/redact.js';
import { OAUTH_TOKEN_KIND, revokeToken, type OAuth2Token } from '../runtime/auth/oauth2.js';
import { loadToken } from '../runtime/auth/token-cache.js';
import type { Runtime } from '../runtime/runtime.js';
import { requireProduct } from '../workspace/products.js';
import { loadOAuthClient, type OAuthClient } from './client-config.js';
import { authorize, complete, type AuthorizeResult, type CompletedConnection, type ConnectionView } from './consent.js';
import { endOwner, getOwner, MAX_OWNER_LENGTH, listOwners, ownerTokenKey, withOwnerTokenLease, type ConnectionAt, type OwnerConnection } from './owners.js';

export interface RevokeResult extends ConnectionView {
  /** Whether the provider's revocation endpoint confirmed; null when the app declares none. */
  provider_revoked: boolean | null;
}

export function createConnectionsApi(open: () => Promise<Runtime>) {
  return {
    /**
     * Starts an owner's consent: resolves to the provider's consent URL (PKCE S256) and its single-use `state`.
     * @example const { url } = await ductape.connections.authorize({ product: 'crm', env: 'prd', app: 'hubspot', owner: '42' })
     */
    async authorize(input: ConnectionAt & { owner: string | number }): Promise<AuthorizeResult> {
      checkKnownKeys('connections.authorize', input ?? {}, ['product', 'env', 'app', 'owner']);
      const at = connectionAt(input);
      return authorize(await open(), at, ownerId(input.owner));
    },
    /**
     * Finishes a consent with the `state` and `code` the provider sent back; stores the owner's tokens sealed.
     * `product`, `env`, `app` and `owner`, when given, must match what the state was issued for.
     * @example await ductape.connections.complete({ state: req.query.state, code: req.query.code })
     */
    async complete(input: { state: string; code: string; product?: string; env?: string; app?: string; owner?: string | number }): Promise<CompletedConnection> {
      checkKnownKeys('connections.complete', input ?? {}, ['state', 'code', 'product', 'env', 'app', 'owner']);
      for (const k of ['state', 'code'] as const) if (typeof input[k] !== 'string' || input[k] === '') fail(k, 'expected the non-empty string the provider sent back');
      const expect = { product: input.product, env: input.env, app: input.app, owner: input.owner === undefined ? undefined : ownerId(input.owner) };
      return complete(await open(), { state: input.state, code: input.code, expect });
    },
    /** Owners of a product's per-user connections, with status, scopes and expiry; never tokens. */
    async list(input: { product: string; env?: string; app?: string }): Promise<ConnectionView[]> {
      checkKnownKeys('connections.list', input ?? {}, ['product', 'env', 'app']);
      const rt = await open();
      await requireProduct(rt.store, rt.workspace, input.product);
      const owners = await listOwners(rt.store, rt.workspace, input);
      return Promise.all(owners.map(async (c) => view(c, await tokenExpiry(rt, c))));
    },
    /** Ends an owner's connection: the provider's revocation endpoint is called when declared; runs fail until they connect again. */
    async revoke(input: ConnectionAt & { owner: string | number }): Promise<RevokeResult> {
      checkKnownKeys('connections.revoke', input ?? {}, ['product', 'env', 'app', 'owner']);
      const at = connectionAt(input);
      const owner = ownerId(input.owner);
      const rt = await open();
      const current = await getOwner(rt.store, rt.workspace, at, owner);
      if (!current) {
        const known = (await listOwners(rt.store, rt.workspace, at)).map((c) => c.owner);
        throw new NotFoundError('connection owner', owner, known, 'List them with connections.list.', `of app "${at.app}" in ${at.product}/${at.env}`);
      }
      // A refresh in flight first stores the token it got, which is then the one revoked at the provider and deleted.
      const { providerRevoked, ended } = await withOwnerTokenLease(rt.store, rt.workspace, at, owner, async () => {
        const latest = (await getOwner(rt.store, rt.workspace, at, owner)) ?? current;
        const providerRevoked = latest.status === 'active' ? await revokeAtProvider(rt, at, owner) : null;
        const ended = await rt.store.transaction(async (tx) => {
          const c = await endOwner(tx, rt.workspace, at, owner, undefined, 'revoked', 'revoked with connections.revoke');
          await tx.bumpRevision(rt.workspace);
          return c;
        });
        return { providerRevoked, ended };
      });
      rt.plans.clear();
      return { ...view(ended ?? current, null), provider_revoked: providerRevoked };
    },
  };
}

/** Calls the RFC 7009 endpoint with the refresh token (which ends the access tokens too), else the access token. */
async function revokeAtProvider(rt: Runtime, at: ConnectionAt, owner: string): Promise<boolean | null> {
  let client: OAuthClient;
  try {
    client = await loadOAuthClient(rt, at);
  } catch (err) {
    // The client secret deleted, the connection configured without per_user: the provider cannot be asked, but the
    // owner is still disconnected here (revoke used to fail and leave them active, their tokens stored).
    if (err instanceof DuctapeError) return false;
    throw err;
  }
  if (!client.revokeUrl) return null;
  const held = await loadToken<OAuth2Token>(rt, OAUTH_TOKEN_KIND, ownerTokenKey(at, owner));
  if (!held) return null;
  const token = held.value.refresh_token ?? held.value.access_token;
  registerSecret(token);
  try {
    await revokeToken(rt, client.revokeUrl, client.token, token, held.value.refresh_token ? 'refresh_token' : 'access_token');
    return true;
  } catch (err) {
    // The local revoke happens anyway: the owner asked to disconnect, and Ductape will not use the tokens again.
    if (err instanceof DuctapeError) return false;
    throw err;
  }
}

async function tokenExpiry(rt: Runtime, c: OwnerConnection): Promise<number | null> {
  if (c.status !== 'active') return null;
  const rec = await rt.store.getRecord<{ expiresAt: number | null }>(rt.workspace, OAUTH_TOKEN_KIND, ownerTokenKey(c, c.owner));
  return rec?.data.expiresAt ?? null;
}

function view(c: OwnerConnection, expiresAt: number | null): ConnectionView {
  return {
    product: c.product,
    env: c.env,
    app: c.app,
    owner: c.owner,
    status: c.status,
    reason: c.reason,
    scopes: c.scopes,
    expires_at: expiresAt === null ? null : new Date(expiresAt).toISOString(),
    connected_at: c.connected_at,
    updated_at: c.updated_at,
  };
}

function connectionAt(input: Partial<ConnectionAt>): ConnectionAt {
  for (const k of ['product', 'env', 'app'] as const) if (typeof input[k] !== 'string' || input[k] === '') fail(k, 'expected a non-empty string');
  return { product: input.product!, env: input.env!, app: input.app! };
}

/** Owner ids are the per_user selector's values: strings (or numbers, kept as their text), at most 256 characters. */
function ownerId(owner: unknown): string {
  if (typeof owner === 'number' && Number.isFinite(owner)) return String(owner);
  if (typeof owner !== 'string' || owner === '' || owner.length > MAX_OWNER_LENGTH) {
    throw new ConfigError(`owner must be the end user's id as the per_user selector finds it in their session (a non-empty string of at most ${MAX_OWNER_LENGTH} characters).`, { field: 'owner' });
  }
  return owner;
}
