// Stage: resolves placeholders in the run input ($Session, $Secret, $Variable, $Constant, $Now) into ctx.bound, once.
import { ConfigError, DuctapeError, InvalidInputError, type Issue } from '../errors.js';
import { compileTemplate, findPlaceholders, getPath, hasPlaceholders, missing, type PlaceholderKind, type Resolver, type Template } from '../model/placeholders.js';
import { cachedSecret } from './secret-cache.js';
import type { IActionRequest, RunContext } from './context.js';
import { applyDefaults } from './plan.js';

/*
 * $Auth is not accepted in run input: the login result it reads is obtained by the authenticate stage, after the input
 * has been validated and encoded. It belongs in connection auth templates. $Env is for `ductape apply` files only.
 * $Secret is accepted here for stored defaults; in the caller's own input only with secrets_in_input (see below).
 */
export const INPUT_KINDS: readonly PlaceholderKind[] = ['Session', 'Secret', 'Variable', 'Constant', 'Now'];

export function bind(ctx: RunContext): void | Promise<void> {
  const defaults = ctx.plan!.defaults;
  const input = defaults ? applyDefaults(ctx.run.input as Record<string, unknown>, defaults) : ctx.run.input;
  // Hot path: no '$' anywhere means nothing to do, and the caller's object is used as is (no copy).
  if (!hasPlaceholders(input)) {
    ctx.bound = input;
    return;
  }
  if (input === ctx.run.input || hasPlaceholders(ctx.run.input)) refuseCredentials(ctx);
  const template = compileTemplate(input, { allow: INPUT_KINDS, deferErrors: true });
  try {
    return evaluate(ctx, template);
  } catch (err) {
    throw blameConnection(ctx, err);
  }
}

/*
 * API.md §4: run input often carries end users' text, so a `$Secret{…}` or `$Auth{…}` that the CALLER's input holds is
 * refused (#11: a user typing $Secret{STRIPE_KEY} into a form field had the secret sent upstream). Placeholders from
 * stored definitions (connection defaults, action defaults) are merged in after and resolve as before; that is why
 * this looks at ctx.run.input, not at the merged input.
 */
function refuseCredentials(ctx: RunContext): void {
  const kinds: PlaceholderKind[] = ctx.runtime.secretsInInput ? ['Auth'] : ['Secret', 'Auth'];
  const found = findPlaceholders(ctx.run.input, kinds);
  if (!found.length) return;
  const issues: Issue[] = found.map((f) => {
    const [, location, ...rest] = f.pointer.split('/');
    const why =
      f.kind === 'Auth'
        ? 'a login result ($Auth) can only be used in the connection\'s auth templates'
        : 'run input cannot read secrets; put credentials in the connection (products.apps.configure: auth, headers or query) or pass secrets_in_input: true to a client whose code builds every input itself';
    return { location: location as Issue['location'], path: rest.length ? `/${rest.join('/')}` : '', message: `holds ${f.text}: ${why}` };
  });
  throw new InvalidInputError(issues, 'Run input may not hold credential placeholders');
}

function evaluate(ctx: RunContext, template: Template): void | Promise<void> {
  if (template.isStatic) {
    ctx.bound = template.evaluate(() => undefined) as IActionRequest;
    return;
  }
  const secretKeys = [...new Set(template.refs.filter((r) => r.kind === 'Secret').map((r) => r.path[0]))];
  if (!secretKeys.length) {
    ctx.bound = template.evaluate(inputResolver(ctx, new Map())) as IActionRequest;
    return;
  }
  return loadSecrets(ctx, secretKeys).then((secrets) => {
    try {
      ctx.bound = template.evaluate(inputResolver(ctx, secrets)) as IActionRequest;
    } catch (err) {
      throw blameConnection(ctx, err);
    }
  });
}

/**
 * A placeholder that came from the connection config ($Secret{…} in a configured header) and cannot be resolved is a
 * configuration problem: CONFIG_ERROR naming connection.headers.<name>, not INVALID_INPUT against the caller.
 */
function blameConnection(ctx: RunContext, err: unknown): unknown {
  const own = ctx.plan!.connectionDefaults;
  if (!(err instanceof InvalidInputError) || !own?.size) return err;
  const issues = err.issues;
  const ofConnection = (i: { location: string; path: string }) => own.has(`${i.location}${i.path}`);
  if (!issues.length || !issues.every(ofConnection)) return err;
  const fields = issues.map((i) => `connection.${i.location}.${i.path.slice(1)}`);
  // Issue messages may end with their own period ("… with secrets.set."): one full stop ends the whole message.
  const summary = issues.map((i) => `${i.location}${i.path}: ${i.message.replace(/\.$/, '')}`).join('; ');
  return new ConfigError(`Invalid connection config of ${ctx.plan!.accessTag} in ${ctx.plan!.env}: ${summary}.`, {
    field: fields[0],
    fields,
    issues,
  });
}

// Secrets are read before evaluating (the resolver is synchronous), from the runtime's cache once warm. A secret that cannot be used here (unknown, out
// of scope for this env or app, expired) becomes a missing value, reported with the placeholder and where it was.
async function loadSecrets(ctx: RunContext, keys: string[]): Promise<Map<string, unknown>> {
  const plan = ctx.plan!;
  const out = new Map<string, unknown>();
  await Promise.all(
    keys.map(async (key) => {
      try {
        out.set(key, await cachedSecret(ctx.runtime, key, plan.env, plan.accessTag));
      } catch (err) {
        if (!(err instanceof DuctapeError)) throw err;
        out.set(key, missing(err.message));
      }
    }),
  );
  return out;
}

function inputResolver(ctx: RunContext, secrets: Map<string, unknown>): Resolver {
  const plan = ctx.plan!;
  let now: string | undefined;
  return (kind, path) => {
    switch (kind) {
      case 'Session':
        return ctx.session ? getPath(ctx.session.data, path) : missing('this run has no session (pass session: { tag, token })');
      case 'Secret':
        return secrets.get(path[0]);
      case 'Variable': {
        const v = getPath(plan.connection?.config.variables ?? {}, path);
        return v !== undefined || path.length !== 1 ? v : plan.app.variables?.[path[0]]?.default;
      }
      case 'Constant':
        return getPath(plan.app.constants ?? {}, path);
      case 'Now':
        // One instant per run, however many times $Now appears.
        return (now ??= new Date().toISOString());
      default:
        return undefined;
    }
  };
}
