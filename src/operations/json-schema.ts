// The JSON Schema of an operation's input (zod → draft 2020-12, the OpenAPI 3.1 dialect), computed once per operation.
import { z } from 'zod';
import type { Operation } from './operation.js';

export interface ObjectSchema {
  type?: string;
  properties?: Record<string, PropertySchema>;
  required?: string[];
  additionalProperties?: boolean;
  description?: string;
}
export type PropertySchema = Record<string, any>;

const cache = new WeakMap<Operation, ObjectSchema>();

/** The input schema of an operation (without `$schema`); a Date becomes "any" (JSON has none: ISO text goes instead). */
export function inputSchema(op: Operation): ObjectSchema {
  let s = cache.get(op);
  if (!s) {
    const { $schema: _dialect, ...rest } = z.toJSONSchema(op.input, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
    s = rest as ObjectSchema;
    cache.set(op, s);
  }
  return s;
}

/** The JSON types a property admits ('string', 'number', 'integer', 'boolean', 'array', 'object', 'null'). */
export function typesOf(p: PropertySchema | undefined): Set<string> {
  const out = new Set<string>();
  if (!p) return out;
  if (typeof p.type === 'string') out.add(p.type);
  if (Array.isArray(p.type)) for (const t of p.type) out.add(t);
  for (const alt of [...(p.anyOf ?? []), ...(p.oneOf ?? [])]) for (const t of typesOf(alt)) out.add(t);
  if (p.enum && !p.type) out.add('string');
  return out;
}
