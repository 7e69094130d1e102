// Workspace secrets: sealed values scoped to envs and apps, one value per (env, app) slot, optionally expiring.
import { randomUUID } from 'node:crypto';
import { ConfigError, DuctapeError, InvalidInputError, NotFoundError, type Issue } from '../errors.js';
import { registerSecret } from '../model/redact.js';
import { timeMs } from '../model/time.js';
import { openValue, sealValue } from '../store/seal.js';
import type { Store, StoredRecord } from '../store/store.js';
import { mutate, type WorkspaceDeps } from './deps.js';

/*
 * Model. A secret key holds one value per slot, a slot being (env or any) × (app or any). `set` writes its value into
 * every slot its `envs` × `apps` name, replacing what those slots held and leaving other slots alone, so
 *   set({ key: 'STRIPE_KEY', value: 'sk_test_…', envs: ['dev'] }); set({ key: 'STRIPE_KEY', value: 'sk_live_…', envs: ['prd'] })
 * gives dev and prd their own values. Resolution for (env, app) takes the most specific slot that exists:
 * (env, app), then (env, any), then (any, app), then (any, any). Each slot is one record of kind 'secret' whose key is
 * `KEY|env|app` ('*' for any), sealed under that record key; slots written by one `set` share a set id for `list`.
 */

export const SECRET_KIND = 'secret';
const ANY = '*';
const KEY_RE = /^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/;
const SCOPE_RE = /^[a-z0-9][a-z0-9_-]{0,63}$/i;

export interface SecretDeps {
  store: Store;
  workspace: string;
  privateKey: string;
  /** Clock in ms (tests). @default Date.now */
  now?: () => number;
}

export interface SetSecretArgs {
  key: string;
  value: string;
  /** Envs the value is for; omitted → every env (a fallback for envs without their own value). */
  envs?: string[];
  /** Access tags/apps the value is for; omitted → every app. */
  apps?: string[];
  /** When the value stops resolving: ISO time, Date, or epoch ms. */
  expires_at?: string | number | Date | null;
}

export interface SecretInfo {
  key: string;
  /** null: every env. */
  envs: string[] | null;
  /** null: every app. */
  apps: string[] | null;
  expires_at: string | null;
  updated_at: string;
}

interface SecretData {
  value: string; // sealed
  set: string;
  expires_at: number | null;
  updated_at: string;
}

const slotKey = (key: string, env: string, app: string) => `${key}|${env}|${app}`;
const parseSlot = (recordKey: string) => {
  const [key, env, app] = recordKey.split('|');
  return { key, env, app };
};

/** Stores a value (sealed) for the slots `envs` × `apps` name. @example setSecret(deps, { key: 'STRIPE_KEY', value, envs: ['prd'] }) */
export async function setSecret(deps: SecretDeps, args: SetSecretArgs): Promise<SecretInfo> {
  const issues = checkArgs(args, true);
  if (issues.length) throw new InvalidInputError(issues, `Cannot set secret "${safeKey(args.key)}"`);
  const expiresAt = toMs(args.expires_at);
  const envs = uniq(args.envs) ?? [ANY];
  const apps = uniq(args.apps) ?? [ANY];
  const set = randomUUID();
  const updatedAt = new Date((deps.now ?? Date.now)()).toISOString();
  registerSecret(args.value);
  await deps.store.transaction(async (tx) => {
    for (const env of envs) {
      for (const app of apps) {
        const rk = slotKey(args.key, env, app);
        const data: SecretData = { value: sealValue(deps.privateKey, scopeOf(deps, rk), args.value), set, expires_at: expiresAt, updated_at: updatedAt };
        await tx.putRecord(deps.workspace, SECRET_KIND, rk, data, { ref: args.key });
      }
    }
  });
  return { key: args.key, envs: args.envs ? envs : null, apps: args.apps ? apps : null, expires_at: iso(expiresAt), updated_at: updatedAt };
}

