// `ductape keygen`: prints a new random private_key (256 bits). Needs no workspace, store or environment.
import type { Command } from 'commander';
import { generatePrivateKey } from '../../model/keys.js';
import { createOutput } from '../output.js';

export function registerKeygen(program: Command): void {
  program
    .command('keygen')
    .description('Print a new random private_key (256 bits, base64url) for DUCTAPE_PRIVATE_KEY')
    .action(function (this: Command) {
      // A random 256-bit key makes scrypt's work factor moot against guessing; it is there for hand-picked keys.
      const key = generatePrivateKey();
      createOutput(Boolean(this.optsWithGlobals().json)).print({ key }, (x: { key: string }) => x.key);
    });
}
