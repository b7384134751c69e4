import { describe, expect, test, beforeEach } from '@jest/globals';
import { Logger } from '@aws-lambda-powertools/logger';
import { IAMClient } from '@aws-sdk/client-iam';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { notifyStep } from '#functions/notify.ts';
import { prepareStep } from '#functions/rotate-prepare.ts';
import { localContext } from '#local/runner.ts';
import { fixedClock } from '#shared/clock.ts';
import { loadConfig } from '#shared/config.ts';
import { AwsTransientError } from '#shared/errors.ts';
import { stsWith, type RotationDeps } from '#shared/rotation/deps.ts';
import { isTransient } from '#shared/rotation/handler.ts';
import { buildNotification, NOTIFY_EVENTS, type NotifyInput } from '#shared/rotation/notify.ts';
import type { Rotation } from '#shared/rotation/state.ts';

const sns = mockClient(SNSClient);
const silent = new Logger({ serviceName: 'test', logLevel: 'SILENT' });

function deps(topicArn: string): RotationDeps {
  return {
    iam: new IAMClient({}),
    secretsManager: new SecretsManagerClient({}),
    sns: new SNSClient({}),
    stsWith,
    config: { ...loadConfig({}), topicArn },
    clock: fixedClock('2026-06-01T12:00:00Z'),
    logger: silent,
    durations: {},
    lastUsedGranularityMs: 60_000,
    fetch: globalThis.fetch,
    httpTimeoutMs: 1_000,
  };
}

const rotation: Rotation = {
  userName: 'billing-export',
  userArn: 'arn:aws:iam::123456789012:user/billing-export',
  oldAccessKeyId: 'AKIAOLD0000000000000',
  kind: 'scheduled',
  requestedBy: 'scanner',
  reason: 'key is 91 days old',
  owner: 'team@example.com',
  secretName: 'iam-key-rotator/billing-export',
  startedAt: '2026-06-01T12:00:00.000Z',
  healthChecks: ['new-key-used'],
  healthCheckUrls: [],
  waitSeconds: 3600,
  healthCheckDeadlineMs: 7 * 86_400_000,
  observationMs: 7 * 86_400_000,
  oldKeyQuietMs: 86_400_000,
  removedKeyId: null,
};
const newKey = { accessKeyId: 'AKIANEW0000000000000', versionId: 'v', createdAt: '2026-06-01T12:00:01.000Z', reused: false };

const notifyWith = (topicArn: string) => (event: unknown) => notifyStep(async () => deps(topicArn), silent)(event, localContext('notify'));

beforeEach(() => {
  sns.reset();
});

describe('notify handler', () => {
  test('publishes one message with event, severity, user and owner attributes for subscribers to filter on', async () => {
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });

    const result = await notifyWith('arn:aws:sns:us-east-1:123456789012:t')({ event: 'ready', state: { rotation, newKey } });

    expect(result).toEqual({ messageId: 'm-1' });
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(sns).toHaveReceivedCommandWith(PublishCommand, {
      TopicArn: 'arn:aws:sns:us-east-1:123456789012:t',
      MessageAttributes: {
        event: { DataType: 'String', StringValue: 'ready' },
        severity: { DataType: 'String', StringValue: 'info' },
        userName: { DataType: 'String', StringValue: 'billing-export' },
        owner: { DataType: 'String', StringValue: 'team@example.com' },
      },
    });
  });

  test('without a topic it skips, sending nothing', async () => {
    expect(await notifyWith('')({ event: 'started', state: { rotation } })).toEqual({ messageId: null });
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 0);
  });

  test('a throttled publish becomes AwsTransientError, which the state machine retries', async () => {
    sns.on(PublishCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }));

    await expect(notifyWith('arn:aws:sns:us-east-1:123456789012:t')({ event: 'started', state: { rotation } })).rejects.toBeInstanceOf(AwsTransientError);
  });

  test('an unknown event is malformed input, named so the ASL does not retry it', async () => {
    await expect(notifyWith('arn:t')({ event: 'exploded', state: {} })).rejects.toMatchObject({ name: 'InvalidInputError' });
  });
});

describe('prepare handler', () => {
  test('refuses malformed input before any AWS call, naming the bad fields', async () => {
    const iam = mockClient(IAMClient);
    const handler = prepareStep(async () => deps(''), silent);
    await expect(handler({ userName: 'x', accessKeyId: 'not-a-key' }, localContext('prepare'))).rejects.toMatchObject({
      name: 'InvalidInputError',
      message: expect.stringContaining('accessKeyId'),
    });
    expect(iam.calls()).toHaveLength(0);
    iam.restore();
  });
});

describe('isTransient', () => {
  test.each<[string, unknown, boolean]>([
    ['throttling', Object.assign(new Error('x'), { name: 'ThrottlingException' }), true],
    ['5xx', Object.assign(new Error('x'), { name: 'InternalFailure', $metadata: { httpStatusCode: 500 } }), true],
    ['SDK-retryable', Object.assign(new Error('x'), { name: 'Whatever', $retryable: {} }), true],
    ['access denied', Object.assign(new Error('x'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }), false],
    ['our typed error', new AwsTransientError('x'), false],
    ['not an error', 'boom', false],
  ])('%s → %s', (_name, error, expected) => {
    expect(isTransient(error)).toBe(expected);
  });
});

describe('buildNotification', () => {
  const longName = 'a-very-long-user-name-that-goes-on-and-on-and-on-for-quite-a-while-really';
  test.each(NOTIFY_EVENTS)('%s: ASCII subject under 100 characters that names the user', (event) => {
    const input: NotifyInput = {
      event,
      state: { rotation: { ...rotation, userName: longName }, newKey, error: { Error: 'KeyLimitReachedError', Cause: '{"errorMessage":"both keys are Active"}' } },
    };
    const notification = buildNotification(input, 'owner@example.com');
    expect(notification.subject.length).toBeLessThan(100);
    expect(notification.subject).toMatch(/^[\x20-\x7E]+$/);
    expect(notification.message).toContain(longName);
  });

  test('a failure reads the message out of the Lambda error document', () => {
    const notification = buildNotification({ event: 'failed', state: { userName: 'u', accessKeyId: 'AKIAOLD0000000000000', error: { Error: 'KeyLimitReachedError', Cause: '{"errorType":"KeyLimitReachedError","errorMessage":"both keys are Active"}' } } }, 'o');
    expect(notification).toMatchObject({ severity: 'error', subject: '[iam-key-rotator] u: rotation failed: KeyLimitReachedError' });
    expect(notification.message).toContain('both keys are Active');
  });
});
