/**
 * The one settings resolver: what a run will do, from what the user gave
 * (CLI flags or extension settings, as a plain object keyed like SETTINGS)
 * and, for a resume, the checkpoint's model and training config.
 *
 * Rules, in order:
 * - Every given value is checked against its range or choices (the message
 *   names it as the front end does: `--lr`, or `rnnLab.training.lr`).
 * - Fresh run: anything not given takes its default from SETTINGS.
 * - Resume: the model (cell, hidden, layers, the family's own settings such as
 *   activation or heads and context; the vocabulary is the checkpoint's) and
 *   the seed come from the checkpoint; a different value is
 *   refused with one line saying so. Every other training setting comes from
 *   the checkpoint unless given again, and then applies from the next step.
 *   Budgets, cadences and resources belong to the session.
 * - Step budget: `steps` (this session: N more steps) or `maxSteps` (the step
 *   the run stops at); with neither, and no time or character budget, 2000
 *   steps (2000 more on resume).
 * - Schedule: a linear/cosine schedule decays until `decaySteps`; 0 means the
 *   run's last step, which a fresh run needs a step budget to know. A resume
 *   that trains past the end of the decay would train at lr·lrMinFraction: with
 *   a floor of 0 that is refused unless the user extends the schedule
 *   (`extendSchedule`: the decay is stretched to end at the new last step) or
 *   gives `decaySteps`; with a floor above 0 it trains at the floor and says so.
 * - A family's training defaults (FamilyInfo.trainDefaults: the block
 *   families train with nanoGPT's recipe) replace the table's defaults for a
 *   fresh run, for each training setting not given; when the user names an
 *   optimizer other than the family's, the family's lr, betas and weight
 *   decay do not apply (the table's do). A cosine/linear default schedule
 *   without a step budget falls back to constant (said in a note).
 * - The family's own settings are checked against each other and the window
 *   (FamilyInfo.forWindow: gpt's context defaults to seq and must hold it,
 *   heads must divide the width), fresh and on resume.
 * - Combinations without effect are refused: relu/sigmoid with an LSTM or GRU,
 *   dropout with one layer, momentum with an optimizer that has none, periodic
 *   validation without a validation set.
 */
import {
  defaultEps,
  DEFAULT_MODEL,
  DEFAULT_TRAIN,
  checkRange,
  validateTrainConfig,
  type Activation,
  type CellType,
  type ModelConfig,
  type OptimizerName,
  type ScheduleName,
  type TrainConfig,
} from '../config';
import { ConfigError } from '../errors';
import { FAMILY_NAMES, familiesTaking, infoOf, takesSetting } from '../models/catalog';
import { learningRate } from '../schedule';
import { RUN_DEFAULTS, SETTINGS, cliNames, type SettingNamer } from './settings';

/** What the user gave, keyed like SETTINGS (untrusted: every value is checked). */
export interface RunInput {
  cell?: unknown;
  activation?: unknown;
  hidden?: unknown;
  layers?: unknown;
  /** gpt's (the settings of families beyond hidden/layers are in SETTINGS too). */
  heads?: unknown;
  context?: unknown;
  seq?: unknown;
  batch?: unknown;
  dropout?: unknown;
  optimizer?: unknown;
  lr?: unknown;
  momentum?: unknown;
  beta1?: unknown;
  beta2?: unknown;
  eps?: unknown;
  weightDecay?: unknown;
  clip?: unknown;
  schedule?: unknown;
  warmupSteps?: unknown;
  decaySteps?: unknown;
  lrMinFraction?: unknown;
  valFraction?: unknown;
  seed?: unknown;
  maxSteps?: unknown;
  /** Steps in this session (on resume: this many more). */
  steps?: unknown;
  maxMinutes?: unknown;
  maxChars?: unknown;
  validateEvery?: unknown;
  saveEvery?: unknown;
  checkpointSeconds?: unknown;
  maxMemoryMB?: unknown;
  threads?: unknown;
  /** On resume: stretch a linear/cosine decay so it ends at the new last step. */
  extendSchedule?: unknown;
}

/** Where a resumed run comes from: the checkpoint's model, training config and step. */
export interface ResumePoint {
  model: Omit<ModelConfig, 'vocabSize'>;
  train: TrainConfig;
  step: number;
}

