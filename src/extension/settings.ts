import * as vscode from 'vscode';
import { ConfigError } from '../engine/errors';
import {
  ACTIVATIONS, CELLS, checkRange, DEFAULT_MODEL, DEFAULT_TRAIN, RANGES,
  validateTrainConfig, type ModelConfig, type TrainConfig,
} from '../engine/config';
import type { RunSettings } from './library';

/** Limits of the run that are not engine hyperparameters. */
export const RUN_RANGES = {
  maxSteps: { min: 0, max: 1e9, integer: true },
  maxMinutes: { min: 0, max: 10080 },
  valEvery: { min: 0, max: 1e9, integer: true },
  checkpointSeconds: { min: 5, max: 3600 },
  maxMemoryMB: { min: 16, max: 65536, integer: true },
  maxConcurrentRuns: { min: 1, max: 8, integer: true },
  threads: { min: 0, max: 16, integer: true },
} as const;

export interface HostLimits {
  checkpointSeconds: number;
  maxMemoryBytes: number;
  maxConcurrentRuns: number;
  /** Threads per training run; 0 = automatic (2 on machines with two cores or more). */
  threads: number;
}

function choice<T extends string>(key: string, value: unknown, choices: readonly T[]): T {
  if (typeof value !== 'string' || !choices.includes(value as T)) {
    throw new ConfigError(`rnnLab.${key} must be one of ${choices.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value as T;
}

/** Reads and validates the user's training settings; a bad value is a ConfigError naming the setting. */
export function readRunSettings(scope?: vscode.Uri): RunSettings {
  const c = vscode.workspace.getConfiguration('rnnLab', scope);
  const model: Omit<ModelConfig, 'vocabSize'> = {
    cell: choice('model.cell', c.get('model.cell', DEFAULT_MODEL.cell), CELLS),
    activation: choice('model.activation', c.get('model.activation', DEFAULT_MODEL.activation), ACTIVATIONS),
    hidden: checkRange('rnnLab.model.hidden', c.get('model.hidden', DEFAULT_MODEL.hidden), RANGES.hidden),
    layers: checkRange('rnnLab.model.layers', c.get('model.layers', DEFAULT_MODEL.layers), RANGES.layers),
  };
  const t = (key: keyof TrainConfig): unknown => c.get(`training.${key}`, DEFAULT_TRAIN[key]);
  let train: TrainConfig;
  try {
    train = validateTrainConfig({
      seq: t('seq'), batch: t('batch'), dropout: t('dropout'), optimizer: t('optimizer'), lr: t('lr'),
      momentum: t('momentum'), beta1: t('beta1'), beta2: t('beta2'), eps: t('eps'), weightDecay: t('weightDecay'),
      clip: t('clip'), schedule: t('schedule'), warmupSteps: t('warmupSteps'), decaySteps: t('decaySteps'),
      lrMinFraction: t('lrMinFraction'), valFraction: t('valFraction'), seed: t('seed'),
    });
  } catch (e) {
    // The engine names the field; the user knows it as a setting.
    throw new ConfigError(`rnnLab.training.${(e as Error).message}`);
  }
  const maxSteps = checkRange('rnnLab.training.maxSteps', c.get('training.maxSteps', 2000), RUN_RANGES.maxSteps);
  if (train.schedule !== 'constant' && train.decaySteps === 0) train.decaySteps = maxSteps;
  return {
    model,
    train,
    maxSteps,
    maxMinutes: checkRange('rnnLab.training.maxMinutes', c.get('training.maxMinutes', 0), RUN_RANGES.maxMinutes),
    valEvery: checkRange('rnnLab.training.validateEvery', c.get('training.validateEvery', 200), RUN_RANGES.valEvery),
  };
}

export function readHostLimits(): HostLimits {
  const c = vscode.workspace.getConfiguration('rnnLab');
  return {
    checkpointSeconds: checkRange('rnnLab.training.checkpointSeconds', c.get('training.checkpointSeconds', 30), RUN_RANGES.checkpointSeconds),
    maxMemoryBytes: checkRange('rnnLab.training.maxMemoryMB', c.get('training.maxMemoryMB', 2048), RUN_RANGES.maxMemoryMB) * 1024 * 1024,
    maxConcurrentRuns: checkRange('rnnLab.training.maxConcurrentRuns', c.get('training.maxConcurrentRuns', 1), RUN_RANGES.maxConcurrentRuns),
    threads: checkRange('rnnLab.training.threads', c.get('training.threads', 0), RUN_RANGES.threads),
  };
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
