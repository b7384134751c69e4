import { describe, expect, test, beforeEach } from '@jest/globals';
import { ConditionalCheckFailedException, DeleteItemCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { IAMClient } from '@aws-sdk/client-iam';
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { notifyStep } from '#functions/notify.ts';
import { prepareStep } from '#functions/rotate-prepare.ts';
import { localContext } from '#local/lambda-context.ts';
import { fixedClock } from '#shared/base/clock.ts';
import { silentLogger } from '#shared/base/logger.ts';
import { loadConfig, type Config } from '#shared/config/settings.ts';
import { AwsTransientError } from '#shared/base/errors.ts';
import { WORKFLOW_EVENTS } from '#shared/config/notification-events.ts';
import { createNotifier, ledgerFor } from '#shared/notify/notifier.ts';
import type { RotationDeps } from '#shared/rotation/deps.ts';
import { isTransient } from '#shared/rotation/step-handler.ts';
import { unreadIncident } from '#shared/rotation/incident.ts';
import { workflowFacts, type NotifyInput } from '#shared/rotation/notify-step.ts';
import type { Rotation } from '#shared/rotation/workflow-state.ts';
import { rotationDeps } from '../../helpers/rotation-deps.ts';

const sns = mockClient(SNSClient);
const dynamodb = mockClient(DynamoDBClient);
const secrets = mockClient(SecretsManagerClient);
const silent = silentLogger();
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:t';
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:iam-key-rotator/billing-export-AbCdEf';

function deps(topicArn: string, settings: Partial<Config> = {}): RotationDeps {
  const config: Config = { ...loadConfig({}), topicArn, notificationLedgerTable: topicArn === '' ? '' : 'ledger', ...settings };
  const clock = fixedClock('2026-06-01T12:00:00Z');
  return rotationDeps({
    notifier: createNotifier({
      sns: new SNSClient({}),
      ledger: ledgerFor(new DynamoDBClient({}), config),
      config,
      accountId: async () => '123456789012',
      clock,
      logger: silent,
    }),
    config,
    clock,
  });
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

const notifyWith =
  (topicArn: string, settings: Partial<Config> = {}) =>
  (event: unknown) =>
    notifyStep(async () => deps(topicArn, settings), silent)(event, localContext('notify'));

beforeEach(() => {
  sns.reset();
  dynamodb.reset();
  secrets.reset();
  dynamodb.on(PutItemCommand).resolves({});
  secrets.on(DescribeSecretCommand).resolves({ ARN: SECRET_ARN, Name: 'iam-key-rotator/billing-export' });
});

describe('notify handler', () => {
  test('claims execution#<name>#<event> in the ledger, then publishes one json-structured message with all six filter attributes', async () => {
    // Prepare
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
    const promoted = { promotedAt: '2026-06-01T12:01:00.000Z', previousVersionId: 'p', gateDeadline: '2026-06-08T12:01:00.000Z' };

    // Act
    const result = await notifyWith(TOPIC)({ event: 'new-key-ready', executionName: 'exec-1', state: { rotation, newKey, promoted } });

    // Assess
    expect(result).toEqual({ messageId: 'm-1', status: 'sent' });
    expect(dynamodb).toHaveReceivedCommandWith(PutItemCommand, {
      TableName: 'ledger',
      Item: expect.objectContaining({ id: { S: 'execution#exec-1#new-key-ready' }, owner: { S: 'team@example.com' } }),
      ConditionExpression: 'attribute_not_exists(#id) OR #expiresAt < :now',
    });
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(sns).toHaveReceivedCommandWith(PublishCommand, {
      TopicArn: TOPIC,
      MessageStructure: 'json',
      MessageAttributes: {
        event: { DataType: 'String', StringValue: 'new-key-ready' },
        severity: { DataType: 'String', StringValue: 'info' },
        userName: { DataType: 'String', StringValue: 'billing-export' },
        owner: { DataType: 'String', StringValue: 'team@example.com' },
        accountId: { DataType: 'String', StringValue: '123456789012' },
        region: { DataType: 'String', StringValue: 'us-east-1' },
      },
    });
    const body = JSON.parse(String(sns.commandCalls(PublishCommand)[0]?.args[0].input.Message)) as { email: string; default: string };
    expect(body.email).toContain(SECRET_ARN);
    expect(body.email).toContain('Next step: If consumers are not on the new key by 2026-06-08T12:01:00.000Z');
  });

  test('a step retried after its message went out finds the claim and publishes nothing', async () => {
    // Prepare
    dynamodb.on(PutItemCommand).rejects(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }));

    // Act
    const result = await notifyWith(TOPIC)({ event: 'rotation-started', executionName: 'exec-1', state: { rotation } });

    // Assess
    expect(result).toEqual({ messageId: null, status: 'already-sent' });
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 0);
  });

  test('a failed publish gives the claim back, so the retry that AwsTransientError triggers sends the message', async () => {
    // Prepare
    sns
      .on(PublishCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }));

    // Act & Assess
    await expect(notifyWith(TOPIC)({ event: 'rotation-started', executionName: 'exec-1', state: { rotation } })).rejects.toBeInstanceOf(
      AwsTransientError,
    );
    expect(dynamodb).toHaveReceivedCommandWith(DeleteItemCommand, {
      TableName: 'ledger',
      Key: { id: { S: 'execution#exec-1#rotation-started' } },
    });
  });

  test('the AwsTransientError keeps the error AWS gave as its cause', async () => {
    // Prepare: SNS throttles the publish.
    sns
      .on(PublishCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }));

    // Act
    const failure = await notifyWith(TOPIC)({ event: 'rotation-started', executionName: 'exec-1', state: { rotation } }).catch(
      (error: unknown) => error,
    );

    // Assess
    expect(failure).toBeInstanceOf(AwsTransientError);
    expect((failure as Error).cause).toMatchObject({ name: 'ThrottlingException', message: 'Rate exceeded' });
  });

  test('without a topic it skips, sending and recording nothing', async () => {
    // Act & Assess
    expect(await notifyWith('')({ event: 'rotation-started', executionName: 'exec-1', state: { rotation } })).toEqual({
      messageId: null,
      status: 'no-topic',
    });
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 0);
    expect(dynamodb).toHaveReceivedCommandTimes(PutItemCommand, 0);
  });

  test.each<[string, Partial<Config>, NotifyInput['event'], string]>([
    ['quiet mode holds back an info event', { notificationsQuiet: true }, 'rotation-started', 'suppressed'],
    ['quiet mode lets action-needed out', { notificationsQuiet: true }, 'action-needed', 'sent'],
    ['NOTIFY_EVENTS holds back what it does not list', { notifyEvents: ['rotation-failed'] }, 'rotation-completed', 'suppressed'],
    [
      'a contained compromise goes out whatever the settings',
      { notificationsQuiet: true, notifyEvents: ['rotation-failed'] },
      'compromise-contained',
      'sent',
    ],
  ])('%s', async (_name, settings, event, status) => {
    // Prepare
    sns.on(PublishCommand).resolves({ MessageId: 'm-2' });

    // Act
    const result = await notifyWith(TOPIC, settings)({ event, executionName: 'exec-2', state: { rotation, newKey } });

    // Assess
    expect(result.status).toBe(status);
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, status === 'sent' ? 1 : 0);
  });

  test.each([
    ['an unknown event', { event: 'exploded', executionName: 'e', state: {} }, 'event'],
    ['a scan event, which the workflow never sends', { event: 'rotation-warning', executionName: 'e', state: {} }, 'event'],
    ['no execution name (the ASL must pass $$.Execution.Name)', { event: 'rotation-started', state: {} }, 'executionName'],
  ])('%s is malformed input, named so the ASL does not retry it', async (_name, event, field) => {
    // Act & Assess
    await expect(notifyWith(TOPIC)(event)).rejects.toMatchObject({ name: 'InvalidInputError', message: expect.stringContaining(field) });
  });
});

