// ductape.yaml: reading the file, resolving $Env{NAME} from the environment, and checking its shape.
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';
import { ConfigError } from '../errors.js';
import type { ConnectionConfig } from '../model/app.js';
import { MAX_INPUT_DEPTH, nestingPointer, nestingProblem, nestingReason } from '../model/json.js';
import type { PaginationDef } from '../model/pagination.js';
import type { RateLimitDef } from '../model/rate-limit.js';
import { asLiteral } from '../model/placeholders.js';
import { registerSecret } from '../model/redact.js';

export interface AppDecl {
  name?: string;
  /** Spec file (OpenAPI or Postman), relative to the yaml file. */
  spec?: string;
  envs?: Record<string, string | { base_url: string; description?: string; variables?: Record<string, string> }>;
  variables?: Record<string, unknown>;
  constants?: Record<string, unknown>;
  /** The app's default rate limit (docs/rate-limits.md). */
  rate_limit?: RateLimitDef | null;
  /** Per event: settings of actions the spec defines (or that exist already), e.g. their `pagination`. */
  actions?: Record<string, { pagination?: PaginationDef | null }>;
}

export interface ConnectionDecl extends ConnectionConfig {
  auth?: unknown;
}

export interface ProductDecl {
  name?: string;
  envs: string[];
  /** access tag → the app it connects (default: the access tag) and per-env connection config. */
  apps?: Record<string, { app?: string; envs?: Record<string, ConnectionDecl> }>;
  sessions?: Record<string, { schema?: Record<string, unknown>; sample?: unknown; selector: string; expiry?: number; refresh_expiry?: number }>;
  caches?: Record<string, { expiry: number }>;
}

export interface SecretDecl {
  value: string;
  envs?: string[];
  apps?: string[];
  expires_at?: string;
}

export interface WorkspaceFile {
  workspace?: string;
  apps: Record<string, AppDecl>;
  products: Record<string, ProductDecl>;
  /** KEY → one value, or several values for different envs/apps. */
  secrets: Record<string, SecretDecl[]>;
  /** Directory of the file: spec paths are relative to it. */
  baseDir: string;
}

const TOP = ['version', 'workspace', 'apps', 'products', 'secrets'];
const APP = ['name', 'spec', 'envs', 'variables', 'constants', 'rate_limit', 'actions'];
const PRODUCT = ['name', 'envs', 'apps', 'sessions', 'caches'];
const CONNECTION = ['app_env', 'base_url', 'headers', 'query', 'variables', 'server_variables', 'auth', 'rate_limit', 'per_user'];
const SECRET = ['value', 'envs', 'apps', 'expires_at'];
const SESSION = ['schema', 'sample', 'selector', 'expiry', 'refresh_expiry'];
const CACHE = ['expiry'];

/** Reads and checks a workspace file. `env` is where `$Env{NAME}` values come from. @default process.env */
export async function readWorkspaceFile(file: string, env: Record<string, string | undefined> = process.env): Promise<WorkspaceFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`Cannot read ${file}: ${(err as Error).message}.`, { file }, { cause: err });
  }
  let raw: unknown;
  try {
    // Merge keys (`<<: *defaults`) are how anchors are mostly used; YAML 1.2 leaves them out unless asked for.
    raw = parse(text, { merge: true });
  } catch (err) {
    throw new ConfigError(`${file} is not valid YAML: ${(err as Error).message}`, { file }, { cause: err });
  }
  // YAML aliases can make a value contain itself (`a: &x { self: *x }`); every later step walks the value recursively.
  const deep = nestingProblem(raw, MAX_INPUT_DEPTH);
  if (deep) {
    const path = nestingPointer(deep);
    throw new ConfigError(`${file}: ${path} ${nestingReason(deep, 'contains itself through a YAML alias')}.`, { file, path });
  }
  return checkWorkspaceFile(resolveEnv(raw ?? {}, env, ''), dirname(resolve(file)));
}

// `$Env{NAME}` anywhere in a string; `\$Env{…}` is the text `$Env{…}`. Other placeholders ($Secret…) stay text for the runtime.
const ENV_REF = /(\\)?\$Env\{([^{}]*)\}/g;

// Connection fields the runtime resolves placeholders in (runtime/auth/values.ts, the plan's connection defaults).
const TEMPLATE_PATH = /^\/products\/[^/]+\/apps\/[^/]+\/envs\/[^/]+\/(auth|headers|query)(\/|$)/;
// Where a value may be a credential: secrets, and a connection's auth, headers, query and variables. Only those are
// registered for redaction. The rest are definitions (base URLs, env names, constants, expiries) that plans and
// `fetch` print as they are; registered, an $Env base URL turned every later error of the process into
// "GET [REDACTED]/x failed", and an $Env region "eu" blanked every standalone "eu".
const CREDENTIAL_PATH = /^\/secrets\/|^\/products\/[^/]+\/apps\/[^/]+\/envs\/[^/]+\/(auth|headers|query|variables)(\/|$)/;

/**
 * Replaces `$Env{NAME}` with the variable's value (registered for redaction where it may be a credential); a missing
 * variable is an error. In a connection's auth, headers or query, which are templates at run time, the value is
 * escaped (`\$`), so it is sent as it is: a token "tok$Now" went out with a timestamp in it, and a password "pw\$1"
 * without its backslash.
 */
