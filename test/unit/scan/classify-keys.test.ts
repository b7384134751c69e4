import { describe, expect, test } from '@jest/globals';
import { DAY_MS } from '#shared/base/clock.ts';
import { loadConfig } from '#shared/config/settings.ts';
import {
  CAP_REACHED,
  ONE_PER_USER,
  accountExemption,
  classifyKey,
  selectDeactivations,
  selectRotations,
  type KeyClass,
  type PolicyUser,
} from '#shared/scan/classify-keys.ts';
import type { Tag } from '#shared/aws/iam.ts';
import { resolveUserSettings } from '#shared/config/user-settings.ts';

const NOW = new Date('2026-06-30T12:00:00Z');
const config = loadConfig({});
const daysAgo = (days: number): Date => new Date(NOW.getTime() - days * DAY_MS);

function user(tags: Record<string, string> = {}, exemptBy?: string): PolicyUser {
  const list: Tag[] = Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
  return { settings: resolveUserSettings('alice', list, config).settings, accountExemption: exemptBy };
}

/** An Active key created `age` days ago and last used `used` days ago (null: never). */
function key(age: number, used: number | null = 0, status: 'Active' | 'Inactive' = 'Active') {
  return { status, createdAt: daysAgo(age), lastUsedAt: used === null ? undefined : daysAgo(used) };
}

describe('classifyKey with the account defaults (rotate at 90, warn 14 days before, unused after 45)', () => {
  test.each<[string, KeyClass, number, number | null, string]>([
    ['a new key in daily use', 'ok', 0, 0, 'none'],
    ['day 75, the last ok day', 'ok', 75, 1, 'none'],
    ['day 76, the first warning day (90 - 14)', 'warn', 76, 1, 'notify'],
    ['day 89, the last warning day', 'warn', 89, 1, 'notify'],
    ['day 90, due', 'due', 90, 1, 'rotate'],
    ['day 91, still due', 'due', 91, 1, 'rotate'],
    ['used 44 days ago, still in use', 'ok', 60, 44, 'none'],
    ['used 45 days ago: unused', 'unused', 60, 45, 'notify'],
    ['never used, 44 days old', 'ok', 44, null, 'none'],
    ['never used, 45 days old: unused', 'unused', 45, null, 'notify'],
    ['never used and past the rotation age: retired, not renewed', 'unused', 120, null, 'notify'],
    ['unused for 50 days and due: unused wins over due', 'unused', 100, 50, 'notify'],
  ])('%s → %s', (_name, expected, age, used, action) => {
    // Act
    const verdict = classifyKey(key(age, used), user(), NOW);

    // Assess
    expect(verdict.class).toBe(expected);
    expect(verdict.action).toBe(action);
    expect(verdict.ageDays).toBe(age);
    expect(verdict.lastUsedDaysAgo).toBe(used);
  });

  test.each([[10], [95], [400]])('an Inactive key %s days old, never used, is inactive', (age) => {
    // Act & Assess
    expect(classifyKey(key(age, null, 'Inactive'), user(), NOW)).toMatchObject({
      class: 'inactive',
      action: 'none',
      reason: 'key is Inactive',
    });
  });

  test('ages are whole days elapsed: one millisecond short of 90 days is still day 89', () => {
    // Prepare: a key one millisecond short of 90 days old.
    const almost = { status: 'Active' as const, createdAt: new Date(NOW.getTime() - 90 * DAY_MS + 1), lastUsedAt: NOW };

    // Act & Assess
    expect(classifyKey(almost, user(), NOW).class).toBe('warn');
    expect(classifyKey({ ...almost, createdAt: daysAgo(90) }, user(), NOW).class).toBe('due');
  });

  test('the due reason holds no day count, so a rotation input stays the same from one day to the next', () => {
    // Act
    const day90 = classifyKey(key(90, 1), user(), NOW).reason;
    const day95 = classifyKey(key(95, 1), user(), NOW).reason;

    // Assess
    expect(day90).toBe(day95);
    expect(day90).toBe('reached the rotation age of 90 days');
  });

  test('the warning reason says how many days are left', () => {
    // Act & Assess
    expect(classifyKey(key(89, 1), user(), NOW).reason).toBe('rotation due in 1 day (rotation age 90 days)');
    expect(classifyKey(key(80, 1), user(), NOW).reason).toBe('rotation due in 10 days (rotation age 90 days)');
  });

  test('a key created after "now" (an --as-of date in the past) counts as 0 days old', () => {
    // Prepare: a key created three days after "now".
    const future = { status: 'Active' as const, createdAt: new Date(NOW.getTime() + 3 * DAY_MS), lastUsedAt: undefined };

    // Act & Assess
    expect(classifyKey(future, user(), NOW)).toMatchObject({ class: 'ok', ageDays: 0 });
  });
});

