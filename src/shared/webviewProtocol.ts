/**
 * Every panel channel's messages in one import, for code that shapes data
 * for several panels (the CLI's report, the tests). Each channel has its own
 * file: panelProtocol (shared by every page), lossProtocol, gradFlowProtocol,
 * hiddenStatesProtocol.
 */
export * from './panelProtocol';
export * from './lossProtocol';
export * from './gradFlowProtocol';
export * from './hiddenStatesProtocol';
