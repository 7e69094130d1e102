// The actions an MCP server offers: one product env's connected apps, filtered, with stable tool names.
import { createHash } from 'node:crypto';
import { NotFoundError } from '../errors.js';
import type { ActionDef, JsonSchema } from '../model/action.js';
import { sliceText } from '../model/json.js';
import type { Runtime } from '../runtime/runtime.js';
import { componentsOf, describeInput } from '../workspace/describe.js';

/** MCP clients reject longer tool names (the spec's pattern allows 1–64 of [A-Za-z0-9_.-]). */
export const MAX_TOOL_NAME = 64;

export interface CatalogEntry {
  /** `<access_tag>__<event>`, shortened with a hash of both when longer than 64 characters. */
  tool: string;
  accessTag: string;
  app: string;
  action: ActionDef;
  components: Record<string, JsonSchema>;
}

export interface CatalogFilter {
  product: string;
  env: string;
  /** Access tags to offer. @default every app connected to the product */
  apps?: string[];
  /** Events to offer. @default every action */
  events?: string[];
}

/**
 * Tool name for an action. It depends only on the access tag and event, so it is stable across re-imports (which
 * keep event names) and across processes; a name over 64 characters keeps its readable start and ends in a hash.
 */
export function toolName(accessTag: string, event: string): string {
  const name = `${accessTag}__${event}`.replace(/[^A-Za-z0-9_.-]/g, '_');
  return name.length <= MAX_TOOL_NAME ? name : hashedName(name, accessTag, event);
}

/** The readable start of a name and a hash of the action it stands for: unique for distinct (access tag, event). */
function hashedName(name: string, accessTag: string, event: string): string {
  const hash = createHash('sha256').update(`${accessTag}\u0000${event}`).digest('hex').slice(0, 10);
  return `${name.slice(0, MAX_TOOL_NAME - hash.length - 1)}_${hash}`;
}

/**
 * Access tags and events may both hold '__' (and events characters a tool name cannot), so two actions can share a
 * name: access tag "shop" with event "x__y" and access tag "shop__x" with event "y" are both "shop__x__y". Such a
 * pair was listed twice under one name and a call ran whichever came last; each of them now ends in its hash.
 */
function uniqueToolNames(entries: CatalogEntry[]): void {
  const count = new Map<string, number>();
  for (const e of entries) count.set(e.tool, (count.get(e.tool) ?? 0) + 1);
  for (const e of entries) if (count.get(e.tool)! > 1) e.tool = hashedName(e.tool, e.accessTag, e.action.event);
}

/** Reads the product's connected apps and their actions once (the server keeps the result). */
export async function loadCatalog(rt: Runtime, filter: CatalogFilter): Promise<CatalogEntry[]> {
  const product = await rt.store.getProduct(rt.workspace, filter.product);
  if (!product) throw new NotFoundError('product', filter.product, (await rt.store.listProducts(rt.workspace)).map((p) => p.tag), 'Create it with products.create.');
  if (!product.envs.includes(filter.env)) throw new NotFoundError('env', filter.env, product.envs, undefined, `of product "${filter.product}"`);
  const connected = Object.keys(product.connections);
  for (const a of filter.apps ?? []) if (!connected.includes(a)) throw new NotFoundError('app', a, connected, 'Connect it with products.apps.connect.', `connected to product "${filter.product}"`);
  const entries: CatalogEntry[] = [];
  const events = new Set<string>();
  const tags = filter.apps ?? connected.sort();
  for (const accessTag of tags) {
    const app = product.connections[accessTag].app;
    const components = componentsOf(await rt.store.getComponents(rt.workspace, app));
    for (const action of await rt.store.listActions(rt.workspace, app)) {
      events.add(action.event);
      if (filter.events && !filter.events.includes(action.event)) continue;
      entries.push({ tool: toolName(accessTag, action.event), accessTag, app, action, components });
    }
  }
  // A misspelt event is refused like a misspelt app, rather than leaving the agent with a silently empty tool list.
  for (const e of filter.events ?? []) {
    if (!events.has(e)) throw new NotFoundError('event', e, [...events], undefined, `in ${tags.length === 1 ? `app "${tags[0]}"` : `the apps of product "${filter.product}"`}`);
  }
  uniqueToolNames(entries);
  return entries;
}

/** The tool description: what the spec says about the action, bounded (clients show it to a model). */
export function describeEntry(e: CatalogEntry): string {
  const a = e.action;
  const text = [`${a.method} ${a.path} (${e.accessTag}.${a.event})`, a.summary, a.description].filter(Boolean).join('\n');
  // Never half a surrogate pair: a lone surrogate in tools/list is refused by strict JSON readers (serde_json).
  return text.length > 1024 ? `${sliceText(text, 1021)}…` : text;
}

export const inputSchemaOf = (e: CatalogEntry): JsonSchema => describeInput(e.action, e.components);

/**
 * Ranks entries for a free-text query: every word must appear in the event, path, summary, description or tag. A word that is a
 * whole word of the event name counts most, then part of the name, then the summary; shorter events win ties, since
 * the plain `post_customers` is more often meant than `post_customers_customer_balance_transactions`.
 */
export function searchCatalog(entries: CatalogEntry[], query: string, limit: number): CatalogEntry[] {
  const words = query.toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);
  const scored: [number, CatalogEntry][] = [];
  for (const e of entries) {
    const a = e.action;
    const nameWords = `${e.accessTag} ${a.event}`.toLowerCase().split(/[^a-z0-9]+/);
    const name = nameWords.join(' ');
    const hay = `${name} ${a.method} ${a.path} ${a.summary ?? ''} ${(a.description ?? '').slice(0, 300)} ${(a.group ?? []).join(' ')}`.toLowerCase();
    if (!words.every((w) => hay.includes(w))) continue;
    // 'customer' matches the word 'customers' (a plural s either way) as well as itself.
    const whole = (w: string) => nameWords.some((n) => n === w || n === `${w}s` || `${n}s` === w);
    scored.push([words.reduce((s, w) => s + (whole(w) ? 3 : name.includes(w) ? 2 : 1), 0), e]);
  }
  return scored
    .sort((x, y) => y[0] - x[0] || x[1].action.event.length - y[1].action.event.length || x[1].tool.localeCompare(y[1].tool))
    .slice(0, limit)
    .map(([, e]) => e);
}
