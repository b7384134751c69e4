import { describe, expect, test } from '@jest/globals';
import { loadConfig } from '#shared/config/settings.ts';
import { InvalidTagError } from '#shared/base/errors.ts';
import type { Tag } from '#shared/aws/iam.ts';
import { refusingProblems, resolveUserSettings } from '#shared/config/user-settings.ts';

const config = loadConfig({});
const tags = (values: Record<string, string>): Tag[] => Object.entries(values).map(([Key, Value]) => ({ Key, Value }));
const resolve = (values: Record<string, string>) => resolveUserSettings('alice', tags(values), config);

describe('resolveUserSettings', () => {
  test('no tags: the account defaults, the default secret name and no owner', () => {
    // Act
    const { settings, problems } = resolve({});

    // Assess
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
    // Act
    const { settings, problems } = resolve(values);

    // Assess
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
    // Act
    const { settings, problems } = resolve(values);

    // Assess: one problem, for that user and tag
    expect(problems).toHaveLength(1);
    expect(problems[0]).toBeInstanceOf(InvalidTagError);
    expect(problems[0]).toMatchObject({ userName: 'alice', tagKey: tag });
    expect(problems[0]?.message).toContain('User alice');
    expect(settings.maxAgeDays).toBe(values['rotation:max-age-days'] === '30' ? 30 : 90);
    expect(settings.unusedAction).toBe('notify');
    expect(settings.observationMs).toBe(config.observationMs);
  });

  test('a warning window invalid for the tagged age keeps the account warning, shortened to fit', () => {
    // Act
    const { settings } = resolve({ 'rotation:max-age-days': '10', 'rotation:warn-days': '12' });

    // Assess
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
      // Act & Assess
      expect(resolve(values).settings.owner).toBe(owner);
    });
  });

  describe('exemption', () => {
    test.each<[string, Record<string, string>, string | undefined, string | undefined]>([
      [
        'a reason and an expiry',
        { 'rotation:exempt': 'vendor contract', 'rotation:exempt-until': '2026-07-01' },
        'vendor contract',
        '2026-07-01T23:59:59.999Z',
      ],
      [
        '"true" gives no reason',
        { 'rotation:exempt': 'true', 'rotation:exempt-until': '2026-07-01' },
        'no reason given',
        '2026-07-01T23:59:59.999Z',
      ],
      [
        'an empty value is still an exemption',
        { 'rotation:exempt': '', 'rotation:exempt-until': '2026-07-01' },
        'no reason given',
        '2026-07-01T23:59:59.999Z',
      ],
      [
        'an expiry is the end of that UTC day',
        { 'rotation:exempt': 'q3', 'rotation:exempt-until': '2026-09-30' },
        'q3',
        '2026-09-30T23:59:59.999Z',
      ],
    ])('%s', (_name, values, reason, until) => {
      // Act
      const { settings, problems, weakened } = resolve(values);

      // Assess
      expect(problems).toEqual([]);
      expect(settings.exemption?.reason).toBe(reason);
      expect(settings.exemption?.until?.toISOString()).toBe(until);
      expect(weakened).toEqual([{ tag: 'rotation:exempt', value: values['rotation:exempt'], default: 'rotated when due' }]);
    });

    test.each([['vendor contract'], ['true'], ['']])(
      'rotation:exempt=%p without an expiry is refused (a user may tag itself): no exemption, a problem naming EXEMPTION_MAX_DAYS',
      (value) => {
        // Act
        const { settings, problems, weakened } = resolve({ 'rotation:exempt': value });

        // Assess
        expect(settings.exemption).toBeUndefined();
        expect(problems.map((problem) => problem.tagKey)).toEqual(['rotation:exempt']);
        expect(problems[0]?.message).toContain('EXEMPTION_MAX_DAYS');
        expect(weakened).toEqual([]);
      },
    );

    test('"false" is no exemption', () => {
      // Act & Assess
      expect(resolve({ 'rotation:exempt': 'false' }).settings.exemption).toBeUndefined();
    });

    test('an expiry without rotation:exempt exempts nothing', () => {
      // Act & Assess
      expect(resolve({ 'rotation:exempt-until': '2030-01-01' }).settings.exemption).toBeUndefined();
    });

    test.each([['2026-02-30'], ['2026-13-01'], ['31/12/2026'], ['soon'], ['2026-12-31T00:00:00Z']])(
      'an unreadable expiry %s is reported and the exemption is ignored, never made permanent',
      (until) => {
        // Act
        const { settings, problems } = resolve({ 'rotation:exempt': 'vendor', 'rotation:exempt-until': until });

        // Assess
        expect(settings.exemption).toBeUndefined();
        expect(problems.map((problem) => problem.tagKey)).toEqual(['rotation:exempt-until']);
      },
    );
  });

  describe('account ceilings: a tag beyond one is a problem, and the default applies', () => {
    const NOW = new Date('2026-06-01T12:00:00Z');
    const at = (values: Record<string, string>, overrides: Record<string, string> = {}) =>
      resolveUserSettings('alice', tags(values), loadConfig({}, overrides), NOW);

    test.each<[string, Record<string, string>, Record<string, string>, string, (s: ReturnType<typeof at>['settings']) => unknown, unknown]>(
      [
        [
          'a max age above the ceiling (365 by default)',
          { 'rotation:max-age-days': '366' },
          {},
          'rotation:max-age-days',
          (s) => s.maxAgeDays,
          90,
        ],
        [
          'a max age above a lowered ceiling',
          { 'rotation:max-age-days': '200' },
          { ROTATION_MAX_AGE_DAYS_CEILING: '180' },
          'rotation:max-age-days',
          (s) => s.maxAgeDays,
          90,
        ],
        [
          'an exemption ending past the horizon (90 days by default)',
          { 'rotation:exempt': 'q3', 'rotation:exempt-until': '2026-09-01' },
          {},
          'rotation:exempt-until',
          (s) => s.exemption,
          undefined,
        ],
        [
          'an exemption ending past a shorter horizon',
          { 'rotation:exempt': 'q3', 'rotation:exempt-until': '2026-06-20' },
          { EXEMPTION_MAX_DAYS: '7' },
          'rotation:exempt-until',
          (s) => s.exemption,
          undefined,
        ],
        [
          'a health URL with no allowed origins',
          { 'rotation:health-check-urls': 'https://attacker.example/ok' },
          {},
          'rotation:health-check-urls',
          (s) => s.healthCheckUrls,
          [],
        ],
        [
          'a health URL outside the allowed origins',
          { 'rotation:health-check-urls': 'https://health.example.com.evil.test/ok' },
          { HEALTH_CHECK_URL_ORIGINS: 'https://health.example.com' },
          'rotation:health-check-urls',
          (s) => s.healthCheckUrls,
          [],
        ],
        [
          'a health URL on another port of an allowed host',
          { 'rotation:health-check-urls': 'https://health.example.com:8443/ok' },
          { HEALTH_CHECK_URL_ORIGINS: 'https://health.example.com' },
          'rotation:health-check-urls',
          (s) => s.healthCheckUrls,
          [],
        ],
        [
          'health checks that drop the default one',
          { 'rotation:health-checks': 'manual' },
          {},
          'rotation:health-checks',
          (s) => s.healthChecks,
          ['consumers-moved', 'old-key-idle', 'manual'],
        ],
        [
          'health checks that drop one of several defaults',
          { 'rotation:health-checks': 'old-key-idle' },
          { HEALTH_CHECKS: 'new-key-used,old-key-idle' },
          'rotation:health-checks',
          (s) => s.healthChecks,
          ['new-key-used', 'old-key-idle'],
        ],
      ],
    )('%s', (_name, values, overrides, tag, read, expected) => {
      // Act
      const { settings, problems, weakened } = at(values, overrides);

      // Assess
      expect(problems.map((problem) => problem.tagKey)).toEqual([tag]);
      expect(read(settings)).toEqual(expected);
      expect(weakened).toEqual([]);
    });

    test.each<[string, Record<string, string>, Record<string, string>]>([
      ['a max age at the ceiling', { 'rotation:max-age-days': '365' }, {}],
      ['an exemption ending on the horizon day', { 'rotation:exempt': 'q3', 'rotation:exempt-until': '2026-08-30' }, {}],
      [
        'a health URL on an allowed origin',
        { 'rotation:health-check-urls': 'https://health.example.com/a https://health.example.com/b' },
        { HEALTH_CHECK_URL_ORIGINS: 'https://health.example.com' },
      ],
      [
        'a health URL on the origin of a configured one',
        { 'rotation:health-check-urls': 'https://svc.internal/other' },
        { HEALTH_CHECK_URLS: 'https://svc.internal/health' },
      ],
      ['health checks that keep the default and add one', { 'rotation:health-checks': 'consumers-moved old-key-idle manual' }, {}],
      [
        'health checks that drop the default, where the account allows it',
        { 'rotation:health-checks': 'manual' },
        { ALLOW_TAG_CHECK_REMOVAL: 'true' },
      ],
    ])('%s is applied', (_name, values, overrides) => {
      // Act & Assess
      expect(at(values, overrides).problems).toEqual([]);
    });
  });

  describe('weakening overrides are listed with the tag, its value and the default', () => {
    test.each<[string, Record<string, string>, Record<string, string>, { tag: string; value: string; default: string }[]]>([
      ['a longer rotation window', { 'rotation:max-age-days': '180' }, {}, [{ tag: 'rotation:max-age-days', value: '180', default: '90' }]],
      [
        'a longer unused window',
        { 'rotation:unused-after-days': '120' },
        {},
        [{ tag: 'rotation:unused-after-days', value: '120', default: '45' }],
      ],
      [
        'notify instead of deactivate',
        { 'rotation:unused-action': 'notify' },
        { UNUSED_KEY_ACTION: 'deactivate' },
        [{ tag: 'rotation:unused-action', value: 'notify', default: 'deactivate' }],
      ],
      [
        'a longer gate deadline',
        { 'rotation:health-check-deadline': '14d' },
        {},
        [{ tag: 'rotation:health-check-deadline', value: '14d', default: '7d' }],
      ],
      ['a shorter observation', { 'rotation:observation': '1h' }, {}, [{ tag: 'rotation:observation', value: '1h', default: '7d' }]],
      [
        'removed checks (allowed)',
        { 'rotation:health-checks': 'manual' },
        { ALLOW_TAG_CHECK_REMOVAL: 'true' },
        [{ tag: 'rotation:health-checks', value: 'manual', default: 'consumers-moved old-key-idle' }],
      ],
    ])('%s', (_name, values, overrides, expected) => {
      // Act
      const { weakened, problems } = resolveUserSettings(
        'alice',
        tags(values),
        loadConfig({}, overrides),
        new Date('2026-06-01T00:00:00Z'),
      );

      // Assess
      expect(problems).toEqual([]);
      expect(weakened).toEqual(expected);
    });

    test.each<[string, Record<string, string>]>([
      ['a shorter rotation window', { 'rotation:max-age-days': '30' }],
      ['more checks', { 'rotation:health-checks': 'consumers-moved old-key-idle http' }],
      ['a longer observation', { 'rotation:observation': '14d' }],
      ['a shorter deadline', { 'rotation:health-check-deadline': '1d' }],
      ['deactivate where the default is notify', { 'rotation:unused-action': 'deactivate' }],
    ])('%s is stricter: not listed', (_name, values) => {
      // Act & Assess
      expect(resolve(values).weakened).toEqual([]);
    });
  });

  describe('secret name', () => {
    test.each([['prod/billing/aws-key'], ['team+a=b.c@x'], ['a.b/c_d-e']])('%s is accepted', (name) => {
      // Act
      const { settings, problems } = resolve({ 'rotation:secret-name': name });

      // Assess
      expect(problems).toEqual([]);
      expect(settings.secretName).toBe(name);
    });

    test.each([['../x'], ['a/./b'], ['a/../../b'], ['.'], ['with space'], ['semi;colon'], ['x'.repeat(513)]])(
      '%s is refused and the default name is used',
      (name) => {
        // Act
        const { settings, problems } = resolve({ 'rotation:secret-name': name });

        // Assess
        expect(settings.secretName).toBe('iam-key-rotator/alice');
        expect(problems.map((problem) => problem.tagKey)).toEqual(['rotation:secret-name']);
      },
    );
  });

  test('problems with several tags are all reported, and good tags still apply', () => {
    // Act
    const { settings, problems } = resolve({ 'rotation:max-age-days': 'x', 'rotation:unused-action': 'nope', 'rotation:warn-days': '7' });

    // Assess
    expect(problems.map((problem) => problem.tagKey).sort()).toEqual(['rotation:max-age-days', 'rotation:unused-action']);
    expect(settings.warnDays).toBe(7);
  });

  describe('waits and the execution history bound', () => {
    const accountWaits = {
      healthCheckIntervalMs: config.healthCheckIntervalMs,
      healthCheckDeadlineMs: config.healthCheckDeadlineMs,
      observationMs: config.observationMs,
    };

    test("a 5m interval tag with the account's 7d deadline and observation is reported on that tag, and the account's waits are used", () => {
      // Act
      const { settings, problems } = resolve({ 'rotation:health-check-interval': '5m' });

      // Assess
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatchObject({ userName: 'alice', tagKey: 'rotation:health-check-interval' });
      expect(problems[0]?.message).toContain('User alice: tag rotation:health-check-interval="5m"');
      expect(problems[0]?.message).toContain('109,292 events');
      expect(problems[0]?.message).toContain('above the bound of 22,500');
      expect(problems[0]?.message).toContain('the smallest rotation:health-check-interval allowed is 1483s');
      expect(problems[0]?.message).toContain("the account's waits are used: a 1h interval, a 7d gate deadline and a 7d observation");
      expect(settings).toMatchObject(accountWaits);
    });

    test.each([
      ['1483s', []],
      ['1482s', ['rotation:health-check-interval']],
    ])('an interval tag of %s with the default 7d deadline and observation: problems %j', (interval, expected) => {
      // Act
      const { settings, problems } = resolve({ 'rotation:health-check-interval': interval });

      // Assess: the smallest interval the bound allows passes; one second less does not.
      expect(problems.map((problem) => problem.tagKey)).toEqual(expected);
      expect(settings.healthCheckIntervalMs).toBe(expected.length === 0 ? 1_483_000 : config.healthCheckIntervalMs);
    });

    test("a 30d deadline tag with the account's 1h interval is too many polls: reported, not applied, not listed as weakened", () => {
      // Act
      const { settings, problems, weakened } = resolve({ 'rotation:health-check-deadline': '30d' });

      // Assess
      expect(problems.map((problem) => problem.tagKey)).toEqual(['rotation:health-check-deadline']);
      expect(problems[0]?.message).toContain(
        'With a 30d gate deadline and a 7d observation, the smallest rotation:health-check-interval allowed is 3916s',
      );
      expect(settings).toMatchObject(accountWaits);
      expect(weakened).toEqual([]);
    });

    test('interval, deadline and observation tags that fit together are all applied', () => {
      // Act
      const { settings, problems } = resolve({
        'rotation:health-check-interval': '5m',
        'rotation:health-check-deadline': '1d',
        'rotation:observation': '1d',
      });

      // Assess
      expect(problems).toEqual([]);
      expect(settings).toMatchObject({ healthCheckIntervalMs: 300_000, healthCheckDeadlineMs: 86_400_000, observationMs: 86_400_000 });
    });

    test('tags that fit alone but not together are reported on the first of them, naming all, and none is applied', () => {
      // Act
      const { settings, problems } = resolve({ 'rotation:health-check-interval': '10m', 'rotation:observation': '5d' });

      // Assess
      expect(problems.map((problem) => problem.tagKey)).toEqual(['rotation:health-check-interval']);
      expect(problems[0]?.message).toContain('tags rotation:health-check-interval, rotation:observation');
      expect(settings).toMatchObject(accountWaits);
    });
  });
});

