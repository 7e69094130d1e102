// The `ductape` command: global options and every command wired (each lives in commands/<name>.ts).
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../errors.js';
import { existsSync, readFileSync } from 'node:fs';
import { operationList } from '../operations/index.js';
import { registerApply } from './commands/apply.js';
import { registerKeygen } from './commands/keygen.js';
import { registerMcp } from './commands/mcp.js';
import { registerRotateKey } from './commands/rotate-key.js';
import { registerServe } from './commands/serve.js';
import { registerOperations } from './derive.js';
import { createOutput } from './output.js';

/** The package version: package.json is one level above dist/ (bundled) and two above src/cli/ (tsx). */
function packageVersion(): string {
  for (const rel of ['../package.json', '../../package.json']) {
    const file = new URL(rel, import.meta.url);
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'ductape' && pkg.version) return pkg.version;
    }
  }
  return 'unknown';
}

export function buildProgram(): Command {
  const program = new Command('ductape')
    .description('Run third-party API actions per product and environment.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .option('--json', 'machine-readable JSON output')
    .option('--workspace <id>', 'workspace id (env DUCTAPE_WORKSPACE)')
    .option('--store <url>', 'store URL (env DUCTAPE_STORE)')
    .option('--user <id>', 'actor for run logs (env DUCTAPE_USER)')
    // Command-line mistakes are errors like any other: "CONFIG_ERROR: …" and exit 2 (see main), not commander's own.
    .exitOverride()
    .configureOutput({ writeErr: () => {} });
  // Every definition command comes from the operation table (src/operations/), like the SDK methods and HTTP routes.
  registerOperations(program, operationList());
  registerApply(program);
  registerRotateKey(program);
  registerServe(program, packageVersion());
  registerKeygen(program);
  registerMcp(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end through here too, successfully.
      if (err.exitCode === 0) return;
      err = commandLineMistake(err, knownCommand(program, argv));
    }
    // Errors thrown while parsing options (bad JSON, …) end here; command errors are handled in withClient.
    process.exitCode = createOutput(argv.includes('--json')).error(err);
  }
}

/** Commander's refusal as "CONFIG_ERROR: …", pointing at the help of the command the user did name. */
function commandLineMistake(err: CommanderError, command: Command): ConfigError {
  const path = commandName(command);
  const help = `See "${path} --help".`;
  // A command group without its subcommand ("ductape apps"): commander only prints the help and says "(outputHelp)".
  if (err.code === 'commander.help') {
    const names = command.commands.map((c) => c.name()).filter((n) => n !== 'help');
    return new ConfigError(`"${path}" needs a command: ${names.join(', ')}. ${help}`);
  }
  const message = err.message.replace(/^error: /, '');
  return new ConfigError(`${message.charAt(0).toUpperCase()}${message.slice(1)}. ${help}`);
}

/** The deepest command that argv's words name ("ductape apps frob" → apps), so the hint names a help that exists. */
function knownCommand(program: Command, argv: string[]): Command {
  let command = program;
  for (const word of argv.slice(2)) {
    if (word.startsWith('-')) continue;
    const sub = command.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (!sub) break;
    command = sub;
  }
  return command;
}

function commandName(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}
