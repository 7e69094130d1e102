// Stage: applies the connection's credentials; OAuth2 tokens and logins are fetched one at a time per credential,
// and a 401 on a token or login credential refreshes it once and retries once.
import type { Next } from './pipeline.js';
import { DuctapeError } from '../errors.js';
import { asLiteral } from '../model/placeholders.js';
import { resolveTimeouts } from '../options.js';
import { compileAuth, credentialIdKey, type CompiledAuth, type ResolvedCredential } from './auth/apply.js';
import { connectionScope, openCredentials } from './auth/credentials.js';
import type { AuthForm, OAuth2Auth } from './auth/forms.js';
import { createLoginManager, type LoginManager } from './auth/login.js';
import { createOAuth2Manager, oauth2Params, type OAuth2Manager } from './auth/oauth2.js';
import { parseOwnerSelector, type OwnerSelector } from '../connections/owners.js';
import { runOwner } from './auth/owner-token.js';
import { compileEntryTemplates, credentialResolver, type EntryTemplates } from './auth/values.js';
import { newRunContext, type OutgoingRequest, type RunContext } from './context.js';
import { isReplayable } from './encode/index.js';
import { runPipeline } from './pipeline.js';
import { withinRunDeadline } from './deadline.js';
import type { Plan } from './plan.js';
import type { Runtime } from './runtime.js';

export interface RuntimeAuth {
  oauth: OAuth2Manager;
  login: LoginManager;
  idKey: Buffer;
}
export interface PlanAuth {
  auth: CompiledAuth;
  templates: EntryTemplates[];
  secretKeys: string[];
  /** Whether a 401 can be cured by fetching a new token or logging in again. */
  isRefreshable: boolean;
  /** The connection's `per_user` selector: the oauth2 authorization_code entry sends the run owner's token. */
  perUser?: OwnerSelector;
}

// Token state lives on the runtime (runtime.state.auth); compiled auth as long as its plan (state.planAuth).

export function authenticate(ctx: RunContext, next: Next): Promise<void> {
  const pa = planAuth(ctx.runtime, ctx.plan!);
  // No credentials for this operation: no async frame of our own on the hot path.
  return pa.auth.entries.length === 0 ? next(ctx) : withCredentials(ctx, next, pa);
}

async function withCredentials(ctx: RunContext, next: Next, pa: PlanAuth): Promise<void> {
  const rt = runtimeAuth(ctx.runtime);
  const base = ctx.request!;
  const resolver = await credentialResolver(ctx as RunContext & { plan: Plan }, pa.secretKeys);
  let values = await resolveValues(ctx, pa, rt, resolver);
  ctx.request = applied(base, pa.auth, values, rt.idKey);
  try {
    await next(ctx);
  } catch (err) {
    // A stream body was consumed by the first attempt: the retry cannot resend it.
    if (!pa.isRefreshable || !isUnauthorized(err) || !isReplayable(base.body)) throw err;
    values = await resolveValues(ctx, pa, rt, resolver, values);
    ctx.response = undefined;
    ctx.request = applied(base, pa.auth, values, rt.idKey);
    await next(ctx);
  }
}

function isUnauthorized(err: unknown): boolean {
  return err instanceof DuctapeError && err.details.status === 401;
}

function planAuth(runtime: Runtime, plan: Plan): PlanAuth {
  let pa = runtime.state.planAuth.get(plan);
  if (pa) return pa;
  const scope = connectionScope(runtime.workspace, plan.product, plan.env, plan.accessTag);
  const forms = openCredentials(runtime.privateKey, scope, plan.connection?.credentials ?? null);
  const auth = compileAuth(plan.app, plan.action, forms, plan);
  // An app's scheme may call its key "id": that name is sensitive in this client's output only, not process-wide.
  for (const n of auth.sensitiveNames) runtime.state.sensitiveNames.add(n.toLowerCase());
  const templates = auth.entries.map(compileEntryTemplates);
  pa = {
    auth,
    templates,
    secretKeys: [...new Set(templates.flatMap((t) => t.secretKeys))],
    isRefreshable: auth.entries.some((e) => e.kind === 'oauth2' || e.kind === 'action'),
    perUser: plan.connection?.config.per_user === undefined ? undefined : parseOwnerSelector(plan.connection.config.per_user),
  };
  runtime.state.planAuth.set(plan, pa);
  return pa;
}

function runtimeAuth(runtime: Runtime): RuntimeAuth {
  let rt = runtime.state.auth;
  if (!rt) {
    const deps = { store: runtime.store, workspace: runtime.workspace, privateKey: runtime.privateKey, dispatcher: runtime.dispatcher };
    rt = runtime.state.auth = { oauth: createOAuth2Manager(deps), login: createLoginManager(deps), idKey: credentialIdKey(runtime.privateKey, runtime.workspace) };
  }
  return rt;
}

