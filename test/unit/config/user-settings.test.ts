import { describe, expect, test } from '@jest/globals';
import { loadConfig } from '#shared/config/settings.ts';
import { InvalidTagError } from '#shared/base/errors.ts';
import type { Tag } from '#shared/aws/iam.ts';
import { resolveUserSettings } from '#shared/config/user-settings.ts';

const config = loadConfig({});
const tags = (values: Record<string, string>): Tag[] => Object.entries(values).map(([Key, Value]) => ({ Key, Value }));
const resolve = (values: Record<string, string>) => resolveUserSettings('alice', tags(values), config);

describe('resolveUserSettings', () => {
  test('no tags: the account defaults, the default secret name and no owner', () => {
    const { settings, problems } = resolve({});
    expect(problems).toEqual([]);
    expect(settings).toMatchObject({
      maxAgeDays: 90,
      warnDays: 14,
      unusedAfterDays: 45,
      unusedAction: 'notify',
      exemption: undefined,
      owner: undefined,
    });
    expect(settings.secretName).toBe('iam-key-rotator/alice');
  });

  test.each<[string, Record<string, string>, Partial<Record<'maxAgeDays' | 'warnDays' | 'unusedAfterDays', number>>]>([
    ['max age', { 'rotation:max-age-days': '30' }, { maxAgeDays: 30, warnDays: 14 }],
    ['max age 1 day: the warning window shrinks to 0', { 'rotation:max-age-days': '1' }, { maxAgeDays: 1, warnDays: 0 }],
    ['max age shorter than the default warning: warn the day before', { 'rotation:max-age-days': '10' }, { maxAgeDays: 10, warnDays: 9 }],
    ['warn days', { 'rotation:warn-days': '7' }, { warnDays: 7 }],
    ['warn days 0', { 'rotation:warn-days': '0' }, { warnDays: 0 }],
    ['unused after', { 'rotation:unused-after-days': '120' }, { unusedAfterDays: 120 }],
    ['values are trimmed', { 'rotation:max-age-days': ' 60 ' }, { maxAgeDays: 60 }],
  ])('a valid %s tag overrides the default', (_name, values, expected) => {
    const { settings, problems } = resolve(values);
    expect(problems).toEqual([]);
    expect(settings).toMatchObject(expected);
  });

  test.each<[string, Record<string, string>, string]>([
    ['a word for days', { 'rotation:max-age-days': 'ninety' }, 'rotation:max-age-days'],
    ['zero days', { 'rotation:max-age-days': '0' }, 'rotation:max-age-days'],
    ['a negative number', { 'rotation:unused-after-days': '-5' }, 'rotation:unused-after-days'],
    ['a fraction', { 'rotation:max-age-days': '30.5' }, 'rotation:max-age-days'],
    ['more than ten years', { 'rotation:max-age-days': '3651' }, 'rotation:max-age-days'],
    ['a warning as long as the rotation age', { 'rotation:max-age-days': '30', 'rotation:warn-days': '30' }, 'rotation:warn-days'],
    ['an unknown unused action', { 'rotation:unused-action': 'delete' }, 'rotation:unused-action'],
    ['an unreadable duration', { 'rotation:observation': 'a week' }, 'rotation:observation'],
    ['an unknown health check', { 'rotation:health-checks': 'pray' }, 'rotation:health-checks'],
    ['a health URL that is not http', { 'rotation:health-check-urls': 'ftp://x' }, 'rotation:health-check-urls'],
  ])('%s is reported as a problem for that user and tag, and the default is kept', (_name, values, tag) => {
    const { settings, problems } = resolve(values);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toBeInstanceOf(InvalidTagError);
    expect(problems[0]).toMatchObject({ userName: 'alice', tagKey: tag });
    expect(problems[0]?.message).toContain('User alice');
    expect(settings.maxAgeDays).toBe(values['rotation:max-age-days'] === '30' ? 30 : 90);
    expect(settings.unusedAction).toBe('notify');
    expect(settings.observationMs).toBe(config.observationMs);
  });

  test('a warning window invalid for the tagged age keeps the account warning, shortened to fit', () => {
    const { settings } = resolve({ 'rotation:max-age-days': '10', 'rotation:warn-days': '12' });
    expect(settings).toMatchObject({ maxAgeDays: 10, warnDays: 9 });
  });

  describe('owner', () => {
    test.each<[string, Record<string, string>, string | undefined]>([
      ['rotation:owner wins', { 'rotation:owner': 'a@example.com', owner: 'b@example.com', email: 'c@example.com' }, 'a@example.com'],
      ['then the owner tag', { owner: 'b@example.com', email: 'c@example.com' }, 'b@example.com'],
      ['then the email tag', { email: 'c@example.com' }, 'c@example.com'],
      ['an empty rotation:owner falls through', { 'rotation:owner': '', owner: 'b@example.com' }, 'b@example.com'],
      ['no owner tags', {}, undefined],
    ])('%s', (_name, values, owner) => {
      expect(resolve(values).settings.owner).toBe(owner);
    });
  });

  describe('exemption', () => {
    test.each<[string, Record<string, string>, string | undefined, string | undefined]>([
      ['a reason without expiry', { 'rotation:exempt': 'vendor contract' }, 'vendor contract', undefined],
      ['"true" gives no reason', { 'rotation:exempt': 'true' }, 'no reason given', undefined],
      ['an empty value is still an exemption', { 'rotation:exempt': '' }, 'no reason given', undefined],
      [
        'an expiry is the end of that UTC day',
        { 'rotation:exempt': 'q3', 'rotation:exempt-until': '2026-09-30' },
        'q3',
        '2026-09-30T23:59:59.999Z',
      ],
    ])('%s', (_name, values, reason, until) => {
      const { settings, problems } = resolve(values);
      expect(problems).toEqual([]);
      expect(settings.exemption?.reason).toBe(reason);
      expect(settings.exemption?.until?.toISOString()).toBe(until);
    });

    test('"false" is no exemption', () => {
      expect(resolve({ 'rotation:exempt': 'false' }).settings.exemption).toBeUndefined();
    });

    test('an expiry without rotation:exempt exempts nothing', () => {
      expect(resolve({ 'rotation:exempt-until': '2030-01-01' }).settings.exemption).toBeUndefined();
    });

    test.each([['2026-02-30'], ['2026-13-01'], ['31/12/2026'], ['soon'], ['2026-12-31T00:00:00Z']])(
      'an unreadable expiry %s is reported and the exemption is ignored, never made permanent',
      (until) => {
        const { settings, problems } = resolve({ 'rotation:exempt': 'vendor', 'rotation:exempt-until': until });
        expect(settings.exemption).toBeUndefined();
        expect(problems.map((problem) => problem.tagKey)).toEqual(['rotation:exempt-until']);
      },
    );
  });

  describe('secret name', () => {
    test.each([['prod/billing/aws-key'], ['team+a=b.c@x'], ['a.b/c_d-e']])('%s is accepted', (name) => {
      const { settings, problems } = resolve({ 'rotation:secret-name': name });
      expect(problems).toEqual([]);
      expect(settings.secretName).toBe(name);
    });

    test.each([['../x'], ['a/./b'], ['a/../../b'], ['.'], ['with space'], ['semi;colon'], ['x'.repeat(513)]])(
      '%s is refused and the default name is used',
      (name) => {
        const { settings, problems } = resolve({ 'rotation:secret-name': name });
        expect(settings.secretName).toBe('iam-key-rotator/alice');
        expect(problems.map((problem) => problem.tagKey)).toEqual(['rotation:secret-name']);
      },
    );
  });

  test('problems with several tags are all reported, and good tags still apply', () => {
    const { settings, problems } = resolve({ 'rotation:max-age-days': 'x', 'rotation:unused-action': 'nope', 'rotation:warn-days': '7' });
    expect(problems.map((problem) => problem.tagKey).sort()).toEqual(['rotation:max-age-days', 'rotation:unused-action']);
    expect(settings.warnDays).toBe(7);
  });
});
