import { parseArgs } from 'node:util';
import { PointerConflictError } from '../adapters/readModelPointer.js';
import { type ReadModelPointer, RebuildStateError } from '../projections/readModelVersions.js';
import {
  dropReadModelVersion,
  rebuildReadModelUsage,
  rollbackReadModel,
  runRebuild,
  switchReadModel,
} from '../projections/replay/rebuildJob.js';
import { MAX_REPLAY_SEGMENTS, runReplay } from '../projections/replay/replayJob.js';
import { readModelNames } from '../projections/index.js';
import { isTransient } from '../eventstore/errors.js';
import { requireConfirmedStage } from './cliArgs.js';
import { eventsRead, progressPrinter, seconds } from './replayProgress.js';
import { stageClients } from './stage.js';

/**
 * `npm run replay -- [--projection <read model>|all] [--from-scratch] [--stage <name>] [--segments N] [--restart]`
 * rebuilds read models in place, from the event store, while the API keeps serving. Without --stage it works on
 * the running local stack (`npm start`); with it, on that deployed stage, with your AWS credentials.
 *
 * Blue-green (ADR 0009), one projection at a time: `--rebuild [--no-switch] [--sample N]` builds the next version
 * beside the live one and switches readers to it once checked; `--switch`, `--rollback`, `--finalize`, `--abort`
 * move the pointer. Bad input answers a problem document (RFC 9457) on stderr and exits 2. Progress goes to stderr,
 * the outcome (finished, switched, rolled back, finalized, aborted) to stdout.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** A problem document; `usage`, an extension member, holds the usage a line apart, so that `detail` reads as one. */
type Problem = { status: number; slug: string; title: string; detail: string; usage?: string[] };
const fail = ({ status, slug, title, detail, usage: lines }: Problem): never => {
  console.error(
    JSON.stringify(
      { type: `urn:orderflow:problem:${slug}`, title, status, detail, ...(lines ? { usage: lines } : {}) },
      null,
      2,
    ),
  );
  process.exit(2);
};

const usage = [
  'Usage:',
  `  npm run replay -- [--projection ${[...readModelNames, 'all'].join('|')}] [--from-scratch] [--restart] [--segments N] [--stage <name>]`,
  '      (--from-scratch on a deployed stage also needs --confirm <name>: it empties the live views first)',
  '      rebuilds read models in place from the event store, while the API keeps serving',
  `  ${rebuildReadModelUsage.replace(/^Usage: /, '')}`,
  '      blue-green: builds the next version beside the live one, then moves readers to it (ADR 0009)',
].join('\n');

