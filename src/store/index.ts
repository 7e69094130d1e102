// Picks the store implementation from a store URL: 'sqlite:<path>', a bare path, ':memory:', or 'postgres://…'.
import { ConfigError } from '../errors.js';
import { redactStoreUrl } from './driver.js';
import { openSqliteStore } from './sqlite.js';
import type { Store } from './store.js';

export type { Store } from './store.js';

export async function openStore(url: string): Promise<Store> {
  if (url === ':memory:' || url === 'sqlite::memory:') return openSqliteStore(':memory:');
  if (url.startsWith('sqlite:')) return openSqliteStore(url.slice('sqlite:'.length).replace(/^\/\/(?=\.|\/)/, ''));
  if (/^postgres(ql)?:\/\//i.test(url)) {
    try {
      new URL(url);
    } catch {
      throw new ConfigError(`The store URL "${redactStoreUrl(url)}" is not a valid URL. Expected postgres://user:password@host:5432/database.`, { option: 'store' });
    }
    // Loaded only when asked for: the embedded default never pays for the pg driver.
    const { openPostgresStore } = await import('./postgres.js');
    return openPostgresStore(url);
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    throw new ConfigError(`Unknown store URL scheme in "${redactStoreUrl(url)}". Use 'sqlite:<path>', ':memory:' or 'postgres://…'.`, { option: 'store' });
  }
  return openSqliteStore(url);
}
