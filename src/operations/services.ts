// What operation handlers call: the workspace modules, bound to one client's store and key.
import type { RunEnvelope } from '../client.js';
import type { createConnectionsApi } from '../connections/index.js';
import type { IActionProcessorInput } from '../runtime/context.js';
import type { Runtime } from '../runtime/runtime.js';
import type { createSessionsApi, createSessionTypesApi } from '../sessions/api.js';
import type { createApps } from '../workspace/apps.js';
import type { createKeys } from '../workspace/keys.js';
import type { createProducts } from '../workspace/products.js';
import type { createSecrets } from '../workspace/secrets.js';

export interface Services {
  apps: ReturnType<typeof createApps>;
  products: ReturnType<typeof createProducts>;
  sessionTypes: ReturnType<typeof createSessionTypesApi>;
  sessions: ReturnType<typeof createSessionsApi>;
  secrets: ReturnType<typeof createSecrets>;
  keys: ReturnType<typeof createKeys>;
  connections: ReturnType<typeof createConnectionsApi>;
  /** The opened runtime (store, cache, log writer). */
  runtime: () => Promise<Runtime>;
  execute: (input: IActionProcessorInput) => Promise<RunEnvelope>;
}
