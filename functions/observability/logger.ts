import { LogFormatter, LogItem, LogLevelThreshold, Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import type { ConstructorOptions, LogAttributes, UnformattedAttributes } from '@aws-lambda-powertools/logger/types';
import type { LogFields, Logger } from '../../ports/logger.js';

export type { LogFields, Logger };

/** Log levels in order; a logger writes its level and the ones after it. */
export const levels = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof levels)[number];
export type WritableLevel = Exclude<LogLevel, 'silent'>;

export type LogSink = (line: string) => void;

/** Local commands that print a report of their own and keep the functions' lines in a file instead (muteStdout). */
let stdoutMutes = 0;

/** Lambda's log: stdout, which CloudWatch Logs reads. Drops lines while a local command has muted it. */
export const stdoutSink: LogSink = (line) => {
  if (stdoutMutes === 0) process.stdout.write(`${line}\n`);
};

/**
 * Keeps the functions of this process off stdout until the answered function is called, for a local command that
 * prints only progress and a report and records their lines with tapLogs instead (`npm run chaos`, `cost`, `bench`).
 * Log levels and taps are untouched, so the lines still exist at every level; nothing on Lambda calls it.
 *
 * @example
 * const unmute = muteStdout();
 * const untap = tapLogs((line) => file.write(`${line}\n`), 'warn');
 */
export const muteStdout = (): (() => void) => {
  stdoutMutes += 1;
  let unmuted = false;
  return () => {
    if (unmuted) return;
    unmuted = true;
    stdoutMutes -= 1;
  };
};

/**
 * Readers of every line the functions of this process write, at their own level whatever LOG_LEVEL lets through to
 * stdout: the local stack's stand-in for CloudWatch Logs. Empty on Lambda, where stdout is the log.
 */
const taps = new Set<{ threshold: number; sink: LogSink }>();

/**
 * Sends every log line at `level` or above, and every metrics document, to `sink` too; answers the function that
 * stops it.
 *
 * @example
 * const stop = tapLogs((line) => file.write(`${line}\n`), 'info');
 */
export const tapLogs = (sink: LogSink, level: WritableLevel = 'debug'): (() => void) => {
  const tap = { threshold: levels.indexOf(level), sink };
  taps.add(tap);
  return () => void taps.delete(tap);
};

/** Hands a line that is not a log event (an embedded-metric-format document) to the taps. */
export const tapLine = (line: string): void => {
  for (const tap of taps) tap.sink(line);
};

/**
 * Keys whose values never reach a log, at any depth: payment tokens, bearer tokens, secrets. A whole `payment`
 * object goes, since it carries the token.
 */
const secretKey = /token|authori[sz]ation|payment|secret|passw(or)?d|cookie|api[-_]?key|credential|signature/i;
/** Bearer tokens in free text (an error message quoting a header). */
const bearer = /\bBearer\s+[\w.~+/-]+=*/gi;
/**
 * A JWT in free text, wherever it starts in a run of token characters (`session-eyJ…`, `id_eyJ…`, `%3DeyJ…`): whole
 * dotted runs are matched, starting only where no token character precedes, and redacted from the `eyJ` in them. A
 * pattern allowed to start at every `eyJ` inside a run took time quadratic in the run (a 200 KB path of `-eyJ`, 13 s).
 */
const dottedRun = /(?<![\w-])[\w-]{11,}\.[\w-]{8,}\.[\w-]*/g;
export const REDACTED = '[REDACTED]';

const redactText = (text: string): string =>
  text.replace(bearer, REDACTED).replace(dottedRun, (run) => {
    const start = run.indexOf('eyJ');
    return start < 0 ? run : `${run.slice(0, start)}${REDACTED}`;
  });

/**
 * An error's name, message, stack and cause; for an AWS SDK error, from its `$metadata`, the service's request id
 * (`serviceRequestId`, not the function's own `awsRequestId`) and HTTP status: what a support case asks for, and
 * nothing of the request it was about.
 */
const serializeError = (error: Error): Record<string, unknown> => {
  const { requestId, httpStatusCode } =
    (error as { $metadata?: { requestId?: string; httpStatusCode?: number } }).$metadata ?? {};
  return {
    name: error.name,
    message: error.message,
    stack: error.stack,
    ...(error.cause ? { cause: error.cause } : {}),
    ...(requestId ? { serviceRequestId: requestId } : {}),
    ...(httpStatusCode ? { httpStatusCode } : {}),
  };
};

