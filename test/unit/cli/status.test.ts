import { describe, expect, test } from '@jest/globals';
import { DescribeExecutionCommand, GetExecutionHistoryCommand, ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { rotationStatus } from '../../../cli/status.ts';

const ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:iam-key-rotator-dev-rotate-key';
const EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:iam-key-rotator-dev-rotate-key:full-AKIA-manual-abc';
const input = JSON.stringify({ userName: 'full', accessKeyId: 'AKIAIOSFODNN7EXAMPLE', kind: 'manual' });

describe('status of a failed rotation', () => {
  test('shows the error, the timeline and the state it ended in', async () => {
    // Prepare: a failed execution for user full, and the five states it entered.
    const sfn = mockClient(SFNClient);
    sfn.on(ListExecutionsCommand, { statusFilter: 'RUNNING' }).resolves({ executions: [] });
    sfn.on(ListExecutionsCommand).resolves({
      executions: [
        { executionArn: EXECUTION, name: 'full-AKIA-manual-abc', status: 'FAILED', stateMachineArn: ARN, startDate: new Date() },
      ],
    });
    sfn.on(DescribeExecutionCommand).resolves({
      executionArn: EXECUTION,
      name: 'full-AKIA-manual-abc',
      status: 'FAILED',
      input,
      startDate: new Date('2026-06-01T12:00:00Z'),
      stopDate: new Date('2026-06-01T12:00:02Z'),
      error: 'KeyLimitReachedError',
      cause: 'User full already has two access keys',
    });
    sfn.on(GetExecutionHistoryCommand).resolves({
      events: ['IsCompromise', 'Prepare', 'MakeSafe', 'NotifyFailed', 'Failed'].map((name, index) => ({
        id: index + 1,
        type: 'TaskStateEntered',
        timestamp: new Date(Date.parse('2026-06-01T12:00:00Z') + index * 100),
        stateEnteredEventDetails: { name },
      })),
    });

    // Act
    const [line] = await rotationStatus(sfn as unknown as SFNClient, ARN, 'full', 10);

    // Assess
    expect(line).toMatchObject({
      status: 'FAILED',
      userName: 'full',
      kind: 'manual',
      currentStep: 'Failed',
      error: 'KeyLimitReachedError: User full already has two access keys',
      historyUnavailable: null,
    });
    expect(line?.timeline.map((entry) => entry.state)).toEqual(['IsCompromise', 'Prepare', 'MakeSafe', 'NotifyFailed', 'Failed']);
  });

  test('without GetExecutionHistory, falls back to DescribeExecution and says so', async () => {
    // Prepare: a running execution whose history the caller may not read.
    const sfn = mockClient(SFNClient);
    sfn
      .on(ListExecutionsCommand)
      .resolves({ executions: [{ executionArn: EXECUTION, name: 'x', status: 'RUNNING', stateMachineArn: ARN, startDate: new Date() }] });
    sfn.on(DescribeExecutionCommand).resolves({ executionArn: EXECUTION, status: 'RUNNING', input, startDate: new Date() });
    sfn
      .on(GetExecutionHistoryCommand)
      .rejects(
        Object.assign(new Error('User is not authorized to perform: states:GetExecutionHistory'), { name: 'AccessDeniedException' }),
      );

    // Act
    const [line] = await rotationStatus(sfn as unknown as SFNClient, ARN, undefined, 10);

    // Assess
    expect(line).toMatchObject({ status: 'RUNNING', currentStep: null, timeline: [] });
    expect(line?.historyUnavailable).toContain('status from DescribeExecution only');
  });
});

describe('status of a rotation whose gate waits for consumers', () => {
  test('names the consumers the last gate check saw still on the old key', async () => {
    // Prepare: a running execution; its last CheckConsumers left one straggler in the state.
    const sfn = mockClient(SFNClient);
    sfn
      .on(ListExecutionsCommand)
      .resolves({ executions: [{ executionArn: EXECUTION, name: 'x', status: 'RUNNING', stateMachineArn: ARN, startDate: new Date() }] });
    sfn.on(DescribeExecutionCommand).resolves({ executionArn: EXECUTION, status: 'RUNNING', input, startDate: new Date() });
    const straggler = { source: '203.0.113.25', agent: 'aws-cli/2', calls: ['s3:GetObject'], lastSeen: '2026-06-01T11:59:00.000Z' };
    const gate = (stragglers: unknown[]) => JSON.stringify({ gate: { status: 'waiting', stragglers } });
    sfn.on(GetExecutionHistoryCommand).resolves({
      events: [
        {
          id: 1,
          type: 'TaskStateExited',
          timestamp: new Date(),
          stateExitedEventDetails: { name: 'CheckConsumers', output: gate([straggler, straggler]) },
        },
        {
          id: 2,
          type: 'TaskStateExited',
          timestamp: new Date(),
          stateExitedEventDetails: { name: 'CheckConsumers', output: gate([straggler]) },
        },
        { id: 3, type: 'WaitStateEntered', timestamp: new Date(), stateEnteredEventDetails: { name: 'WaitForConsumers' } },
      ],
    });

    // Act
    const [line] = await rotationStatus(sfn as unknown as SFNClient, ARN, 'full', 10);

    // Assess
    expect(line?.stillOnOldKey).toEqual([straggler]);
    expect(sfn.commandCalls(GetExecutionHistoryCommand)[0]?.args[0].input).toMatchObject({ includeExecutionData: true });
  });
});
