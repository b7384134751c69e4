import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { parse } from 'csv-parse/sync';
import { cli } from '../../helpers/cli.ts';
import { createPassStateMachine } from '../../helpers/iam-seed.ts';

// `status` against executions in a (moto) Step Functions state machine, as deployed: the account a
// rotation acts in comes from its execution input (organization mode), else it is the stack's own.
const sfn = new SFNClient({});
let stateMachineArn = '';

beforeAll(async () => {
  stateMachineArn = await createPassStateMachine(sfn, 'status-accounts');
  const start = (name: string, input: Record<string, string>) =>
    sfn.send(
      new StartExecutionCommand({
        stateMachineArn,
        name,
        input: JSON.stringify({ accessKeyId: 'AKIAIOSFODNN7EXAMPLE', kind: 'scheduled', ...input }),
      }),
    );
  await start('in-member-a', { userName: 'ci', accountId: '111111111111', accountName: 'workloads-a' });
  await start('in-member-b', { userName: 'ci', accountId: '222222222222', accountName: 'workloads-b' });
  await start('in-own-account', { userName: 'billing-export' });
  process.env.ROTATION_STATE_MACHINE_ARN = stateMachineArn;
});

afterEach(() => {
  process.exitCode = undefined;
});

// The integration files share one process: leave no stack behind for the next file.
afterAll(() => {
  delete process.env.ROTATION_STATE_MACHINE_ARN;
});

describe('status --account', () => {
  test('shows only the rotations acting in that member account, with its name', async () => {
    // Act
    const result = await cli('status', '--account', '111111111111', '--json');

    // Assess
    expect(result.code).toBe(0);
    const lines = JSON.parse(result.out) as Array<{ executionName: string; accountId: string; accountName: string | null }>;
    expect(lines.map((line) => [line.executionName, line.accountId, line.accountName])).toEqual([
      ['in-member-a', '111111111111', 'workloads-a'],
    ]);
  });

  test('--output csv: one row per execution, the fields of --json as columns', async () => {
    // Act
    const json = await cli('status', '--json');
    const csv = await cli('status', '--output', 'csv');

    // Assess
    expect(csv.code).toBe(0);
    const rows = parse(csv.out, { columns: true }) as Array<Record<string, string>>;
    const lines = JSON.parse(json.out) as Array<{ executionName: string; accountId: string; status: string }>;
    expect(rows.map((row) => [row.executionName, row.accountId, row.status])).toEqual(
      lines.map((line) => [line.executionName, line.accountId, line.status]),
    );
    expect(rows.map((row) => row.executionName).sort()).toEqual(['in-member-a', 'in-member-b', 'in-own-account']);
  });

  test("rotations without an account act in the stack's own account (the state machine's)", async () => {
    // Act
    const result = await cli('status', '--account', '123456789012', '--json');

    // Assess
    expect((JSON.parse(result.out) as Array<{ executionName: string }>).map((line) => line.executionName)).toEqual(['in-own-account']);
  });

  test('the table shows an Account column when rotations act in several accounts', async () => {
    // Act
    const result = await cli('status');

    // Assess
    expect(result.out).toContain('Account');
    expect(result.out).toContain('111111111111 (workloads-a)');
    expect(result.out).toContain('222222222222 (workloads-b)');
  });

  test('an account that is not 12 digits is a usage error naming the flag', async () => {
    // Act
    const result = await cli('status', '--account', '1111');

    // Assess
    expect(result.code).toBe(2);
    expect(result.err).toContain('--account must be a 12-digit AWS account id');
  });

  test('no rotation in that account says so', async () => {
    // Act
    const result = await cli('status', '--account', '333333333333');

    // Assess
    expect(result.code).toBe(0);
    expect(result.out).toContain('No rotations in account 333333333333');
  });
});
