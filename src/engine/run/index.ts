/** The run module: one settings resolver and one training loop for every front end (DESIGN §3 "run"). */
export * from './settings';
export * from './resolve';
export * from './loop';
export * from './start';
export * from './schema';
