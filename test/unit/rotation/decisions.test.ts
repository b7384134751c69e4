import { describe, expect, test } from '@jest/globals';
import {
  classifyExtraKeys,
  decideRoom,
  evaluateGate,
  evaluateObservation,
  idleFor,
  planMakeSafe,
  planRollback,
  usedSince,
  waitSeconds,
  type CheckResult,
  type KeyFact,
  type SafetyFacts,
  type VersionFact,
} from '#shared/rotation/decisions.ts';

const T0 = '2026-06-01T12:00:00.000Z';
const at = (offsetMs: number): Date => new Date(Date.parse(T0) + offsetMs);
const MIN = 60_000;
const HOUR = 3_600_000;

describe('waitSeconds', () => {
  test.each([
    [500, 1],
    [1_000, 1],
    [1_499, 1],
    [90_000, 90],
    [HOUR, 3600],
  ])('%i ms waits %i s (never below the 1 s a Wait state can express)', (ms, seconds) => {
    expect(waitSeconds(ms)).toBe(seconds);
  });
});

describe('decideRoom: making room under the two-key limit', () => {
  const old: KeyFact = { accessKeyId: 'AKIAOLD0000000000000', status: 'Active' };
  const other = (status: KeyFact['status']): KeyFact => ({ accessKeyId: 'AKIAOTHER00000000000', status });
  test.each<[string, KeyFact[], string | undefined, ReturnType<typeof decideRoom>]>([
    ['one key: nothing to do', [old], undefined, { action: 'none' }],
    ['other key Inactive and unreferenced: delete it', [old, other('Inactive')], old.accessKeyId, { action: 'delete', accessKeyId: 'AKIAOTHER00000000000' }],
    ['other key Inactive, no secret yet: delete it', [old, other('Inactive')], undefined, { action: 'delete', accessKeyId: 'AKIAOTHER00000000000' }],
    ['other key Active: refuse, delete nothing', [old, other('Active')], old.accessKeyId, { action: 'refuse', otherKeyId: 'AKIAOTHER00000000000', why: 'active' }],
    [
      'other key Inactive but AWSCURRENT holds it: refuse',
      [old, other('Inactive')],
      'AKIAOTHER00000000000',
      { action: 'refuse', otherKeyId: 'AKIAOTHER00000000000', why: 'secret-current' },
    ],
  ])('%s', (_name, keys, current, expected) => {
    expect(decideRoom(keys, old.accessKeyId, current)).toEqual(expected);
  });

  test.each<[string, string | undefined, ReturnType<typeof decideRoom>]>([
    ['AWSPREVIOUS holds the rotated key: an earlier rotation of it stopped after Promote, so this one resumes it', old.accessKeyId, { action: 'none' }],
    ['AWSPREVIOUS holds another key: refuse, delete nothing', 'AKIASOMEONEELSE00000', { action: 'refuse', otherKeyId: 'AKIAOTHER00000000000', why: 'active' }],
    ['no AWSPREVIOUS: refuse, delete nothing', undefined, { action: 'refuse', otherKeyId: 'AKIAOTHER00000000000', why: 'active' }],
  ])('other key Active and AWSCURRENT, %s', (_name, previous, expected) => {
    expect(decideRoom([old, other('Active')], old.accessKeyId, 'AKIAOTHER00000000000', previous)).toEqual(expected);
  });
});

describe('last-used evidence', () => {
  test.each<[string, Date | undefined, number, boolean]>([
    ['never used', undefined, 0, false],
    ['used before promotion (Verify itself)', at(-1), 0, false],
    ['used at promotion, full precision', at(0), 0, true],
    ['used after promotion, full precision', at(5), 0, true],
    ['minute-truncated value in the promotion minute is ambiguous', at(0), MIN, false],
    ['minute-truncated value a minute later proves use', at(MIN), MIN, true],
  ])('usedSince: %s → %s', (_name, lastUsed, granularity, expected) => {
    expect(usedSince(lastUsed, T0, granularity)).toBe(expected);
  });

  test.each<[string, Date | undefined, Date, boolean]>([
    ['quiet period not over yet', undefined, at(HOUR), false],
    ['never used, quiet period over', undefined, at(24 * HOUR), true],
    ['last used before promotion, quiet period over', at(-HOUR), at(24 * HOUR), true],
    ['used within the quiet period', at(20 * HOUR), at(24 * HOUR), false],
    ['last used an hour before the quiet window', at(23 * HOUR), at(48 * HOUR), true],
    ['truncated value less than a minute before the window: the use may fall inside it', at(24 * HOUR - 30_000), at(48 * HOUR), false],
  ])('idleFor (24 h quiet, 1 min granularity): %s → %s', (_name, lastUsed, now, expected) => {
    expect(idleFor(lastUsed, T0, 24 * HOUR, MIN, now)).toBe(expected);
  });
});

