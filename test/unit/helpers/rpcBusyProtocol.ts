/** The channel of the Rpc tests' busy worker. */
export interface BusySpinRequest {
  kind: 'busy/spin';
  /** Give up after this long even if never cancelled. */
  maxMs: number;
}

export interface BusyHostSends {
  requests: BusySpinRequest;
  results: { 'busy/spin': { spins: number; cancelled: boolean; ms: number } };
  notifications: never;
}

export interface BusyWorkerSends {
  requests: never;
  results: Record<never, never>;
  notifications: never;
}
