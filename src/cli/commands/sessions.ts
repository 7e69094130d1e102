// `ductape sessions start|verify|refresh|revoke|list`: issue and manage session tokens from the shell.
import type { Command } from 'commander';
import { DuctapeError } from '../../errors.js';
import { json, withClient } from '../context.js';

// Scope options shared by every sessions command.
function scoped(cmd: Command): Command {
  return cmd
    .requiredOption('--product <tag>', 'product tag')
    .requiredOption('--env <slug>', 'product env')
    .requiredOption('--tag <tag>', 'session type tag');
}

// The CLI's printer redacts every field named "token". A freshly issued session token is the one thing these
// commands exist to hand over, to the user who asked for it, so it is printed as is (it is never logged or stored).
function printIssued(asJson: boolean, value: { token: string; refreshToken: string; sessionId: string; expiresAt: string; refreshExpiresAt: string }): void {
  process.stdout.write(
    asJson
      ? JSON.stringify(value, null, 2) + '\n'
      : `token:          ${value.token}\nrefresh token:  ${value.refreshToken}\nsession id:     ${value.sessionId}\nexpires at:     ${value.expiresAt}\nrefresh until:  ${value.refreshExpiresAt}\n`,
  );
}

export function registerSessions(program: Command): void {
  const sessions = program.command('sessions').description('Start, verify, refresh and revoke sessions');

  scoped(sessions.command('start').description('Start a session and print its token and refresh token'))
    .requiredOption('--data <json>', 'session data (JSON), checked against the session type schema', json('data'))
    .action(function (this: Command) {
      const o = this.opts();
      return withClient(this, async (d, out) => printIssued(out.json, await d.sessions.start({ product: o.product, env: o.env, tag: o.tag, data: o.data })));
    });

  scoped(sessions.command('verify').description('Verify a token; exits non-zero when it is invalid or expired'))
    .requiredOption('--token <token>', 'session token')
    .action(function (this: Command) {
      const o = this.opts();
      return withClient(this, async (d, out) => {
        const r = await d.sessions.verify({ product: o.product, env: o.env, tag: o.tag, token: o.token });
        if (!r.valid) {
          throw new DuctapeError(r.code ?? 'SESSION_INVALID', r.code === 'SESSION_EXPIRED' ? 'The session token has expired.' : 'The session token is not valid for this product, env and session type.');
        }
        out.print(r, (x) => `valid: session ${x.sessionId}, expires ${x.expiresAt}\n${JSON.stringify(x.data, null, 2)}`);
      });
    });

  scoped(sessions.command('refresh').description('Trade a refresh token for a new token and refresh token'))
    .requiredOption('--refresh-token <token>', 'refresh token (usable once)')
    .action(function (this: Command) {
      const o = this.opts();
      return withClient(this, async (d, out) =>
        printIssued(out.json, await d.sessions.refresh({ product: o.product, env: o.env, tag: o.tag, refreshToken: o.refreshToken })),
      );
    });

  scoped(sessions.command('revoke').description('Revoke one session (--session-id) or every session of a user (--identifier)'))
    .option('--session-id <id>', 'session id')
    .option('--identifier <value>', "the selector's value, e.g. the user id")
    .action(function (this: Command) {
      const o = this.opts();
      return withClient(this, async (d, out) => {
        if ((o.sessionId === undefined) === (o.identifier === undefined)) {
          throw new DuctapeError('CONFIG_ERROR', 'Give exactly one of --session-id or --identifier.');
        }
        const base = { product: o.product, env: o.env, tag: o.tag };
        const r = await d.sessions.revoke(o.sessionId !== undefined ? { ...base, sessionId: o.sessionId } : { ...base, identifier: o.identifier });
        out.print(r, (x) => `Revoked ${x.revoked} session${x.revoked === 1 ? '' : 's'}`);
      });
    });

  sessions
    .command('list')
    .description('List active sessions of a product (never their data)')
    .requiredOption('--product <tag>', 'product tag')
    .option('--env <slug>', 'product env')
    .option('--tag <tag>', 'session type tag')
    .option('--identifier <value>', "the selector's value")
    .action(function (this: Command) {
      const o = this.opts();
      return withClient(this, async (d, out) =>
        out.print(await d.sessions.listActive({ product: o.product, env: o.env, tag: o.tag, identifier: o.identifier }), (rows) =>
          rows.map((s: { sessionId: string; env: string; tag: string; identifier: string; expiresAt: string }) => `${s.sessionId}  ${s.env}/${s.tag}  ${s.identifier}  expires ${s.expiresAt}`).join('\n') || '(no active sessions)',
        ),
      );
    });
}
