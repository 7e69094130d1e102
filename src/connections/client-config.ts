// The OAuth2 client of a per-user connection: its authorization_code form, with the app's scheme filling the gaps
// (authorize and token URLs, scopes from the imported spec's authorizationCode flow) and placeholders resolved.
import { ConfigError, NotFoundError } from '../errors.js';
import type { AppDef, AuthSchemeDef, ConnectionConfig } from '../model/app.js';
import { compileTemplate } from '../model/placeholders.js';
import { connectionScope, openCredentials } from '../runtime/auth/credentials.js';
import { resolveSpecUrl, resolveTarget } from '../runtime/base-url.js';
import type { AuthForm, OAuth2Auth } from '../runtime/auth/forms.js';
import type { OAuth2Params } from '../runtime/auth/oauth2.js';
import { credentialResolver } from '../runtime/auth/values.js';
import type { Runtime } from '../runtime/runtime.js';
import { requireApp } from '../workspace/apps.js';
import { requireProduct } from '../workspace/products.js';
import type { ConnectionAt } from './owners.js';

type CodeForm = OAuth2Auth & { grant: 'authorization_code' };

/** Everything the consent flow needs, resolved. */
export interface OAuthClient {
  at: ConnectionAt;
  /** Token endpoint and client authentication (grant set per request). */
  token: OAuth2Params;
  authorizeUrl: string;
  redirectUri: string;
  revokeUrl?: string;
  /** Where the server's callback sends the browser after the consent. */
  returnUrl?: string;
  scopes: string[];
}

const isCodeForm = (f: AuthForm): f is CodeForm => f.type === 'oauth2' && f.grant === 'authorization_code';

/**
 * Checked by products.apps.configure: `per_user` and an authorization_code form go together, and the URLs the
 * consent flow needs are known (from the form or from the app's authorizationCode flow).
 */
export function checkPerUser(app: AppDef, config: ConnectionConfig, forms: AuthForm[] | undefined): void {
  const code = (forms ?? []).filter(isCodeForm);
  if (code.length > 1) throw new ConfigError('Give at most one oauth2 authorization_code form in auth.', { field: 'auth' });
  if (code.length === 0) {
    if (config.per_user) {
      throw new ConfigError(`per_user needs auth { type: 'oauth2', grant: 'authorization_code', client_id, redirect_uri, … }: each owner's tokens come from their consent.`, { field: 'per_user' });
    }
    return;
  }
  if (!config.per_user) {
    throw new ConfigError(`The authorization_code grant connects each end user separately: add per_user, the session selector naming the owner (e.g. "$Session{user}{id}").`, { field: 'per_user' });
  }
  const flow = codeFlow(app, code[0]);
  for (const [field, value] of [['authorize_url', code[0].authorize_url ?? flow?.authorizationUrl], ['token_url', code[0].token_url ?? flow?.tokenUrl]] as const) {
    if (!value) throw new ConfigError(`auth.${field} is required: app "${app.tag}" declares no authorizationCode flow that gives it.`, { field: `auth.${field}` });
  }
}

/** The app scheme's authorizationCode flow: the pinned scheme's, else the first oauth2 scheme that has one. */
function codeFlow(app: AppDef, form: CodeForm): NonNullable<AuthSchemeDef['flows']>[string] | undefined {
  const schemes = Object.entries(app.auth_schemes ?? {}).filter(([name, s]) => s.type === 'oauth2' && (!form.scheme || name === form.scheme));
  return schemes.map(([, s]) => s.flows?.authorizationCode).find((f) => f !== undefined);
}

/** Loads and resolves the OAuth2 client of one per-user connection; NOT_FOUND / CONFIG_ERROR say what is missing. */
export async function loadOAuthClient(runtime: Runtime, at: ConnectionAt): Promise<OAuthClient> {
  const { store, workspace: ws } = runtime;
  const product = await requireProduct(store, ws, at.product);
  if (!product.envs.includes(at.env)) throw new NotFoundError('env', at.env, product.envs, undefined, `of product "${at.product}"`);
  const conn = Object.hasOwn(product.connections, at.app) ? product.connections[at.app] : undefined;
  if (!conn) throw new NotFoundError('app', at.app, Object.keys(product.connections), 'Connect it with products.apps.connect.', `connected to product "${at.product}"`);
  const app = await requireApp(store, ws, conn.app);
  const connection = await store.getConnection(ws, at.product, at.env, at.app);
  const forms = openCredentials(runtime.privateKey, connectionScope(ws, at.product, at.env, at.app), connection?.credentials ?? null);
  const form = forms?.find(isCodeForm);
  if (!form || !connection?.config.per_user) {
    throw new ConfigError(
      `App "${at.app}" of ${at.product}/${at.env} is not connected per user. Configure it with per_user and auth { type: 'oauth2', grant: 'authorization_code', … } (docs/connections.md).`,
      { ...at },
    );
  }
  // client_id, client_secret and URLs may be $Secret / $Variable / $Constant placeholders; there is no session here.
  const template = compileTemplate(form, { where: 'connection.auth', allow: ['Secret', 'Variable', 'Constant', 'Now'] });
  const secretKeys = [...new Set(template.refs.filter((r) => r.kind === 'Secret').map((r) => r.path[0]))];
  const resolver = await credentialResolver({ runtime, plan: { env: at.env, accessTag: at.app, connection, app } }, secretKeys);
  const f = template.evaluate(resolver()) as CodeForm;
  const flow = codeFlow(app, f);
  // The flow's URLs may be relative to the API's server (Mastodon: `/oauth/authorize`): resolved against the
  // base URL this connection uses, only when one is relative.
  const server = () => resolveTarget(app, {}, at.env, connection?.config);
  const fromFlow = (url: string | undefined) => (url === undefined ? undefined : resolveSpecUrl(url, server));
  const authorizeUrl = f.authorize_url ?? fromFlow(flow?.authorizationUrl);
  const tokenUrl = f.token_url ?? fromFlow(flow?.tokenUrl);
  if (!authorizeUrl || !tokenUrl) throw new ConfigError(`auth.${authorizeUrl ? 'token_url' : 'authorize_url'} of app "${at.app}" in ${at.product}/${at.env} is missing.`, { ...at });
  return {
    at,
    token: {
      grant: 'authorization_code',
      tokenUrl,
      clientId: f.client_id,
      clientSecret: f.client_secret,
      scopes: [],
      clientAuth: f.client_auth ?? 'basic',
      params: f.params,
    },
    authorizeUrl,
    redirectUri: f.redirect_uri!,
    revokeUrl: f.revoke_url ?? fromFlow(flow?.revocationUrl),
    returnUrl: f.return_url,
    // The imported spec's authorizationCode flow lists what the API can be granted; the form may narrow it.
    scopes: f.scopes ?? Object.keys(flow?.scopes ?? {}),
  };
}
