/** Log levels in order; a logger writes its level and the ones after it. */
export const levels = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof levels)[number];
type WritableLevel = Exclude<LogLevel, 'silent'>;

export type LogFields = Record<string, unknown>;

export type Logger = {
  [L in WritableLevel]: (message: string, fields?: LogFields) => void;
} & {
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
};

export type LogSink = (line: string) => void;

const stdoutSink: LogSink = (line) => process.stdout.write(`${line}\n`);

const serializeError = (error: unknown): unknown =>
  error instanceof Error
    ? {
        name: error.name,
        message: error.message,
        stack: error.stack,
        ...(error.cause ? { cause: serializeError(error.cause) } : {}),
      }
    : error;

/**
 * One JSON object per line, as CloudWatch Logs Insights reads them. Base fields (function, stage) come first,
 * then the bound fields (correlation id, order id), then the line's own.
 */
export const createLogger = ({
  level = 'info',
  fields = {},
  sink = stdoutSink,
}: { level?: LogLevel; fields?: LogFields; sink?: LogSink } = {}): Logger => {
  const threshold = levels.indexOf(level);
  const write =
    (lineLevel: WritableLevel) =>
    (message: string, extra: LogFields = {}) => {
      if (levels.indexOf(lineLevel) < threshold) return;
      const entries = Object.entries({ ...fields, ...extra }).map(([key, value]) => [
        key,
        value instanceof Error ? serializeError(value) : value,
      ]);
      sink(
        JSON.stringify({
          timestamp: new Date().toISOString(),
          level: lineLevel,
          message,
          ...Object.fromEntries(entries),
        }),
      );
    };
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    child: (more) => createLogger({ level, fields: { ...fields, ...more }, sink }),
  };
};
