// actions.paginate (API.md §11): an async iterator of pages; every page is a normal run through the whole pipeline.
import { ConfigError, DuctapeError } from '../errors.js';
import { isEndMarker, nextPage, readPath, type PageInput, type PaginationDef } from '../model/pagination.js';
import { redactUrl } from '../model/redact.js';
import { checkPaginateKeys } from '../options.js';
import type { IActionProcessorInput, RunContext } from './context.js';

/** paginate's input: a run's input plus `max_pages`. */
export interface PaginateInput extends IActionProcessorInput {
  /** Stop after this many pages (the last one still yielded). @default no limit */
  max_pages?: number;
}

/** Runs one page: the run's input, and for `link` pagination the URL to request instead of the action's path. */
export type RunPage = (input: IActionProcessorInput, pageUrl: string | undefined) => Promise<RunContext>;

/**
 * Yields each page's parsed body in order. A page that fails throws from the iterator after the pages before it were
 * yielded; a next page that repeats one already requested ends it with UPSTREAM_ERROR instead of looping forever.
 * @example for await (const page of paginate(runPage, { env, product, app, event, max_pages: 5 })) handle(page);
 */
export async function* paginate<T = unknown>(runPage: RunPage, raw: PaginateInput): AsyncGenerator<T, void, undefined> {
  if (raw === null || typeof raw !== 'object') throw new DuctapeError('INVALID_INPUT', 'actions.paginate expects an object.', { issues: [] });
  checkPaginateKeys(raw);
  const { max_pages: maxPages, ...first } = raw;
  if (maxPages !== undefined && !(Number.isInteger(maxPages) && maxPages >= 1)) throw new ConfigError('max_pages must be a whole number ≥ 1.', { option: 'max_pages' });
  let input: IActionProcessorInput = first;
  let url: string | undefined;
  const seen = new Set<string>();
  let lastItems: string | undefined;
  for (let page = 1; ; page++) {
    const ctx = await runPage(input, url);
    const def = ctx.plan!.action.pagination;
    if (!def) {
      throw new ConfigError(
        `Action "${raw.event}" of app "${ctx.plan!.app.tag}" has no pagination definition. Set one with apps.actions.update({ app, event, pagination }) or in ductape.yaml (see docs/pagination.md).`,
        { field: 'pagination' },
      );
    }
    const { data, headers } = ctx.result!;
    // The first page is a page already requested too: a server whose next page is the one it just answered (its own
    // URL, or the cursor the caller started from) must not have that page requested and yielded a second time.
    if (page === 1) seen.add(def.type === 'link' ? new URL(ctx.request!.path, ctx.request!.origin).href : JSON.stringify(input.input ?? {}));
    checkItems(def, data, page, ctx);
    if (page > 1 && isEndMarker(def, data)) return;
    // offset and page walks always ask for a new page: an upstream that ignores `param` (another name, say) answers
    // the first page again and again, and the walk never ended. Cursor and link walks repeat the request instead.
    if (def.type === 'offset' || def.type === 'page') {
      const items = JSON.stringify(readPath(data, def.items)) ?? '';
      if (items === lastItems) {
        throw pageError(
          `Page ${page} has the same ${def.items} as page ${page - 1}: the upstream seems to ignore ${def.param}. Stopping instead of looping; check the action's pagination.param.`,
          ctx,
          JSON.stringify(input.input ?? {}),
        );
      }
      lastItems = items;
    }
    yield data as T;
    if (maxPages !== undefined && page >= maxPages) return;
    const next = nextPage(def, (input.input ?? {}) as PageInput, data, headers);
    if (!next) return;
    let key: string;
    if ('url' in next) {
      const req = ctx.request!;
      // Relative links are relative to the page they came from (RFC 8288 §3.2).
      let target: URL;
      try {
        target = new URL(next.url, req.origin + req.path);
      } catch {
        throw pageError(`The next page link of ${redactUrl(req.origin + req.path)} is not a URL.`, ctx, next.url);
      }
      // The origin lock holds for pages too: a link elsewhere would carry this connection's credentials there.
      if (target.origin !== req.origin) {
        throw pageError(
          `The next page link points to ${target.origin}, not to this connection's origin ${req.origin}; Ductape only sends a connection's requests to its own origin. If the API really moved, change the base URL.`,
          ctx,
          target.href,
        );
      }
      url = key = target.href;
    } else {
      input = { ...input, input: next.input };
      key = JSON.stringify(next.input);
    }
    if (seen.has(key)) throw pageError(`The upstream returned the same next page twice (page ${page + 1}); stopping instead of looping.`, ctx, key);
    seen.add(key);
  }
}

/**
 * A page without a list at `items` (absent, or not an array; null counts as an empty list) ends the walk with an error
 * naming the path. Read as "no items", it looked like the last page: a misnamed path (`results` for `data`), or an
 * answer of another shape, silently ended the walk after one page.
 */
function checkItems(def: PaginationDef, data: unknown, page: number, ctx: RunContext): void {
  if (!('items' in def) || def.items === undefined) return;
  const items = readPath(data, def.items);
  if (items === null || Array.isArray(items)) return;
  const at = `at "${def.items}" (the action's pagination.items)`;
  const found = items === undefined ? `nothing ${at}` : `${typeof items === 'object' ? 'an object' : `a ${typeof items}`} ${at}, not a list`;
  throw pageError(
    `Page ${page} has ${found}, so its items cannot be read. Check that path against the response, or set pagination.items to where the list is (docs/pagination.md).`,
    ctx,
  );
}

function pageError(message: string, ctx: RunContext, next?: string): DuctapeError {
  const req = ctx.request!;
  return new DuctapeError('UPSTREAM_ERROR', message, {
    status: ctx.result?.status,
    retryable: false,
    ...(next === undefined ? {} : { next: redactUrl(next) }),
    request: { method: req.method, url: redactUrl(req.origin + req.path) },
  });
}
