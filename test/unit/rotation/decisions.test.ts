import { describe, expect, test } from '@jest/globals';
import {
  classifyExtraKeys,
  decideAdoption,
  decideNewKeySource,
  decideRoom,
  markersFor,
  evaluateGate,
  evaluateObservation,
  idleFor,
  planMakeSafe,
  planRollback,
  usedSince,
  waitSeconds,
  type CheckResult,
  type ExtraKeyFact,
  type KeyFact,
  type LastUsedPrecision,
  type RoomDecision,
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
    [1_001, 2],
    [1_499, 2],
    [90_000, 90],
    [HOUR, 3600],
  ])('%i ms waits %i s (never below the 1 s a Wait state can express, never shorter than the interval)', (ms, seconds) => {
    // Act & Assess
    expect(waitSeconds(ms)).toBe(seconds);
  });
});

const OLD = 'AKIAOLD0000000000000';
const OTHER = 'AKIAOTHER00000000000';
const key = (accessKeyId: string, status: KeyFact['status'] = 'Active'): KeyFact => ({ accessKeyId, status });
/** `accessKeyId` undefined: a version the rotator did not write (readSecret cannot tell its key). */
const version = (accessKeyId: string | undefined, stages: string[]): VersionFact => ({
  versionId: `v-${accessKeyId ?? 'hand-written'}`,
  stages,
  accessKeyId,
});

describe('decideAdoption: taking over the key the secret’s AWSCURRENT holds', () => {
  test.each<[string, KeyFact[], VersionFact[], ReturnType<typeof decideAdoption>]>([
    [
      'AWSCURRENT holds the other key, Active, of this user: adopted (a first rotation that ended NeedsAttention)',
      [key(OLD), key(OTHER)],
      [version(OTHER, ['AWSCURRENT'])],
      { adopt: true, accessKeyId: OTHER, versionId: `v-${OTHER}` },
    ],
    [
      'the same with AWSPREVIOUS on the rotated key (a later rotation that ended NeedsAttention): adopted',
      [key(OLD), key(OTHER)],
      [version(OTHER, ['AWSCURRENT']), version(OLD, ['AWSPREVIOUS'])],
      { adopt: true, accessKeyId: OTHER, versionId: `v-${OTHER}` },
    ],
    ['no secret yet', [key(OLD), key(OTHER)], [], { adopt: false, why: 'no-current' }],
    [
      'AWSCURRENT holds something that is not a key',
      [key(OLD), key(OTHER)],
      [version(undefined, ['AWSCURRENT'])],
      { adopt: false, why: 'no-current' },
    ],
    [
      'AWSCURRENT holds the key being rotated',
      [key(OLD), key(OTHER)],
      [version(OLD, ['AWSCURRENT'])],
      { adopt: false, why: 'current-is-rotated-key' },
    ],
    [
      'AWSCURRENT holds a key the user does not have (deleted, or another user’s)',
      [key(OLD), key(OTHER)],
      [version('AKIASOMEONEELSE00000', ['AWSCURRENT'])],
      { adopt: false, why: 'not-a-key-of-the-user' },
    ],
    [
      'AWSCURRENT holds an Inactive key',
      [key(OLD), key(OTHER, 'Inactive')],
      [version(OTHER, ['AWSCURRENT'])],
      { adopt: false, why: 'inactive' },
    ],
    [
      'AWSCURRENT was not written by the rotator (its key is not known)',
      [key(OLD), key(OTHER)],
      [version(undefined, ['AWSCURRENT'])],
      { adopt: false, why: 'no-current' },
    ],
    [
      'AWSPENDING (not AWSCURRENT) holds the other key: not adopted here',
      [key(OLD), key(OTHER)],
      [version(OLD, ['AWSCURRENT']), version(OTHER, ['AWSPENDING'])],
      { adopt: false, why: 'current-is-rotated-key' },
    ],
  ])('%s', (_name, keys, versions, expected) => {
    // Act & Assess
    expect(decideAdoption(keys, OLD, versions)).toEqual(expected);
  });
});

