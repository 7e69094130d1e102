// Parsers for command-line option values, shared by every derived CLI command.
import { ConfigError } from '../errors.js';

/**
 * An option value of null. Commander replaces a parsed value of null with '' (so `--rate-limit null` reached the SDK
 * as the text "" and was refused); parsers return this instead, and the derived command turns it back into null.
 */
export const NULL_OPTION = Symbol('null');

/** Parses a JSON option value, naming the option when it is not JSON; `null` removes a field (see NULL_OPTION). */
export function jsonOption(option: string) {
  return (value: string): unknown => {
    try {
      return JSON.parse(value) ?? NULL_OPTION;
    } catch (err) {
      // Only the position: V8's message quotes the text around the error, which may be a credential.
      const at = /position (\d+)/.exec((err as Error).message)?.[1];
      throw new ConfigError(`--${option} must be JSON${at ? ` (invalid at character ${at})` : ''}.`, { option });
    }
  };
}

/** Collects a repeated `key=value` option into an object; a value without `=` is refused naming the option. */
export function pairs(option: string, shape = 'name=value') {
  return (value: string, acc: unknown): Record<string, string> => {
    const i = value.indexOf('=');
    if (i <= 0) throw new ConfigError(`--${option} expects ${shape}, got "${value}".`, { option });
    const out = (acc ?? {}) as Record<string, string>;
    out[value.slice(0, i)] = value.slice(i + 1);
    return out;
  };
}

/** A comma-separated list: 'dev, prd' → ['dev', 'prd']. */
export const list = (v: string): string[] => v.split(',').map((s) => s.trim()).filter(Boolean);

/** A number, or the option's name in the error. */
export function numberOption(option: string) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n)) throw new ConfigError(`--${option} must be a number (got "${v}").`, { option });
    return n;
  };
}

/**
 * A time option as typed ("2026-12-06T09:00:00Z", "2026-12-06", or epoch ms as digits): the time() schema then says
 * what it accepts, instead of "must be JSON" for an ISO time without JSON quotes.
 */
export function timeOption(value: string): string | number {
  return /^\d+$/.test(value) ? Number(value) : value;
}
