// Stage: checks the bound input against the plan's compiled validators and reports every problem at once.
import { InvalidInputError, type Issue } from '../errors.js';
import type { IActionRequest, RunContext } from './context.js';
import { isByteInput } from './encode/binary.js';
import { essence, rangeScore } from './encode/media-type.js';
import { checkGuard } from './guards.js';

export function validate(ctx: RunContext): void {
  const plan = ctx.plan!;
  const input = (ctx.bound ?? ctx.run.input) as IActionRequest;
  const issues: Issue[] = [];
  const v = plan.validate;
  // The caller's own keys, before defaults and connection values joined them in bind.
  if (plan.guard) checkGuard(plan.guard, ctx.run.input, issues);
  // Validators coerce text into a copy (validators.ts) and never change what they are given.
  if (v.params) v.params({ ...input.params }, issues);
  if (v.query) v.query({ ...input.query }, issues);
  if (v.headers) v.headers(lowerKeys(input.headers), issues);
  if (v.cookies) v.cookies({ ...input.cookies }, issues);
  const body = plan.body;
  if (body) {
    const media = chooseMedia(ctx);
    if (input.body === undefined) {
      if (body.required) issues.push({ location: 'body', path: '', message: 'is required' });
    } else {
      const m = body.media.get(media);
      if (m?.validate && !isSerialized(input.body, media)) m.validate(stripBinary(input.body), issues);
    }
    ctx.mediaType = media;
  }
  if (issues.length) {
    ctx.issues = issues;
    throw new InvalidInputError(issues);
  }
}

/**
 * The caller may pick one of the declared media types with input.headers['content-type'], or name a concrete type
 * inside a declared range (`*\/*`, `image/*`, `application/*+json`), which is then sent as given.
 */
function chooseMedia(ctx: RunContext): string {
  const body = ctx.plan!.body!;
  const headers = (ctx.bound ?? ctx.run.input).headers;
  if (headers) {
    for (const k in headers) {
      if (k.length === 12 && k.toLowerCase() === 'content-type') {
        const given = String(headers[k]).trim();
        const wanted = essence(given);
        if (body.media.has(wanted)) return wanted;
        const range = closestRange(body.media.keys(), wanted);
        if (range !== undefined) {
          ctx.contentType = given;
          return range;
        }
        throw new InvalidInputError([
          { location: 'headers', path: '/content-type', message: `must be one of ${[...body.media.values()].map((m) => m.mediaType).join(', ')}` },
        ]);
      }
    }
  }
  return body.defaultMedia;
}

function closestRange(declared: Iterable<string>, type: string): string | undefined {
  let best: string | undefined;
  let bestScore = 0;
  for (const range of declared) {
    const score = rangeScore(range, type);
    if (score > bestScore) [best, bestScore] = [range, score];
  }
  return best;
}

export function lowerKeys(obj: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (obj) for (const k in obj) out[k.toLowerCase()] = obj[k];
  return out;
}

/**
 * A body the caller serialized itself is sent as given (encode/body.ts): bytes, a Blob or a stream for any type
 * (pre-made JSON), text or URLSearchParams for a form, a FormData for multipart. Like an XML document, its fields
 * cannot be checked against the schema, which describes the value before serialization.
 */
function isSerialized(value: unknown, media: string): boolean {
  if (value === null || value === undefined) return false;
  if (media === 'application/x-www-form-urlencoded') return typeof value === 'string' || value instanceof URLSearchParams;
  if (typeof value !== 'object') return false;
  if (media.startsWith('multipart/')) return value instanceof FormData;
  // The encoder's own test (without converting a stream, which would lock it): exactly what it sends as given.
  return isByteInput(value);
}

/** Files and streams are checked by the encoder; the schema sees them as strings (format: binary). */
function stripBinary(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object' || depth > 32) return value;
  if (isBinary(value)) return '';
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const s = stripBinary(value[i], depth + 1);
      if (s !== value[i]) (copy ??= value.slice())[i] = s;
    }
    return copy ?? value;
  }
  let copy: Record<string, unknown> | undefined;
  for (const k in value as Record<string, unknown>) {
    const item = (value as Record<string, unknown>)[k];
    const s = stripBinary(item, depth + 1);
    if (s !== item) (copy ??= { ...(value as Record<string, unknown>) })[k] = s;
  }
  return copy ?? value;
}

function isBinary(v: object): boolean {
  return (
    // What the encoder takes as a file: `{ data }` with no filename included (docs/running.md makes it optional).
    isByteInput(v) ||
    v instanceof Uint8Array ||
    v instanceof ArrayBuffer ||
    (typeof Blob !== 'undefined' && v instanceof Blob) ||
    typeof (v as { pipe?: unknown }).pipe === 'function' ||
    ('data' in v && 'filename' in v)
  );
}
