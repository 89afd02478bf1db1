/** The vanilla RNN's nonlinearities (its family setting `activation`). */
export type Activation = 'tanh' | 'relu' | 'sigmoid';
export const ACTIVATIONS: readonly Activation[] = ['tanh', 'relu', 'sigmoid'];
