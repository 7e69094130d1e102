// What every route of `ductape serve` reads from a request: the hono env, request headers and the caller's key.
import type { HttpBindings } from '@hono/node-server';
import type { Context } from 'hono';
import type { KeyInfo } from '../workspace/keys.js';

/** Under node the request's IncomingMessage is at hand (`c.env.incoming`); under `app.request()` in tests it is not. */
export type ServerEnv = { Bindings: Partial<HttpBindings> };

/** The caller's key, or UNAUTHORIZED: what every route but the public ones asks first. */
export type KeyOf = (c: Context<ServerEnv>) => KeyInfo;

/** A request header (lower-case name), read from node's parsed headers when there (cheaper than building the web Headers object). */
export function header(c: Context<ServerEnv>, name: string): string | undefined {
  const incoming = c.env?.incoming;
  return incoming ? (incoming.headers[name] as string | undefined) : c.req.header(name);
}
