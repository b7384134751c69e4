import { beforeEach, describe, expect, test } from '@jest/globals';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { MissingCredentialsError } from '#shared/base/errors.ts';
import { requestedBy } from '../../../cli/rotate.ts';

const sts = mockClient(STSClient);
const client = new STSClient({});

beforeEach(() => {
  sts.reset();
});

describe("rotate's requestedBy: the verified caller", () => {
  test('is the STS caller ARN of the credentials the CLI signs with', async () => {
    // Prepare
    sts.on(GetCallerIdentityCommand).resolves({ Arn: 'arn:aws:sts::123456789012:assumed-role/operators/alice', Account: '123456789012' });

    // Act & Assess
    await expect(requestedBy(client)).resolves.toBe('cli:arn:aws:sts::123456789012:assumed-role/operators/alice');
  });

  test('a user ARN with a long path keeps the account and the user name, within 256 characters', async () => {
    // Prepare
    sts.on(GetCallerIdentityCommand).resolves({ Arn: `arn:aws:iam::123456789012:user/${'team/'.repeat(80)}alice` });

    // Act
    const recorded = await requestedBy(client);

    // Assess
    expect(recorded).toBe('cli:arn:aws:iam::123456789012:user/…/alice');
  });

  test('without an identity nothing starts: MissingCredentialsError, with the cause kept', async () => {
    // Prepare
    const cause = Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' });
    sts.on(GetCallerIdentityCommand).rejects(cause);

    // Act
    const refused = await requestedBy(client).catch((error: unknown) => error);

    // Assess
    expect(refused).toBeInstanceOf(MissingCredentialsError);
    expect((refused as Error).message).toMatch(/records the AWS identity that requested it, so nothing was started/);
    expect((refused as Error).cause).toBe(cause);
  });
});
