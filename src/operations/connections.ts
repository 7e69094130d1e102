// Operations on end users' own connections (API.md §13): consent with PKCE, list, revoke. Runs keys of the product
// may start and end their users' consents; `ductape serve` hosts the provider's redirect at GET /v1/oauth/callback.
import { z } from 'zod';
import type { AuthorizeResult, CompletedConnection, ConnectionView, RevokeResult } from '../connections/index.js';
import { operation } from './operation.js';
import { accessTag, env, product } from './schemas.js';

type At = { product: string; env: string; app: string };
const owner = () => z.union([z.string().min(1), z.number()], { error: 'expected the owner id as a non-empty string or a number' }).describe('the end user the connection belongs to');
// A number stands for its text (42 and "42" are one owner), so the CLI takes the id as typed: "--owner alice" was
// refused as "--owner must be JSON" when the flag was derived from the union.
const ownerOption = { owner: { flag: '--owner <id>', description: 'the end user the connection belongs to' } };

export const connectionOperations = {
  'connections.authorize': operation<At & { owner: string | number }, AuthorizeResult>({
    name: 'connections.authorize',
    summary: "Start an end user's consent: the provider's consent URL (PKCE S256) and its single-use state.",
    input: z.strictObject({ product: product(), env: env(), app: accessTag(), owner: owner() }),
    handler: (s, i) => s.connections.authorize(i),
    http: { method: 'POST', path: '/v1/connections/authorize' },
    role: 'run',
    cli: { options: ownerOption, human: (r) => `Send the user to:\n${r.url}\n(state expires ${r.expires_at})` },
  }),
  'connections.complete': operation<{ state: string; code: string; product?: string; env?: string; app?: string; owner?: string | number }, CompletedConnection>({
    name: 'connections.complete',
    summary: "Finish a consent with the state and code the provider sent back; stores the owner's tokens sealed.",
    input: z.strictObject({ state: z.string().min(1), code: z.string().min(1), product: product().optional(), env: env().optional(), app: accessTag().optional(), owner: owner().optional() }),
    handler: (s, i) => s.connections.complete(i),
    http: { method: 'POST', path: '/v1/connections/complete' },
    cli: { options: ownerOption },
  }),
  'connections.list': operation<{ product: string; env?: string; app?: string }, ConnectionView[]>({
    name: 'connections.list',
    summary: "List the owners of a product's per-user connections: status, scopes and expiry, never tokens.",
    input: z.strictObject({ product: product(), env: env().optional(), app: accessTag().optional() }),
    handler: (s, i) => s.connections.list(i),
    http: { method: 'GET', path: '/v1/connections' },
    role: 'run',
    cli: { command: 'connections list' },
  }),
  'connections.revoke': operation<At & { owner: string | number }, RevokeResult>({
    name: 'connections.revoke',
    summary: "End an owner's connection (the provider's revocation endpoint is called when declared).",
    input: z.strictObject({ product: product(), env: env(), app: accessTag(), owner: owner() }),
    handler: (s, i) => s.connections.revoke(i),
    http: { method: 'POST', path: '/v1/connections/revoke' },
    role: 'run',
    cli: { options: ownerOption, human: (r) => `Revoked the connection of ${r.owner} to ${r.app} in ${r.product}/${r.env}` },
  }),
};
