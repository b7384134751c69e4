import { describe, expect, test } from '@jest/globals';
import { buildComplianceReport, rotationsPerWeek, weekOf, type AccountKeys } from '#shared/report/compliance-report.ts';
import { reportCsv, REPORT_CSV_COLUMNS } from '#shared/report/report-csv.ts';
import { csvField } from '#shared/base/csv.ts';
import { outcomeOf, rotationRecordOf, secondsBetween, type RotationRecord } from '#shared/report/rotation-history.ts';
import type { ScannedKey } from '#shared/scan/scanner.ts';
import { parse } from 'csv-parse/sync';

const NOW = new Date('2026-12-02T12:00:00Z');

const key = (overrides: Partial<ScannedKey>): ScannedKey => ({
  userName: 'app',
  accessKeyId: 'AKIAAPP0000000000001',
  status: 'Active',
  createdAt: '2026-08-01T00:00:00.000Z',
  lastUsedAt: '2026-12-01T00:00:00.000Z',
  ageDays: 123,
  lastUsedDaysAgo: 1,
  class: 'due',
  reason: 'past its rotation window',
  action: 'rotate',
  owner: 'team@example.com',
  maxAgeDays: 90,
  dueOn: '2026-10-30',
  secretName: 'iam-key-rotator/app',
  exemptUntil: null,
  ...overrides,
});

const rotation = (overrides: Partial<RotationRecord>): RotationRecord => ({
  executionName: 'app-AKIAAPP0000000000001-scheduled-0123456789',
  accountId: null,
  userName: 'app',
  oldAccessKeyId: 'AKIAAPP0000000000001',
  newAccessKeyId: null,
  kind: 'scheduled',
  outcome: 'Running',
  startedAt: '2026-12-01T10:00:00.000Z',
  stoppedAt: null,
  gateWaitSeconds: null,
  ...overrides,
});

const account = (keys: ScannedKey[], overrides: Partial<AccountKeys> = {}): AccountKeys => ({
  accountId: '111111111111',
  accountName: null,
  keys,
  userErrors: [],
  tagProblems: [],
  error: null,
  ...overrides,
});

const history = (rotations: RotationRecord[]) => ({
  source: 'step-functions' as const,
  since: '2026-09-03T12:00:00.000Z',
  note: null,
  rotations,
});

describe('the compliance report', () => {
  test('a due key is due while a rotation of it runs and overdue when nothing rotates it', () => {
    // Prepare
    const rotating = key({ userName: 'rotating', accessKeyId: 'AKIAROTATING00000001' });
    const stuck = key({ userName: 'stuck', accessKeyId: 'AKIASTUCK00000000001' });
    const running = rotation({ userName: 'rotating', oldAccessKeyId: 'AKIAROTATING00000001' });
    const failed = rotation({
      userName: 'stuck',
      oldAccessKeyId: 'AKIASTUCK00000000001',
      outcome: 'Failed',
      stoppedAt: '2026-12-01T10:05:00.000Z',
    });

    // Act
    const report = buildComplianceReport({
      generatedAt: NOW,
      defaultMaxAgeDays: 90,
      accounts: [account([rotating, stuck])],
      history: history([running, failed]),
    });

    // Assess
    expect(report.keys.map((row) => [row.userName, row.compliance, row.lastRotation?.outcome])).toEqual([
      ['stuck', 'overdue', 'Failed'],
      ['rotating', 'due', 'Running'],
    ]);
    expect(report.summary).toMatchObject({ keys: 2, due: 1, overdue: 1, compliant: 0 });
  });

  test('every class lands in its state, warn counts as compliant and as due soon, and totals add up per account and overall', () => {
    // Prepare
    const classes: ScannedKey['class'][] = ['ok', 'warn', 'unused', 'exempt', 'inactive'];
    const first = account(
      classes.map((cls, index) => key({ class: cls, userName: `u${index}`, accessKeyId: `AKIAFIRST0000000000${index}` })),
    );
    const second = account([key({ class: 'ok', userName: 'other' })], { accountId: '222222222222', accountName: 'payments' });

    // Act
    const report = buildComplianceReport({ generatedAt: NOW, defaultMaxAgeDays: 90, accounts: [first, second], history: history([]) });

    // Assess
    expect(report.summary).toEqual({ keys: 6, compliant: 3, dueSoon: 1, due: 0, overdue: 0, unused: 1, exempt: 1, inactive: 1 });
    expect(report.accounts.map((row) => [row.accountId, row.summary.keys, row.summary.compliant])).toEqual([
      ['111111111111', 5, 2],
      ['222222222222', 1, 1],
    ]);
    expect(report.keys.map((row) => row.compliance)).toEqual(['unused', 'exempt', 'compliant', 'compliant', 'compliant', 'inactive']);
  });

  test('a key created by a rotation carries that rotation, and rotations in a member account stay in it', () => {
    // Prepare
    const created = key({ class: 'ok', accessKeyId: 'AKIANEW0000000000001' });
    const inMember = key({ class: 'ok', accessKeyId: 'AKIANEW0000000000001' });
    const done = rotation({ newAccessKeyId: 'AKIANEW0000000000001', outcome: 'Succeeded', gateWaitSeconds: 340 });

    // Act
    const report = buildComplianceReport({
      generatedAt: NOW,
      defaultMaxAgeDays: 90,
      accounts: [account([created]), account([inMember], { accountId: '222222222222' })],
      history: history([done]),
    });

    // Assess
    const [own, member] = [
      report.keys.find((row) => row.accountId === '111111111111'),
      report.keys.find((row) => row.accountId === '222222222222'),
    ];
    expect(own?.lastRotation).toEqual({
      executionName: done.executionName,
      startedAt: done.startedAt,
      outcome: 'Succeeded',
      gateWaitSeconds: 340,
    });
    expect(member?.lastRotation).toBeNull();
  });

  test('rotations are counted per ISO week (starting Monday, UTC) and outcome, oldest week first', () => {
    // Prepare
    const records = [
      rotation({ startedAt: '2026-11-30T00:00:00.000Z', outcome: 'Succeeded' }), // a Monday
      rotation({ startedAt: '2026-12-06T23:59:59.000Z', outcome: 'Succeeded' }), // the Sunday after
      rotation({ startedAt: '2026-12-06T10:00:00.000Z', outcome: 'RolledBack' }),
      rotation({ startedAt: '2026-11-29T10:00:00.000Z', outcome: 'Failed' }), // the Sunday before
    ];

    // Act
    const weeks = rotationsPerWeek(records);

    // Assess
    expect(weekOf('2026-12-02T08:00:00Z')).toBe('2026-11-30');
    expect(weeks).toEqual([
      { week: '2026-11-23', outcome: 'Failed', count: 1 },
      { week: '2026-11-30', outcome: 'Succeeded', count: 2 },
      { week: '2026-11-30', outcome: 'RolledBack', count: 1 },
    ]);
  });
});

