// `ductape apply`: makes the workspace match a ductape.yaml; writes only what differs, so a second run changes nothing.
import { resolve } from 'node:path';
import { ConfigError, DuctapeError } from '../errors.js';
import { importSpec, isDeepEqual, planReimport } from '../importers/index.js';
import type { AppEnv } from '../model/app.js';
import { checkBaseUrl, checkEnv } from '../model/definitions.js';
import { connectionScope, openCredentials } from '../runtime/auth/credentials.js';
import { normalizeAuth } from '../runtime/auth/forms.js';
import { createSessionTypesApi } from '../sessions/api.js';
import { inferSchema } from '../sessions/session-types.js';
import { createApps } from './apps.js';
import { mutate, type WorkspaceDeps } from './deps.js';
import type { ConnectionDecl, WorkspaceFile } from './apply-file.js';
import { createProducts, hasCache } from './products.js';
import { expiresAtMs, readSecretSlot, setSecret } from './secrets.js';

export interface ApplyChange {
  kind: 'app' | 'action' | 'env' | 'product' | 'connection' | 'session' | 'cache' | 'secret';
  action: 'create' | 'update' | 'import' | 'set';
  target: string;
  /** What changes, by name only (never a value). */
  detail?: string;
}

export interface ApplyResult {
  dry_run: boolean;
  changes: ApplyChange[];
}

/**
 * Compares the file with the workspace and writes each difference (a dry run rolls them back). Things the file does not mention
 * are left alone (apply never deletes).
 */
export async function applyWorkspace(deps: WorkspaceDeps, file: WorkspaceFile, opts: { dryRun?: boolean } = {}): Promise<ApplyResult> {
  if (file.workspace && file.workspace !== deps.workspace) {
    throw new ConfigError(`The file declares workspace "${file.workspace}" but the client opened "${deps.workspace}".`);
  }
  const changes: ApplyChange[] = [];
  const dry = opts.dryRun === true;
  const change = async (c: ApplyChange, write: () => Promise<unknown>) => {
    changes.push(c);
    await write();
  };
  // One transaction for the whole file: a change that fails (a bad app_env, a spec that will not import) leaves
  // the workspace exactly as it was. The steps' own transactions nest inside it. A dry run makes the same writes and
  // rolls them back, so it refuses what apply would refuse (an unknown app, a bad expiry) instead of promising a plan
  // that cannot be applied. With nothing to change it is rolled back too, so an up-to-date workspace is not even
  // touched (no revision bump).
  const rollback = new Error('roll back');
  try {
    await mutate(deps, async (tx) => {
      const d: WorkspaceDeps = { store: tx, workspace: deps.workspace, privateKey: deps.privateKey, changed: () => {} };
      await applyApps(d, file, change);
      await applyProducts(d, file, change);
      await applySecrets(d, file, change);
      if (dry || changes.length === 0) throw rollback;
    });
  } catch (err) {
    if (err !== rollback) throw err;
  }
  return { dry_run: dry, changes };
}

type Change = (c: ApplyChange, write: () => Promise<unknown>) => Promise<void>;

