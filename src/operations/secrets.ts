// Operations on workspace secrets ($Secret{KEY}): sealed at rest; over HTTP they are write-only (API.md §6).
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import type { SecretInfo, SetSecretArgs } from '../workspace/secrets.js';
import { timeOption } from './cli-parsers.js';
import { table } from './format.js';
import { operation } from './operation.js';
import { time } from './schemas.js';

const scopeLists = {
  envs: z.array(z.string()).optional().describe('envs the value is for (default: every env)'),
  apps: z.array(z.string()).optional().describe('apps (access tags) the value is for (default: every app)'),
};

/** Reads a secret value from an environment variable or from piped stdin, never from argv (shell history, ps). */
async function readValue(valueEnv: unknown): Promise<string> {
  if (typeof valueEnv === 'string') {
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

export const secretOperations = {
  'secrets.set': operation<SetSecretArgs, SecretInfo>({
    name: 'secrets.set',
    summary: 'Set a secret value (sealed at rest), optionally for some envs and apps only, until an expiry.',
    input: z.strictObject({ key: z.string().min(1).describe('secret name, used as $Secret{KEY}'), value: z.string().min(1), ...scopeLists, expires_at: z.union([time(), z.null()]).optional().describe('ISO time (UTC when no zone is given) after which the value no longer resolves') }),
    handler: (s, i) => s.secrets.set(i),
    http: { method: 'PUT', path: '/v1/secrets/{key}' },
    cli: {
      args: ['key'],
      // The value comes from stdin or --value-env, never from the command line.
      options: {
        value: false,
        value_env: { flag: '--value-env <name>', description: 'read the value from this environment variable' },
        expires_at: { flag: '--expires-at <time>', description: 'ISO 8601 time (2026-12-06T09:00:00Z; UTC when no zone is given) or epoch ms after which the value no longer resolves', parse: timeOption },
      },
      prepare: async ({ value_env, ...rest }) => ({ ...rest, value: await readValue(value_env) }),
      human: (i) => `Set secret ${i.key} for ${i.envs ? `env ${i.envs.join(', ')}` : 'every env'}${i.apps ? `, app ${i.apps.join(', ')}` : ''}${i.expires_at ? `, until ${i.expires_at}` : ''}`,
    },
  }),
  'secrets.get': operation<{ key: string; env?: string; app?: string }, SecretInfo & { value: string }>({
    name: 'secrets.get',
    summary: 'Read a secret value as a run in that env and app would resolve it.',
    input: z.strictObject({ key: z.string().min(1), env: z.string().optional(), app: z.string().optional() }),
    handler: (s, i) => s.secrets.get(i),
    http: false,
    cli: {
      args: ['key'],
      // The printer redacts fields named "value"; the one who asks for a secret gets it, unredacted, on stdout only.
      print: (r, json) => process.stdout.write(json ? JSON.stringify(r, null, 2) + '\n' : r.value + '\n'),
    },
  }),
  'secrets.list': operation<{ key?: string } | void, SecretInfo[]>({
    name: 'secrets.list',
    summary: 'List secrets with their scope (never their values).',
    input: z.strictObject({ key: z.string().optional().describe('only this key') }).optional(),
    handler: (s, i) => s.secrets.list(i ?? {}),
    http: { method: 'GET', path: '/v1/secrets' },
    cli: {
      human: (r) =>
        r.length
          ? table(r.map((s) => ({ key: s.key, envs: s.envs?.join(',') ?? '*', apps: s.apps?.join(',') ?? '*', expires: s.expires_at ?? '', updated: s.updated_at })))
          : '(no secrets)',
    },
  }),
  'secrets.delete': operation<{ key: string; envs?: string[]; apps?: string[] }, { deleted: number }>({
    name: 'secrets.delete',
    summary: 'Delete a secret, or only its values for some envs/apps.',
    input: z.strictObject({ key: z.string().min(1), envs: scopeLists.envs.describe('only these envs'), apps: scopeLists.apps.describe('only these apps') }),
    handler: (s, i) => s.secrets.delete(i),
    http: { method: 'DELETE', path: '/v1/secrets/{key}' },
    cli: { args: ['key'], human: (x, i) => `Deleted ${x.deleted} value${x.deleted === 1 ? '' : 's'} of secret ${i.key}` },
  }),
};
