// `ductape secrets set|list|delete` and `ductape rotate-key`: sealed workspace secrets and key rotation.
import type { Command } from 'commander';
import { ConfigError } from '../../errors.js';
import { withClient } from '../context.js';
import { table } from '../output.js';

const list = (v: string | undefined) => (v === undefined ? undefined : v.split(',').map((s) => s.trim()).filter(Boolean));

/** Reads a secret value from an environment variable or from piped stdin, never from argv (shell history, ps). */
async function readValue(valueEnv: string | undefined): Promise<string> {
  if (valueEnv) {
    const v = process.env[valueEnv];
    if (!v) throw new ConfigError(`Environment variable ${valueEnv} (from --value-env) is not set or empty.`);
    return v;
  }
  if (process.stdin.isTTY) throw new ConfigError('Give the value on stdin (echo "$VALUE" | ductape secrets set KEY) or with --value-env NAME.');
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  // One trailing newline is what `echo` adds, not part of the secret.
  const v = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  if (!v) throw new ConfigError('No value on stdin. Pipe the value in, or use --value-env NAME.');
  return v;
}

export function registerSecrets(program: Command): void {
  const secrets = program.command('secrets').description('Set, list and delete sealed secrets ($Secret{KEY})');
  secrets
    .command('set <key>')
    .description('Set a secret; the value comes from stdin or --value-env, never from the command line')
    .option('--value-env <name>', 'read the value from this environment variable')
    .option('--envs <list>', 'comma-separated envs the value is for (default: every env)')
    .option('--apps <list>', 'comma-separated apps (access tags) the value is for (default: every app)')
    .option('--expires-at <time>', 'ISO time after which the value no longer resolves')
    .action(function (this: Command, key: string) {
      const o = this.opts<{ valueEnv?: string; envs?: string; apps?: string; expiresAt?: string }>();
      return withClient(this, async (d, out) => {
        const value = await readValue(o.valueEnv);
        const info = await d.secrets.set({ key, value, envs: list(o.envs), apps: list(o.apps), ...(o.expiresAt ? { expires_at: o.expiresAt } : {}) });
        out.print(info, (i) => `Set secret ${i.key} for env ${i.envs?.join(', ') ?? 'any'}${i.apps ? `, app ${i.apps.join(', ')}` : ''}${i.expires_at ? `, until ${i.expires_at}` : ''}`);
      });
    });
  secrets
    .command('list')
    .description('List secrets with their scope (never their values)')
    .option('--key <key>', 'only this key')
    .action(function (this: Command) {
      const o = this.opts<{ key?: string }>();
      return withClient(this, async (d, out) => {
        const rows = await d.secrets.list(o.key ? { key: o.key } : {});
        out.print(rows, (r) =>
          r.length
            ? table(r.map((s: { key: string; envs: string[] | null; apps: string[] | null; expires_at: string | null; updated_at: string }) => ({
                key: s.key,
                envs: s.envs?.join(',') ?? '*',
                apps: s.apps?.join(',') ?? '*',
                expires: s.expires_at ?? '',
                updated: s.updated_at,
              })))
            : '(no secrets)',
        );
      });
    });
  secrets
    .command('delete <key>')
    .description('Delete a secret, or only its values for some envs/apps')
    .option('--envs <list>', 'only these envs')
    .option('--apps <list>', 'only these apps')
    .action(function (this: Command, key: string) {
      const o = this.opts<{ envs?: string; apps?: string }>();
      return withClient(this, async (d, out) => {
        const r = await d.secrets.delete({ key, envs: list(o.envs), apps: list(o.apps) });
        out.print(r, (x) => `Deleted ${x.deleted} value${x.deleted === 1 ? '' : 's'} of secret ${key}`);
      });
    });

  program
    .command('rotate-key')
    .description('Re-seal every credential, secret, token and session under a new private_key (DUCTAPE_NEW_PRIVATE_KEY)')
    .action(function (this: Command) {
      return withClient(this, async (d, out) => {
        const next = process.env.DUCTAPE_NEW_PRIVATE_KEY;
        if (!next) throw new ConfigError('Set DUCTAPE_NEW_PRIVATE_KEY to the new key (DUCTAPE_PRIVATE_KEY holds the current one).');
        const r = await d.rotateKey(next);
        out.print(r, (x) =>
          `Re-sealed ${x.connections} connection credential(s), ${x.secrets} secret value(s), ${x.tokens} token(s) and ${x.sessions} session(s). ` +
          'Use the new key as DUCTAPE_PRIVATE_KEY from now on; session tokens issued before must be refreshed.',
        );
      });
    });
}
