import { Me } from '@portcullis/api';
import type { Command } from 'commander';
import { CLI_CLIENT_ID } from '../auth/index.js';
import { deviceLogin } from '../auth/device-login.js';
import { discover, postForm } from '../auth/oidc.js';
import {
  credentialsFile,
  loginFrom,
  readSavedLogin,
  removeSavedLogin,
  saveLogin,
  type SavedLogin,
} from '../auth/saved-login.js';
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
    .description('end the saved login: the refresh token is revoked at the identity provider and forgotten')
    .action(async () => {
      const login = await readSavedLogin().catch(() => undefined);
      const revoked = login ? await revoke(login) : true;
      await removeSavedLogin();
      if (!login) return void process.stderr.write('Not logged in\n');
      process.stderr.write(
        revoked
          ? 'Logged out\n'
          : 'Logged out here, but the identity provider could not be told: the refresh token stays valid until it expires\n',
      );
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

/** Best effort (RFC 7009): logging out must work even when the identity provider is away. */
async function revoke(login: SavedLogin): Promise<boolean> {
  try {
    const { revocation_endpoint } = await discover(login.issuer);
    if (!revocation_endpoint) return false;
    const { res } = await postForm(login.issuer, revocation_endpoint, {
      token: login.refreshToken,
      token_type_hint: 'refresh_token',
      client_id: login.clientId,
    });
    return res.ok;
  } catch {
    return false;
  }
}
