import { describe, expect, test } from '@jest/globals';
import type { KeyCall } from '#shared/aws/key-calls.ts';
import { consumersOf } from '#shared/consumers/inventory.ts';
import { consumerMovement, describeConsumer, silentConsumers } from '#shared/consumers/movement.ts';

const T0 = Date.parse('2026-06-01T00:00:00.000Z');
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const OLD = 'AKIAOLD0000000000000';
const NEW = 'AKIANEW0000000000000';

let nextId = 0;
function call(
  accessKeyId: string,
  atMs: number,
  sourceIp: string,
  userAgent = 'aws-cli/2.15.30 Python/3.11.8',
  eventName = 'GetObject',
): KeyCall {
  nextId += 1;
  return {
    eventId: `e-${nextId}`,
    at: new Date(atMs),
    accessKeyId,
    sourceIp,
    invokedBy: undefined,
    userAgent,
    eventSource: 's3.amazonaws.com',
    eventName,
    region: 'eu-west-1',
    errorCode: undefined,
    category: 'Data',
  };
}

/** A consumer calling every `everyMs` from `fromMs` to `toMs` (exclusive). */
function calls(accessKeyId: string, sourceIp: string, fromMs: number, toMs: number, everyMs: number): KeyCall[] {
  const made: KeyCall[] = [];
  for (let at = fromMs; at < toMs; at += everyMs) made.push(call(accessKeyId, at, sourceIp));
  return made;
}

describe('consumersOf', () => {
  test('groups calls by address and tool, with counts, services, refusals and cadence', () => {
    // Prepare
    const mixed = [
      ...calls(OLD, '198.51.100.7', T0, T0 + 10 * MIN, MIN),
      { ...call(OLD, T0 + 11 * MIN, '198.51.100.7'), eventSource: 'sts.amazonaws.com', eventName: 'GetCallerIdentity' },
      { ...call(OLD, T0 + 12 * MIN, '203.0.113.9', 'Boto3/1.34.0'), errorCode: 'AccessDenied' },
    ];

    // Act
    const consumers = consumersOf(mixed);

    // Assess
    expect(consumers.map((consumer) => [consumer.key, consumer.calls])).toEqual([
      ['203.0.113.9 Boto3/1', 1],
      ['198.51.100.7 aws-cli/2', 11],
    ]);
    const cli = consumers[1];
    expect(cli).toMatchObject({ services: ['s3', 'sts'], topCalls: ['s3:GetObject', 'sts:GetCallerIdentity'], cadenceMs: MIN });
    expect(consumers[0]).toMatchObject({ errors: { AccessDenied: 1 }, cadenceMs: undefined });
    expect(describeConsumer(consumers[0] ?? cli!)).toBe(
      `203.0.113.9 (Boto3/1) calling s3:GetObject, last seen ${new Date(T0 + 12 * MIN).toISOString()}`,
    );
  });
});

