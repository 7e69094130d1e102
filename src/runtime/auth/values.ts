// Resolving credential templates for one run: $Secret (loaded from the store), $Variable, $Constant, $Session, $Now, $Auth.
import { DuctapeError } from '../../errors.js';
import { compileTemplate, getPath, missing, type PlaceholderKind, type Resolver, type Template } from '../../model/placeholders.js';
import { cachedSecret } from '../secret-cache.js';
import type { RunContext } from '../context.js';
import type { Plan } from '../plan.js';
import type { AuthEntry } from './apply.js';

const CONFIG_KINDS: PlaceholderKind[] = ['Secret', 'Variable', 'Constant', 'Session', 'Now'];

/** An entry's form compiled once: for action logins the input (no $Auth) apart from the templates that use $Auth. */
export interface EntryTemplates {
  form: Template;
  /** action: the login input. */
  input?: Template;
  /** $Secret keys the templates name. */
  secretKeys: string[];
}

export function compileEntryTemplates(entry: AuthEntry): EntryTemplates {
  const where = 'connection.auth';
  if (entry.kind === 'action') {
    const { input, ...rest } = entry.form as { input?: unknown };
    const form = compileTemplate(rest, { where, allow: [...CONFIG_KINDS, 'Auth'] });
    const inputTemplate = compileTemplate(input ?? {}, { where: 'connection.auth.input', allow: CONFIG_KINDS });
    return { form, input: inputTemplate, secretKeys: secretKeysOf(form, inputTemplate) };
  }
  const form = compileTemplate(entry.form, { where, allow: CONFIG_KINDS });
  return { form, secretKeys: secretKeysOf(form) };
}

function secretKeysOf(...templates: Template[]): string[] {
  return [...new Set(templates.flatMap((t) => t.refs.filter((r) => r.kind === 'Secret').map((r) => r.path[0])))];
}

/** What credential templates resolve against: a run's context, or a connection outside any run (connections.authorize). */
export interface ResolverSource {
  runtime: RunContext['runtime'];
  plan: Pick<Plan, 'env' | 'accessTag' | 'connection' | 'app'>;
  session?: RunContext['session'];
}

/**
 * Builds the resolver for one run's credential templates. Secrets are read first, from the runtime's cache once warm (the resolver is
 * synchronous); a secret that fails to resolve throws its own error (NOT_FOUND, out of scope, expired) only when a
 * template actually uses it.
 */
export async function credentialResolver(ctx: ResolverSource, keys: string[]): Promise<(auth?: unknown) => Resolver> {
  const plan = ctx.plan;
  const secrets = new Map<string, { value?: string; error?: unknown }>();
  await Promise.all(
    keys.map(async (key) => {
      try {
        secrets.set(key, { value: await cachedSecret(ctx.runtime, key, plan.env, plan.accessTag) });
      } catch (error) {
        secrets.set(key, { error });
      }
    }),
  );
  const variables = plan.connection?.config.variables ?? {};
  const declared = plan.app.variables ?? {};
  return (auth?: unknown): Resolver =>
    (kind, path) => {
      switch (kind) {
        case 'Secret': {
          const s = secrets.get(path[0]);
          if (s?.error) throw s.error instanceof DuctapeError ? s.error : new DuctapeError('CONFIG_ERROR', `secret ${path[0]} could not be read.`, {}, { cause: s.error });
          return s?.value;
        }
        case 'Variable': {
          const v = getPath(variables, path);
          return v !== undefined ? v : path.length === 1 ? declared[path[0]]?.default : undefined;
        }
        case 'Constant':
          return getPath(plan.app.constants ?? {}, path);
        case 'Session':
          return ctx.session ? getPath(ctx.session.data, path) : missing('no session was given to this run');
        case 'Now':
          return new Date().toISOString();
        case 'Auth':
          return auth === undefined ? missing('no login result (the login action did not run)') : getPath(auth, path);
        default:
          return undefined;
      }
    };
}