const parsed = (() => {
  try {
    return parseArgs({
      options: {
        projection: { type: 'string', default: 'all' },
        stage: { type: 'string', default: 'local' },
        confirm: { type: 'string' },
        'from-scratch': { type: 'boolean', default: false },
        restart: { type: 'boolean', default: false },
        // No default here either: --segments given to --resume is refused below, which a default would hide.
        segments: { type: 'string' },
        rebuild: { type: 'boolean', default: false },
        'no-switch': { type: 'boolean', default: false },
        resume: { type: 'boolean', default: false },
        sample: { type: 'string' },
        switch: { type: 'boolean', default: false },
        rollback: { type: 'boolean', default: false },
        finalize: { type: 'boolean', default: false },
        abort: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    return fail({
      status: 400,
      slug: 'validation-failed',
      title: 'Unknown or malformed option',
      detail: `${error instanceof Error ? error.message : String(error)}.`,
      usage: usage.split('\n'),
    });
  }
})();
const { values } = parsed;
if (values.help) {
  console.log(usage);
  process.exit(0);
}

const projections =
  values.projection === 'all' ? readModelNames : readModelNames.filter((name) => name === values.projection);
if (projections.length === 0) {
  fail({
    status: 400,
    slug: 'validation-failed',
    title: 'Unknown projection',
    detail: `Unknown projection "${values.projection}": use ${readModelNames.join(', ')} or all.`,
  });
}
const positive = (name: 'segments' | 'sample', max: number, given = values[name]): number => {
  const value = Number(given);
  if (!Number.isInteger(value) || value < 1 || value > max) {
    fail({
      status: 400,
      slug: 'validation-failed',
      title: `Invalid --${name}`,
      detail: `--${name} must be a whole number from 1 to ${max}, not "${given}".`,
    });
  }
  return value;
};
const segments = positive('segments', MAX_REPLAY_SEGMENTS, values.segments ?? '4');
// No parseArgs default: --sample given without --rebuild is refused below, which a default would hide.
const sample = positive('sample', 100_000, values.sample ?? '200');

const commands = (['rebuild', 'switch', 'rollback', 'finalize', 'abort'] as const).filter((name) => values[name]);
if (commands.length > 1 || (commands.length === 1 && (values['from-scratch'] || values.restart))) {
  fail({
    status: 400,
    slug: 'validation-failed',
    title: 'Conflicting options',
    detail: `Give one of --${[...commands, ...(values['from-scratch'] ? ['from-scratch'] : []), ...(values.restart ? ['restart'] : [])].join(', --')} at a time. ${rebuildReadModelUsage}`,
  });
}
const [command] = commands;
if (values['from-scratch']) {
  requireConfirmedStage(
    values.stage,
    values.confirm,
    '--from-scratch would empty the live read models, and customers would list no orders until the replay refilled them ' +
      '(--rebuild builds a new version beside the live one instead)',
    (detail) => fail({ status: 400, slug: 'confirmation-required', title: 'Confirm the stage', detail }),
  );
}
const projection = projections[0];
if (command && (projections.length !== 1 || !projection)) {
  fail({
    status: 400,
    slug: 'validation-failed',
    title: 'One projection at a time',
    detail: `--${command} works on one read model: add --projection orders or --projection products.`,
  });
}
// What only goes with another option is refused without it, not ignored: an operator who typed it meant something.
if (values.confirm !== undefined && !values['from-scratch']) {
  fail({
    status: 400,
    slug: 'validation-failed',
    title: 'Misplaced --confirm',
    detail: '--confirm <stage> goes with --from-scratch on a deployed stage (--stage <stage>).',
  });
}
if (values.resume && values.segments !== undefined) {
  fail({
    status: 400,
    slug: 'validation-failed',
    title: 'Misplaced --segments',
    detail: '--segments goes with a new --rebuild: a resumed one goes on with the segments it began with.',
  });
}
for (const option of ['no-switch', 'resume', 'sample'] as const) {
  if (values[option] !== undefined && values[option] !== false && command !== 'rebuild') {
    fail({
      status: 400,
      slug: 'validation-failed',
      title: `Misplaced --${option}`,
      detail: `--${option} goes with --rebuild.`,
    });
  }
}

const print = progressPrinter({
  isTTY: process.stderr.isTTY === true,
  write: (text) => process.stderr.write(text),
});

const describePointer = (pointer: ReadModelPointer): string =>
  [
    `live: version ${pointer.live.version} (${pointer.live.slot})`,
    pointer.previous ? `kept for rollback: version ${pointer.previous.version} (${pointer.previous.slot})` : '',
    pointer.building
      ? `building: version ${pointer.building.version} (${pointer.building.slot}), ${pointer.building.phase}`
      : '',
    pointer.dropping
      ? `still deleting: version ${pointer.dropping.version} (${pointer.dropping.slot}), since ${pointer.dropping.since}`
      : '',
  ]
    .filter(Boolean)
    .join(' · ');

/** On Ctrl-C, what the stop left behind and what to run next, said as it was at the moment of the stop. */
const onInterrupt = (advice: () => string) =>
  process.once('SIGINT', () => {
    console.error(`\n${advice()}`);
    process.exit(130);
  });

/** How an in-place replay that stopped midway goes on: from its checkpoints, never by emptying the views again. */
const inPlaceResume = values['from-scratch']
  ? 'The live views were emptied and are partly replayed: run the replay again without --from-scratch (which would empty them again and start over) to go on from the last checkpoints'
  : 'Run the same command again to go on from the last checkpoints (--restart starts over)';

/** Whether a replay or a rebuild began, so that a failure left checkpoints to resume from. */
let began = false;
try {
  const clients = await stageClients(values.stage);
  // A rebuild has begun once its pointer names the build, a drop once the pointer marks it, a replay once the stage
  // has answered its first reads; one refused or failing before that (no credentials, no such stage, a build already
  // there) left nothing to resume.
  if (command && projection) {
    if (command === 'rebuild') {
      // Stopped midway, a rebuild that had begun goes on from its checkpoints: say how, as a failure would.
      onInterrupt(() =>
        began
          ? 'Stopped. Run --rebuild --resume to go on from the last checkpoints, or --abort to drop the build.'
          : 'Stopped before the rebuild began: nothing to resume.',
      );
      const summary = await runRebuild({
        clients,
        projection,
        segments,
        sample,
        switchWhenReady: !values['no-switch'],
        resume: values.resume,
        // Said once the pointer names the build: a rebuild refused at its start (one already there) never began.
        onBegun: () => {
          began = true;
          console.error(
            `${values.resume ? 'Resuming the rebuild of' : 'Rebuilding'} ${projection} beside the live version on stage "${clients.stage}"…`,
          );
        },
        onProgress: print,
      });
      print(summary, { final: true });
      console.log(`
${summary.resumed ? 'Resumed and finished' : 'Finished'} run ${summary.runId} in ${seconds(summary.elapsedMs)}: version ${summary.version} (${summary.slot})
  events read      ${eventsRead(summary)}
  streams folded   ${summary.streams.toLocaleString('en')}
  caught up        ${summary.caughtUp.toLocaleString('en')} stream(s) the live projection applied events of during the scan
  parity check     ${summary.parity.sampled} stream(s) sampled from all the read model's streams now, those begun since the scan too: no mismatch${summary.parity.earlier ? ' (by the run that built it)' : ''}
  streams parked   ${summary.failed}${summary.failed > 0 ? ' — see `npm run redrive` once the cause is fixed' : ''}
  ${summary.switched ? 'switched' : 'ready, not switched (--switch when you are)'}: ${describePointer(summary.pointer)}`);
    } else if (command === 'switch' || command === 'rollback') {
      const pointer = await (command === 'switch' ? switchReadModel : rollbackReadModel)(clients, projection);
      console.log(
        `${command === 'switch' ? 'Switched' : 'Rolled back'} ${projection}: ${describePointer(pointer)}. Readers follow within ${clients.readModelCacheMs} ms.`,
      );
    } else {
      // Stopped midway, the slot stays marked as being emptied, and a --rebuild is refused until it is: say so.
      let dropping = false;
      onInterrupt(() =>
        dropping
          ? 'Stopped. The drop had begun and its views are not all deleted: run --finalize or --abort again to finish it (a --rebuild is refused until then).'
          : 'Stopped before the drop began: nothing changed.',
      );
      // Said once the pointer marks the slot: a drop refused (nothing to drop) never began.
      const { pointer, slot, deleted } = await dropReadModelVersion(clients, projection, command, segments, () => {
        dropping = true;
        began = true;
        console.error(
          `${command === 'finalize' ? 'Finalizing' : 'Aborting'} ${projection} on stage "${clients.stage}": the pointer is marked; deleting the dropped version's views…`,
        );
      });
      console.log(
        `${command === 'finalize' ? 'Finalized' : 'Aborted'} ${projection}: ${deleted.toLocaleString('en')} view(s) dropped from the ${slot} table; ${describePointer(pointer)}.`,
      );
    }
    process.exit(0);
  }
  // Stopped midway, an in-place replay goes on from its checkpoints; --from-scratch again would empty the views anew.
  onInterrupt(() => `Stopped. ${inPlaceResume}.`);
  console.error(
    `Replaying ${projections.join(', ')} on stage "${clients.stage}" from ${clients.tables.events}${values['from-scratch'] ? ' (from scratch)' : ''}…`,
  );
  const summary = await runReplay({
    clients,
    projections,
    fromScratch: values['from-scratch'],
    restart: values.restart,
    segments,
    onProgress: print,
    onBegun: () => {
      began = true;
    },
  });
  print(summary, { final: true });
  console.log(`
${summary.resumed ? 'Resumed and finished' : 'Finished'} run ${summary.runId} in ${seconds(summary.elapsedMs)}:
  events read      ${eventsRead(summary)}
  streams folded   ${summary.streams.toLocaleString('en')}
  views cleared    ${summary.cleared.toLocaleString('en')}${values['from-scratch'] ? '' : ' (not --from-scratch)'}
  streams parked   ${summary.failed}${summary.failed > 0 ? ' — see `npm run redrive` once the cause is fixed' : ''}`);
  process.exit(0);
} catch (error) {
  if (error instanceof RebuildStateError || error instanceof PointerConflictError) {
    fail({ status: 409, slug: 'read-model-version-conflict', title: 'Not in that state', detail: error.message });
  }
  const message = error instanceof Error ? error.message : String(error);
  // The local stack stopped under a running command: say so, not only the socket's error.
  const stopped =
    values.stage === 'local' && (error as { code?: unknown }).code === 'ECONNREFUSED'
      ? ' (the local stack stopped answering: start it again with `npm start`)'
      : '';
  console.error(`\n${command ?? 'replay'} failed: ${message}${stopped}`);
  // A throttle or a timeout passes by itself; anything else (an upcaster that throws, a missing grant) fails the resume
  // the same way until it is fixed.
  const again = `run the same command again${began && command === 'rebuild' ? ' with --resume' : ''}`;
  console.error(
    began && command === undefined
      ? `${isTransient(error) ? '' : 'Fix the cause. '}${inPlaceResume}.`
      : began
        ? `It can be resumed: ${isTransient(error) ? again : `fix the cause, then ${again}`}.`
        : `Fix the cause and ${again}.`,
  );
  // 1: it ran and failed, with checkpoints to go on from; 2: it could not run, as every ops command says that.
  process.exit(began ? 1 : 2);
}
