// Every operation with an HTTP twin becomes a route: input from path, query (GET, DELETE) or JSON body, checked
// against the operation's schema, scoped by the caller's key, then the operation's handler.
import type { Context, Hono } from 'hono';
import { InvalidInputError, type Issue } from '../../errors.js';
import { toWire } from '../../model/json.js';
import { checkInput } from '../../operations/invoke.js';
import { inputSchema, typesOf } from '../../operations/json-schema.js';
import type { Operation } from '../../operations/operation.js';
import type { Services } from '../../operations/services.js';
import { authorize } from '../auth.js';
import { inQuery, pathParams } from '../openapi.js';
import { header, type KeyOf, type ServerEnv } from '../request.js';

export function mountOperations(app: Hono<ServerEnv>, ops: Operation[], services: Services, keyOf: KeyOf, maxBodyBytes: number, onKeysChanged: () => Promise<void>): void {
  for (const op of ops) {
    if (!op.http || op.name === 'actions.execute') continue;
    const { method, path } = op.http;
    const route = path.replace(/\{([^}]+)\}/g, ':$1');
    const params = pathParams(path);
    const omitted = op.http.omit ?? [];
    // Where the request's own fields come from, and where a field the handler refused came from.
    const fields: Issue['location'] = inQuery(method) ? 'query' : 'body';
    const locate = (field: string): Issue['location'] => (params.includes(field) ? 'params' : fields);
    app.on(method, route, async (c) => {
      const key = keyOf(c);
      const input = inQuery(method) ? queryInput(op, c) : await bodyInput(c, maxBodyBytes);
      // Fields such as a server-local file path exist for the SDK and CLI only: over HTTP they are refused, not ignored.
      // So is a field the path gives (PUT /v1/secrets/A with {"key":"B"} would otherwise set A without a word).
      const refused: Issue[] = [
        ...omitted.filter((k) => k in input).map((k) => ({ location: fields, path: `/${k}`, message: 'is not accepted over HTTP' })),
        ...params.filter((k) => k in input).map((k) => ({ location: fields, path: `/${k}`, message: `is given by the path (${path}); leave it out` })),
      ];
      if (refused.length) throw new InvalidInputError(refused, `Invalid ${op.name} request`);
      for (const p of params) input[p] = c.req.param(p);
      checkInput(op, input, 'http', locate);
      authorize(key, op, input);
      let result;
      try {
        result = await op.handler(services, input);
      } catch (err) {
        throw err instanceof InvalidInputError ? err.relocate(locate) : err;
      }
      if (op.name.startsWith('keys.')) await onKeysChanged();
      return c.json(toWire(result) as object);
    });
  }
}

/** The JSON body as an object, at most `maxBytes` long; anything else is INVALID_INPUT (an empty body counts as `{}`). */
export async function bodyInput(c: Context<ServerEnv>, maxBytes: number): Promise<Record<string, unknown>> {
  const text = await readBody(c, maxBytes);
  if (!text.trim()) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InvalidInputError([{ location: 'body', path: '', message: 'is not valid JSON' }], 'Invalid request');
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new InvalidInputError([{ location: 'body', path: '', message: 'must be a JSON object' }], 'Invalid request');
  return value as Record<string, unknown>;
}

/**
 * Reads the body without web streams (hono's body-limit middleware wraps every body in one, which cost more than the
 * rest of a run's HTTP handling) and without TextDecoder (Buffer decodes small bodies for a fraction of its cost).
 * A declared Content-Length is checked up front and node's parser holds the body to it; a chunked body is counted as
 * it arrives and cut off at the limit.
 */
async function readBody(c: Context<ServerEnv>, maxBytes: number): Promise<string> {
  const tooLarge = () => new InvalidInputError([{ location: 'body', path: '', message: `is larger than ${maxBytes} bytes` }], 'Request body too large');
  const length = header(c, 'content-length');
  if (length !== undefined && Number(length) > maxBytes) throw tooLarge();
  const incoming = c.env?.incoming;
  if (!incoming) return c.req.text();
  const bytes = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (err?: Error) => {
      incoming.off('data', onData).off('end', onEnd).off('error', done).off('close', onClose);
      if (err) {
        incoming.resume();
        reject(err);
      } else resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) done(tooLarge());
      else chunks.push(chunk);
    };
    const onEnd = () => done();
    // The client went away before the body ended: nobody reads the answer, but the handler must not wait forever.
    const onClose = () => done(new Error('The client closed the connection before sending the whole body.'));
    if (incoming.destroyed) return onClose();
    incoming.on('data', onData).on('end', onEnd).on('error', done).on('close', onClose);
  });
  // As TextDecoder would: a leading UTF-8 BOM is not part of the text.
  const bom = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
  return bytes.toString('utf8', bom ? 3 : 0);
}

/** Query parameters typed by the operation's schema: numbers, booleans and repeated (array) parameters. */
function queryInput(op: Operation, c: Context): Record<string, unknown> {
  const props = inputSchema(op).properties ?? {};
  const out: Record<string, unknown> = {};
  for (const [name, values] of Object.entries(c.req.queries())) {
    const types = typesOf(props[name]);
    if (types.has('array')) {
      out[name] = values;
      continue;
    }
    // Which of two values would count is a guess the caller cannot see (and a scope check must not make): refused,
    // as the OpenAPI document says (a parameter of one value, not an array).
    if (values.length > 1) throw new InvalidInputError([{ location: 'query', path: `/${name}`, message: `is given ${values.length} times; it takes one value` }], `Invalid ${op.name} request`);
    const v = values[0];
    if ((types.has('number') || types.has('integer')) && /^-?\d+(\.\d+)?$/.test(v)) out[name] = Number(v);
    else if (types.has('boolean') && (v === 'true' || v === 'false')) out[name] = v === 'true';
    else out[name] = v;
  }
  return out;
}
