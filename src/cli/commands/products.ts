// `ductape products create`, `ductape connect`, `ductape configure`: products, connections and their config.
import type { Command } from 'commander';
import { json, pairs, withClient } from '../context.js';

export function registerProducts(program: Command): void {
  const products = program.command('products').description('Create and list products');
  products
    .command('create <tag>')
    .description('Create a product with env slugs')
    .requiredOption('--envs <list>', 'comma-separated env slugs, e.g. dev,prd')
    .option('--name <name>', 'display name')
    .action(function (this: Command, tag: string) {
      const o = this.opts();
      return withClient(this, async (d, out) => {
        const p = await d.products.create({ tag, name: o.name, envs: String(o.envs).split(',').map((s) => s.trim()).filter(Boolean) });
        out.print(p, (x) => `Created product ${x.tag} with envs ${x.envs.join(', ')}`);
      });
    });
  products
    .command('list')
    .description('List products')
    .action(function (this: Command) {
      return withClient(this, async (d, out) =>
        out.print(await d.products.list(), (rows) =>
          rows.map((p: { tag: string; envs: string[]; connections: object }) => `${p.tag}  envs: ${p.envs.join(',')}  apps: ${Object.keys(p.connections).join(',') || '-'}`).join('\n') || '(no products)',
        ),
      );
    });

  program
    .command('connect')
    .description('Connect an app to a product under an access tag')
    .requiredOption('--product <tag>', 'product tag')
    .requiredOption('--app <tag>', 'app tag')
    .option('--access-tag <tag>', 'name used in run({ app }); default: the app tag')
    .action(function (this: Command) {
      const o = this.opts();
      return withClient(this, async (d, out) =>
        out.print(await d.products.apps.connect({ product: o.product, app: o.app, access_tag: o.accessTag }), (c) => `Connected ${c.app} to ${c.product} as ${c.access_tag}`),
      );
    });

  program
    .command('configure')
    .description("Configure a connection for one env (base URL, app env, static headers/query, variables)")
    .requiredOption('--product <tag>', 'product tag')
    .requiredOption('--app <access_tag>', 'access tag of the connected app')
    .requiredOption('--env <slug>', 'product env')
    .option('--app-env <slug>', 'app env to use (default: same slug)')
    .option('--base-url <url>', 'override the base URL')
    .option('--header <name=value>', 'static header (repeatable)', pairs)
    .option('--query <name=value>', 'static query param (repeatable)', pairs)
    .option('--variables <json>', 'connection variables as JSON', json('variables'))
    .option('--auth <json>', 'credentials as JSON, e.g. \'{"type":"bearer","token":"$Secret{KEY}"}\' (sealed at rest)', json('auth'))
    .action(function (this: Command) {
      const o = this.opts();
      return withClient(this, async (d, out) =>
        out.print(
          await d.products.apps.configure({
            product: o.product,
            app: o.app,
            env: o.env,
            ...(o.appEnv ? { app_env: o.appEnv } : {}),
            ...(o.baseUrl ? { base_url: o.baseUrl } : {}),
            ...(o.header ? { headers: o.header } : {}),
            ...(o.query ? { query: o.query } : {}),
            ...(o.variables ? { variables: o.variables } : {}),
            ...(o.auth !== undefined ? { auth: o.auth } : {}),
          }),
          (c) => `Configured ${c.product}/${c.app} in ${c.env}`,
        ),
      );
    });
}
