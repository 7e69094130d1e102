// `ductape apps …` and `ductape actions …`: define apps, envs and hand-made actions.
import { Presets, SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { json, pairs, withClient } from '../context.js';

export function registerApps(program: Command): void {
  const apps = program.command('apps').description('Create, list, fetch and delete apps');
  apps
    .command('create <tag>')
    .description('Create an app; --env slug=base_url may repeat')
    .option('--name <name>', 'display name')
    .option('--env <slug=url>', 'an env and its base URL (repeatable)', pairs, {})
    .action(function (this: Command, tag: string) {
      const o = this.opts<{ name?: string; env: Record<string, string> }>();
      return withClient(this, async (d, out) => {
        const app = await d.apps.create({ tag, name: o.name, envs: Object.entries(o.env).map(([slug, base_url]) => ({ slug, base_url })) });
        out.print(app, (a) => `Created app ${a.tag} with envs: ${a.envs.map((e: { slug: string }) => e.slug).join(', ') || 'none'}`);
      });
    });
  apps
    .command('import <file>')
    .description('Import an OpenAPI 2.0/3.0/3.1 or Postman v2.1 file (JSON or YAML) as the actions of an app')
    .requiredOption('--app <tag>', 'app tag (created if missing)')
    .option('--name <name>', 'display name for a new app')
    .option('--prune', 'delete imported actions whose operation is gone from the file')
    .action(function (this: Command, file: string) {
      const o = this.opts<{ app: string; name?: string; prune?: boolean }>();
      return withClient(this, async (d, out) => {
        // A progress bar only for people: not with --json, not when stdout is a pipe or a file.
        const bar = !out.json && process.stdout.isTTY ? new SingleBar({ format: 'Importing {bar} {value}/{total} operations', hideCursor: true }, Presets.shades_classic) : undefined;
        let started = false;
        try {
          const report = await d.apps.import(
            { app: o.app, file, name: o.name, prune: o.prune },
            {
              onProgress: bar
                ? (done, total) => {
                    if (!started) bar.start(total, 0);
                    started = true;
                    bar.update(done);
                  }
                : undefined,
            },
          );
          bar?.stop();
          out.print(report, (r) =>
            [
              `Imported ${file} (${r.format}) into app ${r.app}: ${r.created.length} created, ${r.updated.length} updated, ${r.unchanged.length} unchanged` +
                (r.deleted.length ? `, ${r.deleted.length} deleted` : '') +
                (r.skipped.length ? `, ${r.skipped.length} skipped` : ''),
              ...r.skipped.map((x: { operation: string; reason: string }) => `  skipped ${x.operation}: ${x.reason}`),
              ...r.warnings.map((w: string) => `  warning: ${w}`),
            ].join('\n'),
          );
        } finally {
          bar?.stop();
        }
      });
    });
  apps
    .command('list')
    .description('List apps')
    .action(function (this: Command) {
      return withClient(this, async (d, out) => out.print(await d.apps.list()));
    });
  apps
    .command('fetch <tag>')
    .description('Show an app definition')
    .action(function (this: Command, tag: string) {
      return withClient(this, async (d, out) => out.print(await d.apps.fetch({ app: tag })));
    });
  apps
    .command('delete <tag>')
    .description('Delete an app and its actions')
    .action(function (this: Command, tag: string) {
      return withClient(this, async (d, out) => out.print(await d.apps.delete({ app: tag })));
    });
  apps
    .command('env <app> <slug> <base_url>')
    .description('Add or change an app env')
    .action(function (this: Command, app: string, slug: string, base_url: string) {
      return withClient(this, async (d, out) => out.print(await d.apps.envs.upsert({ app, slug, base_url })));
    });

  const actions = program.command('actions').description('Create and list the actions of an app');
  actions
    .command('create')
    .description('Define an action by hand')
    .requiredOption('--app <tag>', 'app tag')
    .requiredOption('--event <event>', 'event tag, e.g. fetch_user')
    .requiredOption('--method <method>', 'HTTP method')
    .requiredOption('--path <path>', 'path template, e.g. /users/{id} or /users/:id')
    .option('--content-type <type>', 'request body media type')
    .option('--body-schema <json>', 'JSON Schema of the body', json('body-schema'))
    .option('--query-schema <json>', 'JSON Schema (object) of the query', json('query-schema'))
    .option('--params-schema <json>', 'JSON Schema (object) of the path params', json('params-schema'))
    .option('--headers-schema <json>', 'JSON Schema (object) of the headers', json('headers-schema'))
    .option('--summary <text>', 'one-line summary')
    .action(function (this: Command) {
      const o = this.opts();
      return withClient(this, async (d, out) => {
        const schemas = Object.fromEntries(
          Object.entries({ body: o.bodySchema, query: o.querySchema, params: o.paramsSchema, headers: o.headersSchema }).filter(([, v]) => v !== undefined),
        );
        const a = await d.apps.actions.create({
          app: o.app,
          event: o.event,
          method: o.method,
          path: o.path,
          content_type: o.contentType,
          summary: o.summary,
          schemas,
        });
        out.print(a, (x) => `Created ${o.app}.${x.event}: ${x.method} ${x.path}`);
      });
    });
  actions
    .command('list')
    .description('List the actions of an app')
    .requiredOption('--app <tag>', 'app tag')
    .action(function (this: Command) {
      const o = this.opts();
      return withClient(this, async (d, out) => out.print(await d.apps.actions.list({ app: o.app })));
    });
  actions
    .command('fetch')
    .description('Show one action with its schemas')
    .requiredOption('--app <tag>', 'app tag')
    .requiredOption('--event <event>', 'event tag')
    .action(function (this: Command) {
      const o = this.opts();
      return withClient(this, async (d, out) => out.print(await d.apps.actions.fetch({ app: o.app, event: o.event })));
    });
  actions
    .command('rename')
    .description('Rename an action event')
    .requiredOption('--app <tag>', 'app tag')
    .requiredOption('--event <event>', 'current event tag')
    .requiredOption('--to <event>', 'new event tag')
    .action(function (this: Command) {
      const o = this.opts();
      return withClient(this, async (d, out) => out.print(await d.apps.actions.rename({ app: o.app, event: o.event, to: o.to }), (a) => `Renamed to ${a.event}`));
    });
}
