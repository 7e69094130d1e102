// Picks the store implementation from a store URL: 'sqlite:<path>', a bare path, ':memory:', or 'postgres://…'.
// A path may start with '~/' for the home folder.
import { homedir } from 'node:os';
import { ConfigError } from '../errors.js';
import { redactStoreUrl } from './driver.js';
import { openSqliteStore } from './sqlite.js';
import type { Store } from './store.js';

export type { Store } from './store.js';

export async function openStore(url: string): Promise<Store> {
  if (url === ':memory:' || url === 'sqlite::memory:') return openSqliteStore(':memory:');
  if (url.startsWith('sqlite:')) return openSqliteStore(homePath(url.slice('sqlite:'.length).replace(/^\/\/(?=\.|\/)/, '')));
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
  // A scheme of two letters or more ('file:', 'mysql://'): taken as a bare path it made a folder named 'file:'. One
  // letter is a Windows drive ('C:\\data\\ductape.db').
  if (/^[a-z][a-z0-9+.-]+:/i.test(url)) {
    const scheme = url.slice(0, url.indexOf(':') + 1);
    const hint = scheme.toLowerCase() === 'file:' ? ` For a SQLite file write sqlite:${url.slice(scheme.length).replace(/^\/\/(?=\/)/, '')}.` : '';
    throw new ConfigError(`Unknown store URL scheme "${scheme}" in "${redactStoreUrl(url)}". Use 'sqlite:<path>', ':memory:' or 'postgres://…'.${hint}`, { option: 'store' });
  }
  return openSqliteStore(homePath(url));
}

/** '~/x.db' in a store URL is under the home folder, as a shell would read it (the shell does not expand it after 'sqlite:'). */
function homePath(path: string): string {
  return path === '~' || path.startsWith('~/') ? homedir() + path.slice(1) : path;
}
