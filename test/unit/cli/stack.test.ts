import { beforeEach, describe, expect, test } from '@jest/globals';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { resolveDecisionTarget } from '../../../cli/stack.ts';
import { ConfigError } from '#shared/base/errors.ts';

// Where confirm and abort learn whether a rotation is running: a deployed state machine's
// executions, or, with no state machine at all, the local runner's records.

const ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:iam-key-rotator-prod-rotate-key';
const cloudFormation = mockClient(CloudFormationClient);
const client = new CloudFormationClient({});
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
    });
    expect(cloudFormation.calls()).toHaveLength(0);
  });

  test('no flags and the dev stack exists: deployed, from its outputs', async () => {
    // Prepare: the dev stack and its outputs
    cloudFormation.on(DescribeStacksCommand, { StackName: 'iam-key-rotator-dev' }).resolves({
      Stacks: [
        {
          StackName: 'iam-key-rotator-dev',
          CreationTime: new Date(),
          StackStatus: 'CREATE_COMPLETE',
          Outputs: [
            { OutputKey: 'RotateKeyStateMachineArn', OutputValue: ARN },
            { OutputKey: 'NotificationLedgerTableName', OutputValue: 'stack-ledger' },
          ],
        },
      ],
    });

    // Act & Assess
    expect(await resolveDecisionTarget({}, {}, client)).toEqual({
      mode: 'deployed',
      stateMachineArn: ARN,
      source: 'stack iam-key-rotator-dev',
      ledger: { tableName: 'stack-ledger', source: 'stack iam-key-rotator-dev' },
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
