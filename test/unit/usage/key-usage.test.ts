import { describe, expect, test } from '@jest/globals';
import type { KeyCall } from '#shared/aws/key-calls.ts';
import { summariseUsage, usedActions } from '#shared/usage/key-usage.ts';

const KEY = 'AKIAIOSFODNN7EXAMPLE';
const BUCKET = 'arn:aws:s3:::reports';
let next = 0;

function call(overrides: Partial<KeyCall>): KeyCall {
  next += 1;
  return {
    eventId: `e-${next}`,
    at: new Date(Date.UTC(2026, 10, 20, 10, next)),
    accessKeyId: KEY,
    sourceIp: '198.51.100.7',
    invokedBy: undefined,
    userAgent: 'aws-cli/2.15.30 Python/3.11.8',
    eventSource: 's3.amazonaws.com',
    eventName: 'ListObjectsV2',
    region: 'eu-west-1',
    errorCode: undefined,
    category: 'Data',
    resources: [BUCKET],
    ...overrides,
  };
}

describe('summariseUsage', () => {
  test('calls become IAM actions with their counts and the resources each action applies to', () => {
    // Prepare
    const calls = [
      call({}),
      call({ eventName: 'HeadBucket' }),
      call({ eventName: 'GetObject', resources: [`${BUCKET}/a.csv`, BUCKET] }),
      call({ eventName: 'GetObject', resources: [`${BUCKET}/b.csv`, BUCKET] }),
      call({ eventSource: 'sts.amazonaws.com', eventName: 'GetCallerIdentity', region: 'us-east-1', resources: [] }),
    ];

    // Act
    const usage = summariseUsage(calls);

    // Assess
    expect(usage.calls).toBe(5);
    expect(usage.regions).toEqual(['eu-west-1', 'us-east-1']);
    expect(
      usage.actions.map(({ action, events, allowed, resources, withoutResource }) => ({
        action,
        events,
        allowed,
        resources,
        withoutResource,
      })),
    ).toEqual([
      {
        action: 's3:GetObject',
        events: ['s3.amazonaws.com GetObject'],
        allowed: 2,
        resources: [`${BUCKET}/a.csv`, `${BUCKET}/b.csv`],
        withoutResource: 0,
      },
      {
        action: 's3:ListBucket',
        events: ['s3.amazonaws.com HeadBucket', 's3.amazonaws.com ListObjectsV2'],
        allowed: 2,
        resources: [BUCKET],
        withoutResource: 0,
      },
      { action: 'sts:GetCallerIdentity', events: ['sts.amazonaws.com GetCallerIdentity'], allowed: 1, resources: [], withoutResource: 1 },
    ]);
  });

  test('a call refused by authorization counts as refused, not as use; one that failed otherwise was allowed', () => {
    // Prepare
    const calls = [
      call({ eventName: 'PutObject', errorCode: 'AccessDenied', resources: [`${BUCKET}/x`, BUCKET] }),
      call({ eventName: 'GetObject', errorCode: 'NoSuchKey', resources: [`${BUCKET}/gone`, BUCKET] }),
    ];

    // Act
    const usage = summariseUsage(calls);

    // Assess
    expect(usage.actions.map(({ action, allowed, refused, resources }) => ({ action, allowed, refused, resources }))).toEqual([
      { action: 's3:GetObject', allowed: 1, refused: 0, resources: [`${BUCKET}/gone`] },
      { action: 's3:PutObject', allowed: 0, refused: 1, resources: [] },
    ]);
    expect(usedActions(usage.actions)).toEqual(['s3:GetObject']);
  });

  test('each consumer (source and tool, to its major version) has its own actions and where it runs, most recent first', () => {
    // Prepare
    const calls = [
      call({ userAgent: 'aws-cli/2.13.0 Python/3.11' }),
      call({ userAgent: 'aws-cli/2.15.30 Python/3.11' }),
      call({
        sourceIp: '203.0.113.40',
        userAgent: 'aws-sdk-js/3.600.0 exec-env/AWS_Lambda_nodejs22.x',
        eventName: 'GetObject',
        resources: [`${BUCKET}/a`],
      }),
    ];

    // Act
    const usage = summariseUsage(calls);

    // Assess
    expect(
      usage.consumers.map((consumer) => [consumer.key, consumer.calls, consumer.runtime.kind, consumer.actions.map((use) => use.action)]),
    ).toEqual([
      ['203.0.113.40 aws-sdk-js/3', 1, 'aws-service', ['s3:GetObject']],
      ['198.51.100.7 aws-cli/2', 2, 'outside-aws', ['s3:ListBucket']],
    ]);
  });

  test('one consumer with a quarter of a million calls is summarised (no argument list as long as its calls)', () => {
    // Prepare
    const base = call({});
    const calls = Array.from({ length: 250_000 }, (_, index) => ({
      ...base,
      eventId: `busy-${index}`,
      at: new Date(Date.UTC(2026, 10, 1) + index * 1000),
    }));

    // Act
    const usage = summariseUsage(calls);

    // Assess
    expect(usage.consumers).toHaveLength(1);
    expect(usage.consumers[0]).toMatchObject({
      calls: 250_000,
      firstSeen: '2026-11-01T00:00:00.000Z',
      lastSeen: new Date(Date.UTC(2026, 10, 1) + 249_999_000).toISOString(),
    });
  });

  test('no calls: nothing used, no consumer', () => {
    // Act & Assess
    expect(summariseUsage([])).toEqual({ calls: 0, regions: [], actions: [], consumers: [] });
  });
});
