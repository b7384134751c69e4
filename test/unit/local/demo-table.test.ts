import { describe, expect, test } from '@jest/globals';
import { noticesAbout, printDemoTable, type DemoUserOutcome } from '#local/demo-table.ts';
import type { PublishedNotification } from '#local/moto-inspect.ts';
import type { RotationReport } from '#local/runner.ts';

const rotation = (status: RotationReport['status']): RotationReport => ({
  status,
  userName: 'app',
  oldAccessKeyId: 'AKIAOLD000000000AAAA',
  newAccessKeyId: 'AKIANEW000000000BBBB',
  topicArn: null,
  executionName: null,
  durationMs: 1,
  states: [],
});

const notice = (event: string, userName = 'app', accountId = '111111111111'): PublishedNotification => ({
  topicArn: 'arn:aws:sns:us-east-1:123456789012:topic',
  subject: event,
  message: '{}',
  attributes: { event, userName, accountId },
});

const user = (overrides: Partial<DemoUserOutcome>): DemoUserOutcome => ({
  userName: 'app',
  scanClasses: ['due'],
  rotations: [rotation('Succeeded')],
  expected: 'Succeeded',
  keys: [{ accessKeyId: 'AKIANEW000000000BBBB', status: 'Active' }],
  currentKeyId: 'AKIANEW000000000BBBB',
  consumers: [],
  notices: [],
  ...overrides,
});

function printed(users: readonly DemoUserOutcome[]): { surprises: number; text: string } {
  const lines: string[] = [];
  const surprises = printDemoTable({ out: (text) => lines.push(text), err: (text) => lines.push(text) }, users);
  return { surprises, text: lines.join('\n') };
}

describe('the demos’ outcome table', () => {
  test('a user with two rotations shows one outcome, as a surprise, rather than the first of them', () => {
    // Act
    const { surprises, text } = printed([user({ rotations: [rotation('Succeeded'), rotation('Succeeded')] })]);

    // Assess
    expect(surprises).toBe(1);
    expect(text).toContain('2 rotations started (expected Succeeded)');
    expect(text).not.toMatch(/│ Succeeded\s+│/);
  });

  test('the legend explains how runs ended only for the ends the table shows', () => {
    // Act
    const succeeded = printed([user({})]).text;
    const failed = printed([user({ rotations: [rotation('Failed')], expected: 'Failed' })]).text;

    // Assess
    expect(succeeded).toContain('★ marks the key');
    expect(succeeded).not.toContain('MakeSafe');
    expect(succeeded).not.toContain('NeedsAttention and RolledBack');
    expect(failed).toContain('"MakeSafe ok" then "Failed"');
  });

  test('notices are the user’s in its own account, each event once with its count', () => {
    // Prepare
    const notifications = [
      notice('rotation-started'),
      notice('action-needed'),
      notice('action-needed'),
      notice('rotation-started', 'app', '222222222222'),
    ];

    // Act
    const { text } = printed([
      user({ account: { name: 'prod', id: '111111111111' }, notices: noticesAbout(notifications, 'app', '111111111111') }),
    ]);

    // Assess
    expect(text).toMatch(/│ prod\s+│ app\s+│ due\s+│ Succeeded\s+│ ★00BBBB Active\s+│ \(none\)\s+│ rotation-started\s+│/);
    expect(text).toMatch(/│ action-needed ×2\s+│/);
  });
});
