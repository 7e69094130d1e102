// CLI output: human-readable text by default, JSON with --json; errors as "CODE: message" and a non-zero exit.
import { DuctapeError } from '../errors.js';
import { toWire } from '../model/json.js';
import { redact, redactText } from '../model/redact.js';
import { table } from '../operations/format.js';

export { table };

export interface Output {
  json: boolean;
  print(value: unknown, human?: (value: any) => string): void;
  error(err: unknown): number;
}

export function createOutput(json: boolean, out: NodeJS.WritableStream = process.stdout, errOut: NodeJS.WritableStream = process.stderr): Output {
  return {
    json,
    print(value, human) {
      const safe = redact(value);
      if (json) out.write(JSON.stringify(toWire(safe), null, 2) + '\n');
      else out.write((human ? human(safe) : formatHuman(safe)) + '\n');
    },
    error(err) {
      const e = err instanceof DuctapeError ? err : new DuctapeError('CONFIG_ERROR', (err as Error)?.message ?? String(err));
      if (json) out.write(JSON.stringify({ error: toWire(redact(e.toJSON())) }, null, 2) + '\n');
      errOut.write(`${e.code}: ${redactText(e.message)}\n`);
      return EXIT_CODES[e.code] ?? 1;
    },
  };
}

/** Distinct exit codes let scripts tell "fix your input" from "the upstream failed". */
export const EXIT_CODES: Record<string, number> = {
  CONFIG_ERROR: 2,
  INVALID_INPUT: 3,
  NOT_FOUND: 4,
  SESSION_INVALID: 5,
  SESSION_EXPIRED: 5,
  AUTH_FAILED: 6,
  UPSTREAM_ERROR: 7,
  RATE_LIMITED: 7,
  TIMEOUT: 8,
  NETWORK_ERROR: 8,
};

export function formatHuman(value: unknown): string {
  if (value === null || value === undefined) return '(empty)';
  if (Array.isArray(value) && value.length === 0) return '(none)';
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.length && value.every((v) => v && typeof v === 'object' && !Array.isArray(v))) return table(value as Record<string, unknown>[]);
  return JSON.stringify(value, null, 2);
}
