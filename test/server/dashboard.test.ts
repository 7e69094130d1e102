// The dashboard in a real browser (Debian chromium through playwright-core) against a real `ductape serve` process:
// enter a key, see the seed's apps and an action's resolved input schema, run an action through the API, see its log
// row appear, open its detail. A screenshot is saved under test-artifacts/.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineSeedWorkspace } from '../../examples/api/seed-workspace.js';
import { startExampleApi, type ExampleApi } from '../../examples/api/server.js';
import { Ductape } from '../../src/index.js';
import { hasChromium, openPage, type BrowserPage } from '../helpers/browser.js';
import { startServe, type ServeProcess } from '../helpers/serve.js';

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
let dir: string;
let dev: ExampleApi;
let prd: ExampleApi;
let serve: ServeProcess;
let adminKey: string;
let serveEnv: Record<string, string>;
let browser: BrowserPage | undefined;

beforeAll(async () => {
  if (!hasChromium) return;
  dir = mkdtempSync(join(tmpdir(), 'ductape-dashboard-'));
  const prdApiKey = `sk_live_${randomBytes(12).toString('hex')}`;
  dev = await startExampleApi({ name: 'dev' });
  prd = await startExampleApi({ name: 'prd', apiKey: prdApiKey });
  const env = { DUCTAPE_WORKSPACE: 'seed', DUCTAPE_USER: 'dashboard@acme.test', DUCTAPE_PRIVATE_KEY: 'dashboard-key-0123456789', DUCTAPE_STORE: `sqlite:${join(dir, 'ws.db')}` };
  const d = new Ductape({ workspace_id: 'seed', private_key: env.DUCTAPE_PRIVATE_KEY, store: env.DUCTAPE_STORE, revision_poll_ms: 0 });
  await defineSeedWorkspace(d, { dev: `${dev.url}/v1`, prd: `${prd.url}/v1`, prdApiKey });
  adminKey = (await d.keys.create({ name: 'dashboard', role: 'admin' })).key;
  await d.close();
  serveEnv = env;
  serve = await startServe(env);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
  await dev?.close();
  await prd?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Opens the dashboard and enters the admin key, as an operator does. */
async function signIn(page: BrowserPage['page'], url = serve.url): Promise<void> {
  await page.goto(url + '/');
  await page.fill('input[name=key]', adminKey);
  await page.click('button[type=submit]');
}

describe('dashboard', () => {
  it.skipIf(!hasChromium)('shows apps, schemas, products and run logs that update while runs happen', async () => {
    browser = await openPage();
    const { page, errors } = browser;
    await signIn(page);

    // Apps, then an action's input schema with the spec's $refs inlined.
    await page.getByRole('cell', { name: 'commerce-api' }).click();
    await page.getByRole('cell', { name: 'create_customer', exact: true }).click();
    const schema = page.locator('#action-schema pre');
    await schema.waitFor();
    const text = await schema.textContent();
    expect(JSON.parse(text!).properties.body.properties.email).toMatchObject({ type: 'string' });
    expect(text).not.toContain('$ref');

    // Products: connections by access tag, never credentials.
    await page.click('button[data-view=products]');
    await page.getByRole('cell', { name: 'payments', exact: true }).waitFor();
    expect(await page.locator('main').textContent()).toContain('stripe → commerce-api');
    expect(await page.content()).not.toContain('sk_live_');

    // Run logs: a run made through the API appears while the page is open; its detail opens.
    await page.click('button[data-view=logs]');
    await page.locator('#log-list table').waitFor();
    const res = await fetch(serve.url + '/v1/actions/run', {
      method: 'POST',
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ env: 'dev', product: 'my-product', app: 'stripe-app', event: 'create_customer', input: { body: { email: 'john@example.com', name: 'John Doe' } } }),
    });
    expect(res.status).toBe(200);
    const row = page.locator('#log-list tr', { hasText: 'stripe-app.create_customer' });
    await row.waitFor({ timeout: 20_000 });
    await row.click();
    const detail = page.locator('#run-detail');
    await detail.waitFor();
    const shown = await detail.textContent();
    expect(shown).toContain('my-product / dev');
    expect(shown).toContain('stripe-app / create_customer');
    expect(shown).toContain('POST');
    expect(shown).toContain('Attempts1');

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });
    expect(errors).toEqual([]);
  }, 180_000);

  // An operator clicks on before the previous answer arrives: a late answer was appended under the later heading
  // (the first app's actions after the second's, the first action's schema under "Input of" the second).
  it.skipIf(!hasChromium)('shows only the answer to the latest click when an earlier answer arrives late', async () => {
    const admin = { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' };
    const post = (path: string, body: object) => fetch(serve.url + path, { method: 'POST', headers: admin, body: JSON.stringify(body) });
    expect((await post('/v1/apps', { tag: 'other-api', name: 'Other API' })).status).toBe(200);
    expect((await post('/v1/apps/other-api/actions', { event: 'ping', method: 'GET', path: '/ping' })).status).toBe(200);

    const late = await openPage();
    const { page, errors } = late;
    try {
      await signIn(page);
      const slow = (url: string) => page.route(url, async (route) => {
        await new Promise((r) => setTimeout(r, 1500));
        await route.continue().catch(() => {});
      });

      await slow('**/v1/apps/commerce-api/actions');
      await page.getByRole('cell', { name: 'commerce-api' }).click();
      await page.getByRole('cell', { name: 'other-api' }).click();
      await page.getByRole('cell', { name: 'ping', exact: true }).waitFor();
      await page.waitForTimeout(2500);
      expect(await page.locator('#app-detail table').count()).toBe(1);
      expect(await page.locator('#app-detail').textContent()).not.toContain('create_customer');
      await page.unrouteAll();

      await page.getByRole('cell', { name: 'commerce-api' }).click();
      await slow('**/actions/create_customer/schema');
      await page.getByRole('cell', { name: 'create_customer', exact: true }).click();
      await page.getByRole('cell', { name: 'list_products', exact: true }).click();
      await page.locator('#action-schema pre').waitFor();
      await page.waitForTimeout(2500);
      expect(await page.locator('#action-schema pre').count()).toBe(1);
      expect(await page.locator('#action-schema h2').textContent()).toBe('Input of list_products');
      expect(await page.locator('#action-schema pre').textContent()).not.toContain('email');
      expect(errors).toEqual([]);
    } finally {
      await late.close();
    }
  }, 180_000);

  // An action's input is shown below the app's list of actions: with an imported API's hundreds of actions it
  // appeared far out of view, and clicking an action seemed to do nothing.
  it.skipIf(!hasChromium)("brings an action's input into view below a long list of actions", async () => {
    const admin = { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' };
    const post = (path: string, body: object) => fetch(serve.url + path, { method: 'POST', headers: admin, body: JSON.stringify(body) });
    expect((await post('/v1/apps', { tag: 'big-api', name: 'Big API' })).status).toBe(200);
    for (let i = 0; i < 80; i++) expect((await post('/v1/apps/big-api/actions', { event: `op_${String(i).padStart(2, '0')}`, method: 'GET', path: `/op/${i}` })).status).toBe(200);
    const b = await openPage();
    const { page, errors } = b;
    try {
      await signIn(page);
      await page.getByRole('cell', { name: 'big-api' }).click();
      await page.getByRole('cell', { name: 'op_00', exact: true }).click();
      const pre = page.locator('#action-schema pre');
      await pre.waitFor();
      await expect.poll(() => pre.evaluate((el) => el.getBoundingClientRect().top < el.ownerDocument.documentElement.clientHeight)).toBe(true);
      expect(errors).toEqual([]);
    } finally {
      await b.close();
    }
  }, 180_000);

  // The page asks for an admin key; a run key was kept, and refused again in every view and on every refresh.
  it.skipIf(!hasChromium)('asks again for an admin key when given a run key', async () => {
    const res = await fetch(serve.url + '/v1/keys', {
      method: 'POST',
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'billing', role: 'run', product: 'payments' }),
    });
    const runKey = ((await res.json()) as { key: string }).key;
    const b = await openPage();
    const { page } = b;
    try {
      await page.goto(serve.url + '/');
      await page.fill('input[name=key]', runKey);
      await page.click('button[type=submit]');
      const message = page.locator('#login p.err');
      await message.waitFor();
      expect(await message.textContent()).toBe('The dashboard needs an admin key: A run key may not call apps.list; use an admin key.');
      expect(await page.evaluate('sessionStorage.length')).toBe(0);
      expect(await page.locator('nav button').count()).toBe(0);
    } finally {
      await b.close();
    }
  }, 180_000);

  // The list polls every 2 s and shows only the latest request's answer: with a store slower than that, each answer
  // was superseded by the next poll before it arrived, and the list never appeared.
  it.skipIf(!hasChromium)('shows the run list when the logs answer more slowly than the list refreshes', async () => {
    const b = await openPage();
    const { page, errors } = b;
    try {
      await page.route('**/v1/logs?*', async (route) => {
        await new Promise((r) => setTimeout(r, 3000));
        await route.continue().catch(() => {});
      });
      await signIn(page);
      await page.click('button[data-view=logs]');
      await page.locator('#log-list table').waitFor({ timeout: 15_000 });
      expect(errors).toEqual([]);
    } finally {
      await b.close();
    }
  }, 180_000);

  // Behind a load balancer, a restarting process answers with the balancer's HTML error page, or not at all: the page
  // showed the browser's "Unexpected token '<'…" or "Failed to fetch".
  it.skipIf(!hasChromium)('says in words when an answer is not from ductape serve, or there is none', async () => {
    const b = await openPage();
    const { page } = b;
    try {
      await page.route('**/v1/apps', (route) => route.fulfill({ status: 502, contentType: 'text/html', body: '<html><body>502 Bad Gateway</body></html>' }));
      await page.route('**/v1/products', (route) => route.abort('connectionrefused'));
      await signIn(page);
      const apps = page.locator('main p.err');
      await apps.waitFor();
      expect(await apps.textContent()).toBe('HTTP 502 Bad Gateway for /v1/apps, not an answer of ductape serve (a proxy in between?). Try again shortly.');
      await page.click('button[data-view=products]');
      await page.locator('main p.err', { hasText: '/v1/products' }).waitFor();
      expect(await page.locator('main p.err').textContent()).toBe('No answer from the server for /v1/products: is ductape serve running and reachable?');
    } finally {
      await b.close();
    }
  }, 180_000);

  // The list shows times in UTC without saying so, and the server read a `since` without a zone in its own time zone:
  // on a server in New York, a time copied from the list into the filter hid the run it was copied from.
  it.skipIf(!hasChromium)('reads a since typed without a zone as UTC, the zone the list shows', async () => {
    const ny = await startServe({ ...serveEnv, TZ: 'America/New_York' });
    const b = await openPage();
    const { page, errors } = b;
    try {
      const res = await fetch(ny.url + '/v1/actions/run', {
        method: 'POST',
        headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ env: 'dev', product: 'crm', app: 'hubspot', event: 'create_customer', input: { body: { email: 'tz@example.com', name: 'Tz' } } }),
      });
      expect(res.status).toBe(200);
      await signIn(page, ny.url);
      await page.click('button[data-view=logs]');
      const row = page.locator('#log-list tbody tr', { hasText: 'hubspot.create_customer' }).first();
      await row.waitFor();
      expect(await page.locator('#log-list th').first().textContent()).toBe('Time (UTC)');
      const shown = (await row.locator('td').first().textContent())!;
      await page.fill('input[name=since]', shown);
      await page.fill('input[name=product]', 'crm');
      await page.click('form.filters button[type=submit]');
      await expect.poll(() => page.locator('#log-list tbody tr', { hasText: 'hubspot.create_customer' }).count(), { timeout: 10_000 }).toBe(1);
      expect(errors).toEqual([]);
    } finally {
      await b.close();
      await ny.stop();
    }
  }, 180_000);

  // The run list refreshes every 2 s; it rebuilt the list and the open run's detail each time, so an operator selecting
  // an error message or URL in the detail to copy it lost the selection within 2 s.
  it.skipIf(!hasChromium)('keeps the open run detail (and text selected in it) while the list refreshes', async () => {
    const run = () => fetch(serve.url + '/v1/actions/run', {
      method: 'POST',
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ env: 'dev', product: 'payments', app: 'stripe', event: 'create_customer', input: { body: { email: 'jane@example.com', name: 'Jane' } } }),
    });
    expect((await run()).status).toBe(200);
    const b = await openPage();
    const { page, errors } = b;
    try {
      await signIn(page);
      await page.click('button[data-view=logs]');
      await page.locator('#log-list tr', { hasText: 'stripe.create_customer' }).first().click();
      await page.locator('#run-detail').waitFor();
      // As strings: the test is typechecked without the DOM's types.
      const selected = () => page.evaluate('getSelection().toString()') as Promise<string>;
      await page.evaluate(`{
        const range = document.createRange();
        range.selectNodeContents(document.querySelector('#run-detail'));
        getSelection().removeAllRanges();
        getSelection().addRange(range);
      }`);
      expect(await selected()).toContain('payments / dev');
      await page.waitForTimeout(2600);
      expect(await selected()).toContain('payments / dev');

      // Live updates still come: a new run appears in the list, and the open detail stays as it was.
      const before = await page.locator('#log-list tbody tr').count();
      expect((await run()).status).toBe(200);
      await expect.poll(() => page.locator('#log-list tbody tr').count(), { timeout: 20_000 }).toBeGreaterThan(before);
      expect(await selected()).toContain('payments / dev');
      expect(errors).toEqual([]);
    } finally {
      await b.close();
    }
  }, 180_000);
});
