import { DisableIdentity, IdentityPage, IdentityView } from '@portcullis/api';
import type { Command } from 'commander';
import { ApiCallError, seg, type ControlPlane } from '../control-plane.js';
import { contextOf } from '../context.js';
import { CliError, UsageError } from '../errors.js';
import { printJson, printTable } from '../output.js';
import { validate } from './input.js';

export function registerIdentityCommands(program: Command): void {
  const identities = program
    .command('identities')
    .description('identities: people and service accounts seen in tokens; disable one to cut it off everywhere');

  identities
    .command('list')
    .description('list the identities seen')
    .option('--username <name>', 'only this username')
    .option('--disabled', 'only disabled identities')
    .option('--enabled', 'only enabled identities')
    .action(async (opts: { username?: string; disabled?: boolean; enabled?: boolean }, cmd: Command) => {
      if (opts.disabled && opts.enabled) throw new UsageError('give --disabled or --enabled, not both');
      const ctx = await contextOf(cmd);
      const query: Record<string, string> = {};
      if (opts.username) query.username = opts.username;
      if (opts.disabled || opts.enabled) query.disabled = String(Boolean(opts.disabled));
      const items: IdentityView[] = [];
      // Every page: the list is for reading whole.
      for (let cursor: string | null | undefined; cursor !== null;) {
        const page = await ctx.api.get(
          `/identities?${new URLSearchParams({ ...query, ...(cursor ? { cursor } : {}) })}`,
          IdentityPage,
        );
        items.push(...page.items);
        cursor = page.nextCursor;
      }
      if (ctx.json) return printJson(items);
      printTable(
        ['USERNAME', 'SUBJECT', 'GROUPS', 'ROLES', 'STATUS', 'LAST SEEN', 'REASON'],
        items.map((i) => [
          i.username,
          i.subject,
          i.groups.join(','),
          i.roles.join(','),
          i.disabled ? `disabled by ${i.disabledBy ?? '?'} at ${i.disabledAt}` : 'enabled',
          i.lastSeenAt,
          i.disableReason,
        ]),
        'no identities seen yet',
      );
    });

  for (const action of ['disable', 'enable'] as const) {
    identities
      .command(`${action} <user>`)
      .description(
        action === 'disable'
          ? 'disable an identity (username or subject): agents close its sessions and refuse its tokens'
          : 'enable a disabled identity again (username or subject)',
      )
      .requiredOption('--reason <text>', 'why, for the audit log (required)')
      .action(async (user: string, opts: { reason: string }, cmd: Command) => {
        const ctx = await contextOf(cmd);
        const body = validate(DisableIdentity, { reason: opts.reason }, action);
        const subject = await subjectOf(ctx.api, user);
        const identity = await ctx.api.post(`/identities/${seg(subject)}/${action}`, body, IdentityView);
        if (ctx.json) return printJson(identity);
        process.stdout.write(
          `${identity.username ?? identity.subject} (${identity.subject}) ${identity.disabled ? 'disabled' : 'enabled'}\n`,
        );
      });
  }
}

/** A subject as given, or the one subject seen with this username. */
async function subjectOf(api: ControlPlane, user: string): Promise<string> {
  try {
    return (await api.get(`/identities/${seg(user)}`, IdentityView)).subject;
  } catch (err) {
    if (!(err instanceof ApiCallError && err.status === 404)) throw err;
  }
  const { items } = await api.get(`/identities?${new URLSearchParams({ username: user })}`, IdentityPage);
  if (items.length === 1) return items[0]!.subject;
  if (items.length === 0) throw new CliError(`no identity with the username or subject "${user}" has been seen`);
  throw new CliError(
    `several identities are named ${user}; give one subject: ${items.map((i) => i.subject).join(', ')}`,
  );
}
