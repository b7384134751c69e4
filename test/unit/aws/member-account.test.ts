import { beforeEach, describe, expect, test } from '@jest/globals';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { CreateAccessKeyCommand, GetUserCommand, IAMClient } from '@aws-sdk/client-iam';
import { limitToSession, memberCredentials } from '#shared/aws/member-account.ts';
import { MEMBER_SESSION_ACTIONS, memberSessionOf } from '#shared/aws/member-session-policies.ts';

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
    // Prepare: a first session of 60 minutes, then one of 120
    sts.on(AssumeRoleCommand).resolvesOnce(session(60)).resolves(session(120));
    const provider = memberCredentials(new STSClient({}), settings, clock)('111111111111');

    // Act: two calls at once, then at 50 and at 56 minutes
    const [first, second] = await Promise.all([provider(), provider()]);
    now = new Date(NOW.getTime() + 50 * 60_000);
    await provider();
    now = new Date(NOW.getTime() + 56 * 60_000);
    await provider();

    // Assess
    expect(first).toMatchObject({ accessKeyId: 'ASIAMEMBER', accountId: '111111111111' });
    expect(second).toBe(first);
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 2);
    expect(sts).toHaveReceivedCommandWith(AssumeRoleCommand, {
      RoleArn: 'arn:aws:iam::111111111111:role/iam-key-rotator-member',
      RoleSessionName: 'iam-key-rotator',
    });
  });

  test('sends the external id only when one is configured', async () => {
    // Prepare
    sts.on(AssumeRoleCommand).resolves(session(60));

    // Act: one account with an external id, one without
    await memberCredentials(new STSClient({}), { ...settings, memberRoleExternalId: 'ext-123' }, clock)('111111111111')();
    await memberCredentials(new STSClient({}), settings, clock)('222222222222')();

    // Assess
    expect(sts.commandCalls(AssumeRoleCommand).map((call) => call.args[0].input.ExternalId)).toEqual(['ext-123', undefined]);
  });

  test('a refusal is a MemberAccountAccessError naming the account, the role and the fix, and is not remembered', async () => {
    // Prepare: STS refuses once, then gives a session
    sts
      .on(AssumeRoleCommand)
      .rejectsOnce(Object.assign(new Error('User: x is not authorized to perform: sts:AssumeRole'), { name: 'AccessDenied' }))
      .resolves(session(60));
    const provider = memberCredentials(new STSClient({}), settings, clock)('333333333333');

    // Act & Assess
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
    // Prepare
    sts
      .on(AssumeRoleCommand)
      .rejects(Object.assign(new Error('User: x is not authorized to perform: sts:AssumeRole'), { name: 'AccessDenied' }));

    // Act
    const failure = await memberCredentials(new STSClient({}), settings, clock)('444444444444')().catch((error: unknown) => error);

    // Assess
    expect((failure as Error).cause).toMatchObject({ name: 'AccessDenied' });
  });

  test('an account id that is not 12 digits is refused before any call', () => {
    // Act & Assess
    expect(() => memberCredentials(new STSClient({}), settings, clock)('12345')).toThrow(/12-digit/);
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 0);
  });

  test('a function’s session carries its own name, SourceIdentity and session policy, so the member account’s CloudTrail names it', async () => {
    // Prepare
    sts.on(AssumeRoleCommand).resolves(session(60));

    // Act
    await memberCredentials(new STSClient({}), settings, clock, memberSessionOf('notify'))('555555555555')();

    // Assess
    const input = sts.commandCalls(AssumeRoleCommand)[0]?.args[0].input;
    expect(input).toMatchObject({ RoleSessionName: 'iam-key-rotator.notify', SourceIdentity: 'iam-key-rotator.notify' });
    expect(JSON.parse(input?.Policy ?? '{}')).toEqual({
      Version: '2012-10-17',
      Statement: [{ Sid: 'OnlyThisFunctionsActions', Effect: 'Allow', Action: [...MEMBER_SESSION_ACTIONS.notify], Resource: '*' }],
    });
  });
});

describe('limitToSession', () => {
  /** A client whose requests stop before the network: `sent` lists the commands that got past the session check. */
  function recordingClient(): { client: IAMClient; sent: string[] } {
    const sent: string[] = [];
    const client = new IAMClient({ region: 'us-east-1', credentials: { accessKeyId: 'ASIA', secretAccessKey: 'x' } });
    client.middlewareStack.add(
      (_next, context) => async () => {
        sent.push(context.commandName ?? '');
        return { output: { $metadata: {} }, response: {} };
      },
      { step: 'finalizeRequest', name: 'recordInsteadOfSending' },
    );
    return { client, sent };
  }

  test('a client on notify’s member session refuses CreateAccessKey with AccessDenied before any request, and lets GetUser through', async () => {
    // Prepare
    const { client, sent } = recordingClient();
    limitToSession(client, memberSessionOf('notify'));

    // Act
    const refused = await client.send(new CreateAccessKeyCommand({ UserName: 'alice' })).catch((error: unknown) => error);
    await client.send(new GetUserCommand({ UserName: 'alice' }));

    // Assess
    expect(refused).toMatchObject({ name: 'AccessDenied', message: expect.stringContaining('iam:CreateAccessKey') });
    expect(sent).toEqual(['GetUserCommand']);
  });

  test('create-and-store’s session may create the key', async () => {
    // Prepare
    const { client, sent } = recordingClient();
    limitToSession(client, memberSessionOf('rotateCreateAndStore'));

    // Act
    await client.send(new CreateAccessKeyCommand({ UserName: 'alice' }));

    // Assess
    expect(sent).toEqual(['CreateAccessKeyCommand']);
  });
});
