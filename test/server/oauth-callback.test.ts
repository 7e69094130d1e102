// The consent flow through `ductape serve` in a real browser (Debian chromium through playwright-core): the browser
// follows the consent URL, the loopback authorization server's consent page redirects to GET /v1/oauth/callback,
// the server completes the consent, and the owner appears in connections.list (and their runs use their account).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ductape } from '../../src/index.js';
import { startAuthorizationServer, type AuthorizationServer } from '../helpers/authorization-server.js';
import { hasChromium, openPage, type BrowserPage } from '../helpers/browser.js';
import { startServe, type ServeProcess } from '../helpers/serve.js';
import { AT, definePerUser, me, sessionOf } from '../connections/setup.js';

let dir: string;
let as: AuthorizationServer;
let serve: ServeProcess;
let ductape: Ductape;
let browser: BrowserPage | undefined;
let callback: string;
const redirectUris: string[] = [];

beforeAll(async () => {
  if (!hasChromium) return;
  dir = mkdtempSync(join(tmpdir(), 'ductape-oauth-callback-'));
  as = await startAuthorizationServer({ redirectUris });
  const env = { DUCTAPE_WORKSPACE: 'acme', DUCTAPE_USER: 'serve@acme.test', DUCTAPE_PRIVATE_KEY: 'oauth-callback-key-0123456789', DUCTAPE_STORE: `sqlite:${join(dir, 'ws.db')}` };
  serve = await startServe(env);
  // The redirect URI is the server's callback: registered at the provider once the server's port is known.
  callback = `${serve.url}/v1/oauth/callback`;
  redirectUris.push(callback);
  ductape = new Ductape({ workspace_id: 'acme', private_key: env.DUCTAPE_PRIVATE_KEY, store: env.DUCTAPE_STORE, revision_poll_ms: 0 });
  await definePerUser(ductape, as, { redirectUri: callback });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await ductape?.close();
  await serve?.stop();
  await as?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('GET /v1/oauth/callback', () => {
  it.skipIf(!hasChromium)('completes a consent the browser made at the provider; the owner appears in connections.list', async () => {
    const { url } = await ductape.connections.authorize({ ...AT, owner: '42' });
    browser = await openPage();
    const { page, errors } = browser;
    await page.goto(url);
    await page.fill('#account', 'alice@crm');
    const [answer] = await Promise.all([page.waitForResponse((r) => r.url().startsWith(callback)), page.click('#allow')]);
    expect(answer.status()).toBe(200);
    await expect.poll(() => page.textContent('body')).toContain('Connected crm for 42');
    // Browsers also ask both hosts for /favicon.ico, which neither serves: those misses are not page errors.
    expect(errors.filter((e) => !e.startsWith('console: Failed to load resource'))).toEqual([]);

    expect(await ductape.connections.list({ product: 'dash' })).toMatchObject([{ owner: '42', status: 'active', scopes: ['contacts.read', 'contacts.write'] }]);
    expect((await me(ductape, await sessionOf(ductape, '42'))).account).toBe('alice@crm');

    // The same callback again (the browser's back button, a replayed link): the spent state is refused.
    const replay = await page.goto(page.url());
    expect(replay!.status()).toBe(424); // AUTH_FAILED (API.md §6)
    expect(await page.textContent('body')).toContain('AUTH_FAILED');
  });

  it.skipIf(!hasChromium)('shows what the provider sent as text, on a page where nothing may run', async () => {
    const markup = '<img src=x onerror="window.ran=1"><script>window.ran=2</script>';
    const url = `${callback}?error=${encodeURIComponent(markup)}`;
    const res = await fetch(url);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await res.text()).not.toContain('<script>');
    browser ??= await openPage();
    const { page } = browser;
    await page.goto(url);
    expect(await page.textContent('body')).toContain(markup);
    expect(await page.evaluate('typeof window.ran')).toBe('undefined');
  });

  it.skipIf(!hasChromium)("sends the browser on to the connection's return_url", async () => {
    const returnUrl = `${as.url}/connected-page`;
    await definePerUserReturn(returnUrl);
    const { url } = await ductape.connections.authorize({ ...AT, owner: '43' });
    browser ??= await openPage();
    const { page } = browser;
    await page.goto(url);
    await page.fill('#account', 'bob@crm');
    await Promise.all([page.waitForURL((u) => u.toString().startsWith(returnUrl)), page.click('#allow')]);
    expect((await ductape.connections.list({ product: 'dash' })).map((c) => c.owner)).toEqual(['42', '43']);
  });
});

async function definePerUserReturn(returnUrl: string): Promise<void> {
  await ductape.products.apps.configure({
    ...AT,
    auth: {
      type: 'oauth2',
      grant: 'authorization_code',
      authorize_url: as.authorizeUrl,
      token_url: as.tokenUrl,
      client_id: 'app-client',
      client_secret: '$Secret{CRM_CLIENT_SECRET}',
      redirect_uri: callback,
      return_url: returnUrl,
    },
  });
}