/** The value a run in (env, app) would get, with its scope. Without env, only the any-env value is returned. */
export async function getSecret(deps: SecretDeps, args: { key: string; env?: string; app?: string }): Promise<SecretInfo & { value: string }> {
  const slots = await loadSlots(deps, args.key);
  const slot = pick(deps, args.key, slots, args.env, args.app);
  const info = summarize(slots.filter((s) => s.data.set === slot.data.set));
  const match = info.find((i) => (i.envs ?? [ANY]).includes(slot.env) && (i.apps ?? [ANY]).includes(slot.app)) ?? info[0];
  return { ...match, value: open(deps, slot) };
}

/** Resolves `$Secret{KEY}` for a run. NOT_FOUND when the key is unknown; CONFIG_ERROR when out of scope or expired. */
export async function resolveSecret(deps: SecretDeps, key: string, where: { env: string; app?: string }): Promise<string> {
  return (await resolveSecretEntry(deps, key, where)).value;
}

/** resolveSecret, with the slot's expiry (epoch ms or null) so callers may keep the value until then. */
export async function resolveSecretEntry(deps: SecretDeps, key: string, where: { env: string; app?: string }): Promise<{ value: string; expiresAt: number | null }> {
  const slots = await loadSlots(deps, key, false);
  // A run's error may reach the caller's end users (#11): it names the one secret asked for and never the workspace's
  // other secrets, nor where this one is set. The management API (secrets.get, the CLI) says more.
  if (slots.length === 0) {
    throw new DuctapeError(
      'NOT_FOUND',
      `No secret "${key}" is set in this workspace. Set it with secrets.set({ key: '${key}', value, envs }) or "ductape secrets set ${key}".`,
      { kind: 'secret', name: key },
    );
  }
  let slot: Slot;
  try {
    slot = pick(deps, key, slots, where.env, where.app);
  } catch (err) {
    if (!(err instanceof ConfigError) || err.details.expired_at !== undefined) throw err;
    const to = where.app === undefined ? '' : ` for app ${where.app}`;
    throw new ConfigError(
      `secret ${key} is not available in env ${where.env}${to}. Set a value there with secrets.set({ key: '${key}', value, envs: ['${where.env}'] }); "ductape secrets list" shows where it is set.`,
      { key, env: where.env, app: where.app ?? null },
    );
  }
  return { value: open(deps, slot), expiresAt: slot.data.expires_at };
}

/** Every secret's key and scope; never values. Slots written together are listed together. */
export async function listSecrets(deps: SecretDeps, args: { key?: string } = {}): Promise<SecretInfo[]> {
  const records = await deps.store.listRecords<SecretData>(deps.workspace, SECRET_KIND, args.key ? { prefix: `${args.key}|` } : {});
  const byGroup = new Map<string, Slot[]>();
  for (const r of records) {
    const s = toSlot(r);
    const g = `${s.key}\u0000${s.data.set}`;
    byGroup.set(g, [...(byGroup.get(g) ?? []), s]);
  }
  return [...byGroup.values()].flatMap(summarize).sort((a, b) => a.key.localeCompare(b.key) || scopeRank(a) - scopeRank(b));
}

/** Deletes a secret: every slot, or only the slots `envs` × `apps` name. Returns how many slots went. */
export async function deleteSecret(deps: SecretDeps, args: { key: string; envs?: string[]; apps?: string[] }): Promise<{ deleted: number }> {
  const slots = await loadSlots(deps, args.key, false);
  const envs = uniq(args.envs);
  const apps = uniq(args.apps);
  const doomed = slots.filter((s) => (!envs || envs.includes(s.env)) && (!apps || apps.includes(s.app)));
  if (slots.length === 0) {
    const known = [...new Set((await deps.store.listRecords(deps.workspace, SECRET_KIND)).map((r) => parseSlot(r.key).key))];
    throw new NotFoundError('secret', args.key, known, 'List secrets with "ductape secrets list".');
  }
  await deps.store.transaction(async (tx) => {
    for (const s of doomed) await tx.deleteRecord(deps.workspace, SECRET_KIND, s.recordKey);
  });
  return { deleted: doomed.length };
}

