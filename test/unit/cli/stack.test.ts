import { beforeEach, describe, expect, test } from '@jest/globals';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { resolveDecisionTarget, resolveStack } from '../../../cli/stack.ts';
import { ConfigError, StackOutputMissingError } from '#shared/base/errors.ts';

// Where confirm and abort learn whether a rotation is running: a deployed state machine's
// executions, or, with no state machine at all, the local runner's records.

const ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:iam-key-rotator-prod-rotate-key';
const cloudFormation = mockClient(CloudFormationClient);
const client = new CloudFormationClient({});
const SETTINGS = {
  SECRET_NAME_PREFIX: 'team-a/keys/',
  MEMBER_ROLE_NAME: 'key-rotator-member',
  MEMBER_ROLE_EXTERNAL_ID: 'ext-123',
  ORG_INCLUDE_OUS: '',
  ORG_EXCLUDE_OUS: '',
  ORG_INCLUDE_ACCOUNTS: '',
  ORG_EXCLUDE_ACCOUNTS: '',
  ORG_INCLUDE_TAGS: '',
  ORG_EXCLUDE_TAGS: 'env=sandbox',
};
/** A stack named `name` with these outputs, as DescribeStacks answers. */
const stackWith = (name: string, outputs: Record<string, string>) => ({
  Stacks: [
    {
      StackName: name,
      CreationTime: new Date(),
      StackStatus: 'CREATE_COMPLETE' as const,
      Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
    },
  ],
});
const missing = Object.assign(new Error('Stack with id iam-key-rotator-dev does not exist'), { name: 'ValidationError' });

beforeEach(() => {
  cloudFormation.reset();
});

describe('resolveDecisionTarget', () => {
  test('ROTATION_STATE_MACHINE_ARN without flags: deployed, no stack looked up', async () => {
    // Act
    const target = await resolveDecisionTarget({}, { ROTATION_STATE_MACHINE_ARN: ARN, NOTIFICATION_LEDGER_TABLE: 'ledger' }, client);

    // Assess
    expect(target).toEqual({
      mode: 'deployed',
      stateMachineArn: ARN,
      source: 'ROTATION_STATE_MACHINE_ARN',
      ledger: { tableName: 'ledger', source: 'NOTIFICATION_LEDGER_TABLE' },
      settings: {},
    });
    expect(cloudFormation.calls()).toHaveLength(0);
  });

  test('no flags and the dev stack exists: deployed, from its outputs, with its stack-only settings', async () => {
    // Prepare: the dev stack and its outputs
    cloudFormation.on(DescribeStacksCommand, { StackName: 'iam-key-rotator-dev' }).resolves(
      stackWith('iam-key-rotator-dev', {
        RotateKeyStateMachineArn: ARN,
        NotificationLedgerTableName: 'stack-ledger',
        StackSettings: JSON.stringify(SETTINGS),
      }),
    );

    // Act & Assess
    expect(await resolveDecisionTarget({}, { SECRET_NAME_PREFIX: 'from-env/' }, client)).toEqual({
      mode: 'deployed',
      stateMachineArn: ARN,
      source: 'stack iam-key-rotator-dev',
      ledger: { tableName: 'stack-ledger', source: 'stack iam-key-rotator-dev' },
      settings: SETTINGS,
    });
  });

  test.each<[string, Record<string, string>, string]>([
    ['the local runner’s own table', {}, 'iam-key-rotator-notification-ledger'],
    ['NOTIFICATION_LEDGER_TABLE, which the local runner then uses too', { NOTIFICATION_LEDGER_TABLE: 'my-ledger' }, 'my-ledger'],
  ])('no flags, no state machine, no stack: local runs, recorded in %s', async (_name, env, table) => {
    // Prepare: no dev stack
    cloudFormation.on(DescribeStacksCommand).rejects(missing);

    // Act & Assess
    expect(await resolveDecisionTarget({}, env, client)).toEqual({
      mode: 'local',
      ledgerTableName: table,
      source: 'no stack iam-key-rotator-dev and no ROTATION_STATE_MACHINE_ARN',
    });
  });

  test('a stack named by --stage must exist: ConfigError, never a silent fall back to local runs', async () => {
    // Prepare: no stack of that name
    cloudFormation.on(DescribeStacksCommand).rejects(missing);

    // Act & Assess
    await expect(resolveDecisionTarget({ stage: 'prod' }, { ROTATION_STATE_MACHINE_ARN: ARN }, client)).rejects.toBeInstanceOf(ConfigError);
  });
});

