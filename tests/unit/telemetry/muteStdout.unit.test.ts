import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger, muteStdout, tapLogs } from '../../../functions/observability/logger.js';

describe('muteStdout', () => {
  const undo: (() => void)[] = [];
  afterEach(() => {
    for (const step of undo.splice(0)) step();
    vi.restoreAllMocks();
  });

  it('keeps log lines off stdout while the taps still get them, until every mute is lifted', () => {
    const written: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => written.push(String(chunk)) > 0);
    const tapped: string[] = [];
    undo.push(tapLogs((line) => tapped.push(JSON.parse(line).message), 'warn'));
    const logger = createLogger({ level: 'warn' });

    const unmute = muteStdout();
    const unmuteAgain = muteStdout();
    logger.warn('muted');
    unmute();
    unmute();
    logger.warn('still muted by the other');
    unmuteAgain();
    logger.warn('printed');

    expect(written.map((line) => JSON.parse(line).message)).toEqual(['printed']);
    expect(tapped).toEqual(['muted', 'still muted by the other', 'printed']);
  });
});
