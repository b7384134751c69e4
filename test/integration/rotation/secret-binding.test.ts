import { describe, expect, test } from '@jest/globals';
import { CreateSecretCommand, DeleteResourcePolicyCommand, PutResourcePolicyCommand } from '@aws-sdk/client-secrets-manager';
import { loadConfig } from '#shared/config/settings.ts';
import { ensureSecret } from '#shared/rotation/secret.ts';
import { assertSecretBound, readSecretFacts } from '#shared/rotation/secret-binding.ts';
import { putSelfRefreshPolicy, selfRefreshPolicy } from '#shared/rotation/self-refresh-policy.ts';
import { rotationDeps } from '../../helpers/rotation-deps.ts';
import { secretsManager } from '../../helpers/rotation-fixtures.ts';

/** moto does not check that a KMS key exists: this ARN stands for the stack's key. */
const STACK_KEY = 'arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-1111-2222-3333-444455556666';
const deps = rotationDeps({ config: { ...loadConfig({}), secretKmsKeyId: STACK_KEY } });
const arnOf = (userName: string): string => `arn:aws:iam::123456789012:user/${userName}`;
const READ_FOR_ALL = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Sid: 'Everyone', Effect: 'Allow', Principal: '*', Action: 'secretsmanager:GetSecretValue', Resource: '*' }],
});

describe('readSecretFacts against Secrets Manager (moto)', () => {
  test('a secret ensureSecret created: its tags, the stack’s key, no resource policy', async () => {
    // Prepare
    await ensureSecret(secretsManager, 'iam-key-rotator/facts/ours', 'ours', STACK_KEY);

    // Act
    const facts = await readSecretFacts(secretsManager, 'iam-key-rotator/facts/ours');

    // Assess
    expect(facts).toEqual({
      exists: true,
      tags: new Map([
        ['managed-by', 'iam-key-rotator'],
        ['iam-user', 'ours'],
      ]),
      kmsKeyId: STACK_KEY,
      resourcePolicy: undefined,
    });
  });

  test('a resource policy is read as its JSON text, and is gone after DeleteResourcePolicy', async () => {
    // Prepare
    await secretsManager.send(new CreateSecretCommand({ Name: 'iam-key-rotator/facts/shared' }));
    await secretsManager.send(new PutResourcePolicyCommand({ SecretId: 'iam-key-rotator/facts/shared', ResourcePolicy: READ_FOR_ALL }));

    // Act
    const withPolicy = await readSecretFacts(secretsManager, 'iam-key-rotator/facts/shared');
    await secretsManager.send(new DeleteResourcePolicyCommand({ SecretId: 'iam-key-rotator/facts/shared' }));
    const without = await readSecretFacts(secretsManager, 'iam-key-rotator/facts/shared');

    // Assess
    expect(JSON.parse(withPolicy.resourcePolicy ?? '{}')).toEqual(JSON.parse(READ_FOR_ALL));
    expect(withPolicy.kmsKeyId).toBeUndefined();
    expect(without.resourcePolicy).toBeUndefined();
  });

  test('a secret that does not exist', async () => {
    // Act & Assess
    expect(await readSecretFacts(secretsManager, 'iam-key-rotator/facts/none')).toMatchObject({ exists: false });
  });
});

describe('assertSecretBound against Secrets Manager (moto)', () => {
  test('a secret the rotator created for the user passes; for another user it is refused', async () => {
    // Prepare
    await ensureSecret(secretsManager, 'iam-key-rotator/bound/app', 'app', STACK_KEY);

    // Act & Assess
    await expect(assertSecretBound(deps, 'app', 'iam-key-rotator/bound/app', arnOf('app'))).resolves.toMatchObject({
      exists: true,
      resourcePolicy: undefined,
    });
    await expect(assertSecretBound(deps, 'intruder', 'iam-key-rotator/bound/app', arnOf('intruder'))).rejects.toMatchObject({
      name: 'SecretNotBoundError',
      secretName: 'iam-key-rotator/bound/app',
      message: expect.stringContaining('its iam-user tag binds it to app'),
    });
  });

  test('the default-named secret, pre-created under the stack’s key without tags, passes; a read grant on it is refused', async () => {
    // Prepare
    await secretsManager.send(new CreateSecretCommand({ Name: 'iam-key-rotator/seeded', KmsKeyId: STACK_KEY }));

    // Act & Assess
    await expect(assertSecretBound(deps, 'seeded', 'iam-key-rotator/seeded', arnOf('seeded'))).resolves.toMatchObject({
      exists: true,
      resourcePolicy: undefined,
    });
    await secretsManager.send(new PutResourcePolicyCommand({ SecretId: 'iam-key-rotator/seeded', ResourcePolicy: READ_FOR_ALL }));
    await expect(assertSecretBound(deps, 'seeded', 'iam-key-rotator/seeded', arnOf('seeded'))).rejects.toMatchObject({
      name: 'SecretNotBoundError',
      message: expect.stringContaining('(Sid Everyone)'),
    });
  });

  test('a secret that does not exist yet is bound: the rotator will create it', async () => {
    // Act & Assess
    await expect(assertSecretBound(deps, 'newcomer', 'iam-key-rotator/newcomer/custom', arnOf('newcomer'))).resolves.toMatchObject({
      exists: false,
    });
  });

  test('self-refresh: the user’s own policy passes when SELF_REFRESH_USERS lists it; unlisted, or naming another user, it is refused', async () => {
    // Prepare: the policy as the rotator puts it, read back from moto.
    const fence = { sourceCidrs: ['203.0.113.0/24'], sourceVpces: [] };
    await secretsManager.send(new CreateSecretCommand({ Name: 'iam-key-rotator/refresher', KmsKeyId: STACK_KEY }));
    await putSelfRefreshPolicy(secretsManager, 'iam-key-rotator/refresher', arnOf('refresher'), fence);
    const listed = rotationDeps({
      config: { ...loadConfig({ SELF_REFRESH_USERS: 'refresher:203.0.113.0/24' }), secretKmsKeyId: STACK_KEY },
    });
    await secretsManager.send(new CreateSecretCommand({ Name: 'iam-key-rotator/victim', KmsKeyId: STACK_KEY }));
    await secretsManager.send(
      new PutResourcePolicyCommand({
        SecretId: 'iam-key-rotator/victim',
        ResourcePolicy: JSON.stringify(selfRefreshPolicy(arnOf('refresher'), fence)),
      }),
    );

    // Act & Assess
    const facts = await readSecretFacts(secretsManager, 'iam-key-rotator/refresher');
    expect(JSON.parse(facts.resourcePolicy ?? '{}')).toEqual(selfRefreshPolicy(arnOf('refresher'), fence));
    await expect(assertSecretBound(listed, 'refresher', 'iam-key-rotator/refresher', arnOf('refresher'))).resolves.toMatchObject({
      exists: true,
      resourcePolicy: expect.stringContaining('IamKeyRotatorSelfRefresh'),
    });
    await expect(assertSecretBound(deps, 'refresher', 'iam-key-rotator/refresher', arnOf('refresher'))).rejects.toMatchObject({
      name: 'SecretNotBoundError',
      message: expect.stringContaining('SELF_REFRESH_USERS does not list refresher'),
    });
    // A self-refresh policy on someone else's secret is a grant to another principal.
    await expect(assertSecretBound(listed, 'victim', 'iam-key-rotator/victim', arnOf('victim'))).rejects.toMatchObject({
      name: 'SecretNotBoundError',
      message: expect.stringContaining('lets other principals read it'),
    });
  });
});
