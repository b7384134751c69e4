import { describe, expect, test } from '@jest/globals';
import { SFNClient, StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { DAY_MS } from '#shared/base/clock.ts';
import { executionName } from '#shared/base/execution-name.ts';
import type { ComplianceReport } from '#shared/report/compliance-report.ts';
import { readRotationHistory } from '#shared/report/rotation-history.ts';
import { cli } from '../../helpers/cli.ts';
import { createPassStateMachine } from '../../helpers/iam-seed.ts';
import { createUser } from '../../helpers/rotation-fixtures.ts';

// The report's rotation history from moto's Step Functions: ListExecutions, then DescribeExecution per
// rotation. moto leaves an execution of a Pass machine RUNNING until it is stopped, which is what a
// rotation waiting at its gate looks like.

const sfn = new SFNClient({});
const day = (days: number): string => new Date(Date.now() + days * DAY_MS).toISOString().slice(0, 10);

describe('rotation history from Step Functions executions', () => {
  test('each execution becomes a record with its user, key, kind, account and how it ended; older ones are not described', async () => {
    // Prepare
    const stateMachineArn = await createPassStateMachine(sfn, 'history-rotate-key');
    const start = async (userName: string, accessKeyId: string, kind: string, accountId?: string): Promise<string> =>
      (
        await sfn.send(
          new StartExecutionCommand({
            stateMachineArn,
            name: executionName(userName, accessKeyId, kind),
            input: JSON.stringify({ userName, accessKeyId, kind, requestedBy: 'test', reason: '', ...(accountId ? { accountId } : {}) }),
          }),
        )
      ).executionArn ?? '';
    await start('app', 'AKIAAPP0000000000001', 'scheduled');
    const stopped = await start('other', 'AKIAOTHER00000000001', 'manual', '222222222222');
    await sfn.send(new StopExecutionCommand({ executionArn: stopped }));

    // Act
    const history = await readRotationHistory(sfn, stateMachineArn, { since: new Date(Date.now() - DAY_MS) });
    const none = await readRotationHistory(sfn, stateMachineArn, { since: new Date(Date.now() + DAY_MS) });

    // Assess
    expect([...history.records].sort((a, b) => (a.userName ?? '').localeCompare(b.userName ?? ''))).toEqual([
      expect.objectContaining({
        userName: 'app',
        oldAccessKeyId: 'AKIAAPP0000000000001',
        kind: 'scheduled',
        accountId: null,
        outcome: 'Running',
        stoppedAt: null,
      }),
      expect.objectContaining({
        userName: 'other',
        oldAccessKeyId: 'AKIAOTHER00000000001',
        kind: 'manual',
        accountId: '222222222222',
        outcome: 'Aborted',
      }),
    ]);
    expect(history.calls).toEqual({ listExecutions: 1, describeExecution: 2 });
    expect(none.records).toEqual([]);
    expect(none.calls).toEqual({ listExecutions: 1, describeExecution: 0 });
  });

  test('report --state-machine-arn: a due key whose rotation runs is due, one with nothing running is overdue', async () => {
    // Prepare
    const stateMachineArn = await createPassStateMachine(sfn, 'report-rotate-key');
    const rotating = await createUser('rotating');
    await createUser('stuck');
    await sfn.send(
      new StartExecutionCommand({
        stateMachineArn,
        name: executionName('rotating', rotating.accessKeyId, 'scheduled'),
        input: JSON.stringify({ userName: 'rotating', accessKeyId: rotating.accessKeyId, kind: 'scheduled' }),
      }),
    );

    // Act: never-used keys 100 days old would be unused under the default; here only their age counts.
    process.env.UNUSED_AFTER_DAYS = '365';
    const run = await cli('report', '--state-machine-arn', stateMachineArn, '--as-of', day(100), '--json').finally(() => {
      delete process.env.UNUSED_AFTER_DAYS;
    });

    // Assess
    expect(run.code).toBe(0);
    const report = JSON.parse(run.out) as ComplianceReport;
    expect(report.history.source).toBe('step-functions');
    const states = Object.fromEntries(
      report.keys.filter((key) => ['rotating', 'stuck'].includes(key.userName)).map((key) => [key.userName, key.compliance]),
    );
    expect(states).toEqual({ rotating: 'due', stuck: 'overdue' });
    expect(report.keys.find((key) => key.userName === 'rotating')?.lastRotation?.outcome).toBe('Running');
  });
});
