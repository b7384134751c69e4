import { describe, expect, test } from '@jest/globals';
import { planScanNotifications, SCAN_NOTICE_KEEP_MS } from '#shared/scan/scan-notices.ts';
import type { ScannedKey } from '#shared/scan/scanner.ts';

const NOW = new Date('2026-06-01T12:00:00Z');

const key = (overrides: Partial<ScannedKey>): ScannedKey => ({
  userName: 'app',
  accessKeyId: 'AKIAAPP0000000000001',
  status: 'Active',
  createdAt: '2026-03-15T00:00:00.000Z',
  lastUsedAt: '2026-05-31T00:00:00.000Z',
  ageDays: 78,
  lastUsedDaysAgo: 1,
  class: 'ok',
  reason: 'within its rotation window',
  action: 'none',
  owner: 'team@example.com',
  maxAgeDays: 90,
  dueOn: '2026-06-13',
  secretName: 'iam-key-rotator/app',
  exemptUntil: null,
  ...overrides,
});

const plan = (keys: ScannedKey[], deactivated: string[] = [], exemptionWarnDays = 14) =>
  planScanNotifications(
    keys,
    deactivated.map((accessKeyId) => ({ userName: 'app', accessKeyId })),
    { exemptionWarnDays },
    NOW,
  );

describe('planScanNotifications', () => {
  test('a key due soon: one warning, keyed by key and due day, naming the secret and when the rotation starts', () => {
    // Act
    const [warning, ...rest] = plan([key({ class: 'warn', reason: 'rotation due in 12 days' })]);

    // Assess
    expect(rest).toEqual([]);
    expect(warning).toEqual({
      dedupeId: 'key#AKIAAPP0000000000001#rotation-warning#2026-06-13',
      keepForMs: SCAN_NOTICE_KEEP_MS,
      facts: expect.objectContaining({
        event: 'rotation-warning',
        owner: 'team@example.com',
        secretName: 'iam-key-rotator/app',
        nextStepAt: '2026-06-13',
      }),
    });
  });

  test.each<[string, Partial<ScannedKey>, string[], string | undefined]>([
    ['unused, never used', { class: 'unused', lastUsedAt: null }, [], 'key#AKIAAPP0000000000001#unused-key#never'],
    [
      'unused, last used on a day',
      { class: 'unused', lastUsedAt: '2026-03-01T10:00:00.000Z' },
      [],
      'key#AKIAAPP0000000000001#unused-key#2026-03-01',
    ],
    [
      'unused and deactivated by this scan: news even after the unused notice',
      { class: 'unused', lastUsedAt: null },
      ['AKIAAPP0000000000001'],
      'key#AKIAAPP0000000000001#unused-key#never#deactivated',
    ],
    ['ok', { class: 'ok' }, [], undefined],
    ['due (the rotation itself notifies)', { class: 'due' }, [], undefined],
    ['inactive', { class: 'inactive', status: 'Inactive' }, [], undefined],
    ['exempt with no end', { class: 'exempt' }, [], undefined],
    ['exempt, ending in 20 days (beyond the 14-day window)', { class: 'exempt', exemptUntil: '2026-06-21' }, [], undefined],
    ['exempt, ended yesterday', { class: 'exempt', exemptUntil: '2026-05-31' }, [], undefined],
    ['exempt, ending in 10 days', { class: 'exempt', exemptUntil: '2026-06-11' }, [], 'user#app#exemption-expiring#2026-06-11'],
    ['exempt, ending today', { class: 'exempt', exemptUntil: '2026-06-01' }, [], 'user#app#exemption-expiring#2026-06-01'],
  ])('%s → %s', (_name, overrides, deactivated, dedupeId) => {
    // Act & Assess
    expect(plan([key(overrides)], deactivated).map((request) => request.dedupeId)).toEqual(dedupeId === undefined ? [] : [dedupeId]);
  });

  test('an ending exemption is one notice per user, listing every key it holds back', () => {
    // Prepare: one user with two keys held back by the same ending exemption.
    const held = (id: string) =>
      key({
        accessKeyId: id,
        class: 'exempt',
        exemptUntil: '2026-06-05',
        reason: 'exempt by tag until 2026-06-05 (vendor); otherwise due: reached the rotation age of 90 days',
      });

    // Act
    const requests = plan([held('AKIAONE0000000000001'), held('AKIATWO0000000000002')]);

    // Assess
    expect(requests).toHaveLength(1);
    expect(requests[0]?.facts).toMatchObject({
      event: 'exemption-expiring',
      nextStepAt: '2026-06-05T23:59:59.999Z',
      reason: expect.stringMatching(/AKIAONE0000000000001 \(otherwise due: .*\); AKIATWO0000000000002/),
    });
  });

  test('a key without an owner keeps owner undefined, so the notifier routes it to operations, flagged', () => {
    // Act & Assess
    expect(plan([key({ class: 'warn', owner: null })])[0]?.facts.owner).toBeUndefined();
  });
});