interface Slot {
  recordKey: string;
  key: string;
  env: string;
  app: string;
  data: SecretData;
}

function toSlot(r: StoredRecord<SecretData>): Slot {
  return { recordKey: r.key, ...parseSlot(r.key), data: r.data };
}

async function loadSlots(deps: SecretDeps, key: string, mustExist = true): Promise<Slot[]> {
  if (typeof key !== 'string' || !KEY_RE.test(key)) {
    throw new InvalidInputError([{ location: 'body', path: '/key', message: 'must be ASCII letters, digits, _ . - and start with a letter or _' }], 'Invalid secret key');
  }
  const slots = (await deps.store.listRecords<SecretData>(deps.workspace, SECRET_KIND, { prefix: `${key}|` })).map(toSlot);
  if (mustExist && slots.length === 0) {
    const known = [...new Set((await deps.store.listRecords(deps.workspace, SECRET_KIND)).map((r) => parseSlot(r.key).key))];
    throw new NotFoundError('secret', key, known, `Set it with secrets.set({ key: '${key}', value, envs }) or "ductape secrets set ${key}".`);
  }
  return slots;
}

function pick(deps: SecretDeps, key: string, slots: Slot[], env: string | undefined, app: string | undefined): Slot {
  const order: [string, string][] = [];
  if (env !== undefined && app !== undefined) order.push([env, app]);
  if (env !== undefined) order.push([env, ANY]);
  if (app !== undefined) order.push([ANY, app]);
  order.push([ANY, ANY]);
  for (const [e, a] of order) {
    const slot = slots.find((s) => s.env === e && s.app === a);
    if (!slot) continue;
    if (slot.data.expires_at !== null && slot.data.expires_at <= (deps.now ?? Date.now)()) {
      throw new ConfigError(`secret ${key} expired at ${iso(slot.data.expires_at)}${e === ANY ? '' : ` (env ${e})`}. Set a new value with secrets.set.`, {
        key,
        env: env ?? null,
        expired_at: iso(slot.data.expires_at),
      });
    }
    return slot;
  }
  const envs = [...new Set(slots.map((s) => s.env))].filter((e) => e !== ANY);
  if (env === undefined) {
    throw new ConfigError(`secret ${key} has no value for every env; it is set for env ${envs.join(', ')}. Pass env to choose one.`, { key, envs });
  }
  const inEnv = slots.some((s) => s.env === env);
  if (inEnv || (app !== undefined && slots.some((s) => s.env === ANY))) {
    const apps = [...new Set(slots.filter((s) => s.env === env || s.env === ANY).map((s) => s.app))];
    const who = app === undefined ? 'without an app' : `to app ${app}`;
    throw new ConfigError(`secret ${key} is not available ${who} in env ${env}; it is set for app ${apps.join(', ')}.`, { key, env, app: app ?? null, apps });
  }
  throw new ConfigError(`secret ${key} is not available in env ${env}; it is set for env ${envs.join(', ')}.`, { key, env, envs });
}

function open(deps: SecretDeps, slot: Slot): string {
  const value = openValue(deps.privateKey, scopeOf(deps, slot.recordKey), slot.data.value);
  registerSecret(value);
  return value;
}

const scopeOf = (deps: SecretDeps, recordKey: string) => ({ workspace: deps.workspace, kind: SECRET_KIND, key: recordKey });

/** Slots of one set → rows with envs/apps lists; envs sharing the same apps merge into one row. */
function summarize(slots: Slot[]): SecretInfo[] {
  const appsByEnv = new Map<string, string[]>();
  for (const s of slots) appsByEnv.set(s.env, [...(appsByEnv.get(s.env) ?? []), s.app].sort());
  const rows = new Map<string, { envs: string[]; apps: string[] }>();
  for (const [env, apps] of appsByEnv) {
    const sig = apps.join(',');
    const row = rows.get(sig) ?? { envs: [], apps };
    row.envs.push(env);
    rows.set(sig, row);
  }
  const first = slots[0];
  return [...rows.values()].map((r) => ({
    key: first.key,
    envs: r.envs.includes(ANY) ? null : r.envs.sort(),
    apps: r.apps.includes(ANY) ? null : r.apps,
    expires_at: iso(first.data.expires_at),
    updated_at: first.data.updated_at,
  }));
}

