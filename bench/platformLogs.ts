/**
 * What an invocation's own lines in CloudWatch Logs weigh beside the function's: Lambda's START, END and REPORT (with
 * the X-Ray trace id that active tracing, on by default, adds to it), in their documented text format (as JSON, which
 * serverless.yml asks for, they weigh more).
 */
const requestId = '8f5e1c3a-2b4d-4e6f-8a9b-0c1d2e3f4a5b';
export const platformLines = [
  `START RequestId: ${requestId} Version: $LATEST`,
  `END RequestId: ${requestId}`,
  `REPORT RequestId: ${requestId}\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 512 MB\tMax Memory Used: 98 MB\t\nXRAY TraceId: 1-674b2c3d-5ac6c58f5f6e4e6b8c6d7e8f\tSegmentId: 6c1e2d3f4a5b6c7d\tSampled: true\t`,
];

/** A stage's system log level (serverless.yml, provider.logs.lambda): Lambda's INFO when it names none. */
export const systemLogLevelOf = (provider: unknown): string =>
  (provider as { logs?: { lambda?: { systemLogLevel?: string } } } | undefined)?.logs?.lambda?.systemLogLevel ?? 'INFO';

/**
 * The lines Lambda writes of its own for an invocation that succeeds, at a system log level: START and REPORT are
 * INFO to Lambda, so WARN writes none of them.
 */
export const platformLinesLogged = (systemLogLevel: string): string[] =>
  systemLogLevel === 'WARN' ? [] : platformLines;
