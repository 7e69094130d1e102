// The `ductape` command: global options and every command wired (each lives in commands/<name>.ts).
import { Command } from 'commander';
import { registerApply } from './commands/apply.js';
import { registerApps } from './commands/apps.js';
import { registerProducts } from './commands/products.js';
import { registerRun } from './commands/run.js';
import { registerSecrets } from './commands/secrets.js';
import { registerSessions } from './commands/sessions.js';
import { createOutput } from './output.js';

export function buildProgram(): Command {
  const program = new Command('ductape')
    .description('Run third-party API actions per product and environment.')
    .option('--json', 'machine-readable JSON output')
    .option('--workspace <id>', 'workspace id (env DUCTAPE_WORKSPACE)')
    .option('--store <url>', 'store URL (env DUCTAPE_STORE)')
    .option('--user <id>', 'actor for run logs (env DUCTAPE_USER)')
    .showHelpAfterError();
  registerApps(program);
  registerProducts(program);
  registerRun(program);
  registerSecrets(program);
  registerApply(program);
  registerSessions(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    // Errors thrown while parsing options (bad JSON, …) end here; command errors are handled in withClient.
    process.exitCode = createOutput(argv.includes('--json')).error(err);
  }
}