describe('classifyKey with per-user settings', () => {
  test('rotation:max-age-days=30 makes day 30 due and day 16 a warning', () => {
    // Act & Assess
    expect(classifyKey(key(30, 1), user({ 'rotation:max-age-days': '30' }), NOW).class).toBe('due');
    expect(classifyKey(key(16, 1), user({ 'rotation:max-age-days': '30' }), NOW).class).toBe('warn');
    expect(classifyKey(key(15, 1), user({ 'rotation:max-age-days': '30' }), NOW).class).toBe('ok');
  });

  test('rotation:unused-action=deactivate makes the unused action deactivate', () => {
    // Act & Assess
    expect(classifyKey(key(50, null), user({ 'rotation:unused-action': 'deactivate' }), NOW)).toMatchObject({
      class: 'unused',
      action: 'deactivate',
    });
  });

  test('an invalid tag value is reported for the user and the default is used', () => {
    // Act & Assess: resolve the tags and check the problem reported, then classify a day-90 key with what was resolved.
    const resolved = resolveUserSettings('alice', [{ Key: 'rotation:max-age-days', Value: 'soon' }], config);
    expect(resolved.problems).toHaveLength(1);
    expect(resolved.problems[0]?.message).toContain('rotation:max-age-days="soon"');
    const verdict = classifyKey(key(90, 1), { settings: resolved.settings, accountExemption: undefined }, NOW);
    expect(verdict.class).toBe('due');
    expect(verdict.reason).toContain('90 days');
  });

  test('a key that needs nothing stays ok and says what would hold it back when due (scan --all lists it)', () => {
    // Act
    const exempt = classifyKey(key(10, 1), user({ 'rotation:exempt': 'vendor freeze', 'rotation:exempt-until': '2099-01-31' }), NOW);
    const plain = classifyKey(key(10, 1), user({}), NOW);

    // Assess
    expect(exempt).toMatchObject({ class: 'ok', action: 'none' });
    expect(exempt.reason).toContain('when due: exempt by tag until 2099-01-31 (vendor freeze)');
    expect(plain.reason).not.toContain('when due');
  });

  test('two keys of one user are classified independently', () => {
    // Prepare: one user for both keys.
    const alice = user();

    // Act & Assess
    expect([classifyKey(key(100, 1), alice, NOW).class, classifyKey(key(3, 0), alice, NOW).class]).toEqual(['due', 'ok']);
  });
});

