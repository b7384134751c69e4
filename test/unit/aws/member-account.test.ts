import { beforeEach, describe, expect, test } from '@jest/globals';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { memberCredentials } from '#shared/aws/member-account.ts';

const sts = mockClient(STSClient);
const NOW = new Date('2026-11-23T12:00:00Z');
let now = NOW;
const clock = (): Date => now;
const session = (minutes: number) => ({
  Credentials: {
    AccessKeyId: 'ASIAMEMBER',
    SecretAccessKey: 'secret',
    SessionToken: 'token',
    Expiration: new Date(NOW.getTime() + minutes * 60_000),
  },
});

beforeEach(() => {
  sts.reset();
  now = NOW;
});

describe('memberCredentials', () => {
  const settings = { memberRoleName: 'iam-key-rotator-member', memberRoleExternalId: '' };

  test('assumes the member role of that account once and reuses the session until shortly before it ends', async () => {
    sts.on(AssumeRoleCommand).resolvesOnce(session(60)).resolves(session(120));
    const provider = memberCredentials(new STSClient({}), settings, clock)('111111111111');

    const [first, second] = await Promise.all([provider(), provider()]);
    now = new Date(NOW.getTime() + 50 * 60_000);
    await provider();
    now = new Date(NOW.getTime() + 56 * 60_000);
    await provider();

    expect(first).toMatchObject({ accessKeyId: 'ASIAMEMBER', accountId: '111111111111' });
    expect(second).toBe(first);
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 2);
    expect(sts).toHaveReceivedCommandWith(AssumeRoleCommand, {
      RoleArn: 'arn:aws:iam::111111111111:role/iam-key-rotator-member',
      RoleSessionName: 'iam-key-rotator',
    });
  });

  test('sends the external id only when one is configured', async () => {
    sts.on(AssumeRoleCommand).resolves(session(60));
    await memberCredentials(new STSClient({}), { ...settings, memberRoleExternalId: 'ext-123' }, clock)('111111111111')();
    await memberCredentials(new STSClient({}), settings, clock)('222222222222')();

    expect(sts.commandCalls(AssumeRoleCommand).map((call) => call.args[0].input.ExternalId)).toEqual(['ext-123', undefined]);
  });

  test('a refusal is a MemberAccountAccessError naming the account, the role and the fix, and is not remembered', async () => {
    sts
      .on(AssumeRoleCommand)
      .rejectsOnce(Object.assign(new Error('User: x is not authorized to perform: sts:AssumeRole'), { name: 'AccessDenied' }))
      .resolves(session(60));
    const provider = memberCredentials(new STSClient({}), settings, clock)('333333333333');

    await expect(provider()).rejects.toMatchObject({
      name: 'MemberAccountAccessError',
      accountId: '333333333333',
      message: expect.stringMatching(
        /account 333333333333.*arn:aws:iam::333333333333:role\/iam-key-rotator-member.*AccessDenied.*stack\/member-role\.yml.*ORG_EXCLUDE_ACCOUNTS/,
      ),
    });
    await expect(provider()).resolves.toMatchObject({ accessKeyId: 'ASIAMEMBER' });
  });

  test('the refusal STS gave is the MemberAccountAccessError’s cause', async () => {
    sts
      .on(AssumeRoleCommand)
      .rejects(Object.assign(new Error('User: x is not authorized to perform: sts:AssumeRole'), { name: 'AccessDenied' }));

    const failure = await memberCredentials(new STSClient({}), settings, clock)('444444444444')().catch((error: unknown) => error);

    expect((failure as Error).cause).toMatchObject({ name: 'AccessDenied' });
  });

  test('an account id that is not 12 digits is refused before any call', () => {
    expect(() => memberCredentials(new STSClient({}), settings, clock)('12345')).toThrow(/12-digit/);
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 0);
  });
});