describe('decideRoom: making room under the two-key limit', () => {
  test.each<[string, KeyFact[], VersionFact[], RoomDecision]>([
    ['one key: nothing to do', [key(OLD)], [version(OLD, ['AWSCURRENT'])], { action: 'none' }],
    ['one key, no secret yet (a first rotation): nothing to do', [key(OLD)], [], { action: 'none' }],
    [
      'other key Inactive and unreferenced: delete it',
      [key(OLD), key(OTHER, 'Inactive')],
      [version(OLD, ['AWSCURRENT'])],
      { action: 'delete', accessKeyId: OTHER },
    ],
    ['other key Inactive, no secret yet: delete it', [key(OLD), key(OTHER, 'Inactive')], [], { action: 'delete', accessKeyId: OTHER }],
    [
      'other key Inactive and only AWSPREVIOUS: delete it',
      [key(OLD), key(OTHER, 'Inactive')],
      [version(OLD, ['AWSCURRENT']), version(OTHER, ['AWSPREVIOUS'])],
      { action: 'delete', accessKeyId: OTHER },
    ],
    [
      'other key Active, AWSCURRENT holds the rotated key: refuse, delete nothing',
      [key(OLD), key(OTHER)],
      [version(OLD, ['AWSCURRENT'])],
      { action: 'refuse', otherKeyId: OTHER, why: 'active', currentKeyId: OLD },
    ],
    [
      'other key Active, no secret: refuse, delete nothing',
      [key(OLD), key(OTHER)],
      [],
      { action: 'refuse', otherKeyId: OTHER, why: 'active', currentKeyId: undefined },
    ],
    [
      'other key Inactive but AWSCURRENT holds it: refuse',
      [key(OLD), key(OTHER, 'Inactive')],
      [version(OTHER, ['AWSCURRENT'])],
      { action: 'refuse', otherKeyId: OTHER, why: 'secret-current', currentKeyId: OTHER },
    ],
    [
      'other key Active, AWSCURRENT not written by the rotator: refuse, never delete it',
      [key(OLD), key(OTHER)],
      [version(undefined, ['AWSCURRENT'])],
      { action: 'refuse', otherKeyId: OTHER, why: 'active', currentKeyId: undefined },
    ],
    [
      'other key Active and AWSCURRENT, no AWSPREVIOUS (the first rotation created the secret): take it over',
      [key(OLD), key(OTHER)],
      [version(OTHER, ['AWSCURRENT'])],
      { action: 'adopt', accessKeyId: OTHER },
    ],
    [
      'other key Active and AWSCURRENT, AWSPREVIOUS on the rotated key: take it over',
      [key(OLD), key(OTHER)],
      [version(OTHER, ['AWSCURRENT']), version(OLD, ['AWSPREVIOUS'])],
      { action: 'adopt', accessKeyId: OTHER },
    ],
    [
      'other key Active and AWSCURRENT, AWSPREVIOUS on yet another key: take it over',
      [key(OLD), key(OTHER)],
      [version(OTHER, ['AWSCURRENT']), version('AKIAGONE000000000000', ['AWSPREVIOUS'])],
      { action: 'adopt', accessKeyId: OTHER },
    ],
  ])('%s', (_name, keys, versions, expected) => {
    // Act & Assess
    expect(decideRoom({ keys, oldAccessKeyId: OLD, versions })).toEqual(expected);
  });

  test('no decision ever deletes the key AWSCURRENT holds', () => {
    // Act & Assess: decide and check for each status of the other key and each other label it may carry too.
    // (An AWSCURRENT the rotator did not write is refused before this decision: refuseUnidentifiedCurrent.)
    for (const status of ['Active', 'Inactive'] as const) {
      for (const alsoLabelled of [[], ['AWSPENDING'], ['AWSPREVIOUS']]) {
        const room = decideRoom({
          keys: [key(OLD), key(OTHER, status)],
          oldAccessKeyId: OLD,
          versions: [version(OTHER, ['AWSCURRENT', ...alsoLabelled])],
        });
        expect({ status, alsoLabelled, room: room.action }).not.toEqual({ status, alsoLabelled, room: 'delete' });
      }
    }
  });
});

