import { Me } from '@portcullis/api';
import type { Command } from 'commander';
import { CLI_CLIENT_ID } from '../auth/index.js';
import { deviceLogin } from '../auth/device-login.js';
import { credentialsFile, loginFrom, removeSavedLogin, saveLogin } from '../auth/saved-login.js';
import { contextOf } from '../context.js';
import { printFields, printJson, printTable } from '../output.js';

export function registerLoginCommands(program: Command): void {
  program
    .command('login')
    .description('sign in with your browser (OAuth device flow); later commands use and refresh this login')
    .action(async (_opts, cmd: Command) => {
      const ctx = await contextOf(cmd);
      const token = await deviceLogin(ctx.issuer, {
        clientId: CLI_CLIENT_ID,
        prompt: (device) => {
          // stderr: the prompt is for the person, not for a pipe.
          process.stderr.write(
            `To sign in, open ${device.verification_uri_complete ?? device.verification_uri}\n` +
              `and check that it shows the code: ${device.user_code}\n` +
              `(or open ${device.verification_uri} and enter the code). Waiting...\n`,
          );
        },
      });
      const login = loginFrom(ctx.issuer, CLI_CLIENT_ID, token);
      await saveLogin(login);
      if (ctx.json)
        return printJson({
          username: login.username ?? null,
          issuer: ctx.issuer,
          accessTokenExpiresAt: login.accessTokenExpiresAt ?? null,
        });
      process.stderr.write(`Logged in as ${login.username ?? 'unknown user'} (saved in ${credentialsFile()})\n`);
    });

  program
    .command('logout')
    .description('forget the saved login')
    .action(async () => {
      const existed = await removeSavedLogin();
      process.stderr.write(existed ? 'Logged out\n' : 'Not logged in\n');
    });

  program
    .command('whoami')
    .description('who the control plane sees you as, your token expiry, and the connections granted to you')
    .action(async (_opts, cmd: Command) => {
      const ctx = await contextOf(cmd);
      const me = await ctx.api.get('/me', Me);
      if (ctx.json) return printJson(me);
      printFields([
        ['Subject', me.subject],
        ['Username', me.username],
        ['Groups', me.groups.join(', ')],
        ['Roles', me.roles.join(', ')],
        ['Token expires', me.tokenExpiresAt],
      ]);
      process.stdout.write('\n');
      printTable(
        ['CONNECTION', 'KIND', 'VIA', 'EXPIRES'],
        me.grants.map((g) => [g.connection, g.kind, g.via, g.expiresAt]),
        'no connections granted',
      );
    });
}
