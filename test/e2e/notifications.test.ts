import { afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { notifyStep } from '#functions/notify.ts';
import { SimulatedConsumer } from '#local/consumer.ts';
import { localContext } from '#local/lambda-context.ts';
import { LOCAL_LEDGER_TABLE, LOCAL_TOPIC_NAME, localDeps, runRotation } from '#local/runner.ts';
import { DAY_MS } from '#shared/base/clock.ts';
import { loadConfig, type Config } from '#shared/config/settings.ts';
import { dynamoLedger, ensureLedgerTable } from '#shared/notify/ledger.ts';
import { callerAccountId, createNotifier, ledgerFor } from '#shared/notify/notifier.ts';
import { STSClient } from '@aws-sdk/client-sts';
import {
  createUser,
  notificationsFor,
  quietLogger,
  secretsManager,
  seedSecret,
  storedKey,
  type TestKey,
} from '../helpers/rotation-fixtures.ts';

// Notifications end to end against moto: the real ASL and handlers publish to a real (moto) SNS
// topic, deduplicated in a real (moto) DynamoDB table, delivered through filter policies to SQS.

const FAST = { healthCheckIntervalMs: 100, healthCheckDeadlineMs: 3_000, observationMs: 100, oldKeyQuietMs: 100 };
const sns = new SNSClient({});
const sqs = new SQSClient({});
const dynamodb = new DynamoDBClient({});
const sts = new STSClient({});
let topicArn = '';

interface Delivered {
  readonly subject: string;
  readonly body: string;
  readonly attributes: Record<string, string>;
}

const consumers: SimulatedConsumer[] = [];
afterEach(async () => {
  await Promise.all(consumers.splice(0).map((consumer) => consumer.stop()));
});

beforeAll(async () => {
  topicArn = (await sns.send(new CreateTopicCommand({ Name: LOCAL_TOPIC_NAME }))).TopicArn ?? '';
  await ensureLedgerTable(dynamodb, LOCAL_LEDGER_TABLE);
});

function config(env: Record<string, string> = {}): Config {
  return loadConfig({ NOTIFICATION_TOPIC_ARN: topicArn, NOTIFICATION_LEDGER_TABLE: LOCAL_LEDGER_TABLE, ...env });
}

/** An SQS queue subscribed to the topic with a filter policy on message attributes, as an owner's inbox would be. */
async function inbox(name: string, filterPolicy: Record<string, string[]>): Promise<string> {
  const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl ?? '';
  const queueArn =
    (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))).Attributes?.QueueArn ?? '';
  await sns.send(
    new SubscribeCommand({
      TopicArn: topicArn,
      Protocol: 'sqs',
      Endpoint: queueArn,
      Attributes: { FilterPolicy: JSON.stringify(filterPolicy), FilterPolicyScope: 'MessageAttributes' },
    }),
  );
  return queueUrl;
}

async function drain(queueUrl: string): Promise<Delivered[]> {
  const delivered: Delivered[] = [];
  for (;;) {
    const page = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    const messages = page.Messages ?? [];
    if (messages.length === 0) return delivered;
    for (const message of messages) {
      const envelope = JSON.parse(message.Body ?? '{}') as {
        Subject?: string;
        Message?: string;
        MessageAttributes?: Record<string, { Value: string }>;
      };
      delivered.push({
        subject: envelope.Subject ?? '',
        body: envelope.Message ?? '',
        attributes: Object.fromEntries(Object.entries(envelope.MessageAttributes ?? {}).map(([key, value]) => [key, value.Value])),
      });
    }
  }
}

function consumerOf(userName: string, followsRotation: boolean): void {
  const consumer = new SimulatedConsumer({
    userName,
    secretId: `iam-key-rotator/${userName}`,
    secretsManager,
    followsRotation,
    intervalMs: 25,
  });
  consumers.push(consumer);
  consumer.start();
}

async function rotatedUser(userName: string, tags: Record<string, string>): Promise<TestKey> {
  const old = await createUser(userName, tags);
  await seedSecret(userName, old);
  consumerOf(userName, true);
  return old;
}

