/**
 * The JSON Schema of `*.rnnlab.json`, built from the settings table. The
 * copy the extension ships (media/schemas/rnnlab.schema.json, for VS Code's
 * jsonValidation) is written from this function by
 * `npm run schema:experiment`, and a unit test fails if the two differ.
 */
import { BUDGET_RANGES, HALVING_RANGES, MATCH_PARAMS_RANGE } from './limits';
import { DEFAULT_VAL_FRACTION, SETTINGS, VAL_FRACTION_RANGE, type NumberRange, type SettingSpec } from './settings';

type Json = Record<string, unknown>;

function numberSchema(range: NumberRange, description: string, dflt?: number | null): Json {
  const s: Json = { type: range.integer ? 'integer' : 'number', description };
  s[range.exclusiveMin ? 'exclusiveMinimum' : 'minimum'] = range.min;
  s[range.exclusiveMax ? 'exclusiveMaximum' : 'maximum'] = range.max;
  if (dflt !== undefined && dflt !== null) s.default = dflt;
  return s;
}

function settingSchema(spec: SettingSpec): Json {
  if (spec.kind === 'choice') return { type: 'string', enum: [...spec.choices], default: spec.default, description: spec.description };
  return numberSchema(spec.range, spec.description, spec.default);
}

function settingsObject(description: string): Json {
  const properties: Json = {};
  for (const [name, spec] of Object.entries(SETTINGS)) properties[name] = settingSchema(spec);
  return { type: 'object', description, additionalProperties: false, properties };
}

function gridObject(): Json {
  const properties: Json = {};
  for (const [name, spec] of Object.entries(SETTINGS)) {
    if (name === 'seed') continue;
    properties[name] = {
      type: 'array',
      description: `Values of ${name} to cross with the other grid settings.`,
      minItems: 1,
      uniqueItems: true,
      items: { ...settingSchema(spec), default: undefined },
    };
  }
  return {
    type: 'object',
    description: 'Settings to cross: every combination of these values over base is one run. Seeds go in "seeds".',
    additionalProperties: false,
    properties,
  };
}

export function buildExperimentSchema(): Json {
  const schema: Json = {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'RNN Lab experiment',
    description: 'Runs that compare models and settings on one text (rnn-lab experiment <file> --out <dir>).',
    type: 'object',
    additionalProperties: false,
    required: ['text', 'budget'],
    properties: {
      $schema: { type: 'string' },
      name: { type: 'string', description: 'Name shown in the report.', maxLength: 200 },
      text: {
        description: 'Text file(s) to train on, relative to this file; several are concatenated in order.',
        type: ['string', 'array'],
        minLength: 1,
        minItems: 1,
        items: { type: 'string', minLength: 1 },
      },
      valFraction: numberSchema(VAL_FRACTION_RANGE, 'Held-out tail of the text for validation, the same split for every run.', DEFAULT_VAL_FRACTION),
      budget: {
        type: 'object',
        description: 'Training budget of each run (of a surviving run, with halving): steps, minutes of training (validation excluded) or characters.',
        additionalProperties: false,
        minProperties: 1,
        maxProperties: 1,
        properties: {
          steps: numberSchema(BUDGET_RANGES.steps, 'Training steps per run.'),
          minutes: numberSchema(BUDGET_RANGES.minutes, 'Minutes of training per run (validation excluded).'),
          chars: numberSchema(BUDGET_RANGES.chars, 'Training characters per run (batch × seq per step).'),
        },
      },
      base: settingsObject('Settings every run starts from; anything not given takes the CLI default.'),
      grid: gridObject(),
      runs: { type: 'array', description: 'Extra runs, each a set of settings over base.', items: settingsObject('Settings of one extra run, over base.') },
      seeds: {
        type: 'array',
        description: 'Each run once per seed (default: the run\'s seed setting).',
        minItems: 1,
        uniqueItems: true,
        items: numberSchema((SETTINGS.seed as { range: NumberRange }).range, 'Random seed.'),
      },
      matchParams: numberSchema(MATCH_PARAMS_RANGE, "Choose each run's hidden width so its parameter count is closest to this number."),
      halving: {
        type: 'object',
        description: 'Successive halving: all runs train for the first rung, the best keep fraction by validation loss continue where they stopped, and so on.',
        additionalProperties: false,
        properties: {
          rungs: numberSchema(HALVING_RANGES.rungs, 'Rungs, the last one at the full budget; rung r ends at budget × keep^(rungs − r).', 3),
          keep: numberSchema(HALVING_RANGES.keep, 'Fraction of the runs that continue after each rung.', 0.5),
        },
      },
      valEvery: numberSchema(BUDGET_RANGES.valEvery, 'Also validate every this many steps for the curves (0: only at the end of each rung).', 0),
    },
  };
  return JSON.parse(JSON.stringify(schema)) as Json;
}
