// apps.import: converts a spec (importers/) and writes the app, its shared schemas and its actions in one transaction.
import { importSpec, planReimport, type ImportOptions } from '../importers/index.js';
import type { AppDef } from '../model/app.js';
import { checkKnownKeys, checkTag, fail } from '../model/definitions.js';
import { mutate, type WorkspaceDeps } from './deps.js';

export interface ImportArgs {
  app: string;
  file?: string;
  spec?: string | object;
  /** Display name for a new app (default: the spec's title). */
  name?: string;
  /** Delete imported actions whose operation is gone from the spec (default: only report them). */
  prune?: boolean;
  /** Folder that file `$ref`s may read from (default: the spec's folder; see ImportOptions.refsRoot). */
  refs_root?: string;
}

export interface ImportReport {
  app: string;
  format: string;
  created: string[];
  updated: string[];
  unchanged: string[];
  /** Imported actions whose operation is no longer in the spec (deleted only with `prune`). */
  vanished: string[];
  deleted: string[];
  skipped: { operation: string; reason: string }[];
  warnings: string[];
}

export async function importApp(deps: WorkspaceDeps, args: ImportArgs, options: ImportOptions = {}): Promise<ImportReport> {
  if (!args || typeof args !== 'object') fail('import', 'expected { app, file } or { app, spec }');
  checkKnownKeys('import', args, ['app', 'file', 'spec', 'name', 'prune', 'refs_root']);
  if (args.refs_root !== undefined && typeof args.refs_root !== 'string') fail('import', 'refs_root must be a folder path');
  const tag = checkTag('app', args.app);
  if ((args.file === undefined) === (args.spec === undefined)) fail('import', 'give exactly one of file or spec');
  // Parsing happens before the transaction: a malformed file never reaches the store.
  const imported = await importSpec({ file: args.file, spec: args.spec }, args.refs_root === undefined ? options : { ...options, refsRoot: args.refs_root });
  const ws = deps.workspace;
  return mutate(deps, async (tx) => {
    const old = await tx.getApp(ws, tag);
    const specEnvs = new Set(imported.envs.map((e) => e.slug));
    const app: AppDef = {
      ...old,
      tag,
      name: old?.name ?? args.name ?? imported.name,
      ...(imported.description ? { description: imported.description } : {}),
      // Envs from the spec are refreshed; envs the user added by hand are kept.
      envs: [...(old?.envs ?? []).filter((e) => !specEnvs.has(e.slug)), ...imported.envs],
      auth_schemes: imported.auth_schemes,
      security: imported.security,
      variables: { ...old?.variables, ...imported.variables },
      ...(imported.idempotency_header ? { idempotency_header: old?.idempotency_header ?? imported.idempotency_header } : {}),
      source_format: imported.format,
    };
    await tx.putApp(ws, app);
    await tx.putComponents(ws, tag, Object.keys(imported.components.schemas).length ? imported.components : undefined);
    const plan = planReimport(await tx.listActions(ws, tag), imported.actions);
    await tx.putActions(ws, tag, [...plan.create, ...plan.update]);
    const deleted: string[] = [];
    if (args.prune) for (const event of plan.vanished) if (await tx.deleteAction(ws, tag, event)) deleted.push(event);
    const warnings = [...imported.warnings, ...plan.warnings];
    if (plan.vanished.length && !args.prune) {
      warnings.push(`${plan.vanished.length} imported action(s) are no longer in the spec and were kept: ${plan.vanished.join(', ')}. Re-import with prune to delete them.`);
    }
    return {
      app: tag,
      format: imported.format,
      created: plan.create.map((a) => a.event),
      updated: plan.update.map((a) => a.event),
      unchanged: plan.unchanged,
      vanished: plan.vanished,
      deleted,
      skipped: imported.skipped,
      warnings,
    };
  });
}