describe('notifications against moto', () => {
  test("an SQS inbox filtered on one owner receives exactly that owner's rotation messages, each with all six attributes and no secret", async () => {
    // Prepare: Alice's inbox, and two users with a consumer that follows the rotation.
    const queue = await inbox('alice-inbox', { owner: ['alice@example.com'] });
    const aliceOld = await rotatedUser('alice-app', { 'rotation:owner': 'alice@example.com' });
    await rotatedUser('bob-app', { owner: 'bob@example.com' });

    // Act
    const alice = await runRotation({ userName: 'alice-app' }, { logger: quietLogger, durations: FAST, config: config() });
    const bob = await runRotation({ userName: 'bob-app' }, { logger: quietLogger, durations: FAST, config: config() });

    // Assess
    expect([alice.status, bob.status]).toEqual(['Succeeded', 'Succeeded']);
    const delivered = await drain(queue);
    expect(delivered.map((message) => message.attributes.event)).toEqual([
      'rotation-started',
      'new-key-ready',
      'old-key-deactivated',
      'rotation-completed',
    ]);
    for (const message of delivered) {
      expect(message.attributes).toEqual({
        event: expect.any(String),
        severity: 'info',
        userName: 'alice-app',
        owner: 'alice@example.com',
        accountId: '123456789012',
        region: 'us-east-1',
      });
      expect(message.subject.length).toBeLessThan(100);
    }
    // Bob's four went to the topic too, just not to Alice.
    expect((await notificationsFor('bob-app')).map((message) => message.attributes.owner)).toEqual(Array(4).fill('bob@example.com'));

    // The new-key message names the secret and its ARN and says what consumers must do; no value anywhere.
    const ready = (await notificationsFor('alice-app')).find((message) => message.attributes.event === 'new-key-ready');
    const email = (JSON.parse(ready?.message ?? '{}') as { email?: string }).email ?? '';
    expect(email).toMatch(
      /AWSCURRENT in iam-key-rotator\/alice-app \(arn:aws:secretsmanager:us-east-1:123456789012:secret:iam-key-rotator\/alice-app-\w+\)/,
    );
    expect(email).toContain('What to do: Consumers that read AWSCURRENT pick it up');
    const newKey = await storedKey('alice-app');
    const everything = JSON.stringify([delivered, await notificationsFor('alice-app'), await notificationsFor('bob-app')]);
    for (const secret of [aliceOld.secretAccessKey, newKey.secretAccessKey]) expect(everything.includes(secret)).toBe(false);
  });

  test('a user without an owner tag reaches the operations inbox, flagged "owner unknown"', async () => {
    // Prepare
    const queue = await inbox('ops-inbox', { owner: ['ops@example.com'] });
    await rotatedUser('orphan-app', {});

    // Act
    const report = await runRotation(
      { userName: 'orphan-app' },
      { logger: quietLogger, durations: FAST, config: config({ OPERATIONS_OWNER: 'ops@example.com' }) },
    );

    // Assess
    expect(report.status).toBe('Succeeded');
    const delivered = await drain(queue);
    expect(delivered).toHaveLength(4);
    for (const message of delivered) {
      expect(message.subject).toMatch(/^\[owner unknown\] /);
      expect(message.attributes).toMatchObject({ owner: 'ops@example.com', userName: 'orphan-app' });
      const body = JSON.parse(message.body) as { metadata: { ownerKnown: boolean } };
      expect(body.metadata.ownerKnown).toBe(false);
    }
  });

  test('quiet mode: a happy rotation sends nothing, a stuck one sends only action-needed', async () => {
    // Prepare: one consumer that follows the rotation, one that never does.
    await rotatedUser('quiet-happy', { 'rotation:owner': 'q@example.com' });
    const stuck = await createUser('quiet-stuck', { 'rotation:owner': 'q@example.com' });
    await seedSecret('quiet-stuck', stuck);
    consumerOf('quiet-stuck', false);
    const quiet = config({ NOTIFICATIONS_QUIET: 'true' });

    // Act
    const happy = await runRotation({ userName: 'quiet-happy' }, { logger: quietLogger, durations: FAST, config: quiet });
    const needs = await runRotation(
      { userName: 'quiet-stuck' },
      { logger: quietLogger, durations: { ...FAST, healthCheckDeadlineMs: 400 }, config: quiet },
    );

    // Assess
    expect([happy.status, needs.status]).toEqual(['Succeeded', 'NeedsAttention']);
    expect(await notificationsFor('quiet-happy')).toEqual([]);
    expect((await notificationsFor('quiet-stuck')).map((message) => [message.attributes.event, message.attributes.severity])).toEqual([
      ['action-needed', 'warning'],
    ]);
  });

  test('a notify step run twice for the same execution (a Step Functions retry) publishes once', async () => {
    // Prepare
    const old = await createUser('retried', { 'rotation:owner': 'r@example.com' });
    const deps = localDeps({ config: config(), logger: quietLogger });
    const step = notifyStep(async () => deps, quietLogger);
    const event = {
      event: 'rotation-started',
      executionName: 'retried-exec-1',
      state: { userName: 'retried', accessKeyId: old.accessKeyId },
    };

    // Act: the same execution's step twice, then another execution's.
    const first = await step(event, localContext('notify'));
    const second = await step(event, localContext('notify'));
    const otherExecution = await step({ ...event, executionName: 'retried-exec-2' }, localContext('notify'));

    // Assess
    expect(first).toMatchObject({ status: 'sent', messageId: expect.any(String) });
    expect(second).toEqual({ status: 'already-sent', messageId: null });
    expect(otherExecution).toMatchObject({ status: 'sent' });
    expect((await notificationsFor('retried')).map((message) => message.attributes.owner)).toEqual(['r@example.com', 'r@example.com']);
  });

  test('a publish that fails gives its claim back, so the retry sends the message', async () => {
    // Prepare
    await createUser('flaky', { 'rotation:owner': 'f@example.com' });
    const request = {
      facts: { event: 'rotation-failed' as const, userName: 'flaky', owner: 'f@example.com' },
      dedupeId: 'execution#flaky-exec#rotation-failed',
      keepForMs: DAY_MS,
    };
    const notifierFor = (topic: string) =>
      createNotifier({
        sns,
        ledger: ledgerFor(dynamodb, config()),
        config: { ...config(), topicArn: topic },
        accountId: callerAccountId(sts),
        clock: () => new Date(),
        logger: quietLogger,
      });

    // Act & Assess: a publish to a deleted topic fails and leaves no claim; then the retry sends, and once only.
    await expect(notifierFor(`${topicArn}-deleted`).send(request)).rejects.toMatchObject({ name: 'NotFoundException' });
    const marker = await dynamodb.send(new GetItemCommand({ TableName: LOCAL_LEDGER_TABLE, Key: { id: { S: request.dedupeId } } }));
    expect(marker.Item).toBeUndefined();

    expect(await notifierFor(topicArn).send(request)).toMatchObject({ status: 'sent' });
    expect(await notifierFor(topicArn).send(request)).toEqual({ status: 'already-sent' });
    expect(await notificationsFor('flaky')).toHaveLength(1);
  });

  test('an expired claim counts as absent even before DynamoDB TTL removes it', async () => {
    // Prepare
    const ledger = dynamoLedger(dynamodb, LOCAL_LEDGER_TABLE);
    const entry = { id: 'key#AKIAEXPIRED#rotation-warning#2026-01-01', event: 'rotation-warning', userName: 'u', owner: 'o', subject: 's' };
    const day = (n: number) => new Date(Date.UTC(2026, 0, n));

    // Act & Assess: claim, claim again before it expires, claim after it expired.
    expect(await ledger.claim({ ...entry, claimedAt: day(1), expiresAt: day(2) })).toBe(true);
    expect(await ledger.claim({ ...entry, claimedAt: day(1), expiresAt: day(2) })).toBe(false);
    expect(await ledger.claim({ ...entry, claimedAt: day(3), expiresAt: day(4) })).toBe(true);
  });
});
