import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../../local/paths.js';
import { namedStream } from '../../../ops/cliArgs.js';

// A state folder of its own: with the developer's `npm start` running, `gateway down` on the local stage would take
// that stack's gateway down.
const stateDir = mkdtempSync(join(tmpdir(), 'orderflow-cli-'));
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

/** An ops command as `npm run` runs it, without a stack: what it answers to its arguments alone. */
const run = (script: string, ...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', `ops/${script}`, ...args], {
    cwd: projectRoot,
    encoding: 'utf8',
    env: { ...process.env, ORDERFLOW_STATE_DIR: stateDir },
  });

describe('the ops commands’ arguments (ops/cliArgs.ts)', () => {
  it.each([
    ['orderCli.ts', 'usage: npm run order -- <orderId>'],
    ['gatewayCli.ts', 'usage: npm run gateway -- down|up|status'],
    ['redriveCli.ts', 'usage: npm run redrive -- [<streamId>]'],
  ])(
    '%s: --help prints the usage and exits 0; a bad option or a stray argument says so, exits 2',
    (script, usage) => {
      const help = run(script, '--help');
      expect(help.status).toBe(0);
      expect(help.stdout).toContain(usage);

      for (const [args, problem] of [
        [['--bogus'], "Unknown option '--bogus'"],
        [['--stage'], "Option '--stage <value>' argument missing"],
        [['one', 'two'], 'Unexpected argument: two'],
      ] as const) {
        const answer = run(script, ...args);
        expect(answer.status, args.join(' ')).toBe(2);
        expect(answer.stderr).toContain(problem);
        expect(answer.stderr).toContain(usage);
        expect(answer.stderr).not.toMatch(/\n\s+at /);
      }
      // Four fresh Node processes, each compiling the command with tsx: on a loaded machine that is seconds.
    },
    60_000,
  );

  it('gateway: names a command it does not know, and refuses --confirm where nothing asks for it (exit 2)', () => {
    const typo = run('gatewayCli.ts', 'dwn');
    expect(typo.status).toBe(2);
    expect(typo.stderr).toContain('"dwn" is not one of down, up, status.');
    const misplaced = run('gatewayCli.ts', 'up', '--confirm', 'local');
    expect(misplaced.status).toBe(2);
    expect(misplaced.stderr).toContain('--confirm <stage> goes with down');
  }, 60_000);

  it('invariants: exits 2, not 1, when it could not check (no stack running), so a script can tell it from a broken one', () => {
    const answer = run('invariantsCli.ts');
    expect(answer.status).toBe(2);
    expect(answer.stderr).toContain('The local stack is not running');
    expect(answer.stdout).not.toContain('broken');
  }, 60_000);

  it.each([
    ['orderCli.ts', ['3f0c2a1e-9b7d-4c1e-8f00-0123456789ab'], 'order failed:'],
    ['redriveCli.ts', [], 'redrive failed:'],
    ['gatewayCli.ts', ['status'], 'gateway failed:'],
    ['replayCli.ts', ['--projection', 'orders', '--rebuild'], 'rebuild failed:'],
    ['replayCli.ts', ['--projection', 'orders'], 'replay failed:'],
  ])(
    '%s exits 2, not the 1 of a finding (no such order, a stream parked again), when it could not run',
    (script, args, failed) => {
      const answer = run(script, ...args);
      expect(answer.status).toBe(2);
      expect(answer.stderr).toContain(failed);
      expect(answer.stderr).toContain('The local stack is not running');
    },
    60_000,
  );

  it('empties or breaks a deployed stage only when --confirm repeats its name, before touching anything', () => {
    for (const [script, args] of [
      ['replayCli.ts', ['--from-scratch', '--stage', 'prod']],
      ['gatewayCli.ts', ['down', '--stage', 'prod']],
    ] as const) {
      // replay answers its refusals as problem documents (docs/problems.md); the gateway command in plain text.
      const refusal = (stderr: string) =>
        script === 'replayCli.ts'
          ? (JSON.parse(stderr) as { type: string; status: number; detail: string })
          : undefined;
      const unconfirmed = run(script, ...args);
      expect(unconfirmed.status, script).toBe(2);
      const detail = refusal(unconfirmed.stderr)?.detail ?? unconfirmed.stderr;
      expect(detail).toContain('Not done:');
      expect(detail).toContain('--confirm prod');
      const misnamed = run(script, ...args, '--confirm', 'staging');
      expect(misnamed.status, script).toBe(2);
      expect(refusal(misnamed.stderr)?.detail ?? misnamed.stderr).toContain('(--confirm named "staging")');
      if (script === 'replayCli.ts') {
        expect(refusal(misnamed.stderr)).toMatchObject({
          type: 'urn:orderflow:problem:confirmation-required',
          status: 400,
        });
      }
    }
  }, 60_000);

  it('refuses an option of the replay command given without the one it goes with, rather than ignore it', () => {
    for (const [args, title] of [
      [['--sample', '7'], 'Misplaced --sample'],
      [['--confirm', 'prod'], 'Misplaced --confirm'],
      // More segments than one execution's history holds with room for hand-overs (MAX_REPLAY_SEGMENTS).
      [['--segments', '251'], 'Invalid --segments'],
      // A resumed build goes on with the segments it began with: another count would be ignored.
      [['--projection', 'orders', '--rebuild', '--resume', '--segments', '8'], 'Misplaced --segments'],
    ] as const) {
      const answer = run('replayCli.ts', ...args);
      expect(answer.status, args.join(' ')).toBe(2);
      expect(JSON.parse(answer.stderr), args.join(' ')).toMatchObject({ status: 400, title });
    }
    // An unknown option: the detail says which, in one line; the usage follows as lines of its own.
    const unknown = run('replayCli.ts', '--bogus');
    expect(unknown.status).toBe(2);
    const problem = JSON.parse(unknown.stderr) as { detail: string; usage: string[] };
    expect(problem.detail).toContain("Unknown option '--bogus'");
    expect(problem.detail).not.toContain('\n');
    expect(problem.usage[0]).toBe('Usage:');
  }, 60_000);

  it('names a stage with upper case as no stage at all, before asking for credentials', () => {
    const answer = run('orderCli.ts', '3f0c2a1e-9b7d-4c1e-8f00-0123456789ab', '--stage', 'Prod');
    expect(answer.status).toBe(2);
    expect(answer.stderr).toContain('No stage is named "Prod": stage names are lower case (did you mean "prod"?).');
  }, 30_000);

  it('names a stage no deploy could have, or an empty one, as no stage, rather than let osls fail on it', () => {
    const spaced = run('invariantsCli.ts', '--stage', 'bad stage');
    expect(spaced.status).toBe(2);
    expect(spaced.stderr).toContain('No stage is named "bad stage": a stage name is letters, digits and hyphens.');
    expect(spaced.stderr).not.toContain('osls');
    const empty = run('orderCli.ts', '3f0c2a1e-9b7d-4c1e-8f00-0123456789ab', '--stage', '');
    expect(empty.status).toBe(2);
    expect(empty.stderr).toContain('No stage is named "": name one, or leave --stage out for the local stack.');
  }, 30_000);

  it('takes a mistyped order id for a usage error, not for an order that does not exist', () => {
    const answer = run('orderCli.ts', 'not-a-uuid');
    expect(answer.status).toBe(2);
    expect(answer.stderr).toContain('not an order id: "not-a-uuid"');
  }, 30_000);

  it('refuses --start-saga and --compensate together, the alternatives its usage says they are', () => {
    const answer = run('orderCli.ts', '3f0c2a1e-9b7d-4c1e-8f00-0123456789ab', '--start-saga', '--compensate');
    expect(answer.status).toBe(2);
    expect(answer.stderr).toContain('--start-saga and --compensate are alternatives: give one.');
  }, 30_000);

  it('redrives only what names a stream: a bare order id is its order’s, anything else is refused, not "not parked"', () => {
    const answer = run('redriveCli.ts', 'orders-42');
    expect(answer.status).toBe(2);
    expect(answer.stderr).toContain('orders-42 names no stream');
  }, 30_000);

  it('takes a stream as named, a bare order id as its order’s, and nothing else', () => {
    const orderId = '3f0c2a1e-9b7d-4c1e-8f00-0123456789ab';
    expect(namedStream(`order-${orderId}`)).toBe(`order-${orderId}`);
    expect(namedStream('product-MUG-1')).toBe('product-MUG-1');
    expect(namedStream(orderId)).toBe(`order-${orderId}`);
    for (const none of ['orders-42', 'order-', 'MUG-1', '3f0c2a1e']) expect(namedStream(none), none).toBeUndefined();
  });

  it('asks no --confirm on the local stack, nor once --confirm names the stage', () => {
    // No stack runs here, and no stage of this name is deployed anywhere (never prod: a developer's credentials
    // could reach it): the command gets past the guard and fails on the stage, not at the guard.
    const nowhere = 'no-such-stage-for-tests';
    for (const args of [['down'], ['down', '--stage', nowhere, '--confirm', nowhere]]) {
      const answer = run('gatewayCli.ts', ...args);
      expect(answer.stderr, args.join(' ')).not.toContain('Not done:');
      expect(answer.stderr, args.join(' ')).toContain('gateway failed:');
      expect(answer.status, args.join(' ')).toBe(2);
    }
  }, 60_000);

  it('does not call a rebuild refused before it began resumable', () => {
    // No credentials (a profile that does not exist): refused at the first read, before the pointer names a build.
    const answer = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'ops/replayCli.ts',
        '--projection',
        'orders',
        '--rebuild',
        '--stage',
        'no-such-stage-for-tests',
      ],
      {
        cwd: projectRoot,
        encoding: 'utf8',
        env: {
          ...process.env,
          ORDERFLOW_STATE_DIR: stateDir,
          AWS_PROFILE: 'orderflow-no-such-profile',
          AWS_EC2_METADATA_DISABLED: 'true',
        },
      },
    );
    // It could not run: 2, as every ops command says that, not the 1 of a rebuild that failed part way.
    expect(answer.status).toBe(2);
    expect(answer.stderr).toContain('Fix the cause and run the same command again.');
    expect(answer.stderr).not.toContain('--resume');
  }, 60_000);
});