describe('decideNewKeySource: where CreateAndStore’s new key comes from', () => {
  test.each<[string, KeyFact[], VersionFact[], ReturnType<typeof decideNewKeySource>]>([
    ['nothing stored yet: create', [key(OLD)], [version(OLD, ['AWSCURRENT'])], { source: 'create' }],
    ['no secret yet: create', [key(OLD)], [], { source: 'create' }],
    [
      'AWSPENDING holds an Active key of an earlier attempt: reuse it',
      [key(OLD), key(OTHER)],
      [version(OLD, ['AWSCURRENT']), version(OTHER, ['AWSPENDING'])],
      { source: 'pending', accessKeyId: OTHER, versionId: `v-${OTHER}` },
    ],
    [
      'AWSPENDING holds a key the user no longer has: create',
      [key(OLD)],
      [version(OLD, ['AWSCURRENT']), version(OTHER, ['AWSPENDING'])],
      { source: 'create' },
    ],
    [
      'AWSPENDING holds an Inactive key: not reused',
      [key(OLD), key(OTHER, 'Inactive')],
      [version(OLD, ['AWSCURRENT']), version(OTHER, ['AWSPENDING'])],
      { source: 'create' },
    ],
    [
      'AWSPENDING not written by the rotator (its key is not known): not reused',
      [key(OLD), key(OTHER)],
      [version(OLD, ['AWSCURRENT']), version(undefined, ['AWSPENDING'])],
      { source: 'create' },
    ],
    [
      'AWSCURRENT holds the other key, Active: taken over',
      [key(OLD), key(OTHER)],
      [version(OTHER, ['AWSCURRENT'])],
      { source: 'adopted', accessKeyId: OTHER, versionId: `v-${OTHER}` },
    ],
    [
      'AWSCURRENT holds an Inactive other key: not taken over',
      [key(OLD), key(OTHER, 'Inactive')],
      [version(OTHER, ['AWSCURRENT'])],
      { source: 'create' },
    ],
  ])('%s', (_name, keys, versions, expected) => {
    // Act & Assess
    expect(decideNewKeySource(keys, OLD, versions)).toEqual(expected);
  });
});

describe('markersFor: confirm and abort markers that name a key', () => {
  test.each<[string, Record<string, string>, string[]]>([
    ['none set', { owner: 'a@example.com' }, []],
    ['both set for the key', { 'rotation:confirm': OTHER, 'rotation:abort': ` ${OTHER} ` }, ['rotation:confirm', 'rotation:abort']],
    ['set for another key: kept', { 'rotation:confirm': OLD, 'rotation:abort': 'AKIAELSE000000000000' }, []],
  ])('%s', (_name, tags, expected) => {
    // Act & Assess
    expect(markersFor(new Map(Object.entries(tags)), OTHER)).toEqual(expected);
  });
});

describe('last-used evidence', () => {
  // AWS: IAM records the first use in a 15-minute span and may show it hours late; moto: every request, at once.
  const FULL: LastUsedPrecision = { granularityMs: 0, lagMs: 0 };
  const SPANS: LastUsedPrecision = { granularityMs: 15 * MIN, lagMs: 0 };
  const AWS: LastUsedPrecision = { granularityMs: 15 * MIN, lagMs: 4 * HOUR };

  test.each<[string, Date | undefined, LastUsedPrecision, boolean]>([
    ['never used', undefined, FULL, false],
    ['used before promotion (Verify itself)', at(-1), FULL, false],
    ['used at promotion, full precision', at(0), FULL, true],
    ['used after promotion, full precision', at(5), FULL, true],
    ['recorded in the first 15-minute span after promotion: may stand for a use before it', at(15 * MIN - 1), SPANS, false],
    ['recorded one span after promotion proves use', at(15 * MIN), SPANS, true],
    ['lag only delays a record, it never makes one false', at(15 * MIN), AWS, true],
    ['Verify just before promotion, with AWS precision', at(-5_000), AWS, false],
  ])('usedSince: %s → %s', (_name, lastUsed, precision, expected) => {
    // Act & Assess
    expect(usedSince(lastUsed, T0, precision)).toBe(expected);
  });

  test.each<[string, Date | undefined, Date, LastUsedPrecision, boolean]>([
    ['full precision: quiet period not over yet', undefined, at(HOUR), FULL, false],
    ['full precision: never used, quiet period over', undefined, at(24 * HOUR), FULL, true],
    ['full precision: last used before promotion, quiet period over', at(-HOUR), at(24 * HOUR), FULL, true],
    ['full precision: used within the quiet period', at(20 * HOUR), at(24 * HOUR), FULL, false],
    ['full precision: last used exactly a quiet period ago', at(24 * HOUR), at(48 * HOUR), FULL, true],
    ['spans: last used an hour before the quiet window', at(23 * HOUR), at(48 * HOUR), SPANS, true],
    [
      'spans: a record less than a span before the window may stand for a use inside it',
      at(24 * HOUR - 10 * MIN),
      at(48 * HOUR),
      SPANS,
      false,
    ],
    ['spans: a record whose span ends where the window starts', at(24 * HOUR - 15 * MIN), at(48 * HOUR), SPANS, true],
    ['AWS: never used, quiet period over but not quiet period + lag', undefined, at(24 * HOUR), AWS, false],
    ['AWS: never used, one ms short of quiet period + lag', undefined, at(28 * HOUR - 1), AWS, false],
    ['AWS: never used, quiet period + lag after promotion', undefined, at(28 * HOUR), AWS, true],
    ['AWS: last used before promotion, quiet period + lag over', at(-HOUR), at(28 * HOUR), AWS, true],
    ['AWS: used an hour after promotion, not a quiet period before the lag', at(HOUR), at(28 * HOUR), AWS, false],
    ['AWS: used an hour after promotion, a quiet period + lag + span later', at(HOUR), at(29 * HOUR + 15 * MIN), AWS, true],
    ['AWS: a record inside the lag', at(47 * HOUR), at(48 * HOUR), AWS, false],
    ['AWS: a record a quiet period ago, but inside lag + quiet', at(24 * HOUR), at(48 * HOUR), AWS, false],
    ['AWS: a record whose span ends lag + quiet ago', at(20 * HOUR - 15 * MIN), at(48 * HOUR), AWS, true],
    ['AWS: a record whose span reaches 1 ms into lag + quiet', at(20 * HOUR - 15 * MIN + 1), at(48 * HOUR), AWS, false],
  ])('idleFor (24 h quiet): %s → %s', (_name, lastUsed, now, precision, expected) => {
    // Act & Assess
    expect(idleFor(lastUsed, T0, 24 * HOUR, precision, now)).toBe(expected);
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
    // Act & Assess
    expect(evaluateGate(results, aborted, deadline, now).status).toBe(status);
  });
});

