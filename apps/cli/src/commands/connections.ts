import { readFile } from 'node:fs/promises';
import {
  ConnectionKind,
  ConnectionList,
  ConnectionTestResult,
  ConnectionView,
  CreateConnection,
} from '@portcullis/api';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { seg } from '../control-plane.js';
import { contextOf } from '../context.js';
import { CliError, UsageError } from '../errors.js';
import { printFields, printJson, printTable } from '../output.js';
import { collect, readStdin, validate } from './input.js';

interface CreateOptions {
  file?: string;
  kind?: string;
  target?: string;
  label?: string[];
  secretRef?: string;
  secretValueStdin?: boolean;
  description?: string;
}

export function registerConnectionCommands(program: Command): void {
  const connections = program
    .command('connections')
    .description('connections: the databases and HTTP services behind agents');

  connections
    .command('list')
    .description('list connections')
    .action(async (_opts, cmd: Command) => {
      const ctx = await contextOf(cmd);
      const { items } = await ctx.api.get('/connections', ConnectionList);
      if (ctx.json) return printJson(items);
      printTable(
        ['NAME', 'KIND', 'TARGET', 'LABELS', 'CREDENTIAL', 'ID'],
        items.map((c) => [c.name, c.kind, c.target, c.networkLabels.join(','), credentialText(c), c.id]),
        'no connections',
      );
    });

  connections
    .command('get <name>')
    .description('show one connection (by name or id)')
    .action(async (name: string, _opts, cmd: Command) => {
      const ctx = await contextOf(cmd);
      const connection = await ctx.api.get(`/connections/${seg(name)}`, ConnectionView);
      if (ctx.json) return printJson(connection);
      printConnection(connection);
    });

  connections
    .command('create [name]')
    .description('create a connection from options, or from a YAML file with -f (the fields of the API)')
    .option('-f, --file <path>', 'YAML file with name, kind, target, networkLabels, credential, options, description')
    .option('--kind <kind>', `${ConnectionKind.options.join(' or ')}`)
    .option('--target <url>', 'upstream URL, without password (postgres://host:5432/db, https://api.example.com)')
    .option('--label <label>', 'network label of the agents that serve it (repeatable; default "default")', collect)
    .option('--secret-ref <ref>', 'credential the agent reads itself: env:NAME or file:/absolute/path')
    .option(
      '--secret-value-stdin',
      'read the credential from stdin; it is sealed by the control plane, never shown again',
    )
    .option('--description <text>', 'free text')
    .action(async (name: string | undefined, opts: CreateOptions, cmd: Command) => {
      const ctx = await contextOf(cmd);
      const body = validate(
        CreateConnection,
        opts.file ? await fromFile(name, opts) : await fromOptions(name, opts),
        'connection',
      );
      const connection = await ctx.api.post('/connections', body, ConnectionView);
      if (ctx.json) return printJson(connection);
      process.stderr.write(`Connection ${connection.name} created\n`);
      printConnection(connection);
    });

  connections
    .command('test <name>')
    .description("have an agent that serves it open the upstream; shows the upstream's answer (exit 1 if it refused)")
    .action(async (name: string, _opts, cmd: Command) => {
      const ctx = await contextOf(cmd);
      const result = await ctx.api.post(`/connections/${seg(name)}/test`, undefined, ConnectionTestResult);
      if (!result.ok) process.exitCode = 1;
      if (ctx.json) return printJson(result);
      printFields([
        ['Connection', result.connection],
        ['Result', result.ok ? 'ok' : 'failed'],
        ['Answer', result.detail],
        ['Error', result.error && `${result.error.message}${result.error.code ? ` (${result.error.code})` : ''}`],
        ['Agent', result.agent.name],
        ['Latency', `${result.latencyMs} ms`],
      ]);
    });

  connections
    .command('delete <name>')
    .description('delete a connection (by name or id)')
    .action(async (name: string, _opts, cmd: Command) => {
      const ctx = await contextOf(cmd);
      await ctx.api.delete(`/connections/${seg(name)}`);
      if (ctx.json) return printJson({ deleted: name });
      process.stdout.write(`Connection ${name} deleted\n`);
    });
}

async function fromFile(name: string | undefined, opts: CreateOptions): Promise<unknown> {
  const flags = [name, opts.kind, opts.target, opts.label, opts.secretRef, opts.secretValueStdin, opts.description];
  if (flags.some((f) => f !== undefined))
    throw new UsageError('give either -f <file> or the name and options, not both');
  let text: string;
  try {
    text = await readFile(opts.file!, 'utf8');
  } catch (err) {
    throw new CliError(
      `cannot read ${opts.file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`,
    );
  }
  try {
    return parseYaml(text);
  } catch (err) {
    throw new UsageError(`${opts.file} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
}

async function fromOptions(name: string | undefined, opts: CreateOptions): Promise<unknown> {
  if (!name) throw new UsageError('give the connection name (or -f <file>)');
  if (!opts.kind || !opts.target) throw new UsageError('--kind and --target are required (or -f <file>)');
  if (opts.secretRef && opts.secretValueStdin)
    throw new UsageError('give --secret-ref or --secret-value-stdin, not both');
  let credential: CreateConnection['credential'];
  if (opts.secretRef) credential = { secretRef: opts.secretRef };
  if (opts.secretValueStdin) {
    if (process.stdin.isTTY)
      throw new UsageError(
        '--secret-value-stdin reads the secret from a pipe, e.g. printf %s "$SECRET" | portcullis ...',
      );
    // One trailing newline is the shell's, not the secret's.
    credential = { value: (await readStdin()).replace(/\r?\n$/, '') };
  }
  return {
    name,
    kind: opts.kind,
    target: opts.target,
    networkLabels: opts.label,
    credential,
    description: opts.description,
  };
}

function credentialText(c: ConnectionView): string {
  if (!c.credential) return 'none';
  return c.credential.type === 'secretRef' ? c.credential.ref : 'sealed value';
}

function printConnection(c: ConnectionView): void {
  printFields([
    ['Name', c.name],
    ['ID', c.id],
    ['Kind', c.kind],
    ['Target', c.target],
    ['Network labels', c.networkLabels.join(', ')],
    ['Credential', credentialText(c)],
    ['Options', Object.keys(c.options).length ? JSON.stringify(c.options) : undefined],
    ['Description', c.description],
    ['Created', c.createdAt],
    ['Updated', c.updatedAt],
  ]);
}
