import { describe, expect, test } from '@jest/globals';
import { DescribeExecutionCommand, ExecutionDoesNotExist, ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { executionName } from '#shared/base/execution-name.ts';
import { RotationExecutions } from '#shared/scan/rotation-executions.ts';

const STATE_MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:iam-key-rotator-dev-rotate-key';
const candidate = (userName: string, accessKeyId: string, ageDays: number) => ({
  userName,
  accessKeyId,
  createdAt: new Date(Date.parse('2026-12-01T00:00:00Z') - ageDays * 86_400_000),
  executionName: executionName(userName, accessKeyId, 'scheduled'),
});

describe('RotationExecutions', () => {
  test('a scheduled run that rolled back or needs attention is named by its outcome, not by its SUCCEEDED status', async () => {
    // Prepare: two ended scheduled runs, one rolled back (a Succeed state), one that truly failed.
    const client = new SFNClient({});
    const sfn = mockClient(client);
    const rolledBack = candidate('rolled', 'AKIAROLLED0000000001', 200);
    const failed = candidate('failed', 'AKIAFAILED0000000001', 150);
    sfn.on(ListExecutionsCommand).resolves({ executions: [] });
    sfn
      .on(DescribeExecutionCommand)
      .rejects(new ExecutionDoesNotExist({ message: 'none', $metadata: {} }))
      .on(DescribeExecutionCommand, {
        executionArn: `${STATE_MACHINE.replace(':stateMachine:', ':execution:')}:${rolledBack.executionName}`,
      })
      .resolves({ status: 'SUCCEEDED', output: JSON.stringify({ outcome: { status: 'RolledBack' } }) })
      .on(DescribeExecutionCommand, { executionArn: `${STATE_MACHINE.replace(':stateMachine:', ':execution:')}:${failed.executionName}` })
      .resolves({ status: 'FAILED' });
    const executions = new RotationExecutions(client, STATE_MACHINE, 4);

    // Act
    await executions.loadRunning();
    await executions.resolve([failed, rolledBack, candidate('fresh', 'AKIAFRESH00000000001', 100)], 5);

    // Assess
    expect(executions.statuses.get(rolledBack.executionName)).toBe('RolledBack');
    expect(executions.statuses.get(failed.executionName)).toBe('FAILED');
    expect(executions.calls).toEqual({ listExecutions: 1, describeExecution: 3 });
  });

  test('a key that another kind of rotation is rotating costs no DescribeExecution, and the cap stops the reads', async () => {
    // Prepare: a manual rotation of the oldest key runs; cap 1.
    const client = new SFNClient({});
    const sfn = mockClient(client);
    const busy = candidate('busy', 'AKIABUSY000000000001', 300);
    sfn.on(ListExecutionsCommand, { statusFilter: 'RUNNING' }).resolves({
      executions: [
        {
          name: executionName('busy', busy.accessKeyId, 'manual'),
          status: 'RUNNING',
          executionArn: 'arn:x',
          stateMachineArn: STATE_MACHINE,
          startDate: new Date(),
        },
      ],
    });
    sfn.on(DescribeExecutionCommand).rejects(new ExecutionDoesNotExist({ message: 'none', $metadata: {} }));
    const executions = new RotationExecutions(client, STATE_MACHINE, 4);

    // Act
    await executions.loadRunning();
    await executions.resolve([busy, candidate('a', 'AKIAA000000000000001', 200), candidate('b', 'AKIAB000000000000001', 100)], 1);

    // Assess: only a's name was described (busy is running under another kind; b is past the cap).
    expect(sfn.commandCalls(DescribeExecutionCommand).map((call) => call.args[0].input.executionArn?.split(':').at(-1))).toEqual([
      executionName('a', 'AKIAA000000000000001', 'scheduled'),
    ]);
  });
});
