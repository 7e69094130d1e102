// Defines the seed page's workspace: the example API imported once, the seven products connected to it under the
// seed's access tags, dev and prd configured (prd with a sealed bearer key), the dashboard's session type and the
// catalog's cache. Used by the demo and by the tests that run the seed's examples (SDK, Python, two serve processes).
import { fileURLToPath } from 'node:url';
import type { Ductape } from '../../src/index.js';

export const SEED_SPEC = fileURLToPath(new URL('./openapi.yaml', import.meta.url));

/** The seed page's products and the access tags they use; all of them reach the one example API here. */
export const SEED_PRODUCTS: Record<string, string[]> = {
  'my-product': ['stripe-app'],
  payments: ['stripe'],
  crm: ['hubspot'],
  inventory: ['shopify'],
  'api-gateway': ['internal-api'],
  dashboard: ['analytics'],
  catalog: ['products-api'],
};

export interface SeedTargets {
  /** Base URL of the example API serving dev (e.g. `${api.url}/v1`). */
  dev: string;
  prd: string;
  /** The bearer key prd wants; kept as the sealed secret EXAMPLE_API_KEY, scoped to prd. */
  prdApiKey: string;
}

export async function defineSeedWorkspace(ductape: Ductape, targets: SeedTargets): Promise<{ created: string[] }> {
  const report = await ductape.apps.import({ app: 'commerce-api', file: SEED_SPEC });
  await ductape.secrets.set({ key: 'EXAMPLE_API_KEY', value: targets.prdApiKey, envs: ['prd'] });
  for (const [product, accessTags] of Object.entries(SEED_PRODUCTS)) {
    await ductape.products.create({ tag: product, envs: ['dev', 'prd'] });
    for (const access_tag of accessTags) {
      await ductape.products.apps.connect({ product, app: 'commerce-api', access_tag });
      await ductape.products.apps.configure({ product, app: access_tag, env: 'dev', base_url: targets.dev });
      await ductape.products.apps.configure({
        product, app: access_tag, env: 'prd', base_url: targets.prd,
        auth: { type: 'bearer', token: '$Secret{EXAMPLE_API_KEY}' },
      });
    }
  }
  await ductape.products.sessions.create({
    product: 'dashboard', tag: 'user-session',
    schema: { type: 'object', required: ['user'], properties: { user: { type: 'object', required: ['id'], properties: { id: { type: 'string' } } } } },
    selector: '$Session{user}{id}', expiry: 3600,
  });
  await ductape.products.caches.create({ product: 'catalog', tag: 'products-list', expiry: 60_000 });
  return { created: report.created };
}
