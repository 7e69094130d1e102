// Operations on sessions: start, verify, refresh, revoke (API.md §4). `run` keys may call them for their product.
import { z } from 'zod';
import { DuctapeError } from '../errors.js';
import type { ActiveSession, StartedSession, VerifyResult } from '../sessions/sessions.js';
import type { SessionArgs } from '../sessions/sessions.js';
import { operation } from './operation.js';
import { env, product } from './schemas.js';

type Identifier = string | number | boolean;
const scope = { product: product(), env: env(), tag: z.string().min(1).describe('session type tag') };
const identifier = () => z.union([z.string(), z.number(), z.boolean()], { error: "expected the selector's value: a string, number or boolean" }).describe("the selector's value, e.g. the user id");

// The CLI's printer redacts every field named "token". A freshly issued session token is the one thing these
// commands exist to hand over, to the user who asked for it, so it is printed as is (it is never logged or stored).
function printIssued(value: StartedSession, json: boolean): void {
  process.stdout.write(
    json
      ? JSON.stringify(value, null, 2) + '\n'
      : `token:          ${value.token}\nrefresh token:  ${value.refreshToken}\nsession id:     ${value.sessionId}\nexpires at:     ${value.expiresAt}\nrefresh until:  ${value.refreshExpiresAt}\n`,
  );
}

export const sessionOperations = {
  'sessions.start': operation<SessionArgs & { data: unknown }, StartedSession>({
    name: 'sessions.start',
    summary: 'Start a session: returns a sealed token and a refresh token.',
    input: z.strictObject({ ...scope, data: z.unknown().describe('session data, checked against the session type schema') }),
    handler: (s, i) => s.sessions.start(i),
    http: { method: 'POST', path: '/v1/sessions/start' },
    role: 'run',
    cli: { print: printIssued },
  }),
  'sessions.verify': operation<SessionArgs & { token: string }, VerifyResult>({
    name: 'sessions.verify',
    summary: 'Verify a session token: { valid, data?, sessionId?, expiresAt? }.',
    input: z.strictObject({ ...scope, token: z.string().describe('session token') }),
    handler: (s, i) => s.sessions.verify(i),
    http: { method: 'POST', path: '/v1/sessions/verify' },
    role: 'run',
    cli: {
      // A shell script wants an exit code: an invalid token is a failure there, though the SDK answers { valid: false }.
      human: (x) => `valid: session ${x.sessionId}, expires ${x.expiresAt}\n${JSON.stringify(x.data, null, 2)}`,
      check: (r) => {
        if (!r.valid) throw new DuctapeError(r.code ?? 'SESSION_INVALID', r.code === 'SESSION_EXPIRED' ? 'The session token has expired.' : 'The session token is not valid for this product, env and session type.');
      },
    },
  }),
  'sessions.refresh': operation<SessionArgs & { refreshToken: string }, StartedSession>({
    name: 'sessions.refresh',
    summary: 'Trade a refresh token (usable once) for a new token and refresh token.',
    input: z.strictObject({ ...scope, refreshToken: z.string().describe('refresh token (usable once)') }),
    handler: (s, i) => s.sessions.refresh(i),
    http: { method: 'POST', path: '/v1/sessions/refresh' },
    role: 'run',
    cli: { print: printIssued },
  }),
  'sessions.revoke': operation<SessionArgs & ({ sessionId: string; identifier?: undefined } | { identifier: Identifier; sessionId?: undefined }), { revoked: number }>({
    name: 'sessions.revoke',
    summary: 'Revoke one session (sessionId) or every session of a user (identifier).',
    input: z.strictObject({ ...scope, sessionId: z.string().optional().describe('session id'), identifier: identifier().optional() }),
    handler: (s, i) => {
      if ((i.sessionId === undefined) === (i.identifier === undefined)) throw new DuctapeError('CONFIG_ERROR', 'Give exactly one of --session-id or --identifier (sessionId or identifier).');
      return s.sessions.revoke(i);
    },
    http: { method: 'POST', path: '/v1/sessions/revoke' },
    role: 'run',
    cli: { options: { identifier: { flag: '--identifier <value>', description: "the selector's value, e.g. the user id" } }, human: (x) => `Revoked ${x.revoked} session${x.revoked === 1 ? '' : 's'}` },
  }),
  'sessions.revokeAll': operation<{ product: string; env?: string; tag?: string; identifier?: Identifier }, { revoked: number }>({
    name: 'sessions.revokeAll',
    summary: 'Revoke every session of a product (optionally of one env, type or user).',
    input: z.strictObject({ product: product(), env: env().optional(), tag: z.string().optional(), identifier: identifier().optional() }),
    handler: (s, i) => s.sessions.revokeAll(i),
    http: { method: 'POST', path: '/v1/sessions/revoke-all' },
    cli: { command: 'sessions revoke-all', options: { identifier: { flag: '--identifier <value>' } }, human: (x) => `Revoked ${x.revoked} session${x.revoked === 1 ? '' : 's'}` },
  }),
  'sessions.listActive': operation<{ product: string; env?: string; tag?: string; identifier?: Identifier }, ActiveSession[]>({
    name: 'sessions.listActive',
    summary: 'List the active sessions of a product (never their data).',
    input: z.strictObject({ product: product(), env: env().optional(), tag: z.string().optional(), identifier: identifier().optional() }),
    handler: (s, i) => s.sessions.listActive(i),
    http: { method: 'GET', path: '/v1/sessions' },
    cli: {
      command: 'sessions list',
      options: { identifier: { flag: '--identifier <value>' } },
      human: (rows) => rows.map((s) => `${s.sessionId}  ${s.env}/${s.tag}  ${s.identifier}  expires ${s.expiresAt}`).join('\n') || '(no active sessions)',
    },
  }),
};
