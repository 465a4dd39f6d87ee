import { AgentList, AgentView, RegisterAgent, RegisteredAgent } from '@portcullis/api';
import type { Command } from 'commander';
import { seg } from '../control-plane.js';
import { contextOf } from '../context.js';
import { printJson, printTable } from '../output.js';
import { collect, validate } from './input.js';

export function registerAgentCommands(program: Command): void {
  const agents = program.command('agents').description('agents: the gateways that run in your networks');

  agents
    .command('list')
    .description('list agents')
    .action(async (_opts, cmd: Command) => {
      const ctx = await contextOf(cmd);
      const { items } = await ctx.api.get('/agents', AgentList);
      if (ctx.json) return printJson(items);
      printTable(
        ['ID', 'NAME', 'STATUS', 'LABELS', 'VERSION', 'SESSIONS', 'LAST SEEN'],
        items.map((a) => [a.id, a.name, a.status, a.labels.join(','), a.version, a.liveSessions, a.lastSeenAt]),
        'no agents',
      );
    });

  agents
    .command('register <name>')
    .description('register an agent and print its one-time token')
    .option('--label <label>', 'network label the agent serves (repeatable; default "default")', collect)
    .action(async (name: string, opts: { label?: string[] }, cmd: Command) => {
      const ctx = await contextOf(cmd);
      const body = validate(RegisterAgent, { name, labels: opts.label }, 'agent');
      const agent = await ctx.api.post('/agents', body, RegisteredAgent);
      if (ctx.json) return printJson(agent);
      // The token alone on stdout, so that `TOKEN=$(portcullis agents register ...)` works.
      process.stderr.write(`Agent ${agent.name} registered (id ${agent.id}). Its token is shown only this once:\n`);
      process.stdout.write(`${agent.token}\n`);
    });

  agents
    .command('revoke <id>')
    .description('revoke an agent: its token stops working and it is disconnected')
    .action(async (id: string, _opts, cmd: Command) => {
      const ctx = await contextOf(cmd);
      const agent = await ctx.api.post(`/agents/${seg(id)}/revoke`, {}, AgentView);
      if (ctx.json) return printJson(agent);
      process.stdout.write(`Agent ${agent.name} (${agent.id}) revoked\n`);
    });
}
