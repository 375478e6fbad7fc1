import { describe, expect, it } from 'vitest';
import { platformLines, platformLinesLogged, systemLogLevelOf } from '../../../bench/platformLogs.js';

describe("Lambda's own log lines, as npm run cost counts them", () => {
  it('counts START, END and REPORT at INFO or DEBUG, none at WARN', () => {
    expect(platformLinesLogged('INFO')).toEqual(platformLines);
    expect(platformLinesLogged('DEBUG')).toEqual(platformLines);
    expect(platformLinesLogged('WARN')).toEqual([]);
    expect(platformLines.map((line) => line.split(' ')[0])).toEqual(['START', 'END', 'REPORT']);
  });

  it("reads a stage's level from serverless.yml's provider, Lambda's INFO when it names none", () => {
    expect(systemLogLevelOf({ logs: { lambda: { systemLogLevel: 'WARN' } } })).toBe('WARN');
    expect(systemLogLevelOf({ logs: { lambda: {} } })).toBe('INFO');
    expect(systemLogLevelOf({})).toBe('INFO');
  });
});
