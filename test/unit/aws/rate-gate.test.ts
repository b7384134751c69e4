import { beforeEach, describe, expect, test } from '@jest/globals';
import { ConditionalCheckFailedException, DynamoDBClient, ResourceNotFoundException, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { intervalRateGate, ledgerRateGate, RATE_LEDGER_KEY, RATE_LEDGER_TTL_ATTRIBUTE } from '#shared/aws/rate-gate.ts';
import { LEDGER_KEY, LEDGER_TTL_ATTRIBUTE } from '#shared/notify/ledger.ts';

const START = Date.parse('2026-11-21T12:00:00.250Z');

/** A clock that only a sleep moves, and the sleeps asked for. */
function fakeTime() {
  let now = START;
  const sleeps: number[] = [];
  return {
    clock: () => new Date(now),
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
    sleeps,
    elapsed: () => now - START,
  };
}

const dynamodb = mockClient(DynamoDBClient);
const full = () => new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

beforeEach(() => {
  dynamodb.reset();
});

describe('intervalRateGate', () => {
  test('spaces the calls under one key 1/rate seconds apart, in the order they asked', async () => {
    // Prepare: the clock stands still while they wait, so each sleep is its whole wait from now
    const sleeps: number[] = [];
    const gate = intervalRateGate(2, { clock: () => new Date(START), sleep: async (ms) => void sleeps.push(ms) });
    const order: number[] = [];

    // Act: five callers at once
    await Promise.all([0, 1, 2, 3, 4].map(async (caller) => gate.acquire('lookup-events:us-east-1').then(() => order.push(caller))));

    // Assess
    expect(sleeps).toEqual([500, 1000, 1500, 2000]);
    expect(order).toEqual([0, 1, 2, 3, 4]);
  });

  test('keys do not wait for each other', async () => {
    // Prepare
    const time = fakeTime();
    const gate = intervalRateGate(2, time);

    // Act
    await gate.acquire('lookup-events:us-east-1');
    await gate.acquire('lookup-events:eu-west-1');

    // Assess
    expect(time.sleeps).toEqual([]);
  });

  test.each([0, -1, Number.NaN, Infinity])('a rate of %s is refused', (rate) => {
    // Act & Assess
    expect(() => intervalRateGate(rate)).toThrow(expect.objectContaining({ name: 'InvalidInputError' }));
  });
});

describe('ledgerRateGate', () => {
  test('claims a slot of the current second with a conditional ADD, and a TTL a few minutes ahead', async () => {
    // Prepare
    dynamodb.on(UpdateItemCommand).resolves({});
    const time = fakeTime();

    // Act
    await ledgerRateGate(new DynamoDBClient({}), 'ledger', 2, time).acquire('lookup-events:us-east-1');

    // Assess
    const second = Math.floor(START / 1000);
    expect(dynamodb).toHaveReceivedCommandWith(UpdateItemCommand, {
      TableName: 'ledger',
      Key: { id: { S: `rate#lookup-events:us-east-1#${second}` } },
      UpdateExpression: 'SET #expiresAt = :expiresAt ADD #count :one',
      ConditionExpression: 'attribute_not_exists(#count) OR #count < :rate',
      ExpressionAttributeNames: { '#count': 'count', '#expiresAt': 'expiresAt' },
      ExpressionAttributeValues: { ':one': { N: '1' }, ':rate': { N: '2' }, ':expiresAt': { N: String(second + 300) } },
    });
    expect(time.sleeps).toEqual([]);
  });

  test('a full second sends the caller to the next one', async () => {
    // Prepare
    dynamodb.on(UpdateItemCommand).rejectsOnce(full()).resolves({});
    const time = fakeTime();

    // Act
    await ledgerRateGate(new DynamoDBClient({}), 'ledger', 2, time).acquire('lookup-events:us-east-1');

    // Assess
    const ids = dynamodb.commandCalls(UpdateItemCommand).map((call) => call.args[0].input.Key?.id?.S);
    const second = Math.floor(START / 1000);
    expect(ids).toEqual([`rate#lookup-events:us-east-1#${second}`, `rate#lookup-events:us-east-1#${second + 1}`]);
    expect(time.sleeps).toEqual([750]);
  });

  test('gives up after its longest wait with AwsTransientError, which a source reads as throttled', async () => {
    // Prepare
    dynamodb.on(UpdateItemCommand).rejects(full());
    const time = fakeTime();

    // Act & Assess
    await expect(ledgerRateGate(new DynamoDBClient({}), 'ledger', 2, { ...time, maxWaitMs: 3_000 }).acquire('k')).rejects.toMatchObject({
      name: 'AwsTransientError',
      message: expect.stringMatching(/No k slot came free in 3 s/),
    });
    expect(time.elapsed()).toBeLessThanOrEqual(3_000);
  });

  test('a clock that stands still cannot keep it waiting forever', async () => {
    // Prepare
    dynamodb.on(UpdateItemCommand).rejects(full());
    const clock = () => new Date(START);

    // Act & Assess
    await expect(
      ledgerRateGate(new DynamoDBClient({}), 'ledger', 2, { clock, sleep: async () => {}, maxWaitMs: 5_000 }).acquire('k'),
    ).rejects.toMatchObject({
      name: 'AwsTransientError',
    });
    expect(dynamodb).toHaveReceivedCommandTimes(UpdateItemCommand, 6);
  });

  test.each([
    [
      'a missing table',
      new ResourceNotFoundException({ message: 'Requested resource not found', $metadata: {} }),
      'ConfigError',
      /NOTIFICATION_LEDGER_TABLE/,
    ],
    [
      'a denied update',
      Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }),
      'MissingPermissionError',
      /dynamodb:UpdateItem on the ledger table ledger for items rate#\*/,
    ],
  ])('%s is a typed error that says what to fix', async (_, error, name, message) => {
    // Prepare
    dynamodb.on(UpdateItemCommand).rejects(error);

    // Act & Assess
    await expect(ledgerRateGate(new DynamoDBClient({}), 'ledger', 2, fakeTime()).acquire('k')).rejects.toMatchObject({
      name,
      message: expect.stringMatching(message),
      cause: error,
    });
  });

  test.each([0, 1.5, -2])('a rate of %s is refused: the ledger counts whole calls a second', (rate) => {
    // Act & Assess
    expect(() => ledgerRateGate(new DynamoDBClient({}), 'ledger', rate)).toThrow(expect.objectContaining({ name: 'InvalidInputError' }));
  });

  test('uses the ledger table’s own key and TTL attribute', () => {
    // Assess
    expect([RATE_LEDGER_KEY, RATE_LEDGER_TTL_ATTRIBUTE]).toEqual([LEDGER_KEY, LEDGER_TTL_ATTRIBUTE]);
  });
});
