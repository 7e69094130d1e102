// Stage: verifies the run's session token before anything else and exposes its data as ctx.session.
import { createSessionVerifier, type SessionVerifier } from '../sessions/verifier.js';
import { DuctapeError } from '../errors.js';
import { fetchSessionType, requireProductEnv } from '../sessions/session-types.js';
import type { RunContext } from './context.js';
import type { Runtime } from './runtime.js';

/** The runtime's session verifier (created on first use): it holds derived keys, verified tokens, the revocation view. */
export function sessionVerifier(runtime: Runtime): SessionVerifier {
  return (runtime.state.sessionVerifier ??= createSessionVerifier({ store: runtime.store, workspace: runtime.workspace, privateKey: runtime.privateKey }));
}

export function session(ctx: RunContext): void | Promise<void> {
  const given = ctx.run.session;
  if (!given) return;
  const { product, env } = ctx.run;
  return sessionVerifier(ctx.runtime)
    .verify(product, env, given.tag, given.token)
    .then(
      (s) => {
        ctx.session = { data: s.data, sessionId: s.sessionId };
      },
      (err: unknown) => explainFailure(ctx, given.tag, err),
    );
}

/**
 * On the failure path only (the success path reads nothing): a token refused because its product, env or session
 * type does not exist is a NOT_FOUND naming what exists, not a bad token.
 */
async function explainFailure(ctx: RunContext, tag: string, err: unknown): Promise<never> {
  if (err instanceof DuctapeError && err.code === 'SESSION_INVALID') {
    const { store, workspace, privateKey } = ctx.runtime;
    await requireProductEnv(store, workspace, ctx.run.product, ctx.run.env);
    await fetchSessionType({ store, workspace, privateKey }, { product: ctx.run.product, tag });
  }
  throw err;
}
