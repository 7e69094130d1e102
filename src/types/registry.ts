// Typed actions (API.md §9): the ActionRegistry interface that `ductape types` fills, and the run/execute signatures
// derived from it. Type-only: nothing here exists at run time, and without the generated file nothing changes.
import type { Readable } from 'node:stream';
import type { RunEnvelope } from '../client.js';
import type { IActionProcessorInput } from '../runtime/context.js';

/**
 * Product → access tag → event → `{ input, output }`. Empty in the package; the file `ductape types` writes augments it:
 *
 * @example
 * declare module 'ductape' { interface ActionRegistry { payments: { stripe: { post_customers: Stripe.PostCustomers } } } }
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface ActionRegistry {}

/** Whether a generated declaration file is part of the compilation. */
export type HasRegistry = keyof ActionRegistry extends never ? false : true;

export type RegistryProduct = keyof ActionRegistry & string;
export type RegistryAccessTag<P extends RegistryProduct> = keyof ActionRegistry[P] & string;
export type RegistryEvent<P extends RegistryProduct, A extends RegistryAccessTag<P>> = keyof ActionRegistry[P][A] & string;
type Entry<P extends RegistryProduct, A extends RegistryAccessTag<P>, E extends RegistryEvent<P, A>> = ActionRegistry[P][A][E];

/** The `input` of one event; optional when nothing in it is required. */
type InputOf<D> = D extends { input: infer I } ? (undefined extends I ? { input?: Exclude<I, undefined> } : { input: I }) : { input?: IActionProcessorInput['input'] };
/** The parsed 2xx body of one event. */
export type ActionOutput<P extends RegistryProduct, A extends RegistryAccessTag<P>, E extends RegistryEvent<P, A>> =
  Entry<P, A, E> extends { output: infer O } ? O : unknown;

/** `actions.run` input for one known product / access tag / event. */
export type TypedRunInput<P extends RegistryProduct, A extends RegistryAccessTag<P>, E extends RegistryEvent<P, A>> = Omit<
  IActionProcessorInput,
  'product' | 'app' | 'event' | 'input'
> & { product: P; app: A; event: E } & InputOf<Entry<P, A, E>>;

/** `actions.run`: typed by the registry when a generated file is present, loosely typed otherwise (as before). */
export type RunFunction = HasRegistry extends true
  ? <P extends RegistryProduct, A extends RegistryAccessTag<P>, E extends RegistryEvent<P, A>>(input: TypedRunInput<P, A, E>) => Promise<ActionOutput<P, A, E>>
  : <T = unknown>(input: IActionProcessorInput) => Promise<T>;

/**
 * `actions.execute`: the same, resolving to the envelope. With `stream: true` its `data` is the response body as a
 * stream (a Node `Readable`), not the parsed output.
 */
export type ExecuteFunction = HasRegistry extends true
  ? <P extends RegistryProduct, A extends RegistryAccessTag<P>, E extends RegistryEvent<P, A>, S extends boolean | undefined = undefined>(
      input: TypedRunInput<P, A, E> & { stream?: S },
    ) => Promise<RunEnvelope<S extends true ? Readable : ActionOutput<P, A, E>>>
  : <T = unknown>(input: IActionProcessorInput & { stream?: boolean }) => Promise<RunEnvelope<T>>;