const scopeRank = (i: SecretInfo) => (i.envs ? 2 : 0) + (i.apps ? 1 : 0);

function checkArgs(args: SetSecretArgs, needsValue: boolean): Issue[] {
  const issues: Issue[] = [];
  const add = (path: string, message: string) => issues.push({ location: 'body', path, message });
  if (!args || typeof args !== 'object') return [{ location: 'body', path: '', message: 'must be an object' }];
  const known = new Set(['key', 'value', 'envs', 'apps', 'expires_at']);
  for (const k of Object.keys(args)) if (!known.has(k)) add(`/${k}`, `is not an accepted key (accepted: ${[...known].join(', ')})`);
  if (typeof args.key !== 'string' || !KEY_RE.test(args.key)) add('/key', 'must be ASCII letters, digits, _ . - and start with a letter or _ (at most 128)');
  if (needsValue && (typeof args.value !== 'string' || args.value.length === 0)) add('/value', 'must be a non-empty string');
  for (const field of ['envs', 'apps'] as const) {
    const list = args[field];
    if (list === undefined) continue;
    if (!Array.isArray(list) || list.length === 0) add(`/${field}`, 'must be a non-empty list (omit it to mean every one)');
    else list.forEach((v, i) => typeof v === 'string' && SCOPE_RE.test(v) ? undefined : add(`/${field}/${i}`, 'must be a slug (ASCII letters, digits, _ -, starting with a letter or digit)'));
  }
  if (args.expires_at != null && Number.isNaN(toMs(args.expires_at) ?? NaN)) add('/expires_at', 'must be an ISO time, a Date or epoch milliseconds');
  return issues;
}

function toMs(v: SetSecretArgs['expires_at']): number | null {
  return v == null ? null : timeMs(v);
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const uniq = (list: string[] | undefined) => (list ? [...new Set(list)] : undefined);
const safeKey = (k: unknown) => (typeof k === 'string' ? k.slice(0, 128) : String(k));

/**
 * The `ductape.secrets` namespace (API.md §3): set, get, list (never values), delete.
 * @example await ductape.secrets.set({ key: 'STRIPE_KEY', value: 'sk_live_…', envs: ['prd'] });
 */
export function createSecrets(deps: WorkspaceDeps) {
  // Writes count as definition changes: runs keep resolved secrets with their plans, and drop both when this
  // client (or, through the workspace revision, another process) changes a secret.
  const tx = (store: Store): SecretDeps => ({ store, workspace: deps.workspace, privateKey: deps.privateKey });
  return {
    set: (args: SetSecretArgs) => mutate(deps, (store) => setSecret(tx(store), args)),
    get: (args: { key: string; env?: string; app?: string }) => getSecret(tx(deps.store), args),
    list: (args: { key?: string } = {}) => listSecrets(tx(deps.store), args),
    delete: (args: { key: string; envs?: string[]; apps?: string[] }) => mutate(deps, (store) => deleteSecret(tx(store), args)),
  };
}

/** One slot's value and expiry exactly as stored (no fallback to wider slots); undefined when the slot is empty. */
export async function readSecretSlot(
  deps: SecretDeps,
  key: string,
  env: string | undefined,
  app: string | undefined,
): Promise<{ value: string; expires_at: number | null } | undefined> {
  const rk = slotKey(key, env ?? ANY, app ?? ANY);
  const rec = await deps.store.getRecord<SecretData>(deps.workspace, SECRET_KIND, rk);
  if (!rec) return undefined;
  const value = openValue(deps.privateKey, scopeOf(deps, rk), rec.data.value);
  registerSecret(value);
  return { value, expires_at: rec.data.expires_at };
}

/** Epoch ms of an `expires_at` input (null when none); NaN when it is not a time. */
export const expiresAtMs = toMs;
