import { readFileSync } from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import { validateSchedule } from '#shared/config/schedule.ts';
import { repoPath } from '../../helpers/paths.ts';

describe('validateSchedule: the scan schedule expression', () => {
  test("serverless.yml's scanSchedule param is a valid schedule expression", () => {
    // Prepare: the scanSchedule param as serverless.yml writes it.
    const yaml = readFileSync(repoPath('serverless.yml'), 'utf8');
    const param = /^\s*scanSchedule:\s*(.+)$/m.exec(yaml)?.[1]?.trim() ?? '';

    // Act & Assess
    expect(validateSchedule(param)).toBe(param);
  });

  test.each(['rate(1 day)', 'rate(12 hours)', 'rate(30 minutes)', 'cron(0 6 * * ? *)', 'cron(15 3 ? * MON-FRI *)'])(
    '%s is accepted',
    (expression) => {
      // Act & Assess
      expect(validateSchedule(expression)).toBe(expression);
    },
  );

  test.each([
    ['rate(0 days)', /at least every 1 unit/],
    ['rate(1 days)', /singular/],
    ['rate(2 day)', /plural/],
    ['rate(1 fortnight)', /not a schedule expression/],
    ['rate(-1 days)', /not a schedule expression/],
    ['cron(* * *)', /six/],
    ['cron(0 6 * * * *)', /exactly one of day-of-month and day-of-week/],
    ['cron(0 6 * * ? $rm;)', /characters/],
    ['every day', /not a schedule expression/],
    ['', /not a schedule expression/],
  ])('%s is refused with a ConfigError that says why', (expression, why) => {
    // Act & Assess
    expect(() => validateSchedule(expression)).toThrow(
      expect.objectContaining({ name: 'ConfigError', message: expect.stringMatching(why) }),
    );
  });
});
