import { readFile } from 'node:fs/promises';
import { PolicyDocument, PolicyPreview, PolicyVersionList, PolicyView } from '@portcullis/api';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { contextOf } from '../context.js';
import { UsageError } from '../errors.js';
import { printFields, printJson, printTable } from '../output.js';
import { validate } from './input.js';

/** A policy file, YAML or JSON (JSON is YAML). The control plane validates it in full. */
async function readPolicy(file: string): Promise<PolicyDocument> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (error) {
    throw new UsageError(`${file} is not valid YAML: ${(error as Error).message}`);
  }
  return validate(PolicyDocument, value, `policy in ${file}`);
}

export function registerPolicyCommands(program: Command): void {
  const policy = program
    .command('policy')
    .description('the policy agents enforce: rules, masking, guardrails, budgets');

  policy
    .command('show')
    .description('the policy in force')
    .action(async (_opts, cmd: Command) => {
      const ctx = await contextOf(cmd);
      const current = await ctx.api.get('/policies', PolicyView);
      printJson(ctx.json ? current : current.policy);
    });

  policy
    .command('apply')
    .description('make a policy file the policy in force (a new version; agents apply it within a second)')
    .requiredOption('-f, --file <path>', 'policy file, YAML or JSON')
    .action(async (opts: { file: string }, cmd: Command) => {
      const ctx = await contextOf(cmd);
      const saved = await ctx.api.put('/policies', await readPolicy(opts.file), PolicyView);
      if (ctx.json) return printJson(saved);
      process.stdout.write(`policy version ${saved.version} is in force\n`);
    });

  policy
    .command('test')
    .description('what a policy decides for sample SQL and how it masks sample text (nothing is saved)')
    .option('-f, --file <path>', 'policy file to test (default: the policy in force)')
    .option('--sql <sql>', 'a statement, as a client would send it')
    .option('--text <text>', 'a sample value, as a result row or model answer would carry it')
    .option(
      '--group <group>',
      'a group of the identity making the request (repeatable)',
      (v: string, all: string[] = []) => [...all, v],
    )
    .option('--connection <name>', 'the connection the request goes to')
    .action(
      async (
        opts: { file?: string; sql?: string; text?: string; group?: string[]; connection?: string },
        cmd: Command,
      ) => {
        if (opts.sql === undefined && opts.text === undefined) throw new UsageError('give --sql, --text or both');
        const ctx = await contextOf(cmd);
        const body = {
          ...(opts.file ? { policy: await readPolicy(opts.file) } : {}),
          ...(opts.sql !== undefined ? { sql: opts.sql } : {}),
          ...(opts.text !== undefined ? { text: opts.text } : {}),
          ...(opts.connection ? { connection: opts.connection } : {}),
          groups: opts.group ?? [],
        };
        const preview = await ctx.api.post('/policies/preview', body, PolicyPreview);
        if (ctx.json) return printJson(preview);
        if (preview.decision) {
          printFields([
            ['decision', preview.decision.action],
            ['rule', preview.decision.ruleId ?? '-'],
            ['reason', preview.decision.reason ?? '-'],
            ['policy version', String(preview.decision.policyVersion)],
          ]);
        }
        if (preview.masked) printFields([['masked', preview.masked.text]]);
        printTable(
          ['RULE', 'MATCHED', 'WHY'],
          preview.explanation.map((e) => [e.ruleId, e.matched ? 'yes' : 'no', e.why]),
          'no rules considered',
        );
      },
    );

  policy
    .command('history')
    .description('every version of the policy, newest first')
    .action(async (_opts, cmd: Command) => {
      const ctx = await contextOf(cmd);
      const { items } = await ctx.api.get('/policies/versions', PolicyVersionList);
      if (ctx.json) return printJson(items);
      printTable(
        ['VERSION', 'CREATED', 'BY', 'RESTORED FROM'],
        items.map((v) => [
          String(v.version),
          v.createdAt ?? 'built-in',
          v.createdBy ?? '-',
          v.restoredFrom === null ? '-' : String(v.restoredFrom),
        ]),
        'no saved versions: the built-in default is in force',
      );
    });
}
