// Wraps every function of a namespace object so that it first awaits `ready` (the lazily opened workspace).
export function gate<T extends object>(target: T, ready: () => Promise<unknown>): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(target)) {
    if (typeof v === 'function') out[k] = async (...args: unknown[]) => (await ready(), (v as (...a: unknown[]) => unknown).apply(target, args));
    else if (v && typeof v === 'object') out[k] = gate(v as object, ready);
    else out[k] = v;
  }
  return out as T;
}
