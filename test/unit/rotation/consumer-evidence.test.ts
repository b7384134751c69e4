import { beforeEach, describe, expect, test } from '@jest/globals';
import { GetAccessKeyLastUsedCommand, GetUserCommand, IAMClient, ListUserTagsCommand } from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import type { KeyCall, KeyCallReader } from '#shared/aws/key-calls.ts';
import { checkConsumers } from '#shared/rotation/consumer-checks.ts';
import { consumersMoved, silentSinceDeactivation } from '#shared/rotation/consumer-evidence.ts';
import { inAccount } from '#shared/rotation/step-account.ts';
import type { Gate, NewKey, Promoted, Rotation } from '#shared/rotation/workflow-state.ts';
import { rotationDeps } from '../../helpers/rotation-deps.ts';

const iam = mockClient(IAMClient);
beforeEach(() => {
  iam.reset();
  iam.on(GetAccessKeyLastUsedCommand).resolves({ AccessKeyLastUsed: { ServiceName: 'N/A', Region: 'N/A' } });
});

const OLD = 'AKIAOLD0000000000000';
const NEW = 'AKIANEW0000000000000';
const MIN = 60_000;
const PROMOTED_AT = '2026-06-01T12:00:00.000Z';
const promoted: Promoted = { promotedAt: PROMOTED_AT, previousVersionId: null, gateDeadline: '2026-06-08T12:00:00.000Z' };
const newKey: NewKey = { accessKeyId: NEW, versionId: 'v2', createdAt: PROMOTED_AT, reused: false };
const rotation = { userName: 'app-one', oldAccessKeyId: OLD, healthChecks: ['consumers-moved', 'old-key-idle'] } as unknown as Rotation; // only the fields these steps read

let nextId = 0;
function callsOf(accessKeyId: string, sourceIp: string, fromMs: number, toMs: number, everyMs: number): KeyCall[] {
  const made: KeyCall[] = [];
  for (let at = fromMs; at < toMs; at += everyMs) {
    nextId += 1;
    made.push({
      eventId: `e-${nextId}`,
      at: new Date(at),
      accessKeyId,
      sourceIp,
      invokedBy: undefined,
      userAgent: 'aws-cli/2.15.30 Python/3.11.8',
      eventSource: 'sts.amazonaws.com',
      eventName: 'GetCallerIdentity',
      region: 'us-east-1',
      errorCode: undefined,
      category: 'Management',
    });
  }
  return made;
}

/** A reader over a fixed set of calls, answering each query with the calls of its key and window. */
function readerOver(all: readonly KeyCall[], deliveryDelayMs = 15 * MIN): KeyCallReader {
  return async ({ accessKeyId, from, to }) => ({
    calls: all.filter((call) => call.accessKeyId === accessKeyId && call.at >= from && call.at <= to),
    evidence: [{ source: 'trail-log-group', calls: [], complete: true, apiCalls: 1, blindSpots: [] }],
    deliveryDelayMs,
  });
}

const at = (offsetMs: number): Date => new Date(Date.parse(PROMOTED_AT) + offsetMs);

