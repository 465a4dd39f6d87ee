import { Command, Option } from 'commander';
import { registerAgentCommands } from './commands/agents.js';
import { registerConfigCommands } from './commands/config.js';
import { registerConnectionCommands } from './commands/connections.js';
import { registerEnvCommands } from './commands/env.js';
import { registerGrantCommands } from './commands/grants.js';
import { registerIdentityCommands } from './commands/identities.js';
import { registerLoginCommands } from './commands/login.js';
import { registerPolicyCommands } from './commands/policy.js';
import { registerTokenCommand } from './commands/token.js';
import { DEFAULT_CONTROL_PLANE, DEFAULT_ISSUER } from './context.js';

export function buildProgram(): Command {
  const program = new Command('portcullis')
    .description('Reach data through Portcullis, and manage agents, connections, grants and identities')
    // Thrown instead of exiting, so that main decides the exit code (2 for usage errors).
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .addOption(
      new Option('--control-plane <url>', `control plane URL (default ${DEFAULT_CONTROL_PLANE})`).env('PORTCULLIS_URL'),
    )
    .addOption(
      new Option('--issuer <url>', `OpenID Connect issuer (default ${DEFAULT_ISSUER})`).env('PORTCULLIS_ISSUER'),
    )
    .option('--json', 'print JSON instead of tables')
    .addOption(new Option('--token <token>', 'access token to call the control plane with').env('PORTCULLIS_TOKEN'))
    .addOption(new Option('--client-id <id>', 'client id for client credentials').env('PORTCULLIS_CLIENT_ID'))
    .addOption(
      new Option('--client-secret <secret>', 'client secret for client credentials').env('PORTCULLIS_CLIENT_SECRET'),
    )
    .option('--username <name>', 'user name, for a user token (password grant)')
    .option('--password <password>', 'password, for a user token (password grant)');

  registerLoginCommands(program);
  registerTokenCommand(program);
  registerEnvCommands(program);
  registerAgentCommands(program);
  registerConnectionCommands(program);
  registerGrantCommands(program);
  registerIdentityCommands(program);
  registerPolicyCommands(program);
  registerConfigCommands(program);
  return program;
}
