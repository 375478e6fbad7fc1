import { parseArgs } from 'node:util';
import { type ProjectionName, type ReplayProgress, runReplay } from './replay.js';
import { stageClients } from './stage.js';

/**
 * `npm run replay -- [--projection orders|inventory|all] [--from-scratch] [--stage <name>] [--segments N] [--restart]`
 * Rebuilds read models from the event store while the API keeps serving. Without --stage it works on the running
 * local stack (`npm start`); with it, on that deployed stage, with your AWS credentials.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { values } = parseArgs({
  options: {
    projection: { type: 'string', default: 'all' },
    stage: { type: 'string', default: 'local' },
    'from-scratch': { type: 'boolean', default: false },
    restart: { type: 'boolean', default: false },
    segments: { type: 'string', default: '4' },
  },
});
const all: ProjectionName[] = ['orders', 'inventory'];
const projections = values.projection === 'all' ? all : all.filter((name) => name === values.projection);
if (projections.length === 0) {
  console.error(`Unknown projection "${values.projection}": use orders, inventory or all.`);
  process.exit(2);
}

const seconds = (ms: number) => `${Math.round(ms / 100) / 10}s`;
const bar = (progress: ReplayProgress): string => {
  const total = Math.max(progress.estimatedTotal, progress.events);
  const share = total === 0 ? 1 : progress.events / total;
  const rate = progress.events / Math.max(0.001, progress.elapsedMs / 1000);
  const eta = rate > 0 && share < 1 ? seconds(((total - progress.events) / rate) * 1000) : '–';
  const width = 30;
  const filled = Math.round(share * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${Math.round(share * 100)}% ${progress.events.toLocaleString('en')}/${total.toLocaleString('en')} events · ${progress.streams.toLocaleString('en')} streams · ${Math.round(rate).toLocaleString('en')} events/s · ETA ${eta} · segments ${progress.segmentsDone}/${progress.segments}`;
};

let lastPrint = 0;
const print = (progress: ReplayProgress) => {
  const now = Date.now();
  if (now - lastPrint < (process.stderr.isTTY ? 200 : 2000)) return;
  lastPrint = now;
  process.stderr.write(process.stderr.isTTY ? `\r${bar(progress)}` : `${bar(progress)}\n`);
};

try {
  const clients = await stageClients(values.stage);
  console.error(
    `Replaying ${projections.join(', ')} on stage "${clients.stage}" from ${clients.tables.events}${values['from-scratch'] ? ' (from scratch)' : ''}…`,
  );
  const summary = await runReplay({
    clients,
    projections,
    fromScratch: values['from-scratch'],
    restart: values.restart,
    segments: Number(values.segments),
    onProgress: print,
  });
  lastPrint = 0;
  print(summary);
  console.error(`
${summary.resumed ? 'Resumed and finished' : 'Finished'} run ${summary.runId} in ${seconds(summary.elapsedMs)}:
  events read      ${summary.events.toLocaleString('en')} (${summary.eventsPerSecond.toLocaleString('en')} events/s)
  streams folded   ${summary.streams.toLocaleString('en')}
  views cleared    ${summary.cleared.toLocaleString('en')}${values['from-scratch'] ? '' : ' (not --from-scratch)'}
  streams parked   ${summary.failed}${summary.failed > 0 ? ' — see `npm run redrive` once the cause is fixed' : ''}`);
  process.exit(0);
} catch (error) {
  console.error(`\nreplay failed: ${error instanceof Error ? error.message : String(error)}`);
  console.error('It can be resumed: run the same command again.');
  process.exit(1);
}