describe('exemptions', () => {
  test('a tag exemption without expiry is refused (a user may tag itself): the due key is rotated', () => {
    // Act
    const verdict = classifyKey(key(100, 1), user({ 'rotation:exempt': 'vendor contract' }), NOW);

    // Assess
    expect(verdict).toMatchObject({ class: 'due', action: 'rotate' });
  });

  test('an exemption holds back a due key, and the reason says both', () => {
    // Act
    const verdict = classifyKey(key(100, 1), user({ 'rotation:exempt': 'vendor contract', 'rotation:exempt-until': '2026-07-15' }), NOW);

    // Assess
    expect(verdict).toMatchObject({ class: 'exempt', action: 'none' });
    expect(verdict.reason).toContain('vendor contract');
    expect(verdict.reason).toContain('otherwise due');
  });

  test('an exemption until a future day holds back an unused key', () => {
    // Act
    const verdict = classifyKey(key(100, null), user({ 'rotation:exempt': 'true', 'rotation:exempt-until': '2026-07-01' }), NOW);

    // Assess
    expect(verdict.class).toBe('exempt');
    expect(verdict.reason).toContain('until 2026-07-01');
  });

  test('an exemption lasts through the end of its last day', () => {
    // Prepare: an exemption whose last day is today.
    const lastDay = user({ 'rotation:exempt': 'true', 'rotation:exempt-until': '2026-06-30' });

    // Act & Assess
    expect(classifyKey(key(100, 1), lastDay, NOW).class).toBe('exempt');
  });

  test('an expired exemption is ignored and the reason says it expired', () => {
    // Act
    const verdict = classifyKey(key(100, 1), user({ 'rotation:exempt': 'migration', 'rotation:exempt-until': '2026-06-29' }), NOW);

    // Assess
    expect(verdict.class).toBe('due');
    expect(verdict.action).toBe('rotate');
    expect(verdict.reason).toBe('reached the rotation age of 90 days; its exemption expired on 2026-06-29');
  });

  test('a young key of an exempt user is simply ok: exempt means held back from an action', () => {
    // Act & Assess
    expect(classifyKey(key(10, 1), user({ 'rotation:exempt': 'vendor' }), NOW).class).toBe('ok');
  });

  test('an exemption does not hide that a key is Inactive', () => {
    // Act & Assess
    expect(classifyKey(key(100, 1, 'Inactive'), user({ 'rotation:exempt': 'vendor' }), NOW).class).toBe('inactive');
  });

  test('an account exemption (path or group) holds back a due key', () => {
    // Act
    const verdict = classifyKey(key(100, 1), user({}, 'member of exempt group break-glass (EXEMPT_GROUPS)'), NOW);

    // Assess
    expect(verdict.class).toBe('exempt');
    expect(verdict.reason).toContain('break-glass');
  });
});

describe('a protected user (PROTECTED_USERS, PROTECTED_PATHS)', () => {
  const protectedUser = (tags: Record<string, string> = {}): PolicyUser => ({
    ...user(tags),
    protection: 'user alice is listed in PROTECTED_USERS',
  });
  test.each<[string, number, number | null]>([
    ['a due key', 100, 1],
    ['an unused key (even with unusedAction=deactivate)', 60, 50],
    ['a key in its warning window', 80, 1],
  ])('%s needs no action: the scanner never starts or deactivates anything for it', (_name, age, used) => {
    // Act
    const verdict = classifyKey(key(age, used), protectedUser({ 'rotation:unused-action': 'deactivate' }), NOW);

    // Assess
    expect(verdict).toMatchObject({ class: 'exempt', action: 'none' });
    expect(verdict.reason).toMatch(/^protected: user alice is listed in PROTECTED_USERS; the rotator never acts on it/);
  });
  test('protection wins over an expired tag exemption, which alone would let the key rotate', () => {
    // Act
    const verdict = classifyKey(key(100, 1), protectedUser({ 'rotation:exempt': 'vendor', 'rotation:exempt-until': '2020-01-01' }), NOW);

    // Assess
    expect(verdict.action).toBe('none');
  });
});