async function applyApps(deps: WorkspaceDeps, file: WorkspaceFile, change: Change): Promise<void> {
  const { store, workspace: ws } = deps;
  const apps = createApps(deps);
  for (const [tag, decl] of Object.entries(file.apps)) {
    let app = await store.getApp(ws, tag);
    if (decl.spec) {
      const path = resolve(file.baseDir, decl.spec);
      const imported = await importSpec({ file: path });
      const plan = planReimport(app ? await store.listActions(ws, tag) : [], imported.actions);
      // Envs and variables the file sets itself are compared below, with the file's values: comparing them with the
      // spec's made every apply re-import the spec and then set the file's value again, never converging.
      const ownEnvs = new Set(Object.keys(decl.envs ?? {}));
      const ownVariables = new Set(Object.keys(decl.variables ?? {}));
      const appDiffers =
        !app ||
        !isDeepEqual(app.auth_schemes, imported.auth_schemes) ||
        !isDeepEqual(app.security, imported.security) ||
        imported.envs.some((e) => !ownEnvs.has(e.slug) && !app!.envs.some((x) => isDeepEqual(x, e))) ||
        Object.entries(imported.variables ?? {}).some(([k, v]) => !ownVariables.has(k) && !isDeepEqual(app!.variables?.[k], v));
      if (appDiffers || plan.create.length || plan.update.length) {
        await change({ kind: 'app', action: 'import', target: tag, detail: `${decl.spec}: ${plan.create.length} new, ${plan.update.length} changed actions` }, () =>
          apps.import({ app: tag, file: path, ...(decl.name ? { name: decl.name } : {}) }),
        );
      }
    } else if (!app) {
      await change({ kind: 'app', action: 'create', target: tag }, () => apps.create({ tag, ...(decl.name ? { name: decl.name } : {}) }));
    }
    app = await store.getApp(ws, tag);
    // A name given at creation only: a new name in the file was reported as "no changes" and never written.
    if (decl.name !== undefined && app && app.name !== decl.name) {
      await change({ kind: 'app', action: 'update', target: tag, detail: 'name' }, () => apps.update({ app: tag, name: decl.name }));
    }
    for (const [slug, e] of Object.entries(decl.envs ?? {})) {
      const desired: AppEnv = checkEnv(`apps.${tag}.envs.${slug}`, typeof e === 'string' ? { slug, base_url: e } : { slug, ...e });
      if (!isDeepEqual(app?.envs.find((x) => x.slug === slug), desired)) {
        await change({ kind: 'env', action: app?.envs.some((x) => x.slug === slug) ? 'update' : 'create', target: `${tag}/${slug}` }, () =>
          apps.envs.upsert({ app: tag, ...desired }),
        );
      }
    }
    const variables = decl.variables ? { ...app?.variables, ...decl.variables } : app?.variables;
    const constants = decl.constants ?? app?.constants;
    if ((decl.variables && !isDeepEqual(variables, app?.variables)) || (decl.constants && !isDeepEqual(constants, app?.constants))) {
      await change({ kind: 'app', action: 'update', target: tag, detail: [decl.variables && 'variables', decl.constants && 'constants'].filter(Boolean).join(', ') }, () =>
        mutate(deps, async (tx) => {
          const current = await tx.getApp(ws, tag);
          if (current) await tx.putApp(ws, { ...current, variables: variables as never, constants });
        }),
      );
    }
    if (decl.rate_limit !== undefined && !isDeepEqual(app?.rate_limit, decl.rate_limit ?? undefined)) {
      await change({ kind: 'app', action: 'update', target: tag, detail: 'rate_limit' }, () => apps.update({ app: tag, rate_limit: decl.rate_limit }));
    }
    for (const [event, a] of Object.entries(decl.actions ?? {})) {
      if (!a || typeof a !== 'object') throw new ConfigError(`apps.${tag}.actions.${event} must be an object like { pagination: { type: link } }.`);
      const unknown = Object.keys(a).filter((k) => k !== 'pagination');
      if (unknown.length) throw new ConfigError(`apps.${tag}.actions.${event}.${unknown[0]} is not a setting ductape.yaml can change; accepted: pagination.`);
      if (a.pagination === undefined) continue;
      // In a dry run of a new app there is no stored action yet: the import would create it.
      const current = app ? await store.getAction(ws, tag, event) : undefined;
      if (!isDeepEqual(current?.pagination, a.pagination ?? undefined)) {
        await change({ kind: 'action', action: 'update', target: `${tag}/${event}`, detail: 'pagination' }, () => apps.actions.update({ app: tag, event, pagination: a.pagination }));
      }
    }
  }
}

