// Stage: for `link` pagination, the next page's URL (same origin only) replaces the encoded path and query.
import { DuctapeError } from '../errors.js';
import { redactUrl } from '../model/redact.js';
import type { RunContext } from './context.js';

export function followLink(ctx: RunContext): void {
  const pageUrl = ctx.run.pageUrl;
  if (pageUrl === undefined) return;
  const req = ctx.request!;
  const url = new URL(pageUrl);
  // paginate checks this already; here it holds whoever sets pageUrl.
  if (url.origin !== req.origin) {
    throw new DuctapeError('UPSTREAM_ERROR', `Refusing to send a page request to ${url.origin}: this connection's origin is ${req.origin}.`, { retryable: false, next: redactUrl(pageUrl) });
  }
  ctx.request = { ...req, path: url.pathname + url.search };
}
