import { CreateGrant, GrantList, GrantView } from '@portcullis/api';
import type { Command } from 'commander';
import { seg } from '../control-plane.js';
import { contextOf } from '../context.js';
import { printJson, printTable } from '../output.js';
import { validate } from './input.js';

export function registerGrantCommands(program: Command): void {
  const grants = program.command('grants').description('grants: which groups or subjects may use a connection');

  grants
    .command('list')
    .description('list grants')
    .option('--connection <name>', 'only the grants of this connection (name or id)')
    .action(async (opts: { connection?: string }, cmd: Command) => {
      const ctx = await contextOf(cmd);
      const query = opts.connection ? `?${new URLSearchParams({ connection: opts.connection })}` : '';
      const { items } = await ctx.api.get(`/grants${query}`, GrantList);
      if (ctx.json) return printJson(items);
      printTable(
        ['ID', 'CONNECTION', 'WHO', 'EXPIRES', 'CREATED BY', 'REASON'],
        items.map((g) => [g.id, g.connection, who(g), g.expiresAt, g.createdBy, g.reason]),
        'no grants',
      );
    });

  grants
    .command('create')
    .description('let a group or a subject use a connection')
    .requiredOption('--connection <name>', 'connection name or id')
    .option('--group <group>', "IdP group, as in the token's groups claim")
    .option('--subject <sub>', "one identity: the token's sub claim")
    .option('--reason <text>', 'why, for the audit log')
    .option('--expires-at <time>', 'ISO 8601 time with offset, e.g. 2026-12-31T18:00:00Z')
    .action(
      async (
        opts: { connection: string; group?: string; subject?: string; reason?: string; expiresAt?: string },
        cmd: Command,
      ) => {
        const ctx = await contextOf(cmd);
        const body = validate(CreateGrant, opts, 'grant');
        const grant = await ctx.api.post('/grants', body, GrantView);
        if (ctx.json) return printJson(grant);
        process.stdout.write(
          `Grant ${grant.id} created: ${who(grant)} may use ${grant.connection}${grant.expiresAt ? ` until ${grant.expiresAt}` : ''}\n`,
        );
      },
    );

  grants
    .command('revoke <id>')
    .description('revoke a grant')
    .action(async (id: string, _opts, cmd: Command) => {
      const ctx = await contextOf(cmd);
      await ctx.api.delete(`/grants/${seg(id)}`);
      if (ctx.json) return printJson({ revoked: id });
      process.stdout.write(`Grant ${id} revoked\n`);
    });
}

function who(g: GrantView): string {
  return g.group !== null ? `group ${g.group}` : `subject ${g.subject}`;
}