describe('consumersMoved', () => {
  test('two consumers of the old key, one never moves: the check fails and names it', async () => {
    // Prepare
    const t = Date.parse(PROMOTED_AT);
    const calls = [
      ...callsOf(OLD, '198.51.100.7', t - 60 * MIN, t + 60 * MIN, MIN),
      ...callsOf(OLD, '203.0.113.9', t - 60 * MIN, t + 2 * MIN, MIN),
      ...callsOf(NEW, '203.0.113.9', t + 3 * MIN, t + 60 * MIN, MIN),
    ];
    const deps = rotationDeps({ readKeyCalls: readerOver(calls) });

    // Act
    const { result, stragglers } = await consumersMoved(rotation, newKey, promoted, deps, at(60 * MIN));

    // Assess
    expect(result).toMatchObject({ check: 'consumers-moved', passed: false });
    expect(result.detail).toContain('still on the old key: 198.51.100.7 (aws-cli/2)');
    expect(stragglers).toEqual([
      { source: '198.51.100.7', agent: 'aws-cli/2', calls: ['sts:GetCallerIdentity'], lastSeen: at(59 * MIN).toISOString() },
    ]);
  });

  test('both moved and the old key quiet past the delivery delay: passes, no stragglers', async () => {
    // Prepare
    const t = Date.parse(PROMOTED_AT);
    const calls = [
      ...callsOf(OLD, '198.51.100.7', t - 60 * MIN, t + 2 * MIN, MIN),
      ...callsOf(NEW, '198.51.100.7', t + 3 * MIN, t + 60 * MIN, MIN),
      ...callsOf(OLD, '203.0.113.9', t - 60 * MIN, t + 2 * MIN, MIN),
      ...callsOf(NEW, '203.0.113.9', t + 3 * MIN, t + 60 * MIN, MIN),
    ];

    // Act
    const moved = await consumersMoved(rotation, newKey, promoted, rotationDeps({ readKeyCalls: readerOver(calls) }), at(60 * MIN));

    // Assess
    expect(moved).toMatchObject({ result: { passed: true }, stragglers: [] });
  });

  test('a rare consumer an earlier read found and this sample missed still holds the gate, until it is seen on the new key', async () => {
    // Prepare: the chatty consumer moved; the daily one was found by an earlier check, and this read's sample has none of its calls.
    const t = Date.parse(PROMOTED_AT);
    const chatty = [
      ...callsOf(OLD, '198.51.100.7', t - 60 * MIN, t + 2 * MIN, MIN),
      ...callsOf(NEW, '198.51.100.7', t + 3 * MIN, t + 60 * MIN, MIN),
    ];
    const daily = { source: '203.0.113.9', agent: 'aws-cli/2', calls: ['s3:ListBuckets'], lastSeen: at(-20 * 60 * MIN).toISOString() };
    const deps = rotationDeps({ readKeyCalls: readerOver(chatty) });
    const dailyMoved = rotationDeps({
      readKeyCalls: readerOver([...chatty, ...callsOf(NEW, '203.0.113.9', t + 50 * MIN, t + 51 * MIN, MIN)]),
    });

    // Act
    const forgotten = await consumersMoved(rotation, newKey, promoted, deps, at(60 * MIN));
    const remembered = await consumersMoved(rotation, newKey, promoted, deps, at(60 * MIN), [daily]);
    const afterItMoved = await consumersMoved(rotation, newKey, promoted, dailyMoved, at(60 * MIN), [daily]);

    // Assess: without the memory the sample alone would pass the gate and break the daily job at deactivation.
    expect(forgotten.result.passed).toBe(true);
    expect(remembered.result).toMatchObject({ passed: false });
    expect(remembered.result.detail).toContain('still on the old key: 203.0.113.9 (aws-cli/2)');
    expect(remembered.stragglers).toEqual([daily]);
    expect(afterItMoved).toMatchObject({ result: { passed: true }, stragglers: [] });
  });

  test('without a readable CloudTrail source it is judged as new-key-used, and says so', async () => {
    // Prepare: the only source is denied.
    const denied: KeyCallReader = async () => ({
      calls: [],
      evidence: [
        {
          source: 'event-history',
          calls: [],
          complete: false,
          apiCalls: 1,
          blindSpots: [],
          unavailable: { errorName: 'AccessDeniedException', message: 'grant cloudtrail:LookupEvents' },
        },
      ],
      deliveryDelayMs: 15 * MIN,
    });
    iam
      .on(GetAccessKeyLastUsedCommand, { AccessKeyId: NEW })
      .resolves({ AccessKeyLastUsed: { LastUsedDate: at(30 * MIN), ServiceName: 's3', Region: 'us-east-1' } });

    // Act
    const { result } = await consumersMoved(rotation, newKey, promoted, rotationDeps({ readKeyCalls: denied }), at(60 * MIN));

    // Assess
    expect(result).toEqual({
      check: 'consumers-moved',
      passed: true,
      detail: "no CloudTrail source could be read, so judged by the new key's last use: the new key is in use",
    });
  });

  test('in a member account the stack’s own CloudTrail is not read: no evidence there is no consumer', async () => {
    // Prepare: a reader that would show no consumers at all, which alone would pass the check.
    const deps = rotationDeps({
      readKeyCalls: readerOver([]),
      ownAccountId: async () => '111111111111',
      forAccount: async () => ({ iam: new IAMClient({}), secretsManager: rotationDeps().secretsManager }),
    });

    // Act
    const member = await inAccount(deps, '222222222222');
    const { result } = await consumersMoved(rotation, newKey, promoted, member, at(60 * MIN));

    // Assess
    expect(member.readKeyCalls).toBeUndefined();
    expect(result).toMatchObject({ passed: false });
    expect(result.detail).toContain('no CloudTrail source is configured');
  });
});