async function applyProducts(deps: WorkspaceDeps, file: WorkspaceFile, change: Change): Promise<void> {
  const { store, workspace: ws } = deps;
  const products = createProducts(deps);
  const sessionTypes = createSessionTypesApi(deps);
  for (const [tag, decl] of Object.entries(file.products)) {
    const p = await store.getProduct(ws, tag);
    if (!p) {
      await change({ kind: 'product', action: 'create', target: tag }, () => products.create({ tag, envs: decl.envs, ...(decl.name ? { name: decl.name } : {}) }));
    } else {
      if (decl.name !== undefined && p.name !== decl.name) {
        // products has no update call: the name is the only field of a product besides its envs and connections.
        await change({ kind: 'product', action: 'update', target: tag, detail: 'name' }, () =>
          mutate(deps, async (tx) => {
            const current = await tx.getProduct(ws, tag);
            if (current) await tx.putProduct(ws, { ...current, name: decl.name });
          }),
        );
      }
      for (const env of decl.envs.filter((e) => !p.envs.includes(e))) {
        await change({ kind: 'product', action: 'update', target: tag, detail: `add env ${env}` }, () => products.addEnv({ product: tag, env }));
      }
    }
    for (const [access, c] of Object.entries(decl.apps ?? {})) {
      const appTag = c.app ?? access;
      const current = p && Object.hasOwn(p.connections, access) ? p.connections[access] : undefined;
      if (current && current.app !== appTag) throw new ConfigError(`products.${tag}.apps.${access}: connected to app "${current.app}" in the workspace, "${appTag}" in the file.`);
      if (!current) await change({ kind: 'connection', action: 'create', target: `${tag}/${access}`, detail: `app ${appTag}` }, () => products.apps.connect({ product: tag, app: appTag, access_tag: access }));
      for (const [env, cfg] of Object.entries(c.envs ?? {})) {
        const differs = await connectionDiff(deps, tag, env, access, cfg);
        if (differs.length) {
          await change({ kind: 'connection', action: 'update', target: `${tag}/${env}/${access}`, detail: differs.join(', ') }, () =>
            products.apps.configure({ product: tag, app: access, env, ...(cfg as object) } as never),
          );
        }
      }
    }
    for (const [stag, s] of Object.entries(decl.sessions ?? {})) {
      const current = p ? await sessionTypes.fetch({ product: tag, tag: stag }).catch((err) => (err instanceof DuctapeError && err.code === 'NOT_FOUND' ? undefined : Promise.reject(err))) : undefined;
      if (!current) {
        await change({ kind: 'session', action: 'create', target: `${tag}/${stag}` }, () => sessionTypes.create({ product: tag, tag: stag, ...s }));
        continue;
      }
      const differs = [
        s.selector !== current.selector && 'selector',
        s.expiry !== undefined && s.expiry !== current.expiry && 'expiry',
        s.refresh_expiry !== undefined && s.refresh_expiry !== current.refresh_expiry && 'refresh_expiry',
        s.schema !== undefined && !isDeepEqual(s.schema, current.schema) && 'schema',
        // A sample stands for the schema inferred from it (as sessions.create infers it).
        s.schema === undefined && s.sample !== undefined && !isDeepEqual(inferSchema(s.sample), current.schema) && 'sample',
      ].filter((x): x is string => typeof x === 'string');
      if (differs.length) await change({ kind: 'session', action: 'update', target: `${tag}/${stag}`, detail: differs.join(', ') }, () => sessionTypes.update({ product: tag, tag: stag, ...s }));
    }
    for (const [ctag, cache] of Object.entries(decl.caches ?? {})) {
      const current = p && hasCache(p, ctag) ? p.caches![ctag] : undefined;
      if (current?.expiry_ms === cache.expiry) continue;
      await change({ kind: 'cache', action: current ? 'update' : 'create', target: `${tag}/${ctag}`, detail: 'expiry' }, async () => {
        // A cache's expiry changes by replacing its definition (caches.create refuses an existing tag).
        if (current) await products.caches.delete({ product: tag, tag: ctag });
        await products.caches.create({ product: tag, tag: ctag, expiry: cache.expiry });
      });
    }
  }
}

/** Names of the declared connection fields whose stored value differs (credentials compared after opening). */
async function connectionDiff(deps: WorkspaceDeps, product: string, env: string, access: string, cfg: ConnectionDecl): Promise<string[]> {
  const row = await deps.store.getConnection(deps.workspace, product, env, access);
  const stored = (row?.config ?? {}) as Record<string, unknown>;
  const out: string[] = [];
  for (const [field, value] of Object.entries(cfg)) {
    if (field === 'auth') {
      const current = openCredentials(deps.privateKey, connectionScope(deps.workspace, product, env, access), row?.credentials ?? null);
      const desired = value === null ? undefined : normalizeAuth(value);
      if (!isDeepEqual(current, desired)) out.push('auth');
      continue;
    }
    // null removes a field (rate_limit, per_user): it matches a field that is not there. Compared with null as such,
    // every apply 'updated' a connection that had none.
    if (value === null) {
      if (stored[field] !== undefined) out.push(field);
      continue;
    }
    const desired = field === 'base_url' ? checkBaseUrl('base_url', value) : field === 'headers' ? lowerKeys(value) : value;
    if (!isDeepEqual(field === 'headers' ? lowerKeys(stored.headers) : stored[field], desired)) out.push(field);
  }
  return out;
}

const lowerKeys = (v: unknown) => (v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k.toLowerCase(), x])) : v);

async function applySecrets(deps: WorkspaceDeps, file: WorkspaceFile, change: Change): Promise<void> {
  for (const [key, decls] of Object.entries(file.secrets)) {
    for (const d of decls) {
      const expires = d.expires_at === undefined ? null : expiresAtMs(d.expires_at);
      let differs = false;
      for (const env of d.envs ?? [undefined]) {
        for (const app of d.apps ?? [undefined]) {
          const slot = await readSecretSlot(deps, key, env, app);
          if (!slot || slot.value !== d.value || slot.expires_at !== expires) differs = true;
        }
      }
      if (!differs) continue;
      const scope = [d.envs && `env ${d.envs.join(',')}`, d.apps && `app ${d.apps.join(',')}`].filter(Boolean).join(', ') || 'every env';
      await change({ kind: 'secret', action: 'set', target: key, detail: scope }, () => setSecret(deps, { key, value: d.value, envs: d.envs, apps: d.apps, expires_at: d.expires_at }));
    }
  }
}