describe('prepare handler', () => {
  test('refuses malformed input before any AWS call, naming the bad fields', async () => {
    // Prepare
    const iam = mockClient(IAMClient);
    const handler = prepareStep(async () => deps(''), silent);

    // Act & Assess
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
    // Act & Assess
    expect(isTransient(error)).toBe(expected);
  });
});

describe('workflowFacts', () => {
  const state = {
    rotation,
    newKey,
    promoted: { promotedAt: '2026-06-01T12:01:00.000Z', previousVersionId: 'p', gateDeadline: '2026-06-08T12:01:00.000Z' },
    gate: {
      status: 'overdue' as const,
      checkedAt: '2026-06-08T12:01:00.000Z',
      passing: [],
      failing: ['new-key-used'],
      detail: 'the new key was not used',
    },
    deactivated: { deactivatedAt: '2026-06-02T12:00:00.000Z', observeUntil: '2026-06-09T12:00:00.000Z' },
    rollback: {
      reason: 'health check failed: https://app.example.com/health (HTTP 503)',
      currentKeyId: 'AKIAOLD0000000000000',
      actions: [],
    },
    safe: { actions: [], detail: 'nothing to undo' },
    error: { Error: 'KeyLimitReachedError', Cause: '{"errorType":"KeyLimitReachedError","errorMessage":"both keys are Active"}' },
  };
  test.each<[NotifyInput['event'], Record<string, unknown>]>([
    ['rotation-started', { reason: 'scheduled rotation requested by scanner (key is 91 days old)' }],
    ['new-key-ready', { nextStepAt: '2026-06-08T12:01:00.000Z', secretName: 'iam-key-rotator/billing-export' }],
    ['action-needed', { reason: 'the new key was not used' }],
    ['old-key-deactivated', { nextStepAt: '2026-06-09T12:00:00.000Z' }],
    ['rolled-back', { reason: 'health check failed: https://app.example.com/health (HTTP 503)' }],
    ['rotation-completed', { newAccessKeyId: 'AKIANEW0000000000000' }],
    ['rotation-failed', { reason: 'KeyLimitReachedError: both keys are Active. Made safe: nothing to undo' }],
    ['compromise-contained', { reason: 'key is 91 days old' }],
  ])('%s carries what its message needs', (event, expected) => {
    // Act
    const facts = workflowFacts({ event, executionName: 'exec-1', state }, 'team@example.com', undefined);

    // Assess
    expect(facts).toMatchObject({
      event,
      userName: 'billing-export',
      owner: 'team@example.com',
      executionName: 'exec-1',
      oldAccessKeyId: 'AKIAOLD0000000000000',
      ...expected,
    });
  });

  test('a contained compromise says what is cut and what is not, and what the AWS quarantine does to the replacement', () => {
    // Prepare
    const contained = {
      containedAt: '2026-06-01T12:00:00.000Z',
      keyWasActive: true,
      denyPolicyName: 'iam-key-rotator-deny-sessions-before-20260601T120200Z',
      deniedBefore: '2026-06-01T12:02:00.000Z',
      awsQuarantinePolicies: ['AWSCompromisedKeyQuarantineV3'],
      incident: unreadIncident(new Date('2026-03-03T12:00:00Z'), new Date('2026-06-01T12:00:00Z'), 'no CloudTrail source is configured'),
      otherKeyId: null,
      plan: 'fresh' as const,
      replacement: 'create' as const,
      compromisedKeyAction: 'delete' as const,
      detail: 'a fresh replacement',
    };

    // Act
    const facts = workflowFacts(
      { event: 'compromise-contained', executionName: 'e', state: { rotation, contained } },
      undefined,
      undefined,
    );

    // Assess
    const text = (facts.details ?? []).join('\n');
    expect(text).toContain(
      'sessions issued before 2026-06-01T12:02:00.000Z are denied by the inline policy iam-key-rotator-deny-sessions-before-20260601T120200Z',
    );
    expect(text).toContain('plus 2 minutes');
    expect(text).toContain('it denies iam:CreateAccessKey, ec2:RunInstances, lambda:CreateFunction and more');
    expect(text).toContain(
      'aws iam detach-user-policy --user-name billing-export --policy-arn arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3',
    );
    expect(text).toContain('sessions of roles it assumed are NOT cut');
  });

  test('covers every workflow event', () => {
    // Assess
    expect([...WORKFLOW_EVENTS].sort()).toEqual([
      'action-needed',
      'compromise-contained',
      'new-key-ready',
      'old-key-deactivated',
      'rolled-back',
      'rotation-completed',
      'rotation-failed',
      'rotation-started',
    ]);
  });

  test('after a failure in Prepare the user and key come from the execution input', () => {
    // Act
    const facts = workflowFacts(
      { event: 'rotation-failed', executionName: 'e', state: { userName: 'u', accessKeyId: 'AKIAOLD0000000000000', error: state.error } },
      undefined,
      undefined,
    );

    // Assess
    expect(facts).toMatchObject({
      userName: 'u',
      oldAccessKeyId: 'AKIAOLD0000000000000',
      owner: undefined,
      reason: expect.stringContaining('both keys are Active'),
    });
  });
});
