import { afterEach, describe, expect, test } from '@jest/globals';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  DeleteAccessKeyCommand,
  GetAccessKeyLastUsedCommand,
  GetUserCommand,
  IAMClient,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { CloudTrailRecorder, LOCAL_CLOUDTRAIL_LOG_GROUP } from '#local/cloudtrail-recorder.ts';
import type { CloudTrailRecord } from '#local/cloudtrail-record.ts';
import { SimulatedConsumer } from '#local/consumer.ts';
import { PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { createKey, createUser, iam, secretsManager, seedSecret, setStatus, type TestKey } from '../../helpers/rotation-fixtures.ts';
import { LeakScanner } from '../../helpers/leak-scan.ts';

const logs = new CloudWatchLogsClient({});
const CLI_AGENT = 'aws-cli/2.15.30 Python/3.11.8 Linux/6.1 exe/x86_64';
const consumers: SimulatedConsumer[] = [];

afterEach(async () => {
  await Promise.all(consumers.splice(0).map((consumer) => consumer.stop()));
});

/** What a CloudTrail reader finds for a key: FilterLogEvents with the key id as a quoted term, every page. */
async function recordsOf(accessKeyId: string, logGroupName = LOCAL_CLOUDTRAIL_LOG_GROUP): Promise<CloudTrailRecord[]> {
  const records: CloudTrailRecord[] = [];
  let nextToken: string | undefined;
  do {
    const page = await logs.send(new FilterLogEventsCommand({ logGroupName, filterPattern: `"${accessKeyId}"`, nextToken }));
    for (const event of page.events ?? []) records.push(JSON.parse(event.message ?? '{}') as CloudTrailRecord);
    nextToken = page.nextToken;
  } while (nextToken);
  // moto does not evaluate JSON patterns and may match loosely: filter again in code, as the readers do.
  return records.filter((record) => record.userIdentity.accessKeyId === accessKeyId);
}

function consumerOf(
  userName: string,
  recorder: CloudTrailRecorder,
  extra: Partial<ConstructorParameters<typeof SimulatedConsumer>[0]> = {},
) {
  const consumer = new SimulatedConsumer({
    userName,
    secretId: `iam-key-rotator/${userName}`,
    secretsManager,
    followsRotation: true,
    intervalMs: 50,
    recorder,
    ...extra,
  });
  consumers.push(consumer);
  return consumer;
}

async function userWithSecret(userName: string): Promise<TestKey> {
  const key = await createUser(userName);
  await seedSecret(userName, key);
  return key;
}

describe('the local CloudTrail recorder', () => {
  test('every call a consumer makes is one record in the group, from its address and agent, signed by its key', async () => {
    // Prepare
    const key = await userWithSecret('trail-web');
    const user = (await iam.send(new GetUserCommand({ UserName: 'trail-web' }))).User;
    const recorder = new CloudTrailRecorder({ iam, logs });
    const consumer = consumerOf('trail-web', recorder, { name: 'dashboard', sourceIp: '198.51.100.7', userAgent: CLI_AGENT });
    const before = Date.now();

    // Act
    await consumer.callOnce();
    await consumer.callOnce();

    // Assess
    const records = await recordsOf(key.accessKeyId);
    expect(records).toHaveLength(2);
    expect(new Set(records.map((record) => record.eventID)).size).toBe(2);
    for (const record of records) {
      expect(record).toMatchObject({
        eventVersion: '1.08',
        userIdentity: {
          type: 'IAMUser',
          principalId: user?.UserId,
          arn: user?.Arn,
          accountId: '123456789012',
          accessKeyId: key.accessKeyId,
          userName: 'trail-web',
        },
        eventSource: 'sts.amazonaws.com',
        eventName: 'GetCallerIdentity',
        awsRegion: 'us-east-1',
        sourceIPAddress: '198.51.100.7',
        userAgent: CLI_AGENT,
        requestParameters: null,
        responseElements: null,
        readOnly: true,
        eventType: 'AwsApiCall',
        managementEvent: true,
        eventCategory: 'Management',
        recipientAccountId: '123456789012',
      });
      expect(record.eventID).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(record.eventTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(Date.parse(record.eventTime)).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
      expect(record.requestID).toEqual(expect.any(String));
      expect(record).not.toHaveProperty('errorCode');
    }
    expect(recorder.stats()).toEqual({ recorded: 2, refused: 0, lost: 0 });
  });

  test('two consumers of one key are told apart: a default consumer gets an address of its own and the SDK’s agent naming it', async () => {
    // Prepare
    const key = await userWithSecret('trail-shared');
    const recorder = new CloudTrailRecorder({ iam, logs });
    const pasted = consumerOf('trail-shared', recorder, { name: 'nightly-export', followsRotation: false });
    const following = consumerOf('trail-shared', recorder, { name: 'dashboard' });

    // Act
    await pasted.callOnce();
    await following.callOnce();

    // Assess
    const records = await recordsOf(key.accessKeyId);
    const origins = records.map((record) => ({ ip: record.sourceIPAddress, agent: record.userAgent }));
    expect(origins).toHaveLength(2);
    expect(origins[0]?.ip).not.toBe(origins[1]?.ip);
    expect(origins.map((origin) => origin.ip)).toEqual([pasted.snapshot().sourceIp, following.snapshot().sourceIp]);
    expect(origins[0]?.agent).toMatch(/^aws-sdk-js\/\S+ .*\bapp\/nightly-export\b/);
    expect(origins[1]?.agent).toMatch(/\bapp\/dashboard\b/);
  });

  test('a call signed with an Inactive key is refused as AWS refuses it, reaches nothing and leaves no record', async () => {
    // Prepare: one recorded call while Active, then the key deactivated and the status cache outlived
    const key = await userWithSecret('trail-cut');
    let now = new Date();
    const recorder = new CloudTrailRecorder({ iam, logs, clock: () => now });
    const consumer = consumerOf('trail-cut', recorder);
    await consumer.callOnce();
    const lastUsedWhileActive = (await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: key.accessKeyId }))).AccessKeyLastUsed;
    await setStatus('trail-cut', key.accessKeyId, 'Inactive');
    now = new Date(now.getTime() + 1_000);
    const direct = new STSClient({ credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey }, maxAttempts: 3 });
    recorder.attach(direct, { sourceIp: '203.0.113.25' });

    // Act
    await consumer.callOnce();
    const refused = await direct.send(new GetCallerIdentityCommand({})).catch((error: unknown) => error);

    // Assess: the error AWS gives, not retried; moto never saw the calls (its last-used date would move); one record only
    expect(refused).toMatchObject({
      name: 'InvalidClientTokenId',
      message: 'The security token included in the request is invalid.',
      $fault: 'client',
      $metadata: { httpStatusCode: 403, attempts: 1 },
    });
    expect(consumer.snapshot()).toMatchObject({ calls: 2, failures: 1 });
    expect((await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: key.accessKeyId }))).AccessKeyLastUsed).toEqual(
      lastUsedWhileActive,
    );
    expect(await recordsOf(key.accessKeyId)).toHaveLength(1);
    expect(recorder.stats()).toEqual({ recorded: 1, refused: 2, lost: 0 });
  });

  test('a deactivation through a watched IAM client takes effect for the next call at once, after the calls under way', async () => {
    // Prepare: calls in a loop while the key is deactivated through the watched client
    const key = await userWithSecret('trail-watched');
    const watched = new IAMClient({});
    const recorder = new CloudTrailRecorder({ iam, logs, statusCacheMs: 60_000 });
    recorder.watchKeyChanges(watched);
    const consumer = consumerOf('trail-watched', recorder, { followsRotation: false });
    await consumer.callOnce();
    const calling = Promise.all([consumer.callOnce(), consumer.callOnce(), consumer.callOnce()]);

    // Act
    await watched.send(new UpdateAccessKeyCommand({ UserName: 'trail-watched', AccessKeyId: key.accessKeyId, Status: 'Inactive' }));
    const deactivatedAt = new Date();
    await calling;
    await consumer.callOnce();

    // Assess: every call that reached moto did so before the deactivation returned; the last was refused
    const lastUsed = (await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: key.accessKeyId }))).AccessKeyLastUsed?.LastUsedDate;
    expect(lastUsed?.getTime()).toBeLessThan(deactivatedAt.getTime());
    const { calls, failures } = consumer.snapshot();
    expect(calls).toBe(5);
    expect(failures).toBeGreaterThanOrEqual(1);
    expect(await recordsOf(key.accessKeyId)).toHaveLength(calls - failures);
  });

  test('a key made Active again is recorded again once its status is read afresh', async () => {
    // Prepare
    const key = await userWithSecret('trail-back');
    let now = new Date();
    const recorder = new CloudTrailRecorder({ iam, logs, clock: () => now });
    const consumer = consumerOf('trail-back', recorder);
    await setStatus('trail-back', key.accessKeyId, 'Inactive');
    await consumer.callOnce();
    await setStatus('trail-back', key.accessKeyId, 'Active');

    // Act: within the cache the key still reads Inactive; after it, Active
    await consumer.callOnce();
    now = new Date(now.getTime() + 1_000);
    await consumer.callOnce();

    // Assess
    expect(consumer.snapshot()).toMatchObject({ calls: 3, failures: 2 });
    expect(await recordsOf(key.accessKeyId)).toHaveLength(1);
  });

  test('a call signed with a deleted key is refused and leaves no record, although moto would answer it', async () => {
    // Prepare
    const key = await userWithSecret('trail-gone');
    await iam.send(new DeleteAccessKeyCommand({ UserName: 'trail-gone', AccessKeyId: key.accessKeyId }));
    const recorder = new CloudTrailRecorder({ iam, logs });
    const unrecorded = new STSClient({
      credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
      maxAttempts: 1,
    });
    const recorded = new STSClient({ credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey }, maxAttempts: 1 });
    recorder.attach(recorded, { sourceIp: '203.0.113.25' });

    // Act
    const motoAnswer = await unrecorded.send(new GetCallerIdentityCommand({}));
    const refused = await recorded.send(new GetCallerIdentityCommand({})).catch((error: unknown) => error);

    // Assess
    expect(motoAnswer.Arn).toEqual(expect.any(String));
    expect(refused).toMatchObject({ name: 'InvalidClientTokenId' });
    expect(await recordsOf(key.accessKeyId)).toHaveLength(0);
  });

  test('a call the service refuses after authenticating it is recorded with its error code, and without a message that may quote the request', async () => {
    // Prepare: the user's own key asks IAM about a user that does not exist
    const key = await createUser('trail-asks');
    const recorder = new CloudTrailRecorder({ iam, logs });
    const client = new IAMClient({ credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey }, maxAttempts: 1 });
    recorder.attach(client, { sourceIp: '198.51.100.9', userAgent: CLI_AGENT });

    // Act
    const refused = await client.send(new GetUserCommand({ UserName: 'no-such-user' })).catch((error: unknown) => error);

    // Assess
    expect(refused).toMatchObject({ name: 'NoSuchEntityException' });
    const [record, ...others] = await recordsOf(key.accessKeyId);
    expect(others).toHaveLength(0);
    expect(record).toMatchObject({
      eventSource: 'iam.amazonaws.com',
      eventName: 'GetUser',
      errorCode: 'NoSuchEntityException',
      awsRegion: 'us-east-1',
    });
    expect(record).not.toHaveProperty('errorMessage');
  });

  test('with a delivery delay the record is not there when the call returns, and is once flushed', async () => {
    // Prepare
    const key = await userWithSecret('trail-late');
    const recorder = new CloudTrailRecorder({ iam, logs, deliveryDelayMs: 50, logGroupName: 'trail-late-group' });
    const consumer = consumerOf('trail-late', recorder);

    // Act & Assess
    await consumer.callOnce();
    expect(await recordsOf(key.accessKeyId, 'trail-late-group').catch(() => [])).toHaveLength(0);
    await recorder.flush();
    expect(await recordsOf(key.accessKeyId, 'trail-late-group')).toHaveLength(1);
  });

  test('no record holds a secret access key, the signature or a session token', async () => {
    // Prepare: a consumer that follows a rotation onto a second key
    const leak = new LeakScanner();
    const first = await userWithSecret('trail-secret');
    leak.addSecret(first.secretAccessKey, first.accessKeyId);
    const recorder = new CloudTrailRecorder({ iam, logs });
    const consumer = consumerOf('trail-secret', recorder);
    await consumer.callOnce();
    const second = await createKey('trail-secret');
    leak.addSecret(second.secretAccessKey, second.accessKeyId);
    await seedSecretVersion('trail-secret', second);

    // Act
    await consumer.callOnce();

    // Assess
    const records = [...(await recordsOf(first.accessKeyId)), ...(await recordsOf(second.accessKeyId))];
    expect(records).toHaveLength(2);
    const texts = records.map((record) => JSON.stringify(record));
    leak.capture('CloudTrail records', texts);
    expect(await leak.findings()).toEqual([]);
    expect(leak.secretCount).toBe(2);
    for (const text of texts) expect(text).not.toMatch(/Signature=|sessionToken|x-amz-security-token|SecretAccessKey/i);
  });

  test('a request from another process (recordRequest) is recorded from the origin given, and refused unsent on an Inactive key', async () => {
    // Prepare: a signed request as a proxy in front of moto receives it from, say, the AWS CLI.
    const key = await userWithSecret('trail-proxied');
    const recorder = new CloudTrailRecorder({ iam, logs, statusCacheMs: 0 });
    const headers = {
      authorization: `AWS4-HMAC-SHA256 Credential=${key.accessKeyId}/20261203/us-east-1/sts/aws4_request, SignedHeaders=host;x-amz-date, Signature=0`,
      'user-agent': CLI_AGENT,
    };
    let sent = 0;
    const send = async () => {
      sent += 1;
      return { $metadata: { httpStatusCode: 200, requestId: 'proxied-1' } };
    };

    // Act
    await recorder.recordRequest({ sourceIp: '203.0.113.9' }, { headers }, 'GetCallerIdentity', send);
    await setStatus('trail-proxied', key.accessKeyId, 'Inactive');
    const refused = await recorder
      .recordRequest({ sourceIp: '203.0.113.9' }, { headers }, 'GetCallerIdentity', send)
      .catch((error: unknown) => error);

    // Assess
    expect(sent).toBe(1);
    expect(refused).toMatchObject({ name: 'InvalidClientTokenId' });
    const records = await recordsOf(key.accessKeyId);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      eventName: 'GetCallerIdentity',
      eventSource: 'sts.amazonaws.com',
      sourceIPAddress: '203.0.113.9',
      userAgent: CLI_AGENT,
      requestID: 'proxied-1',
    });
  });
});

/** The consumer's secret moved to a new key, as Promote leaves it. */
async function seedSecretVersion(userName: string, key: TestKey): Promise<void> {
  await secretsManager.send(
    new PutSecretValueCommand({
      SecretId: `iam-key-rotator/${userName}`,
      SecretString: JSON.stringify({ AccessKeyId: key.accessKeyId, SecretAccessKey: key.secretAccessKey, UserName: userName }),
      VersionStages: ['AWSCURRENT'],
    }),
  );
}
