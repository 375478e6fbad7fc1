/**
 * AWS list prices `npm run cost` uses, in USD, for one region, as published on the services' pricing pages on the
 * date below. Prices change: check the pages, update the numbers and the date together. serverless.yml deploys to
 * eu-west-1 by default, where most of these are some 5–15% higher; the request counts the cost run prints hold in
 * any region.
 */
export const prices = {
  region: 'us-east-1',
  asOf: '2026-11-23',
  dynamodb: {
    /** On-demand, per write request unit (1 KB; transactional writes take 2). */
    writeRequestUnit: 0.625 / 1e6,
    /** On-demand, per read request unit (4 KB strongly consistent; transactional reads take 2). */
    readRequestUnit: 0.125 / 1e6,
    /** Provisioned capacity (serverless.yml's custom.capacity), per write capacity unit and hour: one 1 KB write a second. */
    writeCapacityUnitHour: 0.00065,
    /** Provisioned capacity, per read capacity unit and hour: one 4 KB strongly consistent read a second. */
    readCapacityUnitHour: 0.00013,
    /** Kinesis Data Streams for DynamoDB: one change data capture unit per item change of up to 1 KB. */
    changeDataCaptureUnit: 0.1 / 1e6,
  },
  kinesis: {
    /** Provisioned mode: per PUT payload unit (25 KB). */
    putPayloadUnit: 0.014 / 1e6,
    /** Provisioned mode: per shard and hour; a fixed cost, not a cost per order. */
    shardHour: 0.015,
    /** Extended retention, past 24 hours up to 7 days: per shard and hour, on top of `shardHour`. */
    extendedRetentionShardHour: 0.02,
  },
  lambda: {
    request: 0.2 / 1e6,
    /** arm64 (serverless.yml's architecture), first 7.5 billion GB-seconds a month. */
    gbSecond: 0.0000133334,
  },
  apiGateway: {
    /** HTTP API, first 300 million requests a month (each 512 KB of payload is a request). */
    request: 1.0 / 1e6,
  },
  stepFunctions: {
    /** STANDARD: per state transition, retries included. */
    stateTransition: 0.025 / 1000,
    /** EXPRESS: per execution started. */
    expressRequest: 1.0 / 1e6,
    /** EXPRESS: per GB-second, duration rounded up to 100 ms, memory billed in 64 MB steps (64 MB at least). */
    expressGbSecond: 0.00001667,
  },
  xray: {
    /** Per trace recorded (the first 100,000 a month are free; retrieving and scanning are billed apart, when looked at). */
    traceRecorded: 5.0 / 1e6,
    /**
     * The sampling Lambda's active tracing applies to each function, and the default rule a state machine's: the first
     * request each second, then this share of the rest.
     */
    reservoirPerSecond: 1,
    fixedRate: 0.05,
  },
  cloudWatch: {
    /** Per custom metric (a name and dimensions) a month, first 10,000: what EMF documents create. */
    metricMonth: 0.3,
    /** Per standard-resolution alarm metric a month (a metric math alarm pays for each metric it reads). */
    alarmMetricMonth: 0.1,
    /** Per dashboard a month, beyond an account's first three. */
    dashboardMonth: 3,
  },
  cloudWatchLogs: {
    /** Standard log class, per GB ingested: each log event's bytes plus `eventOverheadBytes` of metadata. */
    ingestedGb: 0.5,
    eventOverheadBytes: 26,
  },
} as const;