/** Resolves every entry's values; with `rejected` (after a 401) fetches new tokens and logs in again. */
async function resolveValues(
  ctx: RunContext,
  pa: PlanAuth,
  rt: RuntimeAuth,
  resolver: Awaited<ReturnType<typeof credentialResolver>>,
  rejected?: ResolvedCredential[],
): Promise<ResolvedCredential[]> {
  const waitMs = leaseWaitMs(ctx);
  return Promise.all(
    pa.auth.entries.map(async (entry, i): Promise<ResolvedCredential> => {
      const t = pa.templates[i];
      if (entry.kind === 'action') {
        // A run started by an `action` login must not try to log in itself.
        if (ctx.isLogin) return { form: { type: 'action', event: (entry.form as { event: string }).event } };
        const form = entry.form as Extract<AuthForm, { type: 'action' }>;
        const input = t.input!.evaluate(resolver());
        const identity = { scope: [ctx.plan!.product, ctx.plan!.env, ctx.plan!.accessTag, form.event], input };
        const login = () => runLogin(ctx, form.event, input);
        const result = await withinRunDeadline(
          ctx,
          `the login (${form.event}) of this connection`,
          rejected ? rt.login.loginAfterUnauthorized(identity, form.expiry, rejected[i].auth, login, waitMs) : rt.login.getLogin(identity, form.expiry, login, waitMs),
        );
        return { form: { ...(t.form.evaluate(resolver(result)) as object), input } as AuthForm, auth: result };
      }
      const form = t.form.evaluate(resolver()) as AuthForm;
      if (entry.kind !== 'oauth2') return { form };
      const params = oauth2Params(entry, form as OAuth2Auth);
      // An end user's connection: their token, found through the run's session (connections, API.md §13).
      const owner = params.grant === 'authorization_code' ? await runOwner(ctx, ctx.plan!, ownerSelector(ctx, pa)) : undefined;
      const accessToken = await withinRunDeadline(
        ctx,
        owner ? `the OAuth2 token of owner "${owner.name}"` : 'the OAuth2 token of this connection',
        rejected ? rt.oauth.refreshAfterUnauthorized(params, rejected[i].accessToken!, waitMs, owner) : rt.oauth.getAccessToken(params, waitMs, owner),
      );
      return { form, accessToken, owner: owner?.name };
    }),
  );
}

/**
 * How long this run may wait for another process's token refresh or login (API.md §6: "within their run's
 * timeout"): its attempt timeout, or less when its whole-run deadline comes first.
 */
function leaseWaitMs(ctx: RunContext): number {
  const t = resolveTimeouts(ctx.run, ctx.plan!.timeoutMs, ctx.startedAt);
  return Math.max(0, t.deadlineAt === undefined ? t.attemptMs : Math.min(t.attemptMs, t.deadlineAt - Date.now()));
}

function ownerSelector(ctx: RunContext, pa: PlanAuth): OwnerSelector {
  if (pa.perUser) return pa.perUser;
  // configure refuses authorization_code without per_user; a store edited by hand still gets a clear error.
  throw new DuctapeError('CONFIG_ERROR', `The authorization_code credentials of app "${ctx.plan!.accessTag}" in ${ctx.plan!.product}/${ctx.plan!.env} need per_user on the connection.`);
}

/** Runs the app's login action through the whole pipeline (logged like any run) and returns its parsed body. */
async function runLogin(ctx: RunContext, event: string, input: unknown): Promise<unknown> {
  const { run } = ctx;
  // The input is resolved already (secrets, session data): as a literal, the login run's bind stage sends it as it is.
  // Bound again, session data holding "$Secret{K}" read that secret into the login request, and a password such as
  // "pw\$1" lost its backslash.
  const data = asLiteral(input ?? {}) as RunContext['run']['input'];
  const sub = newRunContext(ctx.runtime, { env: run.env, product: run.product, app: run.app, event, input: data }, true);
  // The login is part of this run: its `ductape.run` span is a child of this run's, in the same trace (trace stage).
  sub.traceContext = ctx.traceContext;
  try {
    await runPipeline(sub);
  } catch (err) {
    const reason = err instanceof DuctapeError ? `${err.code}: ${err.message}` : 'internal error';
    throw new DuctapeError('AUTH_FAILED', `Logging in with ${run.app}.${event} failed (${reason}). Check the action login of this connection.`, {
      status: err instanceof DuctapeError ? err.details.status ?? null : null,
    }, { cause: err });
  }
  return sub.result!.data;
}

/** A copy of the encoded request with credentials applied (the original stays clean for a retry). */
function applied(base: OutgoingRequest, auth: CompiledAuth, values: ResolvedCredential[], idKey: Buffer): OutgoingRequest {
  let body = base.body;
  if (body instanceof FormData) {
    const copy = new FormData();
    for (const [k, v] of body.entries()) copy.append(k, v);
    body = copy;
  }
  const req: OutgoingRequest = { ...base, headers: { ...base.headers }, body };
  auth.apply(req, values, idKey);
  return req;
}
