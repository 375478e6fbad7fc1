/**
 * The log every layer above the domain writes to. Declared here, below all of them, so no layer borrows it from the
 * Lambda plumbing that implements it (functions/, on Powertools Logger).
 */
export type LogFields = Record<string, unknown>;

export type Logger = {
  [L in 'debug' | 'info' | 'warn' | 'error']: (message: string, fields?: LogFields) => void;
} & {
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
};
