// Picks the store implementation from a store URL: 'sqlite:<path>', a bare path, ':memory:', or 'postgres://…'.
import { ConfigError } from '../errors.js';
import { openSqliteStore } from './sqlite.js';
import type { Store } from './store.js';

export type { Store } from './store.js';

export async function openStore(url: string): Promise<Store> {
  if (url === ':memory:' || url === 'sqlite::memory:') return openSqliteStore(':memory:');
  if (url.startsWith('sqlite:')) return openSqliteStore(url.slice('sqlite:'.length).replace(/^\/\/(?=\.|\/)/, ''));
  if (/^postgres(ql)?:\/\//.test(url)) {
    throw new ConfigError(`PostgreSQL stores are not available in this version; use 'sqlite:<path>' or ':memory:'.`, { store: url.replace(/\/\/[^@]*@/, '//***@') });
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    throw new ConfigError(`Unknown store URL scheme in "${url.replace(/\/\/[^@]*@/, '//***@')}". Use 'sqlite:<path>' or ':memory:'.`);
  }
  return openSqliteStore(url);
}
