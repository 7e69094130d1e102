// CLI commands derived from the operation table: positional args and `--kebab-case` options from the input schema.
import { Command, Option } from 'commander';
import type { Ductape } from '../client.js';
import { jsonOption, list, NULL_OPTION, numberOption } from '../operations/cli-parsers.js';
import { inputSchema, typesOf, type PropertySchema } from '../operations/json-schema.js';
import type { CliOption, Operation } from '../operations/operation.js';
import { withClient } from './context.js';

/** Descriptions of the command groups (`ductape apps …`). */
const GROUPS: Record<string, string> = {
  apps: 'Create, import, list, fetch and delete apps and their envs',
  actions: 'Create, update, list, fetch, rename and delete the actions of an app',
  products: 'Create, list, fetch and delete products',
  caches: 'Define, list, clear and delete the response caches of a product',
  'session-types': 'Define the session types of a product',
  sessions: 'Start, verify, refresh and revoke sessions',
  secrets: 'Set, list and delete sealed secrets ($Secret{KEY})',
  keys: 'Create, list and revoke API keys for ductape serve',
  connections: "End users' own connections: authorize, complete, list, revoke",
};

/** Placeholder words for common fields, so help reads `--product <tag>` rather than `--product <value>`. */
const PLACEHOLDERS: Record<string, string> = { product: 'tag', app: 'tag', tag: 'tag', access_tag: 'tag', env: 'slug', app_env: 'slug', slug: 'slug', event: 'event', base_url: 'url' };

const kebab = (name: string) => name.replace(/_/g, '-').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** Adds one command per operation with a CLI twin. */
export function registerOperations(program: Command, ops: Operation[]): void {
  for (const op of ops) if (op.cli) addCommand(program, op);
}

function addCommand(program: Command, op: Operation): void {
  const spec = op.cli as Exclude<Operation['cli'], false>;
  const words = (spec.command ?? op.name.replace(/\./g, ' ')).split(' ');
  let parent = program;
  for (const w of words.slice(0, -1)) parent = parent.commands.find((c) => c.name() === w) ?? parent.command(w).description(GROUPS[w] ?? '');
  const cmd = parent.command(words.at(-1)!).description(op.summary);
  const schema = inputSchema(op);
  const props = schema.properties ?? {};
  const required = new Set(schema.required ?? []);
  const args = (spec.args ?? []).map((a) => ({ field: a.replace(/\?$/, ''), optional: a.endsWith('?') || !required.has(a) }));
  for (const a of args) cmd.argument(a.optional ? `[${a.field}]` : `<${a.field}>`, props[a.field]?.description);

  // field → commander attribute name, to read the parsed values back under the operation's field names.
  const fields = new Map<string, string>();
  const overrides = spec.options ?? {};
  const names = [...Object.keys(props), ...Object.keys(overrides).filter((k) => !(k in props))];
  for (const field of names) {
    if (args.some((a) => a.field === field) || overrides[field] === false) continue;
    const option = makeOption(field, props[field], overrides[field] as CliOption | undefined, required.has(field));
    fields.set(field, option.attributeName());
    cmd.addOption(option);
  }

  cmd.action(function (this: Command, ...positional: unknown[]) {
    const o = this.opts();
    let input: Record<string, unknown> = {};
    args.forEach((a, i) => positional[i] !== undefined && (input[a.field] = positional[i]));
    for (const [field, attr] of fields) if (o[attr] !== undefined) input[field] = o[attr] === NULL_OPTION ? null : o[attr];
    return withClient(this, async (d, out) => {
      if (spec.prepare) input = await spec.prepare(input);
      const call = (i: unknown, extra?: unknown) => sdkMethod(d, op.name)(i, extra);
      const result = spec.invoke ? await spec.invoke(call, input, out.json) : await call(input);
      spec.check?.(result);
      if (spec.print) spec.print(result, out.json);
      else out.print(result, spec.human ? (r) => spec.human!(r, input) : undefined);
    });
  });
}

function makeOption(field: string, prop: PropertySchema | undefined, override: CliOption | undefined, isRequired: boolean): Option {
  const types = typesOf(prop);
  const only = (t: string) => types.size === 1 && types.has(t);
  let flag = override?.flag;
  let parse = override?.parse;
  if (!flag) {
    const name = `--${kebab(field)}`;
    if (only('boolean')) flag = name;
    else if (only('string') || (types.has('string') && !types.has('object') && !types.has('array') && !types.has('number') && !types.has('integer'))) flag = `${name} <${PLACEHOLDERS[field] ?? 'value'}>`;
    else if (types.size && [...types].every((t) => t === 'number' || t === 'integer')) {
      flag = `${name} <n>`;
      parse ??= numberOption(kebab(field));
    } else if (only('array') && typesOf(prop!.items).has('string')) {
      flag = `${name} <list>`;
      parse ??= list;
    } else {
      flag = `${name} <json>`;
      parse ??= jsonOption(kebab(field));
    }
  }
  const option = new Option(flag, override?.description ?? prop?.description ?? '');
  if (parse) option.argParser(parse as (value: string, previous: unknown) => unknown);
  if (override?.initial !== undefined) option.default(override.initial);
  if (isRequired && !flag.startsWith(`--${kebab(field)} [`) && !only('boolean')) option.makeOptionMandatory();
  return option;
}

/** `ductape.apps.actions.create`, looked up by the operation's dotted name. */
function sdkMethod(d: Ductape, name: string): (input: unknown, extra?: unknown) => Promise<unknown> {
  const parts = name.split('.');
  let node: any = d;
  for (const p of parts.slice(0, -1)) node = node[p];
  return node[parts.at(-1)!].bind(node);
}
