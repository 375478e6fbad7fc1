import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import { functionHandlers, invoke } from './lambda.js';
import type { ServerlessConfig } from './serverlessConfig.js';

/** A `schedule` event as serverless.yml declares it: an expression, or an object with one or more. */
const ScheduleEvent = z.union([
  z.string(),
  z.looseObject({
    rate: z.union([z.string(), z.array(z.string())]),
    enabled: z.boolean().default(true),
    input: z.unknown().optional(),
  }),
]);

/** One schedule of one function, as the local scheduler runs it. */
export type Schedule = {
  functionName: string;
  expression: string;
  /** How often it fires; undefined for what the local scheduler cannot run (cron expressions). */
  everyMs: number | undefined;
  enabled: boolean;
  /** What the function receives instead of EventBridge's scheduled event, when serverless.yml says. */
  input?: unknown;
};

const units: Record<string, number> = { second: 1000, minute: 60_000, hour: 3_600_000, day: 86_400_000 };

/** Milliseconds between firings of `rate(5 minutes)`, `rate(1 hour)`…; undefined for anything else (`cron(…)`). */
export const rateMs = (expression: string): number | undefined => {
  const match = /^rate\(\s*(\d+)\s+(second|minute|hour|day)s?\s*\)$/.exec(expression.trim());
  if (!match) return undefined;
  const [, count, unit] = match;
  return Number(count) * (units[unit ?? ''] ?? 0) || undefined;
};

/** Every `schedule` event of serverless.yml's functions, an entry per expression. */
export const schedulesOf = (config: ServerlessConfig): Schedule[] =>
  Object.entries(config.functions ?? {}).flatMap(([functionName, fn]) =>
    (fn.events ?? [])
      .filter((event): event is { schedule: unknown } => 'schedule' in event)
      .flatMap(({ schedule }) => {
        const parsed = ScheduleEvent.parse(schedule);
        const settings = typeof parsed === 'string' ? { rate: parsed, enabled: true, input: undefined } : parsed;
        return [settings.rate].flat().map((expression) => ({
          functionName,
          expression,
          everyMs: rateMs(expression),
          enabled: settings.enabled,
          ...(settings.input !== undefined ? { input: settings.input } : {}),
        }));
      }),
  );

/**
 * How long until a schedule's next firing: on the clock's multiples of its rate (every 5 minutes at :00, :05, …), so
 * that a restart of the local stack does not put its next firing off by a whole period, or, restarted more often
 * than that, forever (as a sweep would be).
 */
export const firstFiringInMs = (everyMs: number, now: number): number => everyMs - (now % everyMs);

export type LocalSchedules = {
  schedules: Schedule[];
  /** Fires a function's schedule now, as EventBridge would, and answers what the handler returned. */
  fire(functionName: string): Promise<unknown>;
  /** Stops firing, and waits for the invocations under way. */
  stop(): Promise<void>;
};

/**
 * Local only: EventBridge's scheduled rules for serverless.yml's `schedule` events (the sweeper's, say). Each enabled
 * schedule invokes its function through local/lambda.ts, as Lambda would, at its rate, with EventBridge's scheduled
 * event (or the event's `input`). A firing is skipped while the last one still runs. Cron expressions are not run.
 *
 * `every` (or `ORDERFLOW_SCHEDULE_RATE`, e.g. `rate(30 seconds)`) overrides every rate, to watch a schedule by hand;
 * `ORDERFLOW_SCHEDULE_RATE=off` runs none. Tests fire a schedule, or invoke the handler, themselves.
 */
export const startSchedules = ({
  config,
  every = process.env.ORDERFLOW_SCHEDULE_RATE,
  log = () => undefined,
}: {
  config: ServerlessConfig;
  every?: string | undefined;
  log?: (line: string) => void;
}): LocalSchedules => {
  const handlerOf = functionHandlers(config);
  const schedules = schedulesOf(config);
  const timers: NodeJS.Timeout[] = [];
  const inFlight = new Set<Promise<unknown>>();

  const event = (schedule: Schedule) =>
    schedule.input ?? {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '000000000000',
      time: new Date().toISOString(),
      region: config.provider.region,
      resources: [
        `arn:aws:events:${config.provider.region}:000000000000:rule/${config.service}-${config.provider.stage}-${schedule.functionName}`,
      ],
      detail: {},
    };

  const fire = async (schedule: Schedule): Promise<unknown> => {
    const run = (async () =>
      invoke(config, schedule.functionName, await handlerOf(schedule.functionName), event(schedule)))();
    inFlight.add(run);
    try {
      return await run;
    } finally {
      inFlight.delete(run);
    }
  };

  const override = every === 'off' ? 'off' : every ? rateMs(every) : undefined;
  if (every && override === undefined)
    log(`schedules: ORDERFLOW_SCHEDULE_RATE "${every}" is not rate(N unit); ignored`);
  for (const schedule of schedules) {
    const everyMs = typeof override === 'number' ? override : schedule.everyMs;
    if (override === 'off' || !schedule.enabled || everyMs === undefined) {
      const why = override === 'off' ? 'schedules off' : !schedule.enabled ? 'disabled' : 'not a rate expression';
      log(`schedules: ${schedule.functionName} ${schedule.expression} not run (${why})`);
      continue;
    }
    let running = false;
    const tick = () => {
      if (running) return;
      running = true;
      fire(schedule)
        .catch((error: unknown) => log(`schedules: ${schedule.functionName} failed: ${(error as Error).message}`))
        .finally(() => (running = false));
    };
    const first = setTimeout(
      () => {
        tick();
        const timer = setInterval(tick, everyMs);
        timer.unref();
        timers.push(timer);
      },
      firstFiringInMs(everyMs, Date.now()),
    );
    first.unref();
    timers.push(first);
    const source =
      typeof override === 'number'
        ? `ORDERFLOW_SCHEDULE_RATE; serverless.yml: ${schedule.expression}`
        : schedule.expression;
    log(`schedules: ${schedule.functionName} every ${everyMs / 1000} s (${source})`);
  }

  return {
    schedules,
    fire: (functionName) => {
      const schedule = schedules.find((s) => s.functionName === functionName);
      if (!schedule) throw new Error(`serverless.yml gives ${functionName} no schedule`);
      return fire(schedule);
    },
    async stop() {
      for (const timer of timers) clearTimeout(timer);
      await Promise.allSettled([...inFlight]);
    },
  };
};
