// The end user a run acts for on a per-user connection (API.md §13), and the handle the OAuth2 manager refreshes
// their token through. Which owners are connected is read from the store once per owner, then kept until a
// definition change (connections.revoke bumps the revision, so every process forgets within revision_poll_ms).
import { endOwner, getOwner, notConnected, ownerOfSession, ownerTokenKey, type ConnectionAt, type OwnerSelector } from '../../connections/owners.js';
import type { RunContext } from '../context.js';
import type { Plan } from '../plan.js';
import type { Runtime } from '../runtime.js';
import type { TokenOwner } from './oauth2.js';

export interface RunOwner extends TokenOwner {
  /** The owner id (the per_user selector's value). */
  name: string;
}

const MAX_OWNERS = 10_000;

/** `product/env/app` NUL owner → id of the owner's active connection, emptied when the plans are. */
function activeOwners(runtime: Runtime): Map<string, string> {
  const state = runtime.state.owners;
  // Bounded: a burst of new owners empties it, and each owner costs one store read again.
  if (state.generation !== runtime.plans.generation || state.ids.size >= MAX_OWNERS) runtime.state.owners = { generation: runtime.plans.generation, ids: new Map() };
  return runtime.state.owners.ids;
}

/**
 * The owner of this run on a per-user connection: from the session, checked connected (one store read per owner,
 * then memory). Throws AUTH_FAILED saying how to connect when there is no session or no active connection.
 */
export async function runOwner(ctx: RunContext, plan: Plan, selector: OwnerSelector): Promise<RunOwner> {
  const { runtime } = ctx;
  const { store, workspace: ws } = runtime;
  const at: ConnectionAt = { product: plan.product, env: plan.env, app: plan.accessTag };
  const name = ownerOfSession(at, selector, ctx.session);
  // Known before it is checked, so the run log names the owner of a run that fails for want of a connection.
  ctx.owner = name;
  const active = activeOwners(runtime);
  const slot = `${plan.product}/${plan.env}/${plan.accessTag}\u0000${name}`;
  let id = active.get(slot);
  if (id === undefined) {
    const c = await getOwner(store, ws, at, name);
    if (!c || c.status !== 'active') throw notConnected(at, name, c);
    id = c.id;
    active.set(slot, id);
  }
  const origin = id;
  return {
    name,
    key: ownerTokenKey(at, name),
    origin,
    async ensureActive() {
      const c = await getOwner(store, ws, at, name);
      if (c?.status === 'active' && c.id === origin) return;
      active.delete(slot);
      throw notConnected(at, name, c);
    },
    async refused(reason, cause) {
      const c = await endOwner(store, ws, at, name, origin, 'expired', reason);
      active.delete(slot);
      const err = notConnected(at, name, c);
      if (cause !== undefined) Object.defineProperty(err, 'cause', { value: cause, enumerable: false });
      throw err;
    },
  };
}