describe('evaluateObservation', () => {
  const until = at(HOUR).toISOString();
  const calm = { aborted: false, failedUrls: [] };
  test.each<[string, Parameters<typeof evaluateObservation>[0], Date, string]>([
    ['calm, period running', calm, at(0), 'watching'],
    ['calm, period over', calm, at(HOUR), 'over'],
    ['a consumer gone silent', { ...calm, silentConsumers: ['consumer 203.0.113.25 (aws-cli/2) has gone silent'] }, at(0), 'trouble'],
    ['a health URL fails, even after the period', { ...calm, failedUrls: ['https://x/health (HTTP 500)'] }, at(2 * HOUR), 'trouble'],
    ['aborted by a person', { ...calm, aborted: true }, at(0), 'trouble'],
  ])('%s → %s', (_name, facts, now, status) => {
    // Act & Assess
    expect(evaluateObservation(facts, until, now).status).toBe(status);
  });
});

describe('classifyExtraKeys: only a never-used key this rotation created is an orphan', () => {
  // Rotation.startedAt is Prepare's clock (milliseconds); IAM's CreateDate has whole seconds (moto: microseconds).
  const STARTED = '2026-06-01T12:00:00.500Z';
  const BEFORE = new Date('2026-06-01T11:59:59Z');
  const DURING = new Date('2026-06-01T12:00:03Z');
  const extra = (accessKeyId: string, everUsed: boolean, createdAt: Date): ExtraKeyFact => ({
    accessKeyId,
    status: 'Active',
    everUsed,
    createdAt,
  });
  const OLD_KEY = extra('OLD', true, new Date('2026-01-01T00:00:00Z'));

  test.each<[string, ExtraKeyFact, string[], string | undefined, { orphans: string[]; foreign: string[] }]>([
    [
      'created during the rotation, never used, no version holds it: an orphan',
      extra('K', false, DURING),
      [],
      undefined,
      { orphans: ['K'], foreign: [] },
    ],
    [
      'dated in the second the rotation started in but before it (IAM has whole seconds): not provably ours, kept',
      extra('K', false, new Date('2026-06-01T12:00:00Z')),
      [],
      undefined,
      { orphans: [], foreign: ['K'] },
    ],
    [
      'created at the very instant the rotation started: an orphan',
      extra('K', false, new Date(STARTED)),
      [],
      undefined,
      { orphans: ['K'], foreign: [] },
    ],
    [
      'never used but created before the rotation: foreign, kept',
      extra('K', false, BEFORE),
      [],
      undefined,
      { orphans: [], foreign: ['K'] },
    ],
    ['created during the rotation but used: foreign, kept', extra('K', true, DURING), [], undefined, { orphans: [], foreign: ['K'] }],
    ['older than the rotation but the new key it recorded: an orphan', extra('K', false, BEFORE), [], 'K', { orphans: ['K'], foreign: [] }],
    [
      'created during the rotation and held by a labelled version: neither',
      extra('K', false, DURING),
      ['K'],
      undefined,
      { orphans: [], foreign: [] },
    ],
    [
      'never used, older than the rotation, held by a labelled version: neither',
      extra('K', false, BEFORE),
      ['K'],
      undefined,
      { orphans: [], foreign: [] },
    ],
  ])('%s', (_name, key, referenced, newAccessKeyId, expected) => {
    // Act & Assess
    expect(classifyExtraKeys([OLD_KEY, key], 'OLD', new Set(referenced), { startedAt: STARTED, newAccessKeyId })).toEqual(expected);
  });

  test('the rotated key is never an extra key, used or not', () => {
    // Act & Assess
    expect(
      classifyExtraKeys([{ ...OLD_KEY, everUsed: false }], 'OLD', new Set(), {
        startedAt: '2025-01-01T00:00:00Z',
        newAccessKeyId: undefined,
      }),
    ).toEqual({
      orphans: [],
      foreign: [],
    });
  });
});

