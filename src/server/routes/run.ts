// POST /v1/actions/run: the envelope of actions.execute for any language (API.md §6). The hot path of the server.
import type { Hono } from 'hono';
import type { Ductape } from '../../client.js';
import { jsonText, toWire } from '../../model/json.js';
import { checkInput } from '../../operations/invoke.js';
import type { Operation } from '../../operations/operation.js';
import { recordRefused } from '../../runtime/log.js';
import type { KeyInfo } from '../../workspace/keys.js';
import { authorize } from '../auth.js';
import type { KeyOf, ServerEnv } from '../request.js';
import { bodyInput } from './operations.js';

const JSON_TYPE = { 'content-type': 'application/json' };

export function mountRun(app: Hono<ServerEnv>, op: Operation, ductape: Ductape, keyOf: KeyOf, maxBodyBytes: number): void {
  app.post('/v1/actions/run', async (c) => {
    const key = keyOf(c);
    const input = await bodyInput(c, maxBodyBytes);
    try {
      checkInput(op, input, 'http');
    } catch (err) {
      await logRefused(ductape, key, op, input, err);
      throw err;
    }
    authorize(key, op, input);
    const envelope = await ductape.actions.execute(input as never);
    // JSON has no bytes: a binary body travels as base64 and says so.
    if (envelope.data instanceof Uint8Array) return c.json({ ...envelope, data: toWire(envelope.data), encoding: 'base64' });
    // An upstream's JSON can nest deeper than JSON.stringify (hence c.json) can write; jsonText writes any depth.
    return c.body(jsonText(envelope), 200, JSON_TYPE);
  });
}

/**
 * A run refused for its shape is still a run and logged, as actions.run logs it in the SDK (API.md §5: every run is
 * recorded); but only when the key may run that product and env, so that a run key cannot write rows into the logs of
 * a product it has no access to. The refusal itself is what the caller gets either way.
 */
async function logRefused(ductape: Ductape, key: KeyInfo, op: Operation, input: Record<string, unknown>, err: unknown): Promise<void> {
  try {
    authorize(key, op, input);
  } catch {
    return;
  }
  recordRefused(await ductape.services.runtime(), input, err);
}
