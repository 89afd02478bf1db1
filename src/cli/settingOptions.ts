/**
 * The `train` flags, built from the engine's settings table (engine/run/settings.ts):
 * one flag per setting, `--<kebab-case key>`, plus the older spellings kept
 * from 0.1.0 (`--warmup`, `--minutes`, `--val-every`). Nothing gets a
 * commander default: a flag not given is not in the input, so the resolver
 * can tell "not given" (take the default, or the checkpoint's) from "given".
 */
import { Option, type Command } from 'commander';

import { SETTINGS, cliFlag, kebab, type RunInput, type SettingNamer, type SettingSpec } from '../engine';
import { conflict, parseNumber } from './options';

function help(spec: SettingSpec): string {
  const d = spec.description.replace(/\.$/, '');
  const lowered = d.charAt(0).toLowerCase() + d.slice(1);
  return spec.key === 'steps' ? lowered : `${lowered} (default: ${spec.default})`;
}

function option(spec: SettingSpec, flag: string, description: string): Option {
  const o = new Option(`${flag} <${spec.type === 'choice' ? 'name' : 'n'}>`, description);
  if (spec.type === 'choice') o.choices(spec.choices!);
  else o.argParser(parseNumber);
  return o;
}

/** The CLI's settings: every setting of the table but the extension-only ones. */
export function cliSettings(): SettingSpec[] {
  return SETTINGS.filter((s) => s.only !== 'extension');
}

export function addSettingOptions(cmd: Command): void {
  for (const spec of cliSettings()) {
    cmd.addOption(option(spec, cliFlag(spec), help(spec)));
    for (const alias of spec.cliAliases ?? []) cmd.addOption(option(spec, alias, `the same as ${cliFlag(spec)}`));
  }
}

/** commander's attribute for a flag: `--max-memory-mb` → `maxMemoryMb`. */
function attribute(flag: string): string {
  return flag.replace(/^--/, '').replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/** The given flags as the resolver's input, and a namer that uses the spelling the user typed. */
export function readSettingOptions(_cmd: Command, opts: Record<string, unknown>): { input: RunInput; names: SettingNamer } {
  const input: Record<string, unknown> = {};
  const typed = new Map<string, string>();
  for (const spec of cliSettings()) {
    for (const flag of [cliFlag(spec), ...(spec.cliAliases ?? [])]) {
      const v = opts[attribute(flag)];
      if (v === undefined) continue;
      if (input[spec.key] !== undefined && input[spec.key] !== v) {
        conflict(`${typed.get(spec.key)} and ${flag} are the same setting: give one of them`);
      }
      input[spec.key] = v;
      typed.set(spec.key, flag);
    }
  }
  const names: SettingNamer = (key) => typed.get(key) ?? `--${kebab(key)}`;
  return { input: input as RunInput, names };
}
