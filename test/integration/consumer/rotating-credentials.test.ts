import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { CreateAccessKeyCommand, CreateUserCommand, DeleteAccessKeyCommand, IAMClient, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { fromRotatingSecret } from '../../../consumer/rotating-credentials.ts';

const endpoint = (): string => process.env.AWS_ENDPOINT_URL ?? '';

/** moto enforces IAM auth (and rejects deleted keys) after this many more requests. */
async function enforceAuthAfter(requests: number | 'never'): Promise<void> {
  const response = await fetch(`${endpoint()}/moto-api/reset-auth`, {
    method: 'POST',
    body: requests === 'never' ? 'inf' : String(requests),
  });
  if (!response.ok) throw new Error(`moto reset-auth failed: HTTP ${response.status}`);
}

async function createKey(client: IAMClient, userName: string): Promise<{ AccessKeyId: string; SecretAccessKey: string }> {
  const key = (await client.send(new CreateAccessKeyCommand({ UserName: userName }))).AccessKey;
  if (!key?.AccessKeyId || !key.SecretAccessKey) throw new Error(`IAM returned no access key for ${userName}`);
  return { AccessKeyId: key.AccessKeyId, SecretAccessKey: key.SecretAccessKey };
}

const keyJson = (key: { AccessKeyId: string; SecretAccessKey: string }) =>
  JSON.stringify({
    AccessKeyId: key.AccessKeyId,
    SecretAccessKey: key.SecretAccessKey,
    UserName: 'app',
    CreatedAt: new Date().toISOString(),
  });

describe('fromRotatingSecret', () => {
  const iam = new IAMClient({});
  const setupSecrets = new SecretsManagerClient({});
  let admin: { accessKeyId: string; secretAccessKey: string };
  let firstKeyId: string;

  beforeAll(async () => {
    await iam.send(new CreateUserCommand({ UserName: 'app' }));
    await iam.send(new CreateUserCommand({ UserName: 'rotator' }));
    await iam.send(
      new PutUserPolicyCommand({
        UserName: 'app',
        PolicyName: 'app',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 'sts:GetCallerIdentity', Resource: '*' }],
        }),
      }),
    );
    await iam.send(
      new PutUserPolicyCommand({
        UserName: 'rotator',
        PolicyName: 'admin',
        PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }),
      }),
    );
    const adminKey = await createKey(iam, 'rotator');
    admin = { accessKeyId: adminKey.AccessKeyId, secretAccessKey: adminKey.SecretAccessKey };
    const first = await createKey(iam, 'app');
    firstKeyId = first.AccessKeyId;
    await setupSecrets.send(new CreateSecretCommand({ Name: 'iam-key-rotator/app', SecretString: keyJson(first) }));
    await enforceAuthAfter(0);
  });

  afterAll(async () => {
    await enforceAuthAfter('never');
  });

  test('a client follows a rotation with one retried call and no restart', async () => {
    // Prepare: the service reads its key through the provider; the rotator acts with its own identity.
    const secrets = new SecretsManagerClient({ credentials: admin });
    const credentials = fromRotatingSecret({ secretId: 'iam-key-rotator/app', ttlMs: 3_600_000, client: secrets });
    const followingClient = credentials.attach(new STSClient({ credentials }));
    const pinnedClient = new STSClient({
      credentials: { accessKeyId: firstKeyId, secretAccessKey: (await credentials()).secretAccessKey },
    });
    const before = await followingClient.send(new GetCallerIdentityCommand({}));
    expect(before.Arn).toMatch(/:user\/app$/);

    // Act: rotate as iam-key-rotator does: new key to AWSCURRENT, then the old key is deleted.
    const rotatorIam = new IAMClient({ credentials: admin });
    const second = await createKey(rotatorIam, 'app');
    await secrets.send(new PutSecretValueCommand({ SecretId: 'iam-key-rotator/app', SecretString: keyJson(second) }));
    await rotatorIam.send(new DeleteAccessKeyCommand({ UserName: 'app', AccessKeyId: firstKeyId }));

    // Assess: a client pinned to the old key is now refused; the following client is not.
    await expect(pinnedClient.send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({ name: 'InvalidClientTokenId' });
    const after = await followingClient.send(new GetCallerIdentityCommand({}));
    expect(after.Arn).toMatch(/:user\/app$/);
    expect((await credentials()).accessKeyId).toBe(second.AccessKeyId);
  });

  test('fifty requests refused together on a deleted key cost one read of the secret, and all succeed on the retry', async () => {
    // Prepare: the provider holds the first key; the rotator then replaces it and deletes it.
    const secrets = new SecretsManagerClient({ credentials: admin });
    let reads = 0;
    secrets.middlewareStack.add(
      (next) => async (args) => {
        reads += 1;
        return next(args);
      },
      { step: 'initialize', name: 'countReads' },
    );
    const credentials = fromRotatingSecret({ secretId: 'iam-key-rotator/app', ttlMs: 3_600_000, minReadIntervalMs: 0, client: secrets });
    const sts = credentials.attach(new STSClient({ credentials, maxAttempts: 1 }));
    const held = (await credentials()).accessKeyId;
    const rotatorIam = new IAMClient({ credentials: admin });
    const next = await createKey(rotatorIam, 'app');
    await secrets.send(new PutSecretValueCommand({ SecretId: 'iam-key-rotator/app', SecretString: keyJson(next) }));
    await rotatorIam.send(new DeleteAccessKeyCommand({ UserName: 'app', AccessKeyId: held }));
    reads = 0;

    // Act
    const results = await Promise.allSettled(Array.from({ length: 50 }, () => sts.send(new GetCallerIdentityCommand({}))));

    // Assess
    expect(results.filter((result) => result.status === 'rejected')).toEqual([]);
    expect(reads).toBe(1);
    expect((await credentials()).accessKeyId).toBe(next.AccessKeyId);
  });
});