describe('evaluateGate', () => {
  const pass = (check: CheckResult['check']): CheckResult => ({ check, passed: true, detail: 'ok' });
  const fail = (check: CheckResult['check']): CheckResult => ({ check, passed: false, detail: 'no' });
  const deadline = at(HOUR).toISOString();
  test.each<[string, CheckResult[], boolean, Date, string]>([
    ['every check passes', [pass('new-key-used'), pass('http')], false, at(0), 'healthy'],
    ['every check passes at the deadline: still healthy', [pass('new-key-used')], false, at(2 * HOUR), 'healthy'],
    ['one check fails before the deadline', [pass('new-key-used'), fail('http')], false, at(0), 'waiting'],
    ['one check fails at the deadline', [fail('new-key-used')], false, at(HOUR), 'overdue'],
    ['abort wins over healthy', [pass('new-key-used')], true, at(0), 'aborted'],
    ['no checks never counts as healthy', [], false, at(0), 'waiting'],
  ])('%s → %s', (_name, results, aborted, now, status) => {
    expect(evaluateGate(results, aborted, deadline, now).status).toBe(status);
  });
});

describe('evaluateObservation', () => {
  const until = at(HOUR).toISOString();
  const calm = { aborted: false, oldKeyUsedWhileInactive: false, failedUrls: [] };
  test.each<[string, Parameters<typeof evaluateObservation>[0], Date, string]>([
    ['calm, period running', calm, at(0), 'watching'],
    ['calm, period over', calm, at(HOUR), 'over'],
    ['old key used while Inactive', { ...calm, oldKeyUsedWhileInactive: true }, at(0), 'trouble'],
    ['a health URL fails, even after the period', { ...calm, failedUrls: ['https://x/health (HTTP 500)'] }, at(2 * HOUR), 'trouble'],
    ['aborted by a person', { ...calm, aborted: true }, at(0), 'trouble'],
  ])('%s → %s', (_name, facts, now, status) => {
    expect(evaluateObservation(facts, until, now).status).toBe(status);
  });
});

describe('classifyExtraKeys', () => {
  test('an unreferenced, never-used key is an orphan; a used one is someone else\'s', () => {
    const keys = [
      { accessKeyId: 'OLD', status: 'Active' as const, everUsed: true },
      { accessKeyId: 'ORPHAN', status: 'Active' as const, everUsed: false },
      { accessKeyId: 'FOREIGN', status: 'Active' as const, everUsed: true },
      { accessKeyId: 'STORED', status: 'Active' as const, everUsed: false },
    ];
    expect(classifyExtraKeys(keys, 'OLD', new Set(['STORED']))).toEqual({ orphans: ['ORPHAN'], foreign: ['FOREIGN'] });
  });
});

