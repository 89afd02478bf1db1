/**
 * rnn-lab: the headless command-line front end over the engine. This file
 * only wires the commands; each lives in its own module under commands/.
 */
import { Command, CommanderError } from 'commander';

import { version } from '../../package.json';
import { addDemoCommand } from './commands/demo';
import { addEvalCommand } from './commands/eval';
import { addExportPytorchCommand } from './commands/exportPytorch';
import { addExperimentCommand } from './commands/experiment';
import { addInspectCommand } from './commands/inspect';
import { addReportCommand } from './commands/report';
import { addSampleCommand } from './commands/sample';
import { addTrainCommand } from './commands/train';
import { EXIT_OK, EXIT_USER, Output, oneLine, reportError, watchOutputStreams } from './output';

/** Runs one command's work, turning any error into a one-line report and an exit code. */
async function run(json: boolean, fn: (out: Output) => Promise<number>): Promise<void> {
  const out = new Output(json);
  try {
    process.exitCode = await fn(out);
  } catch (e) {
    process.exitCode = reportError(e, out);
  }
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('rnn-lab')
    .description('Train character-level RNN, LSTM and GRU models on text, evaluate, sample and look inside them.')
    .version(version, '-V, --version')
    .exitOverride()
    .configureOutput({
      outputError: (str, write) => write(`rnn-lab: ${oneLine(str.replace(/^error: /, ''))}\n`),
    })
    .addHelpText('after', '\nStart with: rnn-lab demo\nEach command has its own help, e.g. rnn-lab train --help');
  addTrainCommand(program, run);
  addEvalCommand(program, run);
  addSampleCommand(program, run);
  addInspectCommand(program, run);
  addDemoCommand(program, run);
  addReportCommand(program, run);
  addExportPytorchCommand(program, run);
  addExperimentCommand(program, run);
  return program;
}

async function main(): Promise<void> {
  // `rnn-lab sample ... | head` closes the pipe early: that is not an error (and train keeps training and saving).
  watchOutputStreams(() => (typeof process.exitCode === 'number' ? process.exitCode : EXIT_OK));
  const program = buildProgram();
  try {
    await program.parseAsync(process.argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version exit 0; usage errors were already printed by commander.
      process.exitCode = e.exitCode === 0 ? EXIT_OK : EXIT_USER;
      return;
    }
    process.exitCode = reportError(e);
  }
}

void main();