describe("a rotation's record, from its execution", () => {
  test("a succeeded execution is named by the workflow's own outcome, and the gate's wait runs from promotion to its last check", () => {
    // Prepare
    const described = {
      name: 'app-AKIAAPP0000000000001-scheduled-0123456789',
      status: 'SUCCEEDED' as const,
      startDate: new Date('2026-12-01T10:00:00Z'),
      stopDate: new Date('2026-12-01T11:00:00Z'),
      input: JSON.stringify({ userName: 'app', accessKeyId: 'AKIAAPP0000000000001', kind: 'scheduled', accountId: '222222222222' }),
      output: JSON.stringify({
        outcome: { status: 'NeedsAttention' },
        newKey: { accessKeyId: 'AKIANEW0000000000001' },
        promoted: { promotedAt: '2026-12-01T10:01:00.000Z' },
        gate: { checkedAt: '2026-12-01T10:31:30.000Z' },
      }),
      $metadata: {},
    };

    // Act
    const record = rotationRecordOf(described as never);

    // Assess
    expect(record).toEqual({
      executionName: described.name,
      accountId: '222222222222',
      userName: 'app',
      oldAccessKeyId: 'AKIAAPP0000000000001',
      newAccessKeyId: 'AKIANEW0000000000001',
      kind: 'scheduled',
      outcome: 'NeedsAttention',
      startedAt: '2026-12-01T10:00:00.000Z',
      stoppedAt: '2026-12-01T11:00:00.000Z',
      gateWaitSeconds: 1830,
    });
  });

  test('execution statuses map to outcomes, and an input that is not ours is listed without user or key', () => {
    // Prepare
    const foreign = {
      name: 'by-hand',
      status: 'ABORTED' as const,
      startDate: new Date('2026-12-01T10:00:00Z'),
      input: 'not json',
      $metadata: {},
    };

    // Act
    const record = rotationRecordOf(foreign as never);

    // Assess
    expect(record).toMatchObject({ userName: null, oldAccessKeyId: null, outcome: 'Aborted', stoppedAt: null, gateWaitSeconds: null });
    expect(['RUNNING', 'FAILED', 'TIMED_OUT', 'SUCCEEDED', 'PENDING_REDRIVE'].map((status) => outcomeOf(status, {}))).toEqual([
      'Running',
      'Failed',
      'TimedOut',
      'Succeeded',
      'Failed',
    ]);
    expect(secondsBetween('2026-12-01T10:00:05Z', '2026-12-01T10:00:00Z')).toBeNull();
  });
});

describe('the CSV', () => {
  test('one row per key under the documented header, with fields a spreadsheet would run as formulas defused', () => {
    // Prepare
    const hostile = key({ userName: 'app', owner: '=HYPERLINK("http://x","y")', reason: 'has, a comma\nand a line' });
    const report = buildComplianceReport({ generatedAt: NOW, defaultMaxAgeDays: 90, accounts: [account([hostile])], history: history([]) });

    // Act
    const text = reportCsv(report);
    const rows = parse(text, { columns: true }) as Record<string, string>[];

    // Assess
    expect(text.split('\r\n')[0]).toBe(REPORT_CSV_COLUMNS.map((column) => column.name).join(','));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      user_name: 'app',
      owner: '\'=HYPERLINK("http://x","y")',
      reason: 'has, a comma\nand a line',
      age_days: '123',
      max_age_days: '90',
      compliance: 'overdue',
      last_rotation_outcome: '',
    });
    expect([csvField(null), csvField(-3), csvField('+1'), csvField('@x')]).toEqual(['', '-3', "'+1", "'@x"]);
  });
});
