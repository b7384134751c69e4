import { describe, expect, test } from '@jest/globals';
import { UserExemptError, UserProtectedError } from '#shared/base/errors.ts';
import { exemptionOf, outOfScope, protection, refuseExempt, refuseProtected, tagExemption } from '#shared/config/exemptions.ts';
import { loadConfig } from '#shared/config/settings.ts';

const NOW = new Date('2026-06-15T12:00:00Z');
const rules = { protectedUsers: ['break-glass', 'Deployer'], protectedPaths: ['/ops'] };

describe('protection', () => {
  test.each<[string, string, string, boolean]>([
    ['a listed name at the root', 'break-glass', '/', true],
    ['a listed name under any path', 'break-glass', '/team/', true],
    ['a listed name in another case (IAM names are unique case-insensitively)', 'deployer', '/', true],
    ['a name that only starts like a listed one', 'break-glass-2', '/', false],
    ['a user under a protected path entry without its trailing slash', 'someone', '/ops/', true],
    ['a user deeper under a protected path', 'someone', '/ops/deploy/', true],
    ['a path that only shares a prefix of a segment', 'someone', '/ops-tools/', false],
    ['the root path', 'someone', '/', false],
  ])('%s', (_name, userName, path, isProtected) => {
    // Act & Assess
    expect(protection(rules, userName, path) !== undefined).toBe(isProtected);
  });

  test('refuseProtected throws UserProtectedError naming why and the way out, and passes other users', () => {
    // Act & Assess
    expect(() => refuseProtected(rules, 'someone', '/', 'manual rotation')).not.toThrow();
    expect(() => refuseProtected(rules, 'break-glass', '/', 'containment')).toThrow(UserProtectedError);
    expect(() => refuseProtected(rules, 'x', '/ops/a/', 'containment')).toThrow(
      /IAM path \/ops\/a\/ is under protected path \/ops\/ \(PROTECTED_PATHS\).*containment refused.*PROTECTED_USERS \/ PROTECTED_PATHS/,
    );
  });
});

describe('exemptions', () => {
  const config = { exemptPaths: ['/legacy/'], exemptGroups: ['no-rotate'] };
  const none = { exemption: undefined };
  const tagged = (until?: string) => ({ exemption: { reason: 'vendor', until: until === undefined ? undefined : new Date(until) } });

  test.each<[string, string, string[], { exemption: { reason: string; until: Date | undefined } | undefined }, RegExp | undefined]>([
    ['not exempt', '/', [], none, undefined],
    ['by path', '/legacy/x/', [], none, /EXEMPT_PATHS/],
    ['by group', '/', ['no-rotate'], none, /EXEMPT_GROUPS/],
    ['by tag, no expiry', '/', [], tagged(), /tagged rotation:exempt \(vendor\)/],
    ['by tag, until a later day', '/', [], tagged('2026-12-31T23:59:59Z'), /until 2026-12-31/],
    ['by an expired tag: not exempt', '/', [], tagged('2026-01-01T23:59:59Z'), undefined],
    ['the account config first: it outlasts any tag', '/legacy/', [], tagged(), /EXEMPT_PATHS/],
  ])('%s', (_name, path, groups, settings, why) => {
    // Act
    const found = exemptionOf(config, { path, groups }, settings, NOW);

    // Assess
    if (why === undefined) expect(found).toBeUndefined();
    else expect(found).toMatch(why);
  });

  test('tagExemption is undefined without a tag', () => {
    // Act & Assess
    expect(tagExemption(none, NOW)).toBeUndefined();
  });

  test.each<[string, string | undefined, string | undefined, string, boolean]>([
    ['a manual rotation of an exempt user without an override', 'by path', undefined, 'manual', true],
    ['a scheduled rotation of an exempt user (no override exists there)', 'by path', undefined, 'scheduled', true],
    ['a manual rotation with an explicit override', 'by path', 'vendor confirmed', 'manual', false],
    ['a compromise: containment is the point of that path', 'by path', undefined, 'compromise', false],
    ['a user that is not exempt', undefined, undefined, 'manual', false],
  ])('refuseExempt: %s → refused %s', (_name, exemption, override, kind, refused) => {
    // Act & Assess
    const act = (): void => refuseExempt('vendor-app', exemption, override, kind);
    if (refused) expect(act).toThrow(UserExemptError);
    else expect(act).not.toThrow();
  });

  test('the refusal names why, the override flag and field, and the way to end the exemption', () => {
    // Act & Assess
    expect(() => refuseExempt('vendor-app', 'tagged rotation:exempt (vendor)', undefined, 'manual')).toThrow(
      /exempt from rotation \(tagged rotation:exempt \(vendor\)\).*--override-exemption.*exemptionOverride.*rotation:exempt tag/,
    );
  });

  test('its commands run as given: the compromise one names the key it needs, a retirement points at retire', () => {
    // Act
    const messageOf = (kind: string): string => {
      try {
        refuseExempt('vendor-app', 'by path', undefined, kind);
        return '';
      } catch (error) {
        return (error as Error).message;
      }
    };

    // Assess
    expect(messageOf('manual')).toContain('`iam-key-rotator rotate vendor-app --compromised --key <access-key-id>`');
    expect(messageOf('manual')).toContain('`iam-key-rotator rotate vendor-app --override-exemption "<why>"`');
    expect(messageOf('retire')).toContain('this retirement was refused');
    expect(messageOf('retire')).toContain('`iam-key-rotator retire vendor-app --override-exemption "<why>"`');
  });
});

describe('the settings', () => {
  test('PROTECTED_USERS and PROTECTED_PATHS are lists, empty by default', () => {
    // Act & Assess
    expect(loadConfig({})).toMatchObject({ protectedUsers: [], protectedPaths: [] });
    expect(loadConfig({ PROTECTED_USERS: 'break-glass, deployer', PROTECTED_PATHS: '/break-glass/' })).toMatchObject({
      protectedUsers: ['break-glass', 'deployer'],
      protectedPaths: ['/break-glass/'],
    });
  });

  test.each([
    ['PROTECTED_PATHS', '/'],
    ['PROTECTED_PATHS', 'break-glass'],
    ['PROTECTED_USERS', 'a/b'],
  ])('%s=%j is refused at start (a bad list must not protect nothing, or everything, by surprise)', (variable, value) => {
    // Act & Assess
    expect(() => loadConfig({ [variable]: value })).toThrow(variable);
  });
});

describe('outOfScope: the rotator acts only where its roles may', () => {
  const tags = (value?: string) => (value === undefined ? [] : [{ Key: 'rotation:managed', Value: value }]);
  test.each([
    ['the default scope covers everyone', '/', '', '/any/', tags(), undefined],
    ['under the path', '/pilot/', '', '/pilot/team/', tags(), undefined],
    [
      'a sibling path is outside',
      '/pilot/',
      '',
      '/pilot-old/',
      tags(),
      "IAM path /pilot-old/ is outside the rotator's path /pilot/ (ROTATION_USER_PATH)",
    ],
    ['tagged as asked', '/', 'yes', '/', tags('yes'), undefined],
    ['untagged', '/', 'yes', '/', tags(), 'not tagged rotation:managed=yes (ROTATION_USER_TAG_VALUE)'],
    ['tagged otherwise', '/', 'yes', '/', tags('no'), 'not tagged rotation:managed=yes (ROTATION_USER_TAG_VALUE); its tag says no'],
  ])('%s', (_case, rotationUserPath, rotationUserTagValue, path, userTags, why) => {
    // Act & Assess
    expect(outOfScope({ rotationUserPath, rotationUserTagValue }, path, userTags)).toBe(why);
  });
});
