import type { Command } from 'commander';
import { obtainToken } from '../auth/index.js';
import { contextOf } from '../context.js';
import { printJson } from '../output.js';

export function registerTokenCommand(program: Command): void {
  program
    .command('token')
    .description(
      'get an access token from the identity provider and print it: client credentials ' +
        '(--client-id/--client-secret or PORTCULLIS_CLIENT_ID/PORTCULLIS_CLIENT_SECRET) or a user (--username/--password)',
    )
    .action(async (_opts, cmd: Command) => {
      const ctx = await contextOf(cmd);
      const token = await obtainToken(ctx.issuer, { ...ctx.credentials, token: undefined });
      if (ctx.json) {
        // The refresh token stays out: the user asked for an access token.
        const { access_token, token_type, expires_in, scope } = token;
        printJson({ access_token, token_type, expires_in, scope });
      } else {
        process.stdout.write(`${token.access_token}\n`);
      }
    });
}
