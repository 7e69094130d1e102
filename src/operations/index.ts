// The operation table: every SDK definition method, CLI command and HTTP route comes from one entry here.
import { appOperations } from './apps.js';
import { connectionOperations } from './connections.js';
import { describeOperations } from './describe.js';
import { keyOperations } from './keys.js';
import type { Namespaces, Operation } from './operation.js';
import { productOperations } from './products.js';
import { runOperations } from './runs.js';
import { secretOperations } from './secrets.js';
import { sessionOperations } from './sessions.js';

export const OPERATIONS = {
  ...appOperations,
  ...productOperations,
  ...sessionOperations,
  ...secretOperations,
  ...runOperations,
  ...keyOperations,
  ...connectionOperations,
  ...describeOperations,
};

export type Operations = typeof OPERATIONS;
/** The SDK namespaces the table describes (apps, products, sessions, secrets, logs, caches, keys). */
export type OperationNamespaces = Namespaces<Omit<Operations, 'actions.execute'>>;

export const operationList = (): Operation[] => Object.values(OPERATIONS) as Operation[];
export type { Operation } from './operation.js';