describe('refusingProblems: which invalid tags hold a rotation back', () => {
  const problemsOf = (tags: Record<string, string>) =>
    refusingProblems(
      resolveUserSettings(
        'app',
        Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
        loadConfig({}),
      ).problems,
    ).map((problem) => problem.tagKey);

  test.each([
    ['a misspelled check', { 'rotation:health-checks': 'new-key-used typo-check' }, ['rotation:health-checks']],
    ['a misspelled observation', { 'rotation:observation': 'a week' }, ['rotation:observation']],
    ['an invalid secret name', { 'rotation:secret-name': '../other' }, ['rotation:secret-name']],
    ['a check the account does not let a tag remove (the account checks are kept)', { 'rotation:health-checks': 'manual' }, []],
    [
      'a health URL outside the allowed origins (the account URLs apply)',
      { 'rotation:health-checks': 'http', 'rotation:health-check-urls': 'https://me.example/' },
      [],
    ],
    ['an age that is not a number (the stricter default applies)', { 'rotation:max-age-days': 'ninety' }, []],
  ])('%s', (_case, tags, refusing) => {
    // Act & Assess
    expect(problemsOf(tags)).toEqual(refusing);
  });
});

describe('rotation:* tags the rotator does not read', () => {
  test.each([
    ['a shortened key', 'rotation:max-age', 'rotation:max-age-days'],
    ['a typo in the prefix', 'rotaton:exempt', 'rotation:exempt'],
    ['a typo after the prefix', 'rotation:exmpt', 'rotation:exempt'],
    ['another case', 'Rotation:Owner', 'rotation:owner'],
    ['a plural where the key is singular', 'rotation:observations', 'rotation:observation'],
  ])('%s (%s) is reported, with the key it likely meant, and refuses nothing', (_case, key, meant) => {
    // Act
    const { settings, problems } = resolve({ [key]: '30' });

    // Assess
    expect(problems.map((problem) => problem.message)).toEqual([
      `User alice: tag ${key}="30" is not a tag iam-key-rotator reads (did you mean ${meant}?), so it changes nothing; the account default is used`,
    ]);
    expect(refusingProblems(problems)).toEqual([]);
    expect(settings.maxAgeDays).toBe(90);
  });

  test('the tags it reads, its scope tag and the local confirm and abort markers are not reported', () => {
    // Act
    const { problems } = resolve({
      'rotation:owner': 'team@example.com',
      'rotation:managed': 'true',
      'rotation:confirm': 'AKIAIOSFODNN7EXAMPLE',
      'rotation:abort': 'AKIAIOSFODNN7EXAMPLE',
      owner: 'someone@example.com',
      team: 'payments',
      'rotation-window:custom': 'not ours',
    });

    // Assess
    expect(problems).toEqual([]);
  });
});
