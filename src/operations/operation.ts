// One description per operation: name, input schema, handler and docs. The SDK method, the CLI command, the HTTP
// route and the server's OpenAPI document are all derived from it (sdk.ts, cli/derive.ts, server/), so none can lag.
import type { z } from 'zod';
import type { Services } from './services.js';

export type HttpVerb = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** How an operation appears on the command line (API.md §8). Fields not named here become `--kebab-case` options. */
export interface CliSpec<I = any, O = any, X = never> {
  /** Command words, e.g. 'apps create' or 'connect'. @default the operation name with dots as spaces */
  command?: string;
  /** Input fields taken as positional arguments, in order (`apps create <tag>`); a trailing '?' makes one optional. */
  args?: string[];
  /** Per-field overrides: flag text, parser, help, or `false` to leave the field out of the CLI. */
  options?: Record<string, CliOption | false>;
  /** Turns the parsed options into the operation input where a plain field-per-option mapping is not enough. */
  prepare?: (input: Record<string, unknown>) => Promise<Record<string, unknown>> | Record<string, unknown>;
  /** Human-readable rendering of the (redacted) result; JSON otherwise. */
  human?: (result: O, input: I) => string;
  /** Throws when the result means failure on the command line (a non-zero exit), e.g. an invalid session token. */
  check?: (result: O) => void;
  /** Calls the operation itself, e.g. to pass SDK-only options such as a progress callback. */
  invoke?: (call: (input: I, extra?: X) => Promise<O>, input: I, json: boolean) => Promise<O>;
  /** Writes the result itself (e.g. freshly issued tokens, which the printer would otherwise redact). */
  print?: (result: O, json: boolean) => void;
}

export interface CliOption {
  /** Commander flag text, e.g. '--env <slug=url>'. */
  flag?: string;
  description?: string;
  /** Parses one occurrence; with `repeat`, folds each occurrence into the previous value. */
  parse?: (value: string, previous: unknown) => unknown;
  /** Initial value for repeatable options. */
  initial?: unknown;
}

/** How an operation appears over HTTP (API.md §6). `{name}` path segments are input fields. */
export interface HttpSpec {
  method: HttpVerb;
  path: string;
  /** Input fields that must not come over HTTP (e.g. a server-local `file` path). */
  omit?: string[];
}

/** Who may call it over HTTP: `admin` keys may do everything; `run` keys only the operations marked `run`. */
export type Role = 'admin' | 'run';

export interface Operation<I = any, O = any, X = never> {
  /** Dotted SDK path: 'apps.actions.create' is `ductape.apps.actions.create`. */
  name: string;
  summary: string;
  description?: string;
  /** The input schema: validated by the SDK, the CLI and the server alike. */
  input: z.ZodType;
  /** `extra` is an optional second SDK argument that never travels over HTTP (e.g. an import progress callback). */
  handler: (services: Services, input: I, extra?: X) => Promise<O>;
  /** false: not offered over HTTP (e.g. secrets.get: secrets are write-only there). */
  http: HttpSpec | false;
  /** false: no CLI twin (the client-level command covers it). */
  cli: CliSpec<I, O, X> | false;
  /** false: the client defines this method itself (generic run/execute stay on the hot path without a wrapper). */
  sdk?: boolean;
  /** @default 'admin' */
  role?: Role;
}

/** Declares an operation; the generic parameters carry the SDK method's types. */
export function operation<I, O, X = never>(op: Operation<I, O, X>): Operation<I, O, X> {
  return op;
}

// ---- SDK namespace types derived from the operation table ----

type Method<Op> =
  Op extends Operation<infer I, infer O, infer X>
    ? [X] extends [never]
      ? undefined extends I
        ? (input?: I) => Promise<O>
        : (input: I) => Promise<O>
      : (input: I, options?: X) => Promise<O>
    : never;
type Nest<K extends string, V> = K extends `${infer Head}.${infer Rest}` ? { [P in Head]: Nest<Rest, V> } : { [P in K]: V };
type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer X) => void ? X : never;
type Flatten<T> = T extends (...args: any[]) => any ? T : { [K in keyof T]: Flatten<T[K]> };

/** `{ 'apps.create': Operation<I, O>, … }` → `{ apps: { create(input: I): Promise<O> } … }`. */
export type Namespaces<Ops> = Flatten<UnionToIntersection<{ [K in keyof Ops & string]: Nest<K, Method<Ops[K]>> }[keyof Ops & string]>>;
