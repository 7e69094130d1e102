// A fresh ':memory:' workspace per test, closed afterwards.
import { Ductape } from '../../src/index.js';
import type { DuctapeOptions } from '../../src/options.js';

export const TEST_KEY = 'test-private-key-0123456789';

export function newClient(opts: DuctapeOptions = {}): Ductape {
  return new Ductape({ workspace_id: 'acme', user_id: 'tester@acme.test', private_key: TEST_KEY, store: ':memory:', revision_poll_ms: 0, ...opts });
}
