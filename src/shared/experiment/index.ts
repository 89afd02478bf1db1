/** Experiments (DESIGN §6b): the file, its runs, halving, results and the report; pure, for the CLI and the extension. */
export * from './settings';
export * from './limits';
export * from './schema';
export * from './spec';
export * from './matchParams';
export * from './expand';
export * from './halving';
export * from './results';
export * from './report';
export * from './starter';