describe('resolveStack', () => {
  test('--stage: the stack outputs, its ledger table and its stack-only settings, whatever the environment says', async () => {
    // Prepare
    cloudFormation.on(DescribeStacksCommand, { StackName: 'iam-key-rotator-prod' }).resolves(
      stackWith('iam-key-rotator-prod', {
        RotateKeyStateMachineArn: ARN,
        NotificationTopicArn: 'arn:aws:sns:us-east-1:123456789012:topic',
        NotificationLedgerTableName: 'prod-ledger',
        StackSettings: JSON.stringify(SETTINGS),
      }),
    );

    // Act
    const stack = await resolveStack({ stage: 'prod' }, { ROTATION_STATE_MACHINE_ARN: 'arn:other', MEMBER_ROLE_NAME: 'from-env' }, client);

    // Assess
    expect(stack).toEqual({
      stateMachineArn: ARN,
      topicArn: 'arn:aws:sns:us-east-1:123456789012:topic',
      ledgerTableName: 'prod-ledger',
      source: 'stack iam-key-rotator-prod',
      settings: SETTINGS,
    });
  });

  test('ROTATION_STATE_MACHINE_ARN without flags: the environment, no stack read, no stack settings', async () => {
    // Act
    const stack = await resolveStack({}, { ROTATION_STATE_MACHINE_ARN: ARN, NOTIFICATION_LEDGER_TABLE: 'env-ledger' }, client);

    // Assess
    expect(stack).toMatchObject({ stateMachineArn: ARN, ledgerTableName: 'env-ledger', settings: {} });
    expect(cloudFormation.calls()).toHaveLength(0);
  });

  test.each<[string, Record<string, string>, RegExp]>([
    ['no StackSettings output (a stack deployed before it existed)', { RotateKeyStateMachineArn: ARN }, /has no StackSettings output/],
    ['a StackSettings output that is not JSON', { RotateKeyStateMachineArn: ARN, StackSettings: 'prefix=x' }, /is not a JSON object/],
    [
      'a StackSettings output without MEMBER_ROLE_NAME',
      { RotateKeyStateMachineArn: ARN, StackSettings: JSON.stringify({ ...SETTINGS, MEMBER_ROLE_NAME: undefined }) },
      /lacks MEMBER_ROLE_NAME/,
    ],
    ['no RotateKeyStateMachineArn output', { StackSettings: JSON.stringify(SETTINGS) }, /has no RotateKeyStateMachineArn output/],
  ])('%s: StackOutputMissingError naming the stack, the output and the fix', async (_name, outputs, message) => {
    // Prepare
    cloudFormation.on(DescribeStacksCommand).resolves(stackWith('iam-key-rotator-old', outputs));

    // Act
    const resolved = resolveStack({ stack: 'iam-key-rotator-old' }, {}, client);

    // Assess
    await expect(resolved).rejects.toBeInstanceOf(StackOutputMissingError);
    await expect(resolved).rejects.toThrow(message);
    await expect(resolved).rejects.toThrow(/Stack iam-key-rotator-old/);
    await expect(resolved).rejects.toThrow(/Redeploy .*npx osls deploy --stage old\)/);
  });

  test.each<[string, { stage?: string; stack?: string }, { instead?: string | null }, RegExp, RegExp | undefined]>([
    [
      'rotate, --stage',
      { stage: 'prod' },
      {},
      /Deploy it \(npx osls deploy --stage prod\).*or run the rotation in this process with --local\./,
      undefined,
    ],
    [
      'a --stack osls did not name',
      { stack: 'security-tools' },
      {},
      /Check the name \(npx osls deploy --stage <stage> makes the stack iam-key-rotator-<stage>\)/,
      /--stage dev/,
    ],
    [
      'status, which has no --local',
      { stage: 'prod' },
      { instead: null },
      /name another with --stack or --stage, or set ROTATION_STATE_MACHINE_ARN\.$/,
      /--local/,
    ],
    [
      'scan, which reads without a stack',
      { stack: 'iam-key-rotator-prod' },
      { instead: 'leave out --stage/--stack to scan without starting anything' },
      /Deploy it \(npx osls deploy --stage prod\).*or leave out --stage\/--stack to scan without starting anything\./,
      /--local/,
    ],
  ])('a stack that does not exist (%s): ConfigError whose advice fits the command', async (_name, flags, options, advice, wrong) => {
    // Prepare
    cloudFormation.on(DescribeStacksCommand).rejects(missing);

    // Act
    const refused = await resolveStack(flags, {}, client, options).catch((error: unknown) => error);

    // Assess
    expect(refused).toBeInstanceOf(ConfigError);
    expect((refused as Error).message).toMatch(advice);
    if (wrong !== undefined) expect((refused as Error).message).not.toMatch(wrong);
  });
});
