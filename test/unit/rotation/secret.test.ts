import { beforeEach, describe, expect, test } from '@jest/globals';
import { DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { readSecret, versionIdFor } from '#shared/rotation/secret.ts';

const secrets = mockClient(SecretsManagerClient);
const NEW_KEY = 'AKIANEW0000000000000';
const OLD_KEY = 'AKIAOLD0000000000000';

beforeEach(() => {
  secrets.reset();
});

describe('readSecret', () => {
  test('knows a version’s key from its id alone, never reads a secret value, and leaves versions the rotator did not write unknown', async () => {
    // Prepare: a version of each key, and one the rotator did not write
    secrets.on(DescribeSecretCommand).resolves({
      VersionIdsToStages: {
        [versionIdFor(NEW_KEY)]: ['AWSPENDING'],
        'hand-written-version': ['AWSCURRENT'],
        [versionIdFor(OLD_KEY)]: [],
      },
    });

    // Act
    const view = await readSecret(new SecretsManagerClient({}), 'iam-key-rotator/alice', [NEW_KEY, OLD_KEY]);

    // Assess
    expect(view).toEqual({
      exists: true,
      versions: [
        { versionId: versionIdFor(NEW_KEY), stages: ['AWSPENDING'], accessKeyId: NEW_KEY },
        { versionId: 'hand-written-version', stages: ['AWSCURRENT'], accessKeyId: undefined },
      ],
    });
    expect(secrets).toHaveReceivedCommandTimes(GetSecretValueCommand, 0);
  });

  test('a missing secret is reported as such', async () => {
    // Prepare
    secrets.on(DescribeSecretCommand).rejects(Object.assign(new Error('not found'), { name: 'ResourceNotFoundException' }));

    // Act & Assess
    await expect(readSecret(new SecretsManagerClient({}), 'iam-key-rotator/bob', [NEW_KEY])).resolves.toEqual({
      exists: false,
      versions: [],
    });
  });
});
