/**
 * Errors a user can cause. Each carries a one-line message that says what is
 * wrong and what to do; front ends show `message` as is and never a stack.
 */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

/** A setting is missing, of the wrong type or out of range. */
export class ConfigError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** The training text cannot be used (empty, binary, too short, too many characters). */
export class DataError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'DataError';
  }
}

/** The loss became NaN or infinite; the weights from before the step are kept. */
export class DivergenceError extends UserError {
  constructor(message: string, readonly step: number) {
    super(message);
    this.name = 'DivergenceError';
  }
}
