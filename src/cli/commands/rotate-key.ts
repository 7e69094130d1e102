// `ductape rotate-key`: re-seal every credential, secret, token and session under a new private_key.
import type { Command } from 'commander';
import { ConfigError } from '../../errors.js';
import { withClient } from '../context.js';

export function registerRotateKey(program: Command): void {
  program
    .command('rotate-key')
    .description('Re-seal every credential, secret, token and session under a new private_key (DUCTAPE_NEW_PRIVATE_KEY)')
    .action(function (this: Command) {
      return withClient(this, async (d, out) => {
        const next = process.env.DUCTAPE_NEW_PRIVATE_KEY;
        if (!next) throw new ConfigError('Set DUCTAPE_NEW_PRIVATE_KEY to the new key (DUCTAPE_PRIVATE_KEY holds the current one).');
        const r = await d.rotateKey(next);
        out.print(r, (x) =>
          `Re-sealed ${x.connections} connection credential(s), ${x.secrets} secret value(s), ${x.tokens} token(s) and ${x.sessions} session(s). ` +
          'Use the new key as DUCTAPE_PRIVATE_KEY from now on; session tokens issued before must be refreshed.',
        );
      });
    });
}