/**
 * Powertools Logger's `jsonReplacerFn`: JSON.stringify runs it on every key at every depth, before Powertools' own
 * error formatting, so one pass serializes errors and redacts.
 */
const replacer = (key: string, value: unknown): unknown => {
  if (key !== '' && secretKey.test(key)) return REDACTED;
  if (value instanceof Error) return serializeError(value);
  if (typeof value === 'string') return redactText(value);
  return value;
};

/** A line as given: Powertools' own LogItem drops empty strings and nulls before printing; JSON drops undefined. */
class Line extends LogItem {
  override prepareForPrint(): void {}
}

/**
 * The line's shape, which CloudWatch Logs Insights queries (docs/operations.md) are written against: `timestamp`,
 * `level` in lower case and `message`, then the bound fields (stage, function, correlation and order ids), then the
 * line's own. None of Powertools' Lambda context keys: the functions bind what they log themselves.
 */
class LineFormatter extends LogFormatter {
  override formatAttributes(attributes: UnformattedAttributes, fields: LogAttributes): LogItem {
    return new Line({
      attributes: {
        timestamp: attributes.timestamp.toISOString(),
        level: attributes.logLevel.toLowerCase(),
        message: attributes.message,
        ...fields,
      },
    });
  }
}

const formatter = new LineFormatter();

/** Where one logger's lines go besides the taps, and from which level. */
type Output = { threshold: number; sink: LogSink };

const levelOfThreshold = (threshold: number): WritableLevel =>
  threshold >= LogLevelThreshold.ERROR
    ? 'error'
    : threshold >= LogLevelThreshold.WARN
      ? 'warn'
      : threshold >= LogLevelThreshold.INFO
        ? 'info'
        : 'debug';

/**
 * Powertools Logger, printing through its protected `printLog` to the logger's sink and to the taps instead of its own
 * Console on stdout. It is set to DEBUG: {@link createLogger}'s port decides which lines are built at all.
 */
class TappedLogger extends PowertoolsLogger {
  // Not a #private field: Powertools may print (its own warnings) from its constructor, before this one is set.
  private readonly output: Output | undefined;

  constructor(output: Output, options: ConstructorOptions) {
    super(options);
    this.output = output;
  }

  protected override printLog(logLevel: number, log: LogItem): void {
    const rank = levels.indexOf(levelOfThreshold(logLevel));
    // Powertools' own warnings while it constructs come before the output is set: they go to stdout.
    const { threshold, sink } = this.output ?? { threshold: 0, sink: stdoutSink };
    const toSink = rank >= threshold;
    const toTaps = [...taps].filter((tap) => rank >= tap.threshold);
    if (!toSink && toTaps.length === 0) return;
    log.prepareForPrint();
    const line = JSON.stringify(log.getAttributes(), this.getJsonReplacer());
    if (toSink) sink(line);
    for (const tap of toTaps) tap.sink(line);
  }
}

/**
 * The port over one Powertools logger. A child binds its fields here and hands them with each line, rather than
 * through Powertools' `createChild`: that builds a whole Logger (about 0.2 ms), and the stream consumers bind a child
 * per record. Lines below both the logger's level and every tap's are never built.
 */
const port = (logger: PowertoolsLogger, threshold: number, bound: LogFields = {}): Logger => {
  const write =
    (lineLevel: WritableLevel) =>
    (message: string, fields: LogFields = {}): void => {
      const rank = levels.indexOf(lineLevel);
      if (rank < threshold && (taps.size === 0 || ![...taps].some((tap) => rank >= tap.threshold))) return;
      logger[lineLevel](message, { ...bound, ...fields });
    };
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    child: (fields) => port(logger, threshold, { ...bound, ...fields }),
  };
};

/**
 * One JSON object per line, as CloudWatch Logs Insights reads them, on Powertools Logger. Base fields (function,
 * stage) come first, then the bound fields (correlation id, order id), then the line's own. Values under
 * secret-looking keys (`token`, `authorization`, `payment`, …) are replaced by `[REDACTED]`, whoever logs them.
 */
export const createLogger = ({
  level = 'info',
  fields = {},
  sink = stdoutSink,
}: { level?: LogLevel; fields?: LogFields; sink?: LogSink } = {}): Logger => {
  const threshold = levels.indexOf(level);
  const logger = new TappedLogger(
    { threshold, sink },
    { logLevel: 'DEBUG', logFormatter: formatter, jsonReplacerFn: replacer, persistentKeys: fields },
  );
  return port(logger, threshold);
};
