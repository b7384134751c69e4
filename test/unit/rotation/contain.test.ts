import { describe, expect, test } from '@jest/globals';
import { deniedBeforeOf, denyPolicyName, denySessionsPolicy } from '#shared/rotation/contain.ts';
import { planCompromiseRoom, planRollback, type UsedKeyFact, type VersionFact } from '#shared/rotation/decisions.ts';

const key = (accessKeyId: string, status: 'Active' | 'Inactive', everUsed = true): UsedKeyFact => ({ accessKeyId, status, everUsed });
const v = (versionId: string, accessKeyId: string, ...stages: string[]): VersionFact => ({ versionId, accessKeyId, stages });

describe('planCompromiseRoom: room for a replacement once the leaked key is Inactive', () => {
  test.each<[string, UsedKeyFact[], VersionFact[], 'delete' | 'keep-inactive', { plan: string; accessKeyId: string | null }]>([
    [
      'only the leaked key: a fresh replacement',
      [key('LEAK', 'Inactive')],
      [v('v1', 'LEAK', 'AWSCURRENT')],
      'delete',
      { plan: 'fresh', accessKeyId: null },
    ],
    [
      'the other key is Inactive and unreferenced: deleted for room',
      [key('LEAK', 'Inactive'), key('OLD', 'Inactive')],
      [v('v1', 'LEAK', 'AWSCURRENT')],
      'keep-inactive',
      { plan: 'delete-other', accessKeyId: 'OLD' },
    ],
    [
      'a stopped rotation left its new key in AWSCURRENT: adopted',
      [key('LEAK', 'Inactive'), key('NEW', 'Active')],
      [v('v1', 'LEAK', 'AWSPREVIOUS'), v('v2', 'NEW', 'AWSCURRENT')],
      'keep-inactive',
      { plan: 'adopt', accessKeyId: 'NEW' },
    ],
    [
      'a stopped rotation left its new key in AWSPENDING: adopted',
      [key('LEAK', 'Inactive'), key('NEW', 'Active', false)],
      [v('v1', 'LEAK', 'AWSCURRENT'), v('v2', 'NEW', 'AWSPENDING')],
      'delete',
      { plan: 'adopt', accessKeyId: 'NEW' },
    ],
    [
      "an Active key never used nor stored is not this rotation's (it has created none yet), keep-inactive: kept, no replacement",
      [key('LEAK', 'Inactive'), key('UNUSED', 'Active', false)],
      [v('v1', 'LEAK', 'AWSCURRENT')],
      'keep-inactive',
      { plan: 'skip', accessKeyId: 'UNUSED' },
    ],
    [
      'an Active key never used nor stored, delete: kept, the leaked key makes room',
      [key('LEAK', 'Inactive'), key('UNUSED', 'Active', false)],
      [v('v1', 'LEAK', 'AWSCURRENT')],
      'delete',
      { plan: 'delete-compromised', accessKeyId: 'LEAK' },
    ],
    [
      'two Active keys in use, delete: the leaked key goes now',
      [key('LEAK', 'Inactive'), key('OTHER', 'Active')],
      [v('v1', 'LEAK', 'AWSCURRENT')],
      'delete',
      { plan: 'delete-compromised', accessKeyId: 'LEAK' },
    ],
    [
      'two Active keys in use, keep-inactive: no replacement, the other key works',
      [key('LEAK', 'Inactive'), key('OTHER', 'Active')],
      [v('v1', 'LEAK', 'AWSCURRENT')],
      'keep-inactive',
      { plan: 'skip', accessKeyId: 'OTHER' },
    ],
    [
      'the other key is Inactive but AWSCURRENT: a person decides',
      [key('LEAK', 'Inactive'), key('OTHER', 'Inactive')],
      [v('v1', 'OTHER', 'AWSCURRENT')],
      'delete',
      { plan: 'skip', accessKeyId: 'OTHER' },
    ],
  ])('%s', (_name, keys, versions, action, expected) => {
    // Act & Assess
    expect(planCompromiseRoom(keys, 'LEAK', versions, action)).toMatchObject(expected);
  });
});

describe('the session-deny policy', () => {
  const at = new Date('2026-06-01T12:34:56Z');

  test('its name encodes the instant, in characters IAM allows, and reads back', () => {
    // Act & Assess
    expect(denyPolicyName(at)).toBe('iam-key-rotator-deny-sessions-before-20260601T123456Z');
    expect(denyPolicyName(at)).toMatch(/^[\w+=,.@-]{1,128}$/);
    expect(deniedBeforeOf(denyPolicyName(at))?.toISOString()).toBe('2026-06-01T12:34:56.000Z');
    expect(deniedBeforeOf('AWSCompromisedKeyQuarantineV3')).toBeUndefined();
  });

  test('denies everything to sessions issued before the instant, and only to them', () => {
    // Act & Assess
    expect(JSON.parse(denySessionsPolicy(at))).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'DenySessionsIssuedBeforeContainment',
          Effect: 'Deny',
          Action: '*',
          Resource: '*',
          Condition: { DateLessThan: { 'aws:TokenIssueTime': '2026-06-01T12:34:56Z' } },
        },
      ],
    });
  });
});

test('a compromise rotation never rolls back to the leaked key', () => {
  // Act & Assess
  expect(
    planRollback({
      kind: 'compromise',
      oldAccessKeyId: 'LEAK',
      startedAt: '2026-06-01T12:00:00.000Z',
      keys: [key('LEAK', 'Inactive'), key('NEW', 'Active')].map((fact) => ({ ...fact, createdAt: new Date('2026-06-01T12:00:01Z') })),
      newAccessKeyId: 'NEW',
      versions: [v('v1', 'LEAK', 'AWSPREVIOUS'), v('v2', 'NEW', 'AWSCURRENT')],
    }),
  ).toEqual([]);
});