describe('consumersMoved in a member account', () => {
  test('reads that account’s own CloudTrail when the function has a reader for it (its event history, with the member session)', async () => {
    // Prepare: the stack's reader would show nobody; the member account's shows a consumer still on the old key.
    const t = Date.parse(PROMOTED_AT);
    const memberReader = readerOver(callsOf(OLD, '198.51.100.44', t - 60 * MIN, t + 60 * MIN, MIN));
    const deps = rotationDeps({
      readKeyCalls: readerOver([]),
      ownAccountId: async () => '111111111111',
      forAccount: async () => ({ iam: new IAMClient({}), secretsManager: rotationDeps().secretsManager, readKeyCalls: memberReader }),
    });

    // Act
    const member = await inAccount(deps, '222222222222');
    const { result } = await consumersMoved(rotation, newKey, promoted, member, at(60 * MIN));

    // Assess
    expect(member.readKeyCalls).toBe(memberReader);
    expect(result).toMatchObject({ passed: false });
    expect(result.detail).toContain('still on the old key: 198.51.100.44 (aws-cli/2)');
  });
});

describe('checkConsumers remembers who it waits for', () => {
  test('the previous check’s stragglers and the consumers Promote saw hold the gate when this read misses them', async () => {
    // Prepare: this read sees nobody on the old key; Promote saw the nightly job, the previous check the dashboard.
    iam.on(GetUserCommand).resolves({
      User: {
        UserName: 'app-one',
        UserId: 'AIDA0',
        Arn: 'arn:aws:iam::111111111111:user/app-one',
        Path: '/',
        CreateDate: new Date(0),
        Tags: [],
      },
    });
    iam.on(ListUserTagsCommand).resolves({ Tags: [], IsTruncated: false });
    const seen = (source: string) => ({
      source,
      agent: 'aws-cli/2',
      calls: ['sts:GetCallerIdentity'],
      lastSeen: at(-2 * 60 * MIN).toISOString(),
    });
    const fromPromote: Promoted = { ...promoted, consumersToMove: [seen('203.0.113.9')] };
    const previous: Gate = {
      status: 'waiting',
      checkedAt: at(50 * MIN).toISOString(),
      passing: [],
      failing: ['consumers-moved'],
      detail: '',
      stragglers: [seen('198.51.100.7')],
    };
    const deps = rotationDeps({ readKeyCalls: readerOver([]) });
    const checksConsumers = { ...rotation, healthChecks: ['consumers-moved'] } as Rotation;

    // Act
    const gate = await checkConsumers(checksConsumers, newKey, fromPromote, deps, previous);

    // Assess
    expect(gate).toMatchObject({ status: 'waiting', failing: ['consumers-moved'] });
    expect(gate.stragglers?.map((straggler) => straggler.source).sort()).toEqual(['198.51.100.7', '203.0.113.9']);
  });
});

describe('silentSinceDeactivation', () => {
  test('a consumer calling every minute up to the cut, silent for an hour since: named as trouble', async () => {
    // Prepare
    const t = Date.parse(PROMOTED_AT);
    const cut = t + 30 * MIN;
    const calls = callsOf(OLD, '198.51.100.7', t - 60 * MIN, cut, MIN);
    const deactivated = { deactivatedAt: new Date(cut).toISOString(), observeUntil: new Date(cut + 7 * 24 * 60 * MIN).toISOString() };

    // Act
    const silent = await silentSinceDeactivation(
      rotation,
      newKey,
      deactivated,
      rotationDeps({ readKeyCalls: readerOver(calls) }),
      new Date(cut + 60 * MIN),
    );

    // Assess
    expect(silent).toHaveLength(1);
    expect(silent[0]).toContain('consumer 198.51.100.7 (aws-cli/2)');
    expect(silent[0]).toContain('has gone silent');
  });
});