describe('planMakeSafe and planRollback', () => {
  const v = (versionId: string, accessKeyId: string, ...stages: string[]): VersionFact => ({ versionId, accessKeyId, stages });
  const key = (accessKeyId: string, status: 'Active' | 'Inactive', everUsed = true) => ({ accessKeyId, status, everUsed });
  const facts = (overrides: Partial<SafetyFacts>): SafetyFacts => ({
    kind: 'scheduled',
    oldAccessKeyId: 'OLD',
    keys: [key('OLD', 'Active')],
    newAccessKeyId: undefined,
    versions: [v('v-old', 'OLD', 'AWSCURRENT')],
    ...overrides,
  });

  test.each<[string, Partial<SafetyFacts>, ReturnType<typeof planMakeSafe>]>([
    ['failed in Prepare: nothing to do', {}, []],
    [
      'failed before promotion: delete the new key, drop AWSPENDING',
      { keys: [key('OLD', 'Active'), key('NEW', 'Active')], newAccessKeyId: 'NEW', versions: [v('v-old', 'OLD', 'AWSCURRENT'), v('v-new', 'NEW', 'AWSPENDING')] },
      [{ action: 'delete-key', accessKeyId: 'NEW' }, { action: 'remove-pending', versionId: 'v-new' }],
    ],
    [
      'failed after promotion: keep the promoted key, nothing else',
      { keys: [key('OLD', 'Active'), key('NEW', 'Active')], newAccessKeyId: 'NEW', versions: [v('v-old', 'OLD', 'AWSPREVIOUS'), v('v-new', 'NEW', 'AWSCURRENT')] },
      [],
    ],
    [
      'failed after deactivation: reactivate the old key, keep the promoted one',
      { keys: [key('OLD', 'Inactive'), key('NEW', 'Active')], newAccessKeyId: 'NEW', versions: [v('v-old', 'OLD', 'AWSPREVIOUS'), v('v-new', 'NEW', 'AWSCURRENT')] },
      [{ action: 'reactivate-key', accessKeyId: 'OLD' }],
    ],
    [
      'the promoted key was deleted by hand: AWSCURRENT goes back to the old key',
      { keys: [key('OLD', 'Inactive')], newAccessKeyId: 'NEW', versions: [v('v-old', 'OLD', 'AWSPREVIOUS'), v('v-new', 'NEW', 'AWSCURRENT')] },
      [{ action: 'reactivate-key', accessKeyId: 'OLD' }, { action: 'move-current', toVersionId: 'v-old', fromVersionId: 'v-new' }],
    ],
    [
      'compromise: the old key stays Inactive',
      { kind: 'compromise', keys: [key('OLD', 'Inactive'), key('NEW', 'Active')], newAccessKeyId: 'NEW', versions: [v('v-old', 'OLD', 'AWSPREVIOUS'), v('v-new', 'NEW', 'AWSCURRENT')] },
      [],
    ],
    [
      'crash between CreateAccessKey and PutSecretValue: the orphan goes',
      { keys: [key('OLD', 'Active'), key('ORPHAN', 'Active', false)] },
      [{ action: 'delete-key', accessKeyId: 'ORPHAN' }],
    ],
    [
      'a used, unreferenced key is not ours: kept',
      { keys: [key('OLD', 'Active'), key('THEIRS', 'Active', true)] },
      [],
    ],
    [
      'first rotation, secret created by this run, failed before promotion: the new key is AWSCURRENT, so it is kept',
      { keys: [key('OLD', 'Active'), key('NEW', 'Active')], newAccessKeyId: 'NEW', versions: [v('v-new', 'NEW', 'AWSCURRENT', 'AWSPENDING')] },
      [],
    ],
  ])('MakeSafe: %s', (_name, overrides, expected) => {
    expect(planMakeSafe(facts(overrides))).toEqual(expected);
  });

  test.each<[string, Partial<SafetyFacts>, ReturnType<typeof planRollback>]>([
    [
      'during observation: reactivate, AWSCURRENT back, deactivate the new key',
      { keys: [key('OLD', 'Inactive'), key('NEW', 'Active')], newAccessKeyId: 'NEW', versions: [v('v-old', 'OLD', 'AWSPREVIOUS'), v('v-new', 'NEW', 'AWSCURRENT')] },
      [
        { action: 'reactivate-key', accessKeyId: 'OLD' },
        { action: 'move-current', toVersionId: 'v-old', fromVersionId: 'v-new' },
        { action: 'deactivate-key', accessKeyId: 'NEW' },
      ],
    ],
    [
      'aborted at the gate (old key still Active)',
      { keys: [key('OLD', 'Active'), key('NEW', 'Active')], newAccessKeyId: 'NEW', versions: [v('v-old', 'OLD', 'AWSPREVIOUS'), v('v-new', 'NEW', 'AWSCURRENT')] },
      [{ action: 'move-current', toVersionId: 'v-old', fromVersionId: 'v-new' }, { action: 'deactivate-key', accessKeyId: 'NEW' }],
    ],
    [
      'no version of the old key (first rotation): the new key stays Active and AWSCURRENT',
      { keys: [key('OLD', 'Inactive'), key('NEW', 'Active')], newAccessKeyId: 'NEW', versions: [v('v-new', 'NEW', 'AWSCURRENT')] },
      [{ action: 'reactivate-key', accessKeyId: 'OLD' }],
    ],
    [
      'already rolled back: nothing to do',
      { keys: [key('OLD', 'Active'), key('NEW', 'Inactive')], newAccessKeyId: 'NEW', versions: [v('v-old', 'OLD', 'AWSCURRENT'), v('v-new', 'NEW', 'AWSPREVIOUS')] },
      [],
    ],
  ])('Rollback: %s', (_name, overrides, expected) => {
    expect(planRollback(facts(overrides))).toEqual(expected);
  });
});
