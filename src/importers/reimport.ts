// Re-import planning: match actions by their source operation, keep renamed events, report what vanished.
import type { ActionDef } from '../model/action.js';

export interface ReimportPlan {
  /** Operations new to the app. */
  create: ActionDef[];
  /** Changed operations, carrying the stored action's event (a rename survives). */
  update: ActionDef[];
  /** Events of stored actions that the new import leaves exactly as they are. */
  unchanged: string[];
  /** Events of stored imported actions whose operation is gone; the caller deletes them only on --prune. */
  vanished: string[];
  /** Events renumbered because a stored action already holds the name. */
  warnings: string[];
}

/**
 * Compares a fresh import with the stored actions. Actions are matched by `source`; hand-made actions (no
 * `source`) are never touched. A new action whose event a stored action already uses gets a numeric suffix.
 *
 * @example
 * const plan = planReimport(stored, imported.actions); // then create/update in one transaction
 */
export function planReimport(existing: ActionDef[], incoming: ActionDef[]): ReimportPlan {
  const bySource = new Map<string, ActionDef>();
  for (const action of existing) if (action.source) bySource.set(action.source, action);
  const events = new Set(existing.map((a) => a.event));
  const plan: ReimportPlan = { create: [], update: [], unchanged: [], vanished: [], warnings: [] };
  const matched = new Set<string>();
  const fresh: ActionDef[] = [];

  for (const action of incoming) {
    const stored = action.source ? bySource.get(action.source) : undefined;
    if (!stored || matched.has(stored.source as string)) {
      fresh.push(action);
      continue;
    }
    matched.add(stored.source as string);
    // A pagination set by hand (or detected before), allow_unknown_params, and the run settings that no spec carries
    // (timeout_ms, unsafe, set with apps.actions.update) are the user's: a re-import keeps them.
    const next: ActionDef = { ...action, event: stored.event, pagination: stored.pagination ?? action.pagination };
    if (stored.allow_unknown_params) next.allow_unknown_params = true;
    if (stored.timeoutMs !== undefined) next.timeoutMs = stored.timeoutMs;
    if (stored.unsafe !== undefined) next.unsafe = stored.unsafe;
    if (isDeepEqual(next, stored)) plan.unchanged.push(stored.event);
    else plan.update.push(next);
  }
  // New actions are named after matched ones so that they never take an event a stored action keeps.
  for (const action of fresh) {
    let event = action.event;
    for (let n = 2; events.has(event); n++) event = `${action.event}_${n}`;
    if (event !== action.event) {
      plan.warnings.push(`Event "${action.event}" is already used by a stored action; the new ${action.source ?? 'action'} is named "${event}".`);
    }
    events.add(event);
    plan.create.push(event === action.event ? action : { ...action, event });
  }
  for (const action of existing) {
    if (action.source && !matched.has(action.source)) plan.vanished.push(action.event);
  }
  return plan;
}

/** Structural equality as JSON sees it: key order is ignored and undefined-valued keys count as absent. */
export function isDeepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => isDeepEqual(v, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const aKeys = Object.keys(ao).filter((k) => ao[k] !== undefined);
  const bKeys = Object.keys(bo).filter((k) => bo[k] !== undefined);
  return aKeys.length === bKeys.length && aKeys.every((k) => Object.hasOwn(bo, k) && isDeepEqual(ao[k], bo[k]));
}
