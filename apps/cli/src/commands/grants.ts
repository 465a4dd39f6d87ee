import { CreateGrant, GrantList, GrantView } from '@portcullis/api';
import type { Command } from 'commander';
import { seg } from '../control-plane.js';
import { contextOf } from '../context.js';
import { UsageError } from '../errors.js';
import { printJson, printTable } from '../output.js';
import { validate } from './input.js';

export function registerGrantCommands(program: Command): void {
  const grants = program.command('grants').description('grants: which groups or subjects may use a connection');

  grants
    .command('list')
    .description('list grants')
    .option('--connection <name>', 'only the grants of this connection (name or id)')
    .option('--subject <sub>', 'only the grants to this subject')
    .option('--group <group>', 'only the grants to this group')
    .option('--active', 'only grants in force (not expired)')
    .option('--expired', 'only expired grants')
    .action(
      async (
        opts: { connection?: string; subject?: string; group?: string; active?: boolean; expired?: boolean },
        cmd: Command,
      ) => {
        if (opts.active && opts.expired) throw new UsageError('give --active or --expired, not both');
        const ctx = await contextOf(cmd);
        const query = new URLSearchParams();
        for (const key of ['connection', 'subject', 'group'] as const) if (opts[key]) query.set(key, opts[key]);
        if (opts.active || opts.expired) query.set('expired', String(Boolean(opts.expired)));
        const { items } = await ctx.api.get(`/grants${query.size ? `?${query}` : ''}`, GrantList);
        if (ctx.json) return printJson(items);
        printTable(
          ['ID', 'CONNECTION', 'WHO', 'EXPIRES', 'CREATED BY', 'REASON'],
          items.map((g) => [g.id, g.connection, who(g), expiry(g), g.createdBy, g.reason]),
          'no grants',
        );
      },
    );

  grants
    .command('create')
    .description('let a group or a subject use a connection')
    .requiredOption('--connection <name>', 'connection name or id')
    .option('--group <group>', "IdP group, as in the token's groups claim")
    .option('--subject <sub>', "one identity: the token's sub claim")
    .option('--reason <text>', 'why, for the audit log')
    .option('--expires-at <time>', 'ISO 8601 time with offset, e.g. 2026-12-31T18:00:00Z')
    .option('--expires-in <duration>', 'time-bound access: 90s, 30m, 8h, 7d')
    .action(
      async (
        opts: {
          connection: string;
          group?: string;
          subject?: string;
          reason?: string;
          expiresAt?: string;
          expiresIn?: string;
        },
        cmd: Command,
      ) => {
        if (opts.expiresAt && opts.expiresIn) throw new UsageError('give --expires-at or --expires-in, not both');
        const { expiresIn, ...fields } = opts;
        const expiresAt = expiresIn ? new Date(Date.now() + durationMs(expiresIn)).toISOString() : opts.expiresAt;
        const ctx = await contextOf(cmd);
        const body = validate(CreateGrant, { ...fields, expiresAt }, 'grant');
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

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** "90s", "30m", "8h", "7d" in milliseconds. */
export function durationMs(text: string): number {
  const match = /^(\d+)([smhd])$/.exec(text.trim());
  if (!match || Number(match[1]) === 0)
    throw new UsageError(`--expires-in must look like 90s, 30m, 8h or 7d, got "${text}"`);
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

function expiry(g: GrantView): string | null {
  return g.expired ? `${g.expiresAt} (expired)` : g.expiresAt;
}

function who(g: GrantView): string {
  return g.group !== null ? `group ${g.group}` : `subject ${g.subject}`;
}
