import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient } from '@aws-sdk/client-iam';
import { DescribeExecutionCommand, ListExecutionsCommand, SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { motoCredentialsIn } from '#local/moto-inspect.ts';
import { cli } from '../../helpers/cli.ts';
import { createPassStateMachine } from '../../helpers/iam-seed.ts';

// `rotate <user> --account <id>` against a deployed stack (a moto state machine): the user's key is
// checked in the member account (through moto's AssumeRole) and the execution input names the account.
const MEMBER = '222222222222';
const sfn = new SFNClient({});
let stateMachineArn = '';
let memberKeyId = '';

beforeAll(async () => {
  const memberIam = new IAMClient({ credentials: await motoCredentialsIn(new STSClient({}), MEMBER, 'cli-rotate-account') });
  await memberIam.send(new CreateUserCommand({ UserName: 'ci-deployer' }));
  memberKeyId = (await memberIam.send(new CreateAccessKeyCommand({ UserName: 'ci-deployer' }))).AccessKey?.AccessKeyId ?? '';
  stateMachineArn = await createPassStateMachine(sfn, 'rotate-account');
  process.env.ROTATION_STATE_MACHINE_ARN = stateMachineArn;
});

afterEach(() => {
  process.exitCode = undefined;
});

afterAll(() => {
  delete process.env.ROTATION_STATE_MACHINE_ARN;
});

describe('rotate --account against a deployed stack', () => {
  test('checks the user in the member account and starts an execution whose input names it', async () => {
    // Act
    const result = await cli('rotate', 'ci-deployer', '--account', MEMBER, '--json');

    // Assess
    expect(result.code).toBe(0);
    const started = JSON.parse(result.out) as { executionArn: string; accessKeyId: string; accountId?: string };
    expect(started).toMatchObject({ accessKeyId: memberKeyId, accountId: MEMBER, status: 'started' });
    const execution = await sfn.send(new DescribeExecutionCommand({ executionArn: started.executionArn }));
    expect(JSON.parse(execution.input ?? '{}')).toMatchObject({
      userName: 'ci-deployer',
      accessKeyId: memberKeyId,
      accountId: MEMBER,
      kind: 'manual',
    });
  });

  test("records who asked as the STS caller ARN of the CLI's credentials, not the OS user name", async () => {
    // Prepare: the identity moto gives the test's credentials.
    const callerArn = (await new STSClient({}).send(new GetCallerIdentityCommand({}))).Arn ?? '';
    await new IAMClient({}).send(new CreateUserCommand({ UserName: 'own-app' }));
    await new IAMClient({}).send(new CreateAccessKeyCommand({ UserName: 'own-app' }));

    // Act
    const result = await cli('rotate', 'own-app', '--json', '--reason', 'owner left');

    // Assess
    expect(result.code).toBe(0);
    const started = JSON.parse(result.out) as { executionArn: string };
    const execution = await sfn.send(new DescribeExecutionCommand({ executionArn: started.executionArn }));
    expect(callerArn).toMatch(/^arn:aws:/);
    expect(JSON.parse(execution.input ?? '{}')).toMatchObject({ requestedBy: `cli:${callerArn}`, reason: 'owner left' });
  });

  test('rotating again after the run ended starts a new attempt and says how the previous one ended', async () => {
    // Prepare: a manual rotation of the key, stopped.
    await new IAMClient({}).send(new CreateUserCommand({ UserName: 'retried-app' }));
    await new IAMClient({}).send(new CreateAccessKeyCommand({ UserName: 'retried-app' }));
    const first = JSON.parse((await cli('rotate', 'retried-app', '--json')).out) as { executionArn: string; executionName: string };
    await sfn.send(new StopExecutionCommand({ executionArn: first.executionArn }));

    // Act
    const again = await cli('rotate', 'retried-app');

    // Assess
    expect(again.code).toBe(0);
    expect(again.out).toContain('Started manual rotation');
    expect(again.out).toContain(`This is a new attempt: the previous one, ${first.executionName}, ended ABORTED.`);
  });

  test('an account the organization filters exclude is refused naming the filter, and nothing starts', async () => {
    // Prepare
    process.env.ORG_EXCLUDE_ACCOUNTS = MEMBER;
    const executions = async (): Promise<number> =>
      (await sfn.send(new ListExecutionsCommand({ stateMachineArn }))).executions?.length ?? 0;
    const before = await executions();

    // Act
    const result = await cli('rotate', 'ci-deployer', '--account', MEMBER).finally(() => delete process.env.ORG_EXCLUDE_ACCOUNTS);

    // Assess
    expect(result.code).not.toBe(0);
    expect(result.err).toMatch(/AccountExcludedError|excluded by account id \(ORG_EXCLUDE_ACCOUNTS\)/);
    expect(result.err).toContain('ORG_EXCLUDE_ACCOUNTS');
    expect(await executions()).toBe(before);
  });

  test('a user that exists only in the member account is refused without --account (it is looked up in the stack’s own account)', async () => {
    // Act
    const result = await cli('rotate', 'ci-deployer', '--json');

    // Assess
    expect(result.code).not.toBe(0);
    expect(result.err).toMatch(/ci-deployer/);
  });

  test('an account id that is not 12 digits is a usage error', async () => {
    // Act
    const result = await cli('rotate', 'ci-deployer', '--account', '2222');

    // Assess
    expect(result.code).toBe(2);
    expect(result.err).toContain('--account must be a 12-digit AWS account id');
  });
});
