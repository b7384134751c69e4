import { afterAll, afterEach, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { CloudFormationClient, CreateStackCommand, DeleteStackCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient } from '@aws-sdk/client-iam';
import { DescribeExecutionCommand, ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { AssumeRoleCommand, STSClient, type AssumeRoleCommandInput } from '@aws-sdk/client-sts';
import { sts as cliSts } from '#shared/aws/clients.ts';
import { ensureLedgerTable } from '#shared/notify/ledger.ts';
import { dynamoDecisionStore } from '#shared/rotation/decision-records.ts';
import { createSecretHolding } from '#shared/rotation/secret.ts';
import { motoCredentialsIn } from '#local/moto-inspect.ts';
import { cli } from '../../helpers/cli.ts';
import { createPassStateMachine, seedUsers } from '../../helpers/iam-seed.ts';
import { createKey, createUser, secretsManager } from '../../helpers/rotation-fixtures.ts';
import { moveDateForward } from '../../helpers/fake-date.ts';

// A stack deployed with a non-default SECRET_NAME_PREFIX, MEMBER_ROLE_NAME and MEMBER_ROLE_EXTERNAL_ID:
// with --stage the CLI acts with the stack's values (its StackSettings output), none exported.
const STAGE = 'custom';
const STACK = `iam-key-rotator-${STAGE}`;
const LEDGER = 'stack-settings-ledger';
const PREFIX = 'team-a/keys/';
const MEMBER = '222222222222';
const SETTINGS = {
  SECRET_NAME_PREFIX: PREFIX,
  MEMBER_ROLE_NAME: 'team-a-key-rotator',
  MEMBER_ROLE_EXTERNAL_ID: 'team-a-ext-42',
  ORG_INCLUDE_OUS: '',
  ORG_EXCLUDE_OUS: '',
  ORG_INCLUDE_ACCOUNTS: '',
  ORG_EXCLUDE_ACCOUNTS: '',
  ORG_INCLUDE_TAGS: '',
  ORG_EXCLUDE_TAGS: '',
};
const sfn = new SFNClient({});
const cloudFormation = new CloudFormationClient({});
const saved = { ...process.env };
let stateMachineArn = '';

beforeAll(async () => {
  stateMachineArn = await createPassStateMachine(sfn, 'stack-settings-rotate-key');
  await ensureLedgerTable(new DynamoDBClient({}), LEDGER);
  // A stand-in for the deployed stack: only its outputs matter to the CLI.
  await cloudFormation.send(
    new CreateStackCommand({
      StackName: STACK,
      TemplateBody: JSON.stringify({
        Resources: { Topic: { Type: 'AWS::SNS::Topic', Properties: { TopicName: 'stack-settings-notifications' } } },
        Outputs: {
          RotateKeyStateMachineArn: { Value: stateMachineArn },
          NotificationTopicArn: { Value: { Ref: 'Topic' } },
          NotificationLedgerTableName: { Value: LEDGER },
          StackSettings: { Value: JSON.stringify(SETTINGS) },
        },
      }),
    }),
  );
  for (const key of [
    'SECRET_NAME_PREFIX',
    'MEMBER_ROLE_NAME',
    'MEMBER_ROLE_EXTERNAL_ID',
    'ROTATION_STATE_MACHINE_ARN',
    'NOTIFICATION_LEDGER_TABLE',
  ])
    delete process.env[key];
});

afterEach(() => {
  process.exitCode = undefined;
  jest.useRealTimers();
});

afterAll(async () => {
  process.env = saved;
  // The integration files share one moto: leave no stack behind for the next file.
  await cloudFormation.send(new DeleteStackCommand({ StackName: STACK }));
});

/** A rotation of `userName` at its gate: the new key is AWSCURRENT of the secret under the stack's prefix, and an execution RUNNING. */
async function atTheGate(userName: string): Promise<{ newKeyId: string; executionName: string }> {
  const old = await createUser(userName, { 'rotation:health-checks': 'manual' });
  const fresh = await createKey(userName);
  await createSecretHolding(secretsManager, `${PREFIX}${userName}`, {
    AccessKeyId: fresh.accessKeyId,
    SecretAccessKey: fresh.secretAccessKey,
    UserName: userName,
    CreatedAt: new Date().toISOString(),
  });
  // moto keeps the stand-in's executions RUNNING.
  const started = await cli('rotate', userName, '--key', old.accessKeyId, '--stage', STAGE, '--json');
  expect(started.code).toBe(0);
  return {
    newKeyId: fresh.accessKeyId,
    executionName: (JSON.parse(started.out) as { executionArn: string }).executionArn.split(':').at(-1) ?? '',
  };
}

describe("the CLI acts with the stack's settings (--stage), none exported", () => {
  test("confirm finds the user's secret under the stack's SECRET_NAME_PREFIX and records the decision in its ledger table", async () => {
    // Prepare
    const { newKeyId, executionName } = await atTheGate('team-a-confirm');

    // Act
    const result = await cli('confirm', 'team-a-confirm', '--stage', STAGE);

    // Assess
    expect(result.code).toBe(0);
    expect(result.out).toContain(
      `recorded confirm#team-a-confirm (new key ${newKeyId}) in the ledger table for execution ${executionName}`,
    );
    expect(await dynamoDecisionStore(new DynamoDBClient({}), () => LEDGER).get('confirm', 'team-a-confirm')).toMatchObject({
      newAccessKeyId: newKeyId,
    });
  });

  test('abort does the same, where the environment pointing at the state machine reads the default prefix and finds no new key', async () => {
    // Prepare
    const { newKeyId } = await atTheGate('team-a-abort');

    // Act
    process.env.ROTATION_STATE_MACHINE_ARN = stateMachineArn;
    process.env.NOTIFICATION_LEDGER_TABLE = LEDGER;
    const fromEnvironment = await cli('abort', 'team-a-abort').finally(() => {
      delete process.env.ROTATION_STATE_MACHINE_ARN;
      delete process.env.NOTIFICATION_LEDGER_TABLE;
    });
    const fromStack = await cli('abort', 'team-a-abort', '--stage', STAGE);

    // Assess: from the environment the default prefix names a secret that does not exist, so no new key is
    // seen and nothing is recorded; from the stack the new key is found and the abort recorded.
    expect(fromEnvironment.code).toBe(1);
    expect(fromEnvironment.err).toContain('has not stored its new key yet');
    expect(fromStack.code).toBe(0);
    expect(fromStack.out).toContain(`Abort recorded: recorded abort#team-a-abort (new key ${newKeyId}) in the ledger table`);
  });

  test("rotate --account assumes the stack's MEMBER_ROLE_NAME with its MEMBER_ROLE_EXTERNAL_ID", async () => {
    // Prepare: the user in the member account, and every AssumeRole the CLI's STS client sends.
    const memberIam = new IAMClient({ credentials: await motoCredentialsIn(new STSClient({}), MEMBER, 'stack-settings') });
    await memberIam.send(new CreateUserCommand({ UserName: 'team-a-deployer' }));
    const keyId = (await memberIam.send(new CreateAccessKeyCommand({ UserName: 'team-a-deployer' }))).AccessKey?.AccessKeyId ?? '';
    const assumed: AssumeRoleCommandInput[] = [];
    const spy = 'stack-settings-assume-role-spy';
    cliSts.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === AssumeRoleCommand.name) assumed.push(args.input as AssumeRoleCommandInput);
        return next(args);
      },
      { step: 'initialize', name: spy },
    );

    // Act
    const result = await cli('rotate', 'team-a-deployer', '--account', MEMBER, '--stage', STAGE, '--json').finally(() =>
      cliSts.middlewareStack.remove(spy),
    );

    // Assess
    expect(result.code).toBe(0);
    expect(JSON.parse(result.out)).toMatchObject({ accessKeyId: keyId, accountId: MEMBER, status: 'started', stateMachineArn });
    expect(assumed.length).toBeGreaterThan(0);
    for (const input of assumed)
      expect(input).toMatchObject({ RoleArn: `arn:aws:iam::${MEMBER}:role/team-a-key-rotator`, ExternalId: 'team-a-ext-42' });
  });

  test("scan --stage finds the stack's state machine and starts the due rotations", async () => {
    // Prepare: two users whose keys are due 100 days from now; only Date moves there.
    const users = await seedUsers(new IAMClient({}), 2, { prefix: 'team-a-due' });
    process.env.UNUSED_AFTER_DAYS = '365';
    moveDateForward(100);

    // Act
    const result = await cli('scan', '--stage', STAGE, '--json', '--apply').finally(() => delete process.env.UNUSED_AFTER_DAYS);

    // Assess
    expect(result.code).toBe(0);
    const rows = JSON.parse(result.out) as Array<{ userName: string; outcome: string | null }>;
    expect(rows.filter((row) => users.includes(row.userName)).map((row) => row.outcome)).toEqual(['rotation started', 'rotation started']);
    const executions = (await sfn.send(new ListExecutionsCommand({ stateMachineArn }))).executions ?? [];
    const started = executions.filter((execution) => execution.name?.startsWith('team-a-due'));
    expect(started).toHaveLength(2);
    const inputs = await Promise.all(
      started.map(async (execution) => sfn.send(new DescribeExecutionCommand({ executionArn: execution.executionArn ?? '' }))),
    );
    expect(inputs.map((input) => (JSON.parse(input.input ?? '{}') as { userName?: string }).userName).sort()).toEqual(users.sort());
  });

  test('scan refuses --state-machine-arn with --stage: one place says which state machine to start', async () => {
    // Act
    const result = await cli('scan', '--stage', STAGE, '--state-machine-arn', stateMachineArn);

    // Assess
    expect(result.code).toBe(2);
    expect(result.err).toContain('--state-machine-arn and --stage/--stack both say which state machine to start');
  });
});
