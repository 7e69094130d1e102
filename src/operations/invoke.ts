// Calling an operation: its input checked against the operation's schema, then its handler. Shared by SDK and server.
import type { z } from 'zod';
import { ConfigError, InvalidInputError, type Issue } from '../errors.js';
import { MAX_INPUT_DEPTH, nestingPointer, nestingProblem, nestingReason } from '../model/json.js';
import type { Operation } from './operation.js';
import type { Services } from './services.js';

/** Where the input came from decides the error: a refused definition in the SDK, a bad request over HTTP. */
export type Surface = 'sdk' | 'http';

interface Problem {
  /** As model/definitions.ts names fields in messages: `envs[0].slug`, `app.colour`. */
  field: string;
  /** JSON Pointer into the request body. */
  pointer: string;
  reason: string;
}

/**
 * Checks `input` against the operation's schema; throws CONFIG_ERROR (SDK, CLI) or INVALID_INPUT (HTTP) listing every
 * problem. Over HTTP, `locate` says where a top-level field came from (the path, the query string; the body otherwise).
 */
export function checkInput(op: Operation, input: unknown, surface: Surface, locate?: (field: string) => Issue['location']): void {
  const problems = inputProblems(op, input);
  if (problems.length === 0) return;
  if (surface === 'http') {
    const issues: Issue[] = problems.map((p) => ({ location: locate?.(p.pointer.split('/')[1] ?? '') ?? 'body', path: p.pointer, message: p.reason }));
    throw new InvalidInputError(issues, `Invalid ${op.name} request`);
  }
  const first = problems[0];
  const more = problems.slice(1, 5).map((p) => `; ${p.field || 'input'}: ${p.reason}`).join('');
  throw new ConfigError(`Invalid ${first.field || op.name}: ${first.reason}${more}.`, { field: first.field, reason: first.reason, problems });
}

function inputProblems(op: Operation, input: unknown): Problem[] {
  // First the shape's depth, without recursion: a value nested thousands of levels deep (or one that contains itself)
  // would otherwise end in a RangeError from whichever recursive step met it first.
  const deep = nestingProblem(input, MAX_INPUT_DEPTH);
  if (deep) {
    // Named by where the offending value starts (at most 8 keys down), not by a path hundreds of keys long.
    return [{ field: fieldOf(deep.path.slice(0, 8)), pointer: nestingPointer(deep), reason: nestingReason(deep) }];
  }
  const r = op.input.safeParse(input);
  return r.success ? [] : r.error.issues.flatMap((i) => describe(op, i));
}

function describe(op: Operation, issue: z.core.$ZodIssue): Problem[] {
  const field = fieldOf(issue.path);
  const pointer = issue.path.map((p) => `/${String(p)}`).join('');
  if (issue.code === 'unrecognized_keys') {
    const accepted = issue.path.length === 0 ? acceptedKeys(op) : [];
    // Named after the thing defined ('app.colour' for apps.create), as model/definitions.ts names them.
    const owner = field || op.name.split('.').at(-2)!.replace(/s$/, '');
    return issue.keys.map((k) => ({ field: `${owner}.${k}`, pointer: `${pointer}/${k}`, reason: `unknown field${accepted.length ? `; accepted: ${accepted.join(', ')}` : ''}` }));
  }
  if (issue.code === 'invalid_type' && /received undefined/.test(issue.message)) return [{ field, pointer, reason: 'is required' }];
  return [{ field, pointer, reason: issue.message.replace(/^Invalid input: /, '') }];
}

/** `['envs', 0, 'slug']` → `envs[0].slug`, the form model/definitions.ts uses in its messages. */
function fieldOf(path: PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out;
}

/** The top-level fields an operation accepts (for "unknown field" messages). */
export function acceptedKeys(op: Operation): string[] {
  let s: any = op.input;
  while (s?.def?.innerType) s = s.def.innerType;
  return s?.shape ? Object.keys(s.shape) : [];
}

/** Checks then runs an operation. */
export function invoke(op: Operation, services: Services, input: unknown, surface: Surface, extra?: unknown): Promise<unknown> {
  checkInput(op, input, surface);
  return op.handler(services, input, extra as never);
}

/** Builds the nested SDK namespaces (`apps.actions.create`, …) from the operation table; each call awaits `ready`. */
export function buildNamespaces(ops: Operation[], services: Services, ready: () => Promise<unknown>): Record<string, any> {
  const root: Record<string, any> = {};
  for (const op of ops) {
    if (op.sdk === false) continue;
    const parts = op.name.split('.');
    let node = root;
    for (const p of parts.slice(0, -1)) node = node[p] ??= {};
    node[parts.at(-1)!] = async (input?: unknown, extra?: unknown) => {
      await ready();
      return invoke(op, services, input, 'sdk', extra);
    };
  }
  return root;
}
