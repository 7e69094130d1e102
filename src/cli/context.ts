// Shared CLI plumbing: global options, one client per command, JSON argument parsing, and error exits.
import type { Command } from 'commander';
import { Ductape } from '../client.js';
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
