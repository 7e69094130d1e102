// Request coalescing: while one call for a key is in flight, identical calls wait for it instead of starting their own.

export interface Coalescer<T> {
  /**
   * Runs `fn` unless a call for `key` is already in flight, in which case it returns that call's promise.
   * `leader` tells the caller whether its own `fn` ran. A rejection reaches every waiter and is not remembered:
   * the next call after it settles starts afresh. `wait`, when given, wraps a waiter's wait (not the leader's call),
   * e.g. to bound it by the waiter's own deadline; the call goes on for the others whatever `wait` does.
   */
  run(key: string, fn: () => Promise<T>, wait?: (pending: Promise<T>) => Promise<T>): Promise<{ value: T; leader: boolean }>;
  /** Number of keys in flight. */
  readonly size: number;
}

/**
 * @example
 * const inflight = createCoalescer<Response>();
 * const { value, leader } = await inflight.run(key, () => callUpstream());
 */
export function createCoalescer<T>(): Coalescer<T> {
  const inflight = new Map<string, Promise<T>>();
  return {
    async run(key, fn, wait) {
      const pending = inflight.get(key);
      if (pending) return { value: await (wait ? wait(pending) : pending), leader: false };
      // Started synchronously after the lookup, so no second caller can slip in between.
      const call = (async () => fn())();
      inflight.set(key, call);
      try {
        return { value: await call, leader: true };
      } finally {
        // Only the leader removes the entry, and only its own (a later call may already own the key).
        if (inflight.get(key) === call) inflight.delete(key);
      }
    },
    get size() {
      return inflight.size;
    },
  };
}
