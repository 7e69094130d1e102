// Shared CLI plumbing: global options, one client per command, JSON argument parsing, and error exits.
import type { Command } from 'commander';
import { Ductape } from '../client.js';
import { ConfigError } from '../errors.js';
import { createOutput, type Output } from './output.js';

export interface GlobalOptions {
  json?: boolean;
  workspace?: string;
  store?: string;
  user?: string;
}

/** Runs a command body with a client and output, closing the client and setting the exit code. */
export async function withClient(cmd: Command, body: (ductape: Ductape, out: Output) => Promise<void>): Promise<void> {
  const g = cmd.optsWithGlobals() as GlobalOptions;
  const out = createOutput(g.json === true);
  let ductape: Ductape | undefined;
  try {
    ductape = new Ductape({
      workspace_id: g.workspace ?? process.env.DUCTAPE_WORKSPACE,
      user_id: g.user ?? process.env.DUCTAPE_USER,
      private_key: process.env.DUCTAPE_PRIVATE_KEY,
      store: g.store ?? process.env.DUCTAPE_STORE,
      revision_poll_ms: 0,
    });
    await body(ductape, out);
  } catch (err) {
    process.exitCode = out.error(err);
  } finally {
    await ductape?.close();
  }
}

/** Parses a JSON option value, naming the option when it is not JSON. */
export function json(option: string) {
  return (value: string): unknown => {
    try {
      return JSON.parse(value);
    } catch (err) {
      // Only the position: V8's message quotes the text around the error, which may be a credential.
      const at = /position (\d+)/.exec((err as Error).message)?.[1];
      throw new ConfigError(`--${option} must be JSON${at ? ` (invalid at character ${at})` : ''}.`, { option });
    }
  };
}

/** Collects repeated `key=value` options into an object. */
export function pairs(value: string, acc: Record<string, string> = {}): Record<string, string> {
  const i = value.indexOf('=');
  if (i <= 0) throw new ConfigError(`Expected key=value, got "${value}".`);
  acc[value.slice(0, i)] = value.slice(i + 1);
  return acc;
}
