/**
 * Both worker channels' messages in one import, for code that reads both
 * (the CLI's report, the tests). Each channel has its own file:
 * trainerProtocol (host ↔ trainer worker) and inferenceProtocol
 * (host ↔ inference worker); rpc.ts carries them.
 */
export * from './trainerProtocol';
export * from './inferenceProtocol';
export { assertNever } from './rpc';
