// Resolved $Secret values per runtime, so warm runs never read the store for them. Entries live until the secret's
// own expiry and are dropped with the plans: on any change made through this client, and within revision_poll_ms
// of a change made by another process (the workspace revision moves).
import { registerSecret } from '../model/redact.js';
import { resolveSecretEntry } from '../workspace/secrets.js';
import type { Runtime } from './runtime.js';

const MAX_ENTRIES = 10_000;

/** The value of `$Secret{key}` for a run in (env, app); rejects as resolveSecret does (unknown, out of scope, expired). */
export async function cachedSecret(runtime: Runtime, key: string, env: string, app: string): Promise<string> {
  const { state } = runtime;
  if (state.secrets.generation !== runtime.plans.generation) state.secrets = { generation: runtime.plans.generation, entries: new Map() };
  const c = state.secrets;
  const id = `${key}\u0000${env}\u0000${app}`;
  const hit = c.entries.get(id);
  if (hit && (hit.expiresAt === null || hit.expiresAt > Date.now())) {
    // Keep it among the values redaction knows (least-recently-used eviction there).
    registerSecret(hit.value);
    return hit.value;
  }
  // Misses and expired entries go to the store, which gives the proper error for an expired secret.
  const generation = c.generation;
  const entry = await resolveSecretEntry({ store: runtime.store, workspace: runtime.workspace, privateKey: runtime.privateKey }, key, { env, app });
  if (runtime.plans.generation === generation) {
    if (c.entries.size >= MAX_ENTRIES) c.entries.clear();
    c.entries.set(id, entry);
  }
  return entry.value;
}
