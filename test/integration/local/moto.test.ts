import { describe, expect, test } from '@jest/globals';
import { CreateUserCommand, IAMClient, ListUsersCommand } from '@aws-sdk/client-iam';
import { startMoto } from '#local/moto.ts';
import { MotoUnavailableError } from '#shared/base/errors.ts';

describe('moto harness', () => {
  test('integration tests talk to the local moto_server, which starts each file empty', async () => {
    // Act & Assess: the endpoint is moto's, no user at first, one user created, then listed
    expect(process.env.AWS_ENDPOINT_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const iam = new IAMClient({});
    expect((await iam.send(new ListUsersCommand({}))).Users ?? []).toHaveLength(0);
    await iam.send(new CreateUserCommand({ UserName: 'harness-check' }));
    expect((await iam.send(new ListUsersCommand({}))).Users?.map((user) => user.UserName)).toEqual(['harness-check']);
  });

  test('a missing moto_server fails with a message that says how to install it', async () => {
    // Act
    const attempt = startMoto({ command: 'moto_server_that_does_not_exist' });

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(MotoUnavailableError);
    await expect(attempt).rejects.toThrow("pip install 'moto[server]'");
  });
});