describe('accountExemption', () => {
  const rules = { exemptPaths: ['/break-glass/', '/legacy'], exemptGroups: ['no-rotate'] };
  test.each<[string, string, string[], boolean]>([
    ['a user at the root path', '/', [], false],
    ['a user under an exempt path', '/break-glass/', [], true],
    ['a user deeper under an exempt path', '/break-glass/eu/', [], true],
    ['an entry without a trailing slash matches whole segments', '/legacy/apps/', [], true],
    ['a path that only shares a prefix of a segment', '/legacy-apps/', [], false],
    ['a member of an exempt group', '/', ['devs', 'no-rotate'], true],
    ['a member of other groups only', '/', ['devs'], false],
  ])('%s', (_name, path, groups, exempt) => {
    // Act & Assess
    expect(accountExemption(rules, path, groups) !== undefined).toBe(exempt);
  });
});

describe('selectRotations', () => {
  const candidate = (userName: string, age: number, cls: KeyClass = 'due') => ({
    userName,
    accessKeyId: `AKIA${userName.toUpperCase()}`,
    createdAt: daysAgo(age),
    class: cls,
    action: cls === 'due' ? ('rotate' as const) : ('none' as const),
    executionName: `${userName}-exec`,
  });

  test('retirements (UNUSED_KEY_ACTION=retire): unused keys only, none for a user another workflow starts for, and an ended one is restarted by retire', () => {
    // Prepare
    const retirable = (userName: string, age: number) => ({ ...candidate(userName, age, 'unused'), action: 'retire' as const });
    const noticed = { ...candidate('noticed', 400, 'unused'), action: 'notify' as const };

    // Act
    const plan = selectRotations(
      [retirable('idle', 300), retirable('rotating', 250), retirable('ended', 200), noticed, candidate('due-one', 500)],
      25,
      new Map([['ended-exec', 'FAILED']]),
      undefined,
      { kind: 'retire', busyUsers: new Set(['rotating']) },
    );

    // Assess
    expect(plan.selected.map((selected) => selected.userName)).toEqual(['idle']);
    expect(plan.skipped.map((skipped) => [skipped.candidate.userName, skipped.restartWith ?? skipped.reason])).toEqual([
      ['rotating', ONE_PER_USER],
      ['ended', 'iam-key-rotator retire ended --key AKIAENDED'],
    ]);
  });

  test('one rotation per user per run: a user with two due keys gets one, and a user whose other key rotates gets none', () => {
    // Prepare: twin has two due keys; busy's older key is rotating; a is alone.
    const twinOld = { ...candidate('twin', 300), accessKeyId: 'AKIATWIN1', executionName: 'twin-1' };
    const twinNew = { ...candidate('twin', 200), accessKeyId: 'AKIATWIN2', executionName: 'twin-2' };
    const busyOld = { ...candidate('busy', 250), accessKeyId: 'AKIABUSY1', executionName: 'busy-1' };
    const busyNew = { ...candidate('busy', 150), accessKeyId: 'AKIABUSY2', executionName: 'busy-2' };

    // Act
    const plan = selectRotations([twinOld, twinNew, busyOld, busyNew, candidate('a', 100)], 25, new Map([['busy-1', 'RUNNING']]));

    // Assess
    expect(plan.selected.map((item) => item.accessKeyId)).toEqual(['AKIATWIN1', 'AKIAA']);
    expect(plan.skipped.map((item) => [item.candidate.accessKeyId, item.reason])).toEqual([
      ['AKIABUSY1', 'rotation already running (execution busy-1)'],
      ['AKIATWIN2', ONE_PER_USER],
      ['AKIABUSY2', ONE_PER_USER],
    ]);
  });

  test('picks due keys oldest first up to the cap and leaves the rest for the next run', () => {
    // Act
    const plan = selectRotations([candidate('a', 91), candidate('b', 300), candidate('c', 120), candidate('d', 95)], 2);

    // Assess
    expect(plan.selected.map((item) => item.userName)).toEqual(['b', 'c']);
    expect(plan.skipped.map((item) => [item.candidate.userName, item.reason])).toEqual([
      ['d', CAP_REACHED],
      ['a', CAP_REACHED],
    ]);
  });

  test('ignores keys that are not due', () => {
    // Act
    const plan = selectRotations([candidate('a', 80, 'warn'), candidate('b', 200, 'unused'), candidate('c', 100)], 25);

    // Assess
    expect(plan.selected.map((item) => item.userName)).toEqual(['c']);
    expect(plan.skipped).toEqual([]);
  });

  test('a cap of 0 starts nothing', () => {
    // Act & Assess
    expect(selectRotations([candidate('a', 100)], 0).selected).toEqual([]);
  });

  test('keys with a running or ended execution are skipped without using the cap', () => {
    // Prepare: a running execution for a's key and an ended one for b's.
    const existing = new Map([
      ['a-exec', 'RUNNING'],
      ['b-exec', 'FAILED'],
    ]);

    // Act
    const plan = selectRotations([candidate('a', 300), candidate('b', 200), candidate('c', 100)], 1, existing);

    // Assess
    expect(plan.selected.map((item) => item.userName)).toEqual(['c']);
    expect(plan.skipped.map((item) => item.reason)).toEqual([
      'rotation already running (execution a-exec)',
      expect.stringContaining('already ended FAILED (execution b-exec)'),
    ]);
  });

  test('a scheduled rotation that ended without success gives the command that starts it again, in its account', () => {
    // Prepare: b's scheduled rotation rolled back; b lives in a member account.
    const existing = new Map([['b-exec', 'RolledBack']]);

    // Act
    const plan = selectRotations([candidate('b', 200)], 5, existing, '111111111111');

    // Assess
    expect(plan.selected).toEqual([]);
    expect(plan.skipped[0]?.reason).toContain('ended RolledBack (execution b-exec); the scan does not start it again');
    expect(plan.skipped[0]?.reason).toContain('`iam-key-rotator status b`');
    expect(plan.skipped[0]?.restartWith).toBe(`iam-key-rotator rotate b --key ${candidate('b', 200).accessKeyId} --account 111111111111`);
    expect(plan.skipped[0]?.reason).toContain(
      `\`iam-key-rotator rotate b --key ${candidate('b', 200).accessKeyId} --account 111111111111\``,
    );
  });

  test('a key whose manual or compromise rotation is running is not started again under another kind', () => {
    // Prepare: a running manual rotation of alice's key and a finished one of bob's.
    const existing = new Map([
      ['alice-AKIAALICE-manual-0123456789', 'RUNNING'],
      ['bob-AKIABOB-manual-9876543210', 'SUCCEEDED'],
    ]);

    // Act
    const plan = selectRotations([candidate('alice', 300), candidate('bob', 200)], 25, existing);

    // Assess
    expect(plan.selected.map((item) => item.userName)).toEqual(['bob']);
    expect(plan.skipped.map((item) => [item.candidate.userName, item.reason])).toEqual([
      ['alice', expect.stringContaining('another rotation of this key')],
    ]);
  });

  test('keys of the same age are ordered by user, so every run picks the same ones', () => {
    // Act
    const plan = selectRotations([candidate('zed', 100), candidate('amy', 100)], 1);

    // Assess
    expect(plan.selected.map((item) => item.userName)).toEqual(['amy']);
  });
});

describe('selectDeactivations', () => {
  test('picks unused keys whose action is deactivate, oldest first, up to the cap', () => {
    // Prepare: four unused keys, three of them to deactivate.
    const make = (userName: string, age: number, action: 'notify' | 'deactivate') => ({
      userName,
      accessKeyId: `AKIA${userName}`,
      createdAt: daysAgo(age),
      class: 'unused' as const,
      action,
    });

    // Act
    const plan = selectDeactivations(
      [make('a', 50, 'deactivate'), make('b', 70, 'notify'), make('c', 90, 'deactivate'), make('d', 60, 'deactivate')],
      2,
    );

    // Assess
    expect(plan.selected.map((item) => item.userName)).toEqual(['c', 'd']);
    expect(plan.skipped.map((item) => [item.candidate.userName, item.reason])).toEqual([['a', CAP_REACHED]]);
  });
});