/** When a session stops (whichever comes first) and how often it validates and saves. */
export interface RunLimits {
  /** Stop when the run reaches this step; Infinity = no step limit. */
  stopAtStep: number;
  /** Training seconds of this session; Infinity = no limit. */
  maxSeconds: number;
  /** Training characters of this session; Infinity = no limit. */
  maxChars: number;
  /** 0 = only at the end. */
  validateEvery: number;
  /** 0 = by time only. */
  saveEvery: number;
  /** 0 = only at the end. */
  checkpointSeconds: number;
}

export interface ResolvedRun {
  model: Omit<ModelConfig, 'vocabSize'>;
  train: TrainConfig;
  /** 0, or the checkpoint's step on resume. */
  startStep: number;
  limits: RunLimits;
  maxMemoryBytes: number;
  /** 0 = automatic. */
  threads: number;
  /** What the resolver decided that the user should hear (one line each). */
  notes: string[];
  /** On resume: batch or sequence length changed, so the epoch restarts from a zero carried state. */
  layoutChanged: boolean;
}

type Given = Partial<Record<string, number | string>>;

function checkGiven(input: RunInput, name: SettingNamer): Given {
  const given: Given = {};
  const raw = input as Record<string, unknown>;
  for (const spec of SETTINGS) {
    const v = raw[spec.key];
    if (v === undefined || spec.only === 'extension') continue;
    if (spec.type === 'choice') {
      if (typeof v !== 'string' || !spec.choices!.includes(v)) {
        throw new ConfigError(`${name(spec.key)} must be one of ${spec.choices!.join(', ')}, got ${JSON.stringify(v).slice(0, 40)}`);
      }
      given[spec.key] = v;
    } else {
      given[spec.key] = checkRange(name(spec.key), v, spec.range!);
    }
  }
  return given;
}

