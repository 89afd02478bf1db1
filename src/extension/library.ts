import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ModelConfig, TrainConfig } from '../engine/config';
import type { RunState } from '../shared/protocol';
import { removeStaleTemporaries, writeFileAtomic } from '../shared/atomicFile';

/** How a run was asked to train, kept so it can be resumed after a reload. */
export interface RunSettings {
  model: Omit<ModelConfig, 'vocabSize'>;
  train: TrainConfig;
  maxSteps: number;
  maxMinutes: number;
  valEvery: number;
  /** Training characters per session (0 = no limit); absent in libraries written by 0.1.0. */
  maxChars?: number;
  /** Also save every this many steps (0 = by time only). */
  saveEvery?: number;
}

export interface LossPoint {
  step: number;
  loss: number;
}

/** One model in the library, as the index remembers it. */
export interface ModelEntry {
  id: string;
  name: string;
  /** URIs (as strings) of the files it was trained on. */
  sources: string[];
  cell: ModelConfig['cell'];
  hidden: number;
  layers: number;
  vocabSize: number;
  params: number;
  steps: number;
  lastLoss: number | null;
  bestValLoss: number | null;
  bestValBpc: number | null;
  state: RunState;
  /** Why the run failed or was interrupted, in words for the user. */
  reason?: string;
  created: number;
  updated: number;
  /** Whether a checkpoint file exists (a run that failed before its first save has none). */
  hasCheckpoint: boolean;
  /** Set for models trained here; imported models have none and cannot resume. */
  settings?: RunSettings;
  /** A run of an experiment (its checkpoint copied from the experiment's output folder). */
  experiment?: { out: string; name: string; runId: string };
  /** What its last training session's products ran on ("native (avx512), 2 threads"). */
  kernels?: string;
}

/** Longest model name kept (an imported file's name, or its metadata's, is untrusted). */
export const MAX_MODEL_NAME_CHARS = 200;

/** A name fit for the index and the UI: one line, no control characters, at most MAX_MODEL_NAME_CHARS. */
export function cleanModelName(name: unknown, fallback = 'model'): string {
  const s = typeof name === 'string' ? name.slice(0, 4 * MAX_MODEL_NAME_CHARS) : '';
  const line = s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').trim();
  const cps = Array.from(line.slice(0, 2 * MAX_MODEL_NAME_CHARS));
  const cut = cps.length > MAX_MODEL_NAME_CHARS ? `${cps.slice(0, MAX_MODEL_NAME_CHARS - 1).join('')}…` : line;
  return cut || fallback;
}

interface IndexFile {
  version: 1;
  models: ModelEntry[];
}

/**
 * Models on disk under the extension's global storage: one folder per model
 * holding its checkpoint, and an index. Every write is atomic, so a crash or a
 * killed window loses at most the steps since the last save, never a model.
 */
export class ModelLibrary {
  private entries: ModelEntry[] = [];
  private readonly listeners = new Set<() => void>();
  private readonly indexPath: string;

  constructor(readonly root: string) {
    fs.mkdirSync(path.join(root, 'models'), { recursive: true });
    this.indexPath = path.join(root, 'index.json');
    this.removeStaleTemporaries();
    this.entries = this.readIndex();
  }

  /** Temporaries of saves that a killed window (or extension host) never finished: the index's and each model's. */
  private removeStaleTemporaries(): void {
    removeStaleTemporaries(this.root);
    let ids: string[];
    try {
      ids = fs.readdirSync(path.join(this.root, 'models'));
    } catch {
      return;
    }
    for (const id of ids) removeStaleTemporaries(path.join(this.root, 'models', id));
  }

  private readIndex(): ModelEntry[] {
    let raw: string;
    try {
      raw = fs.readFileSync(this.indexPath, 'utf8');
    } catch {
      return [];
    }
    try {
      const parsed = JSON.parse(raw) as IndexFile;
      if (parsed.version !== 1 || !Array.isArray(parsed.models)) throw new Error('unknown index version');
      return parsed.models
        .filter((m) => typeof m?.id === 'string' && /^[\w-]+$/.test(m.id))
        .map((m) => ({ ...m, name: cleanModelName(m.name) }));
    } catch {
      // Keep the unreadable index for inspection; the checkpoints stay where they are.
      fs.renameSync(this.indexPath, `${this.indexPath}.corrupt-${Date.now()}`);
      return [];
    }
  }

  private writeIndex(): void {
    const data: IndexFile = { version: 1, models: this.entries };
    writeFileAtomic(this.indexPath, new TextEncoder().encode(JSON.stringify(data, null, 1)));
    for (const l of this.listeners) l();
  }

  onDidChange(listener: () => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  list(): readonly ModelEntry[] {
    return this.entries;
  }

  get(id: string): ModelEntry | undefined {
    return this.entries.find((m) => m.id === id);
  }

  create(fields: Omit<ModelEntry, 'id' | 'created' | 'updated'>): ModelEntry {
    const now = Date.now();
    const entry: ModelEntry = { ...fields, name: cleanModelName(fields.name), id: randomUUID(), created: now, updated: now };
    fs.mkdirSync(this.folder(entry.id), { recursive: true });
    this.entries.push(entry);
    this.writeIndex();
    return entry;
  }

  update(id: string, patch: Partial<Omit<ModelEntry, 'id'>>): ModelEntry | undefined {
    const entry = this.get(id);
    if (!entry) return undefined;
    const previousName = entry.name;
    Object.assign(entry, patch, { updated: Date.now() });
    if (patch.name !== undefined) entry.name = cleanModelName(patch.name, previousName);
    this.writeIndex();
    return entry;
  }

  folder(id: string): string {
    return path.join(this.root, 'models', id);
  }

  checkpointPath(id: string): string {
    return path.join(this.folder(id), 'model.safetensors');
  }

  saveCheckpoint(id: string, bytes: Uint8Array, patch: Partial<ModelEntry> = {}): void {
    fs.mkdirSync(this.folder(id), { recursive: true });
    writeFileAtomic(this.checkpointPath(id), bytes);
    this.update(id, { ...patch, hasCheckpoint: true });
  }

  readCheckpoint(id: string): Uint8Array {
    return fs.readFileSync(this.checkpointPath(id));
  }

  delete(id: string): void {
    this.entries = this.entries.filter((m) => m.id !== id);
    this.writeIndex();
    fs.rmSync(this.folder(id), { recursive: true, force: true });
  }

  /** Newest model trained on this file with a checkpoint, if any. */
  newestFor(sourceUri: string): ModelEntry | undefined {
    return this.entries
      .filter((m) => m.hasCheckpoint && m.sources.includes(sourceUri))
      .sort((a, b) => b.updated - a.updated)[0];
  }
}
