// Shared setup for end-user connection tests: an app whose /me answers with the token's account, a product with a
// session type, and a per-user connection to a loopback authorization server.
import type { Ductape } from '../../src/index.js';
import type { AuthorizationServer } from '../helpers/authorization-server.js';

export const REDIRECT_URI = 'http://127.0.0.1:9/oauth/callback';
export const AT = { product: 'dash', env: 'prd', app: 'crm' } as const;

/** Defines app `crm` (GET /me) on the server, product `dash` with session type `user`, and the per-user connection. */
export async function definePerUser(d: Ductape, as: AuthorizationServer, opts: { redirectUri?: string; revoke?: boolean; returnUrl?: string } = {}): Promise<void> {
  await d.apps.create({ tag: 'crm', name: 'CRM', envs: [{ slug: 'prd', base_url: as.url }] });
  await d.apps.actions.create({ app: 'crm', event: 'me', method: 'GET', path: '/me' });
  await d.products.create({ tag: 'dash', envs: ['prd'] });
  await d.products.apps.connect({ product: 'dash', app: 'crm' });
  await d.products.caches.create({ product: 'dash', tag: 'profiles', expiry: 60_000 });
  await d.products.sessions.create({ product: 'dash', tag: 'user', sample: { user: { id: '42' } }, selector: '$Session{user}{id}' });
  await d.secrets.set({ key: 'CRM_CLIENT_SECRET', value: 'app-client-secret-0042' });
  await d.products.apps.configure({
    ...AT,
    per_user: '$Session{user}{id}',
    auth: {
      type: 'oauth2',
      grant: 'authorization_code',
      authorize_url: as.authorizeUrl,
      token_url: as.tokenUrl,
      ...(opts.revoke === false ? {} : { revoke_url: as.revokeUrl }),
      client_id: 'app-client',
      client_secret: '$Secret{CRM_CLIENT_SECRET}',
      scopes: ['contacts.read', 'contacts.write'],
      redirect_uri: opts.redirectUri ?? REDIRECT_URI,
      ...(opts.returnUrl ? { return_url: opts.returnUrl } : {}),
    },
  });
}

/** Runs the whole consent for `owner` as provider account `account`. */
export async function connect(d: Ductape, as: AuthorizationServer, owner: string, account: string) {
  const { url } = await d.connections.authorize({ ...AT, owner });
  const { code, state } = await as.approve(url, account);
  return d.connections.complete({ state, code });
}

export async function sessionOf(d: Ductape, userId: string): Promise<{ tag: string; token: string }> {
  const { token } = await d.sessions.start({ product: 'dash', env: 'prd', tag: 'user', data: { user: { id: userId } } });
  return { tag: 'user', token };
}

export const me = (d: Ductape, session?: { tag: string; token: string }, extra: Record<string, unknown> = {}) =>
  d.actions.run<{ account: string }>({ ...AT, event: 'me', ...(session ? { session } : {}), ...extra });