describe('consumerMovement: the consumers-moved check', () => {
  const promotedAt = new Date(T0 + DAY).toISOString();
  const facts = (oldCalls: KeyCall[], newCalls: KeyCall[], nowMs: number) => ({
    oldKey: consumersOf(oldCalls),
    newKey: consumersOf(newCalls),
    promotedAt,
    now: new Date(nowMs),
    deliveryDelayMs: 15 * MIN,
  });

  test('two consumers, both moved and the old key quiet past the delivery delay: passes', () => {
    // Prepare
    const oldCalls = [
      ...calls(OLD, '198.51.100.7', T0, T0 + DAY + 5 * MIN, MIN),
      ...calls(OLD, '203.0.113.9', T0, T0 + DAY + 5 * MIN, HOUR),
    ];
    const newCalls = [
      ...calls(NEW, '198.51.100.7', T0 + DAY + 6 * MIN, T0 + DAY + HOUR, MIN),
      call(NEW, T0 + DAY + 30 * MIN, '203.0.113.9'),
    ];

    // Act
    const verdict = consumerMovement(facts(oldCalls, newCalls, T0 + DAY + HOUR));

    // Assess
    expect(verdict).toMatchObject({ passed: true, oldKeyQuiet: true, stragglers: [] });
    expect(verdict.moves.map((move) => move.state)).toEqual(['moved', 'moved']);
  });

  test('one consumer never moves: it holds the gate and is named as the straggler', () => {
    // Prepare
    const oldCalls = [...calls(OLD, '198.51.100.7', T0, T0 + DAY + HOUR, MIN), ...calls(OLD, '203.0.113.9', T0, T0 + DAY + 5 * MIN, MIN)];
    const newCalls = calls(NEW, '203.0.113.9', T0 + DAY + 6 * MIN, T0 + DAY + HOUR, MIN);

    // Act
    const verdict = consumerMovement(facts(oldCalls, newCalls, T0 + DAY + HOUR));

    // Assess
    expect(verdict.passed).toBe(false);
    expect(verdict.stragglers.map((consumer) => consumer.source)).toEqual(['198.51.100.7']);
    expect(verdict.oldKeyQuiet).toBe(false);
  });

  test('a daily job seen once on the old key holds the gate until it runs on the new key', () => {
    // Prepare
    const daily = [call(OLD, T0 + 2 * HOUR, '192.0.2.44', 'nightly-report/2.0 Boto3/1.34.0')];
    const nowMs = T0 + DAY + 3 * HOUR;

    // Act
    const waiting = consumerMovement(facts(daily, [], nowMs));
    const ran = consumerMovement(facts(daily, [call(NEW, T0 + DAY + 2 * HOUR, '192.0.2.44', 'nightly-report/2.1 Boto3/1.34.2')], nowMs));

    // Assess
    expect(waiting).toMatchObject({ passed: false });
    expect(waiting.moves[0]?.state).toBe('waiting');
    expect(ran).toMatchObject({ passed: true });
  });

  test('a busy consumer that stopped calling long ago (a replaced instance) has left and does not hold the gate', () => {
    // Prepare: it called every minute until six hours before promotion.
    const replaced = calls(OLD, '10.0.4.17', T0, T0 + DAY - 6 * HOUR, MIN);

    // Act
    const verdict = consumerMovement(facts(replaced, [], T0 + DAY + HOUR));

    // Assess
    expect(verdict.passed).toBe(true);
    expect(verdict.moves[0]).toMatchObject({ state: 'left' });
  });

  test('a key taken over from an earlier run: a consumer that moved to it before this promotion has moved, one that went back has not', () => {
    // Prepare: the key was promoted by a run that ended NeedsAttention; this run promotes it again at promotedAt.
    const before = Date.parse(promotedAt) - HOUR;
    const oldCalls = [
      ...calls(OLD, '198.51.100.7', T0, before - 10 * MIN, 10 * MIN),
      ...calls(OLD, '203.0.113.9', T0, Date.parse(promotedAt) - MIN, 10 * MIN),
    ];
    const newCalls = [call(NEW, before, '198.51.100.7'), call(NEW, before, '203.0.113.9')];

    // Act
    const verdict = consumerMovement(facts(oldCalls, newCalls, Date.parse(promotedAt) + 20 * MIN));

    // Assess: the first called the new key after its last old-key call; the second called the old key after its new-key call.
    expect(Object.fromEntries(verdict.moves.map((move) => [move.consumer.source, move.state]))).toEqual({
      '198.51.100.7': 'moved',
      '203.0.113.9': 'waiting',
    });
  });

  test('the delivery delay since promotion must pass before the check can pass', () => {
    // Act
    const verdict = consumerMovement(facts([], [], Date.parse(promotedAt) + 5 * MIN));

    // Assess
    expect(verdict).toMatchObject({ passed: false, oldKeyQuiet: false });
  });
});

describe('silentConsumers: breakage after the old key is cut', () => {
  const cutAt = T0 + DAY;
  const deactivatedAt = new Date(cutAt).toISOString();

  test('a consumer calling every minute up to the cut and silent for an hour since is broken', () => {
    // Prepare
    const beforeCut = consumersOf(calls(OLD, '198.51.100.7', T0, cutAt, MIN));

    // Act
    const silent = silentConsumers(beforeCut, [], deactivatedAt, new Date(cutAt + HOUR), 15 * MIN);

    // Assess
    expect(silent.map((entry) => entry.consumer.source)).toEqual(['198.51.100.7']);
  });

  test('one heard on the new key since the cut is not; nor a daily job; nor one that had stopped before the cut', () => {
    // Prepare
    const beforeCut = consumersOf([
      ...calls(OLD, '198.51.100.7', T0, cutAt, MIN),
      ...calls(OLD, '192.0.2.44', T0 - 10 * DAY, cutAt, DAY),
      ...calls(OLD, '10.0.4.17', T0, T0 + 6 * HOUR, MIN),
    ]);
    const sinceCut = consumersOf(calls(NEW, '198.51.100.7', cutAt + MIN, cutAt + HOUR, MIN));

    // Act
    const silent = silentConsumers(beforeCut, sinceCut, deactivatedAt, new Date(cutAt + 2 * HOUR), 15 * MIN);

    // Assess
    expect(silent).toEqual([]);
  });

  test('not before its own threshold: fifteen minutes at least, ten of its intervals', () => {
    // Prepare
    const beforeCut = consumersOf(calls(OLD, '198.51.100.7', T0, cutAt, MIN));

    // Act
    const early = silentConsumers(beforeCut, [], deactivatedAt, new Date(cutAt + 10 * MIN), 15 * MIN);

    // Assess
    expect(early).toEqual([]);
  });
});
