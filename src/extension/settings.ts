import * as vscode from 'vscode';
import { ConfigError } from '../engine/errors';
import { checkRange } from '../engine/config';
import { RUN_RANGES, SETTINGS, extensionNames, extensionSetting } from '../engine/run/settings';
import { resolveRun, type RunInput } from '../engine/run/resolve';
import type { RunSettings } from './library';

export interface HostLimits {
  checkpointSeconds: number;
  maxMemoryBytes: number;
  maxConcurrentRuns: number;
  /** Threads per training run; 0 = automatic (2 on machines with two cores or more). */
  threads: number;
}

/** The value the user set (any scope), or undefined: the resolver tells "not set" from "set to the default". */
function userValue(c: vscode.WorkspaceConfiguration, key: string): unknown {
  const i = c.inspect(key);
  return i?.workspaceFolderValue ?? i?.workspaceValue ?? i?.globalValue;
}

/**
 * Reads the user's training settings (rnnLab.model.*, rnnLab.training.*) and
 * resolves them with the engine's one resolver, as the CLI does its flags; a
 * bad value or combination is a ConfigError naming the setting.
 */
export function readRunSettings(scope?: vscode.Uri): RunSettings {
  const c = vscode.workspace.getConfiguration('rnnLab', scope);
  const input: Record<string, unknown> = {};
  for (const spec of SETTINGS) {
    if (spec.only === 'cli') continue;
    const v = userValue(c, `${spec.section}.${spec.key}`);
    if (v !== undefined) input[spec.key] = v;
  }
  const r = resolveRun(input as RunInput, null, extensionNames);
  return {
    model: r.model,
    train: r.train,
    maxSteps: Number.isFinite(r.limits.stopAtStep) ? r.limits.stopAtStep : 0,
    maxMinutes: Number.isFinite(r.limits.maxSeconds) ? r.limits.maxSeconds / 60 : 0,
    maxChars: Number.isFinite(r.limits.maxChars) ? r.limits.maxChars : 0,
    valEvery: r.limits.validateEvery,
    saveEvery: r.limits.saveEvery,
  };
}

function hostSetting(c: vscode.WorkspaceConfiguration, key: keyof typeof RUN_RANGES): number {
  const spec = SETTINGS.find((s) => s.key === key)!;
  return checkRange(extensionSetting(spec), c.get(`training.${key}`, spec.default), RUN_RANGES[key]);
}

export function readHostLimits(): HostLimits {
  const c = vscode.workspace.getConfiguration('rnnLab');
  return {
    checkpointSeconds: hostSetting(c, 'checkpointSeconds'),
    maxMemoryBytes: hostSetting(c, 'maxMemoryMB') * 1024 * 1024,
    maxConcurrentRuns: hostSetting(c, 'maxConcurrentRuns'),
    threads: hostSetting(c, 'threads'),
  };
}

function choice<T extends string>(key: string, value: unknown, choices: readonly T[]): T {
  if (typeof value !== 'string' || !choices.includes(value as T)) {
    throw new ConfigError(`rnnLab.${key} must be one of ${choices.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value as T;
}

export interface CompletionSettings {
  enabled: boolean;
  languages: string[];
  maxLength: number;
  stopAt: 'line' | 'sentence' | 'none';
  temperature: number;
  debounceMs: number;
  alternatives: number;
}

export function readCompletionSettings(scope?: vscode.Uri): CompletionSettings {
  const c = vscode.workspace.getConfiguration('rnnLab.completions', scope);
  const languages = c.get<unknown>('languages', ['plaintext', 'markdown']);
  return {
    enabled: c.get<boolean>('enabled', true) === true,
    languages: Array.isArray(languages) ? languages.filter((l): l is string => typeof l === 'string') : ['plaintext', 'markdown'],
    maxLength: checkRange('rnnLab.completions.maxLength', c.get('maxLength', 40), { min: 1, max: 1000, integer: true }),
    stopAt: choice('completions.stopAt', c.get('stopAt', 'line'), ['line', 'sentence', 'none'] as const),
    temperature: checkRange('rnnLab.completions.temperature', c.get('temperature', 0.2), { min: 0, max: 5 }),
    debounceMs: checkRange('rnnLab.completions.debounceMs', c.get('debounceMs', 75), { min: 0, max: 5000, integer: true }),
    alternatives: checkRange('rnnLab.completions.alternatives', c.get('alternatives', 3), { min: 1, max: 10, integer: true }),
  };
}