export function resolveRun(input: RunInput, from: ResumePoint | null, name: SettingNamer = cliNames): ResolvedRun {
  const given = checkGiven(input, name);
  const notes: string[] = [];
  const g = <T>(key: string): T | undefined => given[key] as T | undefined;
  const conflict = (message: string): never => {
    throw new ConfigError(message);
  };

  // The model.
  let model: Omit<ModelConfig, 'vocabSize'>;
  const familyKeys = new Set(FAMILY_NAMES.flatMap((f) => infoOf(f).settings.map((x) => x.name as string)));
  // context 0 means "the sequence length": the same as not giving it.
  const givenModel = (key: string): number | string | undefined => (key === 'context' && given[key] === 0 ? undefined : given[key]);
  if (from) {
    const m = from.model;
    const keys = ['cell', 'hidden', 'layers', ...familyKeys] as const;
    for (const key of keys) {
      const v = givenModel(key);
      const have = (m as unknown as Record<string, unknown>)[key];
      // A checkpoint of a family without an activation may say any (0.1.0 wrote one for every cell); asking for tanh is no change.
      const same = v === undefined || v === have || (key === 'activation' && !takesSetting(m.cell, 'activation') && v === 'tanh');
      if (!same) {
        conflict(
          `${name(key)} ${v} does not match the checkpoint (${key} ${have === undefined ? 'not set' : String(have as string | number)}): a continued run keeps the checkpoint's model; ` +
            `leave out ${name(key)} or train a new model`,
        );
      }
    }
    model = { ...m };
    const seed = g<number>('seed');
    if (seed !== undefined && seed !== from.train.seed) {
      conflict(
        `${name('seed')} ${seed} has no effect on a continued run: it carries on the checkpoint's random state (seed ${from.train.seed}); leave out ${name('seed')}`,
      );
    }
  } else {
    const cell = g<CellType>('cell') ?? DEFAULT_MODEL.cell;
    const fresh: Record<string, unknown> = {
      cell,
      activation: g<Activation>('activation') ?? DEFAULT_MODEL.activation,
      hidden: g<number>('hidden') ?? DEFAULT_MODEL.hidden,
      layers: g<number>('layers') ?? DEFAULT_MODEL.layers,
    };
    for (const s of infoOf(cell).settings) {
      const v = givenModel(s.name) ?? s.default;
      if (v !== undefined && s.name !== 'activation') fresh[s.name] = v;
    }
    model = fresh as unknown as Omit<ModelConfig, 'vocabSize'>;
  }
  const activation = g<Activation>('activation');
  if (activation !== undefined && activation !== 'tanh' && !takesSetting(model.cell, 'activation')) {
    const takers = familiesTaking('activation');
    const titles = takers.map((f) => `the ${infoOf(f).title}`).join(', ');
    const flags = takers.map((f) => `${name('cell')} ${f}`).join(', ');
    conflict(`${name('activation')} applies to ${titles} only (${flags}): the ${infoOf(model.cell).title} uses tanh; leave out ${name('activation')} ${activation}`);
  }
  for (const key of familyKeys) {
    if (key === 'activation' || givenModel(key) === undefined || takesSetting(model.cell, key)) continue;
    conflict(`${name(key)} applies to ${name('cell')} ${familiesTaking(key).join(' or ')} only, not to ${model.cell}; leave out ${name(key)}`);
  }

  // The training config: the checkpoint's (or the defaults), then what was given.
  const base: TrainConfig = from ? from.train : { ...DEFAULT_TRAIN, ...familyTrainDefaults(model.cell, g<string>('optimizer')) };
  const merged: Record<string, unknown> = { ...base };
  for (const key of Object.keys(DEFAULT_TRAIN)) {
    if (key !== 'eps' && given[key] !== undefined) merged[key] = given[key];
  }
  const optimizer = merged.optimizer as OptimizerName;
  const eps = g<number>('eps');
  if (eps !== undefined && eps > 0) merged.eps = eps;
  else if (eps === 0 || !from || optimizer !== from.train.optimizer) merged.eps = defaultEps(optimizer);
  if (from && optimizer !== from.train.optimizer) {
    notes.push(`the optimizer changes from ${from.train.optimizer} to ${optimizer}: state it does not share with ${from.train.optimizer} starts from zero`);
  }

  // Budgets.
  const startStep = from ? from.step : 0;
  const steps = g<number>('steps');
  const maxSteps = g<number>('maxSteps');
  const maxMinutes = g<number>('maxMinutes') ?? RUN_DEFAULTS.maxMinutes;
  const maxChars = g<number>('maxChars') ?? RUN_DEFAULTS.maxChars;
  let stopAtStep: number;
  if (steps !== undefined && maxSteps !== undefined && maxSteps !== startStep + steps) {
    conflict(`${name('steps')} ${steps} and ${name('maxSteps')} ${maxSteps} disagree (the run starts at step ${startStep}): give one of them`);
  }
  if (steps !== undefined) stopAtStep = startStep + steps;
  else if (maxSteps !== undefined) stopAtStep = maxSteps > 0 ? maxSteps : Infinity;
  else if (maxMinutes > 0 || maxChars > 0) stopAtStep = Infinity;
  else stopAtStep = startStep + RUN_DEFAULTS.maxSteps;
  if (from && stopAtStep <= startStep && steps !== 0) {
    notes.push(`the checkpoint is already at step ${startStep}, which ${name('maxSteps')} ${stopAtStep} does not go past: nothing to train`);
  }

  // The schedule.
  if (!from && g('schedule') === undefined && merged.schedule !== DEFAULT_TRAIN.schedule && !Number.isFinite(stopAtStep) && g('decaySteps') === undefined) {
    notes.push(`${infoOf(model.cell).title}'s default ${String(merged.schedule)} decay needs a step budget: without one the learning rate stays constant after warm-up`);
    merged.schedule = 'constant';
  }
  const schedule = merged.schedule as ScheduleName;
  if (schedule !== 'constant') {
    const decayGiven = g<number>('decaySteps');
    const extend = input.extendSchedule === true;
    if (extend) {
      if (!Number.isFinite(stopAtStep)) conflict(`${name('extendSchedule')} needs a step budget to know where the decay should end: give ${name('steps')} or ${name('maxSteps')}`);
      if (decayGiven !== undefined && decayGiven !== stopAtStep) conflict(`give either ${name('extendSchedule')} or ${name('decaySteps')}, not both`);
      merged.decaySteps = stopAtStep;
      if (from && from.train.decaySteps !== stopAtStep) {
        notes.push(`the ${schedule} decay now ends at step ${stopAtStep} instead of ${from.train.decaySteps}: from step ${startStep} the learning rate follows the stretched curve`);
      }
    } else if ((merged.decaySteps as number) === 0) {
      if (!Number.isFinite(stopAtStep)) {
        conflict(`${name('schedule')} ${schedule} needs to know how long to decay: give ${name('steps')}, ${name('maxSteps')} or ${name('decaySteps')}`);
      }
      merged.decaySteps = stopAtStep;
    } else if (from && decayGiven === undefined) {
      const end = merged.decaySteps as number;
      if (stopAtStep > end) {
        const cfg = merged as unknown as TrainConfig;
        const floor = cfg.lr * cfg.lrMinFraction;
        const until = !Number.isFinite(stopAtStep) ? 'the run stops' : `step ${stopAtStep}`;
        if (floor === 0 && learningRate(cfg, Math.max(end, startStep)) === 0) {
          conflict(
            `the checkpoint's ${schedule} schedule ends at step ${end}, where the learning rate reaches 0, so training on to ${until} would change nothing: ` +
              `give ${name('extendSchedule')} to stretch the decay to the new last step, ${name('decaySteps')} N to end it elsewhere, or ${name('schedule')} constant`,
          );
        }
        notes.push(`the ${schedule} schedule ended at step ${end}: the steps after it train at its floor, lr ${floor}`);
      }
    }
  } else if (input.extendSchedule === true) {
    notes.push(`${name('extendSchedule')} has no effect with a constant schedule`);
  }

  let train: TrainConfig;
  try {
    train = validateTrainConfig(merged);
  } catch (e) {
    // Only derived values can fail here (the given ones were checked above).
    throw new ConfigError((e as Error).message);
  }

  const windowed = infoOf(model.cell).forWindow?.(model, train.seq);
  if (windowed) model = windowed;

  const dropout = train.dropout;
  // The cells' dropout acts between stacked layers; the block models drop in every block.
  if (dropout > 0 && model.layers === 1 && infoOf(model.cell).kind === 'cells' && (!from || (g<number>('dropout') !== undefined && g<number>('dropout') !== from.train.dropout))) {
    conflict(
      `${name('dropout')} ${dropout} has no effect with ${name('layers')} 1: dropout acts between stacked layers; use ${name('layers')} 2 or more, or leave out ${name('dropout')}`,
    );
  }
  const momentum = g<number>('momentum');
  if (momentum !== undefined && momentum > 0 && train.optimizer !== 'sgd' && train.optimizer !== 'rmsprop') {
    conflict(`${name('momentum')} applies to ${name('optimizer')} sgd and rmsprop only, not to ${train.optimizer}`);
  }
  let validateEvery = g<number>('validateEvery') ?? RUN_DEFAULTS.validateEvery;
  if (train.valFraction === 0) {
    if (g<number>('validateEvery') !== undefined && validateEvery > 0 && g<number>('valFraction') !== undefined) {
      conflict(`${name('validateEvery')} needs a validation set: set ${name('valFraction')} above 0`);
    }
    validateEvery = 0;
  }

  const layoutChanged = from !== null && (train.batch !== from.train.batch || train.seq !== from.train.seq);
  if (layoutChanged) {
    notes.push(`batch × sequence changes from ${from!.train.batch} × ${from!.train.seq} to ${train.batch} × ${train.seq}: the epoch restarts with a zero carried state`);
  }

  return {
    model,
    train,
    startStep,
    limits: {
      stopAtStep,
      maxSeconds: maxMinutes > 0 ? maxMinutes * 60 : Infinity,
      maxChars: maxChars > 0 ? maxChars : Infinity,
      validateEvery,
      saveEvery: g<number>('saveEvery') ?? RUN_DEFAULTS.saveEvery,
      checkpointSeconds: g<number>('checkpointSeconds') ?? RUN_DEFAULTS.checkpointSeconds,
    },
    maxMemoryBytes: (g<number>('maxMemoryMB') ?? RUN_DEFAULTS.maxMemoryMB) * 1024 * 1024,
    threads: g<number>('threads') ?? RUN_DEFAULTS.threads,
    notes,
    layoutChanged,
  };
}

/** The optimizer-tied settings of a family's defaults, which do not carry over to another optimizer. */
const OPTIMIZER_TIED = ['lr', 'beta1', 'beta2', 'eps', 'weightDecay', 'momentum'];

/** A family's training defaults for a fresh run, as far as they apply to the optimizer the user named (if any). */
function familyTrainDefaults(cell: CellType, optimizer: string | undefined): Partial<TrainConfig> {
  const d = infoOf(cell).trainDefaults;
  if (!d) return {};
  if (optimizer === undefined || optimizer === d.optimizer) return d;
  return Object.fromEntries(Object.entries(d).filter(([k]) => k !== 'optimizer' && !OPTIMIZER_TIED.includes(k))) as Partial<TrainConfig>;
}
