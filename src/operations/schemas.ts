// Zod fragments shared by the operation input schemas (API.md §3 names; details left to the handlers' checks).
import { z } from 'zod';
import { SLUG, SLUG_RULE, TAG, TAG_RULE } from '../model/definitions.js';
import { timeMs } from '../model/time.js';

// The patterns model/definitions.ts enforces, so a bad tag is refused at the edge with the same words.
export const tag = (what = 'tag') => z.string({ error: `expected a ${what}` }).regex(TAG, { error: TAG_RULE });
export const slug = () => z.string({ error: 'expected a slug' }).regex(SLUG, { error: SLUG_RULE });

/** Any JSON object (details checked by the handler). */
export const jsonObject = () => z.record(z.string(), z.unknown());
/** A JSON Schema: an object or a boolean. */
export const jsonSchema = () => z.union([jsonObject(), z.boolean()], { error: 'expected a JSON Schema (an object, or true/false)' }).describe('a JSON Schema');
export const stringMap = () => z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));
/**
 * A time: ISO 8601 text, epoch ms, or (SDK only) a Date. Checked here, at the edge, so that `logs --since yesterday`
 * gets a CONFIG_ERROR that shows the accepted form instead of JavaScript's "Invalid time value" (#11).
 */
export const time = () =>
  z.union([z.string(), z.number(), z.date()]).refine((v) => isValidTime(v), {
    error: 'expected an ISO 8601 time such as 2026-12-06T09:00:00Z (or a date, 2026-12-06), or milliseconds since the epoch',
  });

function isValidTime(v: string | number | Date): boolean {
  if (typeof v === 'string' && !/^\d{4}-\d{2}-\d{2}/.test(v)) return false;
  return Number.isFinite(timeMs(v));
}

export const product = () => z.string().min(1).describe('product tag');
export const env = () => z.string().min(1).describe('product env slug');
export const app = () => z.string().min(1).describe('app tag');
export const accessTag = () => z.string().min(1).describe('access tag of the connected app');
export const event = () => z.string().min(1).describe('action event tag');

/** `auth` of products.apps.configure: one credential form or several (details: runtime/auth/forms.ts). */
export const auth = () =>
  z
    .union([jsonObject(), z.array(jsonObject()), z.null()], { error: 'expected an auth form ({ type: "bearer", token } …), a list of forms, or null' })
    .describe('credentials: { type: "bearer" | "basic" | "apiKey" | "oauth2" | "action", … } or raw { headers, query, body }; sealed at rest; null removes them');

/** `rate_limit` of apps and connections: one window or an array of them (details: model/rate-limit.ts). */
export const rateLimit = () =>
  z
    .union([jsonObject(), z.array(jsonObject())], { error: 'expected { requests, per_ms } or a non-empty array of them' })
    .describe('{ requests, per_ms, concurrency?, max_wait_ms?, headers?: { remaining?, reset? } } or an array of windows (docs/rate-limits.md)');

/** The run input's request parts (the seed's IActionRequest). */
export const actionRequest = () =>
  z.strictObject({
    query: jsonObject().optional(),
    params: jsonObject().optional(),
    body: z.unknown().optional(),
    headers: jsonObject().optional(),
    cookies: jsonObject().optional(),
  });

/** The seed's IActionProcessorInput (API.md §4). */
export const runInput = () =>
  z.strictObject({
    env: env(),
    product: product(),
    app: accessTag(),
    event: event(),
    input: actionRequest().optional(),
    cache: z.string().optional().describe('cache tag of the product'),
    retries: z.number().int().min(0).max(20).optional().describe('extra attempts'),
    timeout: z
      .union([z.number().positive(), z.strictObject({ attempt: z.number().positive().optional(), headers: z.number().positive().optional(), body: z.number().positive().optional(), run: z.number().positive().optional() })])
      .optional()
      .describe('per-attempt timeout in ms, or { attempt, headers, body, run }'),
    session: z.union([z.string(), z.strictObject({ tag: z.string(), token: z.string() })], { error: "expected { tag, token } or 'tag:token'" }).optional().describe("{ tag, token } or 'tag:token'"),
  });