describe('planMakeSafe and planRollback', () => {
  const v = (versionId: string, accessKeyId: string, ...stages: string[]): VersionFact => ({ versionId, accessKeyId, stages });
  // Keys are created during the rotation unless a case says otherwise (`createdAt: BEFORE`).
  const STARTED = T0;
  const BEFORE = at(-HOUR);
  const key = (accessKeyId: string, status: 'Active' | 'Inactive', everUsed = true, createdAt = at(MIN)): ExtraKeyFact => ({
    accessKeyId,
    status,
    everUsed,
    createdAt,
  });
  const facts = (overrides: Partial<SafetyFacts>): SafetyFacts => ({
    kind: 'scheduled',
    oldAccessKeyId: 'OLD',
    startedAt: STARTED,
    keys: [key('OLD', 'Active')],
    newAccessKeyId: undefined,
    versions: [v('v-old', 'OLD', 'AWSCURRENT')],
    ...overrides,
  });

  test.each<[string, Partial<SafetyFacts>, ReturnType<typeof planMakeSafe>]>([
    ['failed in Prepare: nothing to do', {}, []],
    [
      'failed before promotion: delete the new key, drop AWSPENDING',
      {
        keys: [key('OLD', 'Active'), key('NEW', 'Active')],
        newAccessKeyId: 'NEW',
        versions: [v('v-old', 'OLD', 'AWSCURRENT'), v('v-new', 'NEW', 'AWSPENDING')],
      },
      [
        { action: 'delete-key', accessKeyId: 'NEW' },
        { action: 'remove-pending', versionId: 'v-new' },
      ],
    ],
    [
      'failed after promotion: keep the promoted key, nothing else',
      {
        keys: [key('OLD', 'Active'), key('NEW', 'Active')],
        newAccessKeyId: 'NEW',
        versions: [v('v-old', 'OLD', 'AWSPREVIOUS'), v('v-new', 'NEW', 'AWSCURRENT')],
      },
      [],
    ],
    [
      'failed after deactivation: reactivate the old key, keep the promoted one',
      {
        keys: [key('OLD', 'Inactive'), key('NEW', 'Active')],
        newAccessKeyId: 'NEW',
        versions: [v('v-old', 'OLD', 'AWSPREVIOUS'), v('v-new', 'NEW', 'AWSCURRENT')],
      },
      [{ action: 'reactivate-key', accessKeyId: 'OLD' }],
    ],
    [
      'the promoted key was deleted by hand: AWSCURRENT goes back to the old key',
      {
        keys: [key('OLD', 'Inactive')],
        newAccessKeyId: 'NEW',
        versions: [v('v-old', 'OLD', 'AWSPREVIOUS'), v('v-new', 'NEW', 'AWSCURRENT')],
      },
      [
        { action: 'reactivate-key', accessKeyId: 'OLD' },
        { action: 'move-current', toVersionId: 'v-old', fromVersionId: 'v-new' },
      ],
    ],
    [
      'compromise: the old key stays Inactive',
      {
        kind: 'compromise',
        keys: [key('OLD', 'Inactive'), key('NEW', 'Active')],
        newAccessKeyId: 'NEW',
        versions: [v('v-old', 'OLD', 'AWSPREVIOUS'), v('v-new', 'NEW', 'AWSCURRENT')],
      },
      [],
    ],
    [
      'crash between CreateAccessKey and PutSecretValue: the orphan goes',
      { keys: [key('OLD', 'Active'), key('ORPHAN', 'Active', false)] },
      [{ action: 'delete-key', accessKeyId: 'ORPHAN' }],
    ],
    ['a used, unreferenced key is not ours: kept', { keys: [key('OLD', 'Active'), key('THEIRS', 'Active', true)] }, []],
    [
      'a never-used, unreferenced Active key older than the rotation is not ours: kept',
      { keys: [key('OLD', 'Active'), key('THEIRS', 'Active', false, BEFORE)] },
      [],
    ],
    [
      'no new key recorded, AWSPENDING holds a key this rotation created (a crash after PutSecretValue): deleted, AWSPENDING removed',
      {
        keys: [key('OLD', 'Active'), key('NEW', 'Active', false)],
        versions: [v('v-old', 'OLD', 'AWSCURRENT'), v('v-new', 'NEW', 'AWSPENDING')],
      },
      [
        { action: 'delete-key', accessKeyId: 'NEW' },
        { action: 'remove-pending', versionId: 'v-new' },
      ],
    ],
    [
      'no new key recorded, AWSPENDING holds a key of an earlier (stopped) execution: kept for the next rotation to reuse',
      {
        keys: [key('OLD', 'Active'), key('EARLIER', 'Active', false, BEFORE)],
        versions: [v('v-old', 'OLD', 'AWSCURRENT'), v('v-earlier', 'EARLIER', 'AWSPENDING')],
      },
      [],
    ],
    [
      'the new key this execution recorded goes even if IAM dates it before the rotation (it took over a pending key)',
      {
        keys: [key('OLD', 'Active'), key('NEW', 'Active', false, BEFORE)],
        newAccessKeyId: 'NEW',
        versions: [v('v-old', 'OLD', 'AWSCURRENT'), v('v-new', 'NEW', 'AWSPENDING')],
      },
      [
        { action: 'delete-key', accessKeyId: 'NEW' },
        { action: 'remove-pending', versionId: 'v-new' },
      ],
    ],
    [
      'first rotation, secret created by this run, failed before promotion: the new key is AWSCURRENT, so it is kept',
      {
        keys: [key('OLD', 'Active'), key('NEW', 'Active')],
        newAccessKeyId: 'NEW',
        versions: [v('v-new', 'NEW', 'AWSCURRENT', 'AWSPENDING')],
      },
      [],
    ],
  ])('MakeSafe: %s', (_name, overrides, expected) => {
    // Act & Assess
    expect(planMakeSafe(facts(overrides))).toEqual(expected);
  });

  test.each<[string, Partial<SafetyFacts>, ReturnType<typeof planRollback>]>([
    [
      'during observation: reactivate, AWSCURRENT back, deactivate the new key',
      {
        keys: [key('OLD', 'Inactive'), key('NEW', 'Active')],
        newAccessKeyId: 'NEW',
        versions: [v('v-old', 'OLD', 'AWSPREVIOUS'), v('v-new', 'NEW', 'AWSCURRENT')],
      },
      [
        { action: 'reactivate-key', accessKeyId: 'OLD' },
        { action: 'move-current', toVersionId: 'v-old', fromVersionId: 'v-new' },
        { action: 'deactivate-key', accessKeyId: 'NEW' },
      ],
    ],
    [
      'aborted at the gate (old key still Active)',
      {
        keys: [key('OLD', 'Active'), key('NEW', 'Active')],
        newAccessKeyId: 'NEW',
        versions: [v('v-old', 'OLD', 'AWSPREVIOUS'), v('v-new', 'NEW', 'AWSCURRENT')],
      },
      [
        { action: 'move-current', toVersionId: 'v-old', fromVersionId: 'v-new' },
        { action: 'deactivate-key', accessKeyId: 'NEW' },
      ],
    ],
    [
      'no version of the old key (first rotation): the new key stays Active and AWSCURRENT',
      { keys: [key('OLD', 'Inactive'), key('NEW', 'Active')], newAccessKeyId: 'NEW', versions: [v('v-new', 'NEW', 'AWSCURRENT')] },
      [{ action: 'reactivate-key', accessKeyId: 'OLD' }],
    ],
    [
      'already rolled back: nothing to do',
      {
        keys: [key('OLD', 'Active'), key('NEW', 'Inactive')],
        newAccessKeyId: 'NEW',
        versions: [v('v-old', 'OLD', 'AWSCURRENT'), v('v-new', 'NEW', 'AWSPREVIOUS')],
      },
      [],
    ],
  ])('Rollback: %s', (_name, overrides, expected) => {
    // Act & Assess
    expect(planRollback(facts(overrides))).toEqual(expected);
  });
});