export function resolveEnv(value: unknown, env: Record<string, string | undefined>, path: string): unknown {
  if (typeof value === 'string') {
    const isTemplate = TEMPLATE_PATH.test(path);
    const isCredential = CREDENTIAL_PATH.test(path);
    return value.replace(ENV_REF, (whole, escaped: string | undefined, name: string) => {
      // In a template the runtime reads `\$` as a literal `$`; anywhere else (a secret, a constant) nothing would, and
      // the value kept a stray backslash.
      if (escaped) return isTemplate ? whole : whole.slice(1);
      // Own properties only: $Env{constructor} read Object.prototype's and stored "function Object() { [native code] }".
      const v = Object.hasOwn(env, name) ? env[name] : undefined;
      if (typeof v !== 'string' || v === '') {
        throw new ConfigError(`$Env{${name}} at ${path || '/'} has no value: environment variable ${name} is ${v === '' ? 'empty' : 'not set'}.`, { path, name });
      }
      if (isCredential) registerSecret(v);
      return isTemplate ? (asLiteral(v) as string) : v;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => resolveEnv(v, env, `${path}/${i}`));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveEnv(v, env, `${path}/${k}`)]));
  }
  return value;
}

/**
 * Two values of one secret for the same env and app: apply wrote both in turn (the last one winning), so every apply
 * reported changes and a second apply was never a no-op. Refused, naming both entries.
 */
function sharedSlots(key: string, decls: SecretDecl[], isList: boolean): string[] {
  const out: string[] = [];
  const owner = new Map<string, number>();
  const where = (i: number) => `/secrets/${key}${isList ? `/${i}` : ''}`;
  decls.forEach((d, i) => {
    const envs = Array.isArray(d.envs) ? new Set(d.envs) : [undefined];
    const apps = Array.isArray(d.apps) ? new Set(d.apps) : [undefined];
    for (const env of envs) {
      for (const app of apps) {
        const slot = [env === undefined ? 'every env' : `env ${env}`, app === undefined ? '' : `app ${app}`].filter(Boolean).join(', ');
        const first = owner.get(slot);
        if (first === undefined) owner.set(slot, i);
        else if (first !== i) out.push(`${where(i)}: a second value for ${slot} (${where(first)} gives one); give each env and app one value`);
      }
    }
  });
  return out;
}

function checkWorkspaceFile(raw: unknown, baseDir: string): WorkspaceFile {
  const problems: string[] = [];
  const obj = (v: unknown, path: string, keys?: string[]): Record<string, unknown> => {
    if (v === undefined || v === null) return {};
    if (typeof v !== 'object' || Array.isArray(v)) {
      problems.push(`${path}: expected a mapping`);
      return {};
    }
    if (keys) for (const k of Object.keys(v)) if (!keys.includes(k)) problems.push(`${path}/${k}: unknown key (accepted: ${keys.join(', ')})`);
    return v as Record<string, unknown>;
  };
  const top = obj(raw, '', TOP);
  if (top.version !== undefined && top.version !== 1) problems.push('/version: only version 1 is known');
  const apps: Record<string, AppDecl> = {};
  for (const [tag, a] of Object.entries(obj(top.apps, '/apps'))) apps[tag] = obj(a, `/apps/${tag}`, APP) as AppDecl;
  const products: Record<string, ProductDecl> = {};
  for (const [tag, p] of Object.entries(obj(top.products, '/products'))) {
    const prod = obj(p, `/products/${tag}`, PRODUCT) as unknown as ProductDecl;
    if (!Array.isArray(prod.envs) || prod.envs.length === 0) problems.push(`/products/${tag}/envs: expected a list of env slugs`);
    for (const [access, c] of Object.entries(obj(prod.apps, `/products/${tag}/apps`))) {
      const conn = obj(c, `/products/${tag}/apps/${access}`, ['app', 'envs']);
      for (const [env, cfg] of Object.entries(obj(conn.envs, `/products/${tag}/apps/${access}/envs`))) {
        obj(cfg, `/products/${tag}/apps/${access}/envs/${env}`, CONNECTION);
        if (Array.isArray(prod.envs) && !prod.envs.includes(env)) problems.push(`/products/${tag}/apps/${access}/envs/${env}: not one of the product's envs`);
      }
    }
    for (const [stag, s] of Object.entries(obj(prod.sessions, `/products/${tag}/sessions`))) obj(s, `/products/${tag}/sessions/${stag}`, SESSION);
    for (const [ctag, c] of Object.entries(obj(prod.caches, `/products/${tag}/caches`))) {
      // Without an expiry the cache was skipped without a word (nothing stored had one to compare with).
      if (obj(c, `/products/${tag}/caches/${ctag}`, CACHE).expiry === undefined) problems.push(`/products/${tag}/caches/${ctag}/expiry: required (milliseconds, e.g. 60000)`);
    }
    products[tag] = prod;
  }
  const secrets: Record<string, SecretDecl[]> = {};
  for (const [key, s] of Object.entries(obj(top.secrets, '/secrets'))) {
    const list = (Array.isArray(s) ? s : [typeof s === 'string' ? { value: s } : s]) as unknown[];
    secrets[key] = list.map((item, i) => {
      const d = obj(item, `/secrets/${key}${Array.isArray(s) ? `/${i}` : ''}`, SECRET) as unknown as SecretDecl;
      if (typeof d.value !== 'string' || !d.value) problems.push(`/secrets/${key}: needs a value (use $Env{NAME})`);
      return d;
    });
    problems.push(...sharedSlots(key, secrets[key], Array.isArray(s)));
  }
  if (problems.length) throw new ConfigError(`Invalid workspace file: ${problems.slice(0, 10).join('; ')}${problems.length > 10 ? '; …' : ''}.`, { problems });
  return { workspace: top.workspace as string | undefined, apps, products, secrets, baseDir };
}
