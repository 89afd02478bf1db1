/**
 * What the editor writes and where: the starter experiment for a text file
 * (New Experiment…), the experiment file's name beside it, and the output
 * folder of an experiment file. Pure.
 */

export const EXPERIMENT_SUFFIX = '.rnnlab.json';
/** The output folder of `<name>.rnnlab.json` is `<name>.runs/` beside it. */
export const OUTPUT_SUFFIX = '.runs';

/** `notes.txt` → `notes.rnnlab.json` (the last extension replaced; a name without one gets the suffix). */
export function experimentFileName(textFileName: string): string {
  const dot = textFileName.lastIndexOf('.');
  const stem = dot > 0 ? textFileName.slice(0, dot) : textFileName;
  return `${stem}${EXPERIMENT_SUFFIX}`;
}

/** `…/cells.rnnlab.json` → `…/cells.runs` (any other name: the name plus `.runs`). */
export function experimentOutputDir(experimentFile: string): string {
  const base = experimentFile.endsWith(EXPERIMENT_SUFFIX) ? experimentFile.slice(0, -EXPERIMENT_SUFFIX.length) : experimentFile;
  return `${base}${OUTPUT_SUFFIX}`;
}

/** The experiment's display name: its `name`, else the file's name without `.rnnlab.json`. */
export function experimentDisplayName(name: string, experimentFile: string): string {
  if (name) return name;
  const base = experimentFile.split(/[\\/]/).pop() ?? experimentFile;
  return base.endsWith(EXPERIMENT_SUFFIX) ? base.slice(0, -EXPERIMENT_SUFFIX.length) : base;
}

/**
 * A small, fair first comparison: the three recurrent cells at the same
 * parameter count, two minutes of training each, on the text beside it.
 */
export function starterExperiment(textFileName: string, schemaUrl?: string): Record<string, unknown> {
  return {
    ...(schemaUrl ? { $schema: schemaUrl } : {}),
    name: `cells on ${textFileName}`,
    text: [textFileName],
    valFraction: 0.1,
    budget: { minutes: 2 },
    base: { layers: 2, seq: 64, batch: 16, lr: 0.002 },
    grid: { cell: ['rnn', 'lstm', 'gru'] },
    matchParams: 100000,
  };
}

/** The file's contents as the editor writes it. */
export function starterExperimentText(textFileName: string): string {
  return `${JSON.stringify(starterExperiment(textFileName), null, 2)}\n`;
}

/**
 * The walkthrough's experiment: the three recurrent cells, small enough
 * that all three runs finish in well under a minute on a laptop.
 */
export function walkthroughExperiment(textFileName: string): Record<string, unknown> {
  return {
    name: `walkthrough: RNN, LSTM and GRU on ${textFileName}`,
    text: [textFileName],
    valFraction: 0.1,
    budget: { steps: 80 },
    base: { hidden: 32, layers: 1, seq: 32, batch: 8, lr: 0.003 },
    grid: { cell: ['rnn', 'lstm', 'gru'] },
  };
}

export function walkthroughExperimentText(textFileName: string): string {
  return `${JSON.stringify(walkthroughExperiment(textFileName), null, 2)}\n`;
}
