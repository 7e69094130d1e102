// Postman auth (collection → folder → request, `noauth` overriding) → one auth scheme per distinct auth.
import type { SecurityRequirement } from '../../model/action.js';
import type { AuthSchemeDef } from '../../model/app.js';
import { HEADER_NAME } from '../../model/header.js';
import { hasReference, type VariableTable } from './variables.js';

type Obj = Record<string, unknown>;

/** What an item's `auth` says: inherit from the parent, or an effective requirement (`[]` = no credentials). */
export type AuthOutcome = 'inherit' | SecurityRequirement[];

const OAUTH2_GRANTS: Record<string, string> = {
  authorization_code: 'authorizationCode',
  authorization_code_with_pkce: 'authorizationCode',
  client_credentials: 'clientCredentials',
  implicit: 'implicit',
  password_credentials: 'password',
};

export interface AuthRegistry {
  read(auth: unknown, where: string): AuthOutcome;
  schemes: Record<string, AuthSchemeDef>;
  /** One warning per unsupported auth type, naming the requests that use it. */
  summary(warnings: string[]): void;
}

export function createAuthRegistry(vars: VariableTable): AuthRegistry {
  const schemes: Record<string, AuthSchemeDef> = {};
  const byShape = new Map<string, string>();
  const unsupported = new Map<string, string[]>();
  const badKeys = new Set<string>();
  const unresolvedUrls = new Set<string>();

  const register = (base: string, def: AuthSchemeDef): string => {
    const shape = JSON.stringify(def);
    let name = byShape.get(shape);
    if (!name) {
      name = base;
      for (let n = 2; schemes[name]; n++) name = `${base}_${n}`;
      schemes[name] = def;
      byShape.set(shape, name);
    }
    return name;
  };

  return {
    schemes,
    read(auth, where) {
      if (!auth || typeof auth !== 'object') return 'inherit';
      const a = auth as Obj;
      const type = typeof a.type === 'string' ? a.type : 'inherit';
      const p = settings(a[type]);
      switch (type) {
        case 'inherit':
          return 'inherit';
        case 'noauth':
          return [];
        case 'basic':
          return [{ [register('basic', { type: 'http', scheme: 'basic' })]: [] }];
        case 'bearer':
          return [{ [register('bearer', { type: 'http', scheme: 'bearer' })]: [] }];
        case 'apikey': {
          const location = p.in === 'query' ? 'query' : 'header';
          // Postman fills in `{{variables}}` in the key too (`{{apiKeyHeader}}`); a key without a value stays as written.
          const key = typeof p.key === 'string' ? vars.substitute(p.key).trim() : '';
          const name = key || 'X-API-Key';
          if (location === 'header' && !HEADER_NAME.test(name)) badKeys.add(name);
          return [{ [register('apikey', { type: 'apiKey', in: location, name })]: [] }];
        }
        case 'oauth2': {
          const grant = OAUTH2_GRANTS[String(p.grant_type ?? 'authorization_code')] ?? 'authorizationCode';
          const scopes = typeof p.scope === 'string' ? vars.substitute(p.scope).split(/[\s,]+/).filter((s) => s && !hasReference(s)) : [];
          const flow: NonNullable<AuthSchemeDef['flows']>[string] = { scopes: Object.fromEntries(scopes.map((s) => [s, ''])) };
          // A URL still holding a variable without a value is left out: the runtime would take it for a path relative
          // to the API's server and post the client credentials there. The connection's token_url gives it instead.
          const tokenUrl = typeof p.accessTokenUrl === 'string' ? vars.substitute(p.accessTokenUrl).trim() : '';
          if (hasReference(tokenUrl)) unresolvedUrls.add(p.accessTokenUrl as string);
          else if (tokenUrl) flow.tokenUrl = tokenUrl;
          const authUrl = typeof p.authUrl === 'string' && grant !== 'clientCredentials' && grant !== 'password' ? vars.substitute(p.authUrl).trim() : '';
          if (hasReference(authUrl)) unresolvedUrls.add(p.authUrl as string);
          else if (authUrl) flow.authorizationUrl = authUrl;
          return [{ [register('oauth2', { type: 'oauth2', flows: { [grant]: flow } })]: scopes }];
        }
        default: {
          const users = unsupported.get(type) ?? [];
          users.push(where);
          unsupported.set(type, users);
          // A requirement of its own (`http` with the Postman type as scheme), not `[]`: `[]` would also withhold the
          // raw auth headers a connection configures for it, and a form of another kind would be dropped silently.
          return [{ [register(/^[a-z][a-z0-9_]*$/i.test(type) ? type : 'custom', { type: 'http', scheme: type })]: [] }];
        }
      }
    },
    summary(warnings) {
      for (const url of unresolvedUrls) {
        warnings.push(`Postman OAuth2 URL ${JSON.stringify(url)} uses variables the collection gives no value; it is not imported, so give token_url (or authorize_url) in the connection's oauth2 auth.`);
      }
      for (const key of badKeys) {
        warnings.push(`Postman API key header ${JSON.stringify(key)} is not a valid header name; give the name the API expects in the connection's auth ({ type: 'apiKey', name, value, scheme }).`);
      }
      for (const [type, users] of unsupported) {
        const names = users.slice(0, 3).map((u) => `"${u}"`).join(', ') + (users.length > 3 ? `, and ${users.length - 3} more` : '');
        warnings.push(`Postman auth type "${type}" has no Ductape equivalent; ${names} send no credentials unless you configure raw auth headers on the connection ({ headers: { Authorization: … } }).`);
      }
    },
  };
}

/** v2.1 lists auth settings as `[{ key, value }]`; v2.0 as an object. */
function settings(value: unknown): Obj {
  if (Array.isArray(value)) {
    const out: Obj = {};
    for (const entry of value) if (entry && typeof entry === 'object' && typeof (entry as Obj).key === 'string') out[(entry as Obj).key as string] = (entry as Obj).value;
    return out;
  }
  return value && typeof value === 'object' ? (value as Obj) : {};
}
