// Plain data describing an app (one third-party API) and a product (one of the user's backends).
import type { ActionDef } from './action.js';
import type { RateLimitDef } from './rate-limit.js';

export interface AppEnv {
  slug: string;
  base_url: string;
  description?: string;
  /** Server variable values for this env (templated base URLs like https://{region}.api.test). */
  variables?: Record<string, string>;
}

/** A declared security scheme (OpenAPI securitySchemes entry, normalized). */
export interface AuthSchemeDef {
  type: 'http' | 'apiKey' | 'oauth2' | 'openIdConnect' | 'mutualTLS';
  /** http: 'bearer' | 'basic' | … */
  scheme?: string;
  bearerFormat?: string;
  /** apiKey */
  in?: 'header' | 'query' | 'cookie';
  name?: string;
  /** OAuth2 flows; `revocationUrl` (not in OpenAPI) names an RFC 7009 endpoint that connections.revoke calls. */
  flows?: Record<string, { tokenUrl?: string; authorizationUrl?: string; refreshUrl?: string; revocationUrl?: string; scopes?: Record<string, string> }>;
  openIdConnectUrl?: string;
  description?: string;
}

export interface VariableDef {
  type?: 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'array';
  required?: boolean;
  default?: unknown;
  description?: string;
}

export interface RetryPolicyDef {
  retries?: number;
  baseMs?: number;
  capMs?: number;
  retryAfterCeilingMs?: number;
}

export interface AppDef {
  tag: string;
  name: string;
  description?: string;
  envs: AppEnv[];
  auth_schemes?: Record<string, AuthSchemeDef>;
  /** Default security for actions that do not declare their own (an OR of ANDs). */
  security?: Record<string, string[]>[];
  variables?: Record<string, VariableDef>;
  constants?: Record<string, unknown>;
  retry?: RetryPolicyDef;
  /** Header sent with a stable key on every attempt of a state-changing run (e.g. Idempotency-Key). */
  idempotency_header?: string;
  timeout_ms?: number;
  /** Default rate limit of every connection of this app (docs/rate-limits.md); a connection's own replaces it. */
  rate_limit?: RateLimitDef;
  /** Where it was imported from: 'openapi-3.0', 'swagger-2.0', 'postman-2.1', or undefined when hand-made. */
  source_format?: string;
}

export type { ActionDef };

export interface ProductDef {
  tag: string;
  name?: string;
  envs: string[];
  /** access tag → app tag */
  connections: Record<string, { app: string }>;
  caches?: Record<string, { expiry_ms: number }>;
}

/** Connection config for one (product, env, access tag). Credentials live sealed beside it in the store. */
export interface ConnectionConfig {
  app_env?: string;
  base_url?: string;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  variables?: Record<string, unknown>;
  /** Server variable values for this connection (override the app env's). */
  server_variables?: Record<string, string>;
  /**
   * Owned per end user: a `$Session{…}` selector naming the owner (e.g. `$Session{user}{id}`). Runs use the oauth2
   * authorization_code tokens of the session's owner (docs/connections.md).
   */
  per_user?: string;
  /** This connection's rate limit (replaces the app's default); null in configure removes it. */
  rate_limit?: RateLimitDef;
}
