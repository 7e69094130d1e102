// ductape.yaml declares a per-user connection: applied once, unchanged the second time, and ready for consents.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Ductape } from '../../src/index.js';
import { startAuthorizationServer, type AuthorizationServer } from '../helpers/authorization-server.js';
import { newClient } from '../helpers/client.js';
import { REDIRECT_URI } from './setup.js';

let dir: string;
let as: AuthorizationServer;
let ductape: Ductape;

afterEach(async () => {
  await ductape?.close();
  await as?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('apply with per_user', () => {
  it('configures a per-user connection from ductape.yaml, idempotently', async () => {
    dir = mkdtempSync(join(tmpdir(), 'ductape-apply-owners-'));
    as = await startAuthorizationServer({ redirectUris: [REDIRECT_URI] });
    const spec = {
      openapi: '3.0.3',
      info: { title: 'CRM', version: '1' },
      components: { securitySchemes: { oauth: { type: 'oauth2', flows: { authorizationCode: { authorizationUrl: as.authorizeUrl, tokenUrl: as.tokenUrl, scopes: { 'contacts.read': 'read' } } } } } },
      security: [{ oauth: ['contacts.read'] }],
      paths: { '/me': { get: { operationId: 'me', responses: { '200': { description: 'ok' } } } } },
    };
    writeFileSync(join(dir, 'crm.json'), JSON.stringify(spec));
    writeFileSync(
      join(dir, 'ductape.yaml'),
      `apps:
  crm:
    spec: ./crm.json
    envs: { prd: "${as.url}" }
products:
  dash:
    envs: [prd]
    apps:
      crm:
        envs:
          prd:
            per_user: "$Session{user}{id}"
            auth: { type: oauth2, grant: authorization_code, client_id: app-client, client_secret: "$Secret{CRM_SECRET}", redirect_uri: "${REDIRECT_URI}" }
    sessions:
      user: { sample: { user: { id: "1" } }, selector: "$Session{user}{id}" }
secrets:
  CRM_SECRET:
    - { value: app-client-secret-0042 }
`,
    );
    ductape = newClient();
    const first = await ductape.apply({ file: join(dir, 'ductape.yaml') });
    expect(first.changes.find((c) => c.target === 'dash/prd/crm')?.detail).toBe('per_user, auth');
    expect((await ductape.apply({ file: join(dir, 'ductape.yaml') })).changes).toEqual([]);
    const { url } = await ductape.connections.authorize({ product: 'dash', env: 'prd', app: 'crm', owner: '1' });
    const { code, state } = await as.approve(url, 'alice@crm');
    expect(await ductape.connections.complete({ state, code })).toMatchObject({ owner: '1', scopes: ['contacts.read'] });
  });
});
