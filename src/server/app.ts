// The hono app of `ductape serve`: health, the OpenAPI document, the dashboard, then every operation.
import { Hono } from 'hono';
import type { Ductape } from '../client.js';
import { DuctapeError } from '../errors.js';
import { OPERATIONS, operationList } from '../operations/index.js';
import type { KeyRing } from './auth.js';
import { DASHBOARD_HTML, DASHBOARD_JS } from './dashboard/page.js';
import { errorReply } from './errors.js';
import { buildOpenApi } from './openapi.js';
import { header, type KeyOf, type ServerEnv } from './request.js';
import { mountOperations } from './routes/operations.js';
import { mountMcp } from './routes/mcp.js';
import { mountRun } from './routes/run.js';

export interface ServerAppOptions {
  keys: KeyRing;
  /** Largest request body accepted, in bytes. */
  maxBodyBytes: number;
  version: string;
}

export function createServerApp(ductape: Ductape, opts: ServerAppOptions): Hono<ServerEnv> {
  const app = new Hono<ServerEnv>();
  const openapi = JSON.stringify(buildOpenApi(operationList(), opts.version));
  const keyOf: KeyOf = (c) => opts.keys.check(header(c, 'authorization'));

  app.onError((err, c) => {
    const r = errorReply(err);
    if (!(err instanceof DuctapeError)) process.emitWarning(`ductape serve: ${c.req.method} ${c.req.path} failed: ${(err as Error)?.stack ?? String(err)}`);
    return c.json(r.body, r.status as 400, r.headers);
  });
  // Without a key, an unknown route is refused like any other that needs one (API.md §6: every request carries a key).
  app.notFound((c) => {
    let r;
    try {
      keyOf(c);
      r = errorReply(new DuctapeError('NOT_FOUND', `No route ${c.req.method} ${c.req.path}. The routes are listed at GET /v1/openapi.json.`, { kind: 'route', name: c.req.path }));
    } catch (err) {
      r = errorReply(err);
    }
    return c.json(r.body, r.status as 404);
  });

  // Served without a key (API.md §6): health, the OpenAPI document, the dashboard page and its script, and the OAuth
  // callback (where a provider sends the end user's browser back; its single-use `state` is the credential). Every
  // other route checks the key itself, first: no middleware, so each request matches exactly one handler and hono
  // calls it directly instead of composing a chain (measurable on the run route; see docs/serve.md).
  app.get('/healthz', (c) => c.json({ ok: true }));
  app.get('/readyz', async (c) => {
    const ready = await storeReachable(ductape);
    return c.json({ ready }, ready ? 200 : 503);
  });
  app.get('/v1/openapi.json', (c) => c.body(openapi, 200, { 'content-type': 'application/json' }));
  app.get('/', (c) => c.html(DASHBOARD_HTML, 200, DASHBOARD_HEADERS));
  app.get('/dashboard.js', (c) => c.body(DASHBOARD_JS, 200, { 'content-type': 'text/javascript; charset=utf-8', 'x-content-type-options': 'nosniff' }));

  app.get('/v1/oauth/callback', async (c) => {
    const { state, code, error } = c.req.query();
    if (error || !state || !code) return c.html(callbackPage('The provider did not grant access' + (error ? ` (${error})` : '') + '. Start the connection again.'), 400, CALLBACK_HEADERS);
    try {
      const view = await ductape.connections.complete({ state, code });
      // The connection's return_url (set by the operator, never by the request) is where the user goes next.
      if (view.return_url) return c.redirect(view.return_url, 302);
      return c.html(callbackPage(`Connected ${view.app} for ${view.owner}. You can close this window.`), 200, CALLBACK_HEADERS);
    } catch (err) {
      const r = errorReply(err);
      return c.html(callbackPage(`${r.body.error.code}: ${String(r.body.error.message)}`), r.status as 400, CALLBACK_HEADERS);
    }
  });

  mountRun(app, OPERATIONS['actions.execute'], ductape, keyOf, opts.maxBodyBytes);
  mountMcp(app, ductape, keyOf);
  mountOperations(app, operationList(), ductape.services, keyOf, opts.maxBodyBytes, () => opts.keys.refresh());
  return app;
}

/**
 * Every route the app answers, as `METHOD /path/{param}` in OpenAPI's spelling (middleware excluded): the OpenAPI
 * document must list exactly these (test/server/serve.test.ts).
 */
export function routeList(app: Hono<ServerEnv>): string[] {
  const routes = app.routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method} ${r.path.replace(/:([^/]+)/g, '{$1}')}`);
  return [...new Set(routes)].sort();
}

/**
 * The dashboard keeps an admin key in sessionStorage: its page may run only its own script (/dashboard.js), talk only
 * to this server, and not be framed, so that markup slipped into any text it shows could not act even if it escaped
 * textContent. Its styles are inline (one <style>), its icon a data: URL.
 */
const DASHBOARD_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

/** The OAuth callback's page is text only (escaped), on the dashboard's origin: nothing in it may run. */
const CALLBACK_HEADERS = {
  'content-security-policy': "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/** A minimal page for the end user's browser after consent; the message is text, never markup. */
function callbackPage(message: string): string {
  const text = message.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Ductape</title></head><body><p>${text}</p></body></html>`;
}

/** The store answers within 2 s. */
async function storeReachable(ductape: Ductape): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((r) => (timer = setTimeout(() => r(false), 2000)));
  const probe = (async () => {
    const rt = await ductape.services.runtime();
    await rt.store.getRevision(rt.workspace);
    return true;
  })().catch(() => false);
  try {
    return await Promise.race([probe, late]);
  } finally {
    clearTimeout(timer);
  }
}
