import type { Command } from 'commander';
import { readSettings, SETTING_KEYS, Settings, writeSettings } from '../config.js';
import { contextOf } from '../context.js';
import { UsageError } from '../errors.js';
import { printFields, printJson } from '../output.js';
import { validate } from './input.js';

type Key = keyof typeof SETTING_KEYS;

function settingKey(key: string): Key {
  if (!(key in SETTING_KEYS))
    throw new UsageError(`unknown setting "${key}"; settings are ${Object.keys(SETTING_KEYS).join(', ')}`);
  return key as Key;
}

export function registerConfigCommands(program: Command): void {
  const config = program
    .command('config')
    .description('settings remembered in $XDG_CONFIG_HOME/portcullis/config.json');

  config
    .command('set <key> <value>')
    .description(`remember a setting (${Object.keys(SETTING_KEYS).join(', ')})`)
    .action(async (key: string, value: string) => {
      const field = SETTING_KEYS[settingKey(key)];
      const settings = validate(Settings, { ...(await readSettings()), [field]: value.replace(/\/+$/, '') }, 'setting');
      await writeSettings(settings);
    });

  config
    .command('unset <key>')
    .description('forget a setting')
    .action(async (key: string) => {
      const settings = await readSettings();
      delete settings[SETTING_KEYS[settingKey(key)]];
      await writeSettings(settings);
    });

  config
    .command('show')
    .description('show the control plane and issuer in effect (flags, environment, settings, defaults)')
    .action(async (_opts, cmd: Command) => {
      const ctx = await contextOf(cmd);
      const effective = { controlPlane: ctx.controlPlane, issuer: ctx.issuer };
      if (ctx.json) return printJson(effective);
      printFields([
        ['control-plane', effective.controlPlane],
        ['issuer', effective.issuer],
      ]);
    });
}
