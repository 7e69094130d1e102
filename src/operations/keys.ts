// Operations on the API keys of `ductape serve` (API.md §6): shown once, stored hashed, revocable.
import { z } from 'zod';
import type { CreateKeyArgs, KeyInfo } from '../workspace/keys.js';
import { operation } from './operation.js';
import { env, product } from './schemas.js';

export const keyOperations = {
  'keys.create': operation<CreateKeyArgs, { id: string; key: string } & KeyInfo>({
    name: 'keys.create',
    summary: 'Create an API key for `ductape serve`; the key is shown this once.',
    description: '`admin` keys may do everything; `run` keys may only run actions (and sessions) of their product, and of one env when `env` is given.',
    input: z.strictObject({
      name: z.string().min(1).describe('what the key is for'),
      role: z.enum(['admin', 'run']).describe("'admin' (every route) or 'run' (runs, sessions and connections of one product)"),
      product: product().optional().describe('run keys: the product'),
      env: env().optional().describe('run keys: the only env (default: any)'),
    }),
    handler: (s, i) => s.keys.create(i),
    http: { method: 'POST', path: '/v1/keys' },
    cli: {
      // The printer would redact a field named "key"; handing it over, once, is the point of this command.
      print: (k, json) =>
        process.stdout.write(
          json ? JSON.stringify({ id: k.id, key: k.key }, null, 2) + '\n' : `Created ${k.role} key ${k.id} (${k.name}). Store it now; it is not shown again:\n${k.key}\n`,
        ),
    },
  }),
  'keys.list': operation<void, KeyInfo[]>({
    name: 'keys.list',
    summary: 'List API keys (never the keys themselves).',
    input: z.strictObject({}).optional(),
    handler: (s) => s.keys.list(),
    http: { method: 'GET', path: '/v1/keys' },
    cli: {},
  }),
  'keys.revoke': operation<{ id: string }, KeyInfo>({
    name: 'keys.revoke',
    summary: 'Revoke an API key; every serve process refuses it within 1 s.',
    input: z.strictObject({ id: z.string().min(1).describe('key id') }),
    handler: (s, i) => s.keys.revoke(i),
    http: { method: 'DELETE', path: '/v1/keys/{id}' },
    cli: { args: ['id'], human: (k) => `Revoked key ${k.id} (${k.name})` },
  }),
};
