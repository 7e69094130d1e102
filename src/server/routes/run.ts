// POST /v1/actions/run: the envelope of actions.execute for any language (API.md §6). The hot path of the server.
import type { Hono } from 'hono';
import type { Ductape } from '../../client.js';
import { jsonText } from '../../model/json.js';
import { checkInput } from '../../operations/invoke.js';
import type { Operation } from '../../operations/operation.js';
import { authorize } from '../auth.js';
import type { KeyOf, ServerEnv } from '../request.js';
import { toWire } from '../errors.js';
import { bodyInput } from './operations.js';

const JSON_TYPE = { 'content-type': 'application/json' };

export function mountRun(app: Hono<ServerEnv>, op: Operation, ductape: Ductape, keyOf: KeyOf, maxBodyBytes: number): void {
  app.post('/v1/actions/run', async (c) => {
    const key = keyOf(c);
    const input = await bodyInput(c, maxBodyBytes);
    checkInput(op, input, 'http');
    authorize(key, op, input);
    const envelope = await ductape.actions.execute(input as never);
    // JSON has no bytes: a binary body travels as base64 and says so.
    if (envelope.data instanceof Uint8Array) return c.json({ ...envelope, data: toWire(envelope.data), encoding: 'base64' });
    // An upstream's JSON can nest deeper than JSON.stringify (hence c.json) can write; jsonText writes any depth.
    return c.body(jsonText(envelope), 200, JSON_TYPE);
  });
}
