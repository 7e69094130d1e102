// Operations of issue #14: describe an action, configure an imported action, generate the typed-actions file.
import { z } from 'zod';
import type { ActionDef } from '../model/action.js';
import { generateTypes, type GenerateTypesArgs, type GenerateTypesResult } from '../types/generate.js';
import { describeStored, type ActionDescription } from '../workspace/describe.js';
import { table } from './format.js';
import { operation } from './operation.js';
import { app, event } from './schemas.js';

export const describeOperations = {
  'apps.actions.describe': operation<{ app: string; event: string }, ActionDescription>({
    name: 'apps.actions.describe',
    summary: 'Show what an action takes: resolved schemas, parameter styles, security, responses and a valid example input.',
    description: 'The same as apps.actions.fetch with resolve: true (docs/types.md).',
    input: z.strictObject({ app: app(), event: event() }),
    handler: async (s, i) => {
      const rt = await s.runtime();
      return describeStored(rt.store, rt.workspace, i.app, i.event);
    },
    http: { method: 'GET', path: '/v1/apps/{app}/actions/{event}/describe' },
    cli: { command: 'actions describe', human: describeHuman },
  }),
  'apps.actions.configure': operation<{ app: string; event: string; allow_unknown_params?: boolean }, ActionDef>({
    name: 'apps.actions.configure',
    summary: 'Settings of any action, imported ones included, that survive re-imports.',
    input: z.strictObject({
      app: app(),
      event: event(),
      allow_unknown_params: z.boolean().optional().describe('send query and path keys the action does not declare instead of refusing them'),
    }),
    handler: (s, i) => s.apps.actions.configure(i),
    http: { method: 'PATCH', path: '/v1/apps/{app}/actions/{event}' },
    cli: { command: 'actions configure', human: (a) => `Configured ${a.event}${a.allow_unknown_params ? ': unknown query and path keys are sent' : ''}` },
  }),
  'types.generate': operation<GenerateTypesArgs | undefined, GenerateTypesResult>({
    name: 'types.generate',
    summary: 'Write a declaration file that types actions.run and actions.execute from the workspace (docs/types.md).',
    input: z.strictObject({ out: z.string().optional().describe('file to write'), product: z.string().optional().describe('only this product') }).optional(),
    handler: async (s, i) => {
      const rt = await s.runtime();
      return generateTypes(rt.store, rt.workspace, i ?? {});
    },
    // The file is written where the caller runs; over HTTP there is no such place.
    http: false,
    cli: {
      command: 'types',
      options: { out: { flag: '--out <file>', description: 'file to write (default: ./ductape-types.d.ts)' } },
      prepare: (i) => ({ ...i, out: i.out ?? 'ductape-types.d.ts' }),
      human: (x) =>
        `Wrote ${x.out}: ${x.events} events of ${x.apps.join(', ') || 'no apps'} for ${x.products.join(', ') || 'no products'} (${Math.round(x.bytes / 1024)} KiB). Include it in your tsconfig.`,
    },
  }),
};

/** The parts a person reads first; `--json` prints the whole description with every schema. */
export function describeHuman(d: ActionDescription): string {
  const lines = [`${d.method} ${d.path}  (${d.app}.${d.event})${d.deprecated ? '  DEPRECATED' : ''}`];
  if (d.summary) lines.push(d.summary);
  if (d.parameters.length) {
    lines.push('', 'Parameters:');
    lines.push(
      table(
        d.parameters.map((p) => ({
          name: p.name,
          input: p.input,
          required: p.required ? 'yes' : '',
          type: typeName(p.schema),
          style: `${p.style}${p.explode ? ', explode' : ''}`,
        })),
      ),
    );
  }
  if (d.body) lines.push('', `Body${d.body.required ? ' (required)' : ''}: ${Object.keys(d.body.media).join(', ')}; default ${d.body.default}`);
  const security = d.security.length ? d.security.map((r) => Object.keys(r).join(' + ') || 'none').join(' or ') : 'none';
  lines.push('', `Security: ${security}`);
  lines.push(`Responses: ${Object.keys(d.responses).join(', ') || 'none declared'}`);
  lines.push('', 'Example input:', JSON.stringify(d.example, null, 2), '', 'Full schemas: add --json.');
  return lines.join('\n');
}

function typeName(schema: unknown): string {
  const s = schema as { type?: unknown; enum?: unknown[] };
  if (Array.isArray(s?.enum)) return s.enum.slice(0, 4).map((v) => JSON.stringify(v)).join(' | ') + (s.enum.length > 4 ? ' | …' : '');
  return Array.isArray(s?.type) ? s.type.join(' | ') : typeof s?.type === 'string' ? s.type : 'any';
}
