/**
 * The training presets the editor's quick pick offers, as plain settings:
 * the extension host shows them, `npm run bench:quality` trains them. Pure
 * (config, the family catalog and the settings resolver only), so both can
 * import it.
 */
import { DEFAULT_MODEL, DEFAULT_TRAIN, type ModelConfig, type TrainConfig } from '../engine/config';
import { FAMILY_NAMES, infoOf } from '../engine/models/catalog';
import { resolveRun } from '../engine/run/resolve';
import { extensionNames } from '../engine/run/settings';

/** What a preset sets: the shape of the extension's RunSettings (src/extension/library.ts). */
export interface PresetSettings {
  model: Omit<ModelConfig, 'vocabSize'>;
  train: TrainConfig;
  maxSteps: number;
  maxMinutes: number;
  valEvery: number;
}

export interface Preset {
  /** tiny, small, medium (the default family), gru, or a block family's name. */
  id: string;
  label: string;
  detail: string;
  settings: PresetSettings;
}

/** Sizes offered in the quick pick: a quick look, a useful model, a good one. */
export function presets(): Preset[] {
  // The default family (the LSTM), measured at these sizes. Small and Medium,
  // and the GRU, train with a higher peak rate than Adam's usual 2e-3, a short
  // warm-up and a cosine decay to a tenth over their steps: at equal steps
  // that learns much more (LSTM 256×2, 800 steps: 1.670 nats/char at 6e-3
  // against 1.813 at a constant 2e-3). A constant 1e-2 broke a GRU for good
  // after some 2,000 steps, so the peaks stay below it. Medium and the GRU
  // see the text many times in a few minutes: dropout 0.1 between layers.
  const cell = DEFAULT_MODEL.cell;
  const title = infoOf(cell).title;
  const make = (family: ModelConfig['cell'], hidden: number, layers: number, seq: number, batch: number, maxSteps: number, lr: number, decays = true, dropout = 0): PresetSettings => ({
    model: { cell: family, activation: 'tanh', hidden, layers },
    train: { ...DEFAULT_TRAIN, seq, batch, lr, dropout, ...(decays ? { schedule: 'cosine' as const, warmupSteps: 50, decaySteps: maxSteps, lrMinFraction: 0.1 } : {}) },
    maxSteps,
    maxMinutes: 0,
    valEvery: 100,
  });
  return [
    { id: 'tiny', label: 'Tiny', detail: `${title} 64×1, a quick look in seconds`, settings: make(cell, 64, 1, 32, 16, 300, 3e-3, false) },
    { id: 'small', label: 'Small', detail: `${title} 128×2, a useful model in a few minutes`, settings: make(cell, 128, 2, 50, 32, 2000, 6e-3) },
    { id: 'medium', label: 'Medium', detail: `${title} 256×2, better text, longer training`, settings: make(cell, 256, 2, 64, 32, 5000, 5e-3, true, 0.1) },
    { id: 'gru', label: infoOf('gru').title, detail: `${infoOf('gru').title} 320×2, the cell that learns most per character on most text`, settings: make('gru', 320, 2, 64, 32, 5000, 6e-3, true, 0.1) },
    ...blockPresets(),
  ];
}

/**
 * One preset per block family at nanoGPT's small CPU size (width 128, 4
 * blocks, 64 characters × 12 streams), resolved as the settings would be: the
 * family's own defaults (gpt's 4 heads, context = the window) and its
 * training recipe.
 */
function blockPresets(): Preset[] {
  return FAMILY_NAMES.filter((f) => infoOf(f).kind === 'blocks').map((cell) => {
    const r = resolveRun({ cell, hidden: 128, layers: 4, seq: 64, batch: 12, maxSteps: 2000 }, null, extensionNames);
    const title = infoOf(cell).title;
    const label = infoOf(cell).label({ ...r.model, vocabSize: 1 });
    return {
      id: cell,
      label: title,
      detail: `${label} 128×4 blocks, ${infoOf(cell).description}`,
      settings: { model: r.model, train: r.train, maxSteps: 2000, maxMinutes: 0, valEvery: 100 },
    };
  });
}
