import { beforeAll, beforeEach, describe, expect, jest, test } from '@jest/globals';
import {
  GenerateCredentialReportCommand,
  GetAccountAuthorizationDetailsCommand,
  GetCredentialReportCommand,
  IAMClient,
  ListAccessKeysCommand,
} from '@aws-sdk/client-iam';
import {
  DescribeExecutionCommand,
  ExecutionDoesNotExist,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { DAY_MS } from '#shared/base/clock.ts';
import { logger } from '#shared/base/logger.ts';
import { metrics } from '#shared/base/metrics.ts';
import { credentialReportCsv } from '../../helpers/credential-report-csv.ts';

const STATE_MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:rotate-key';
const iam = mockClient(IAMClient);
const sfn = mockClient(SFNClient);

// The handler reads its settings on first use: set them before it is imported.
process.env.ROTATION_STATE_MACHINE_ARN = STATE_MACHINE;
process.env.CONFIG_SSM_PARAMETER = '/iam-key-rotator/config';
let handler: typeof import('#functions/scan-keys.ts').handler;
beforeAll(async () => {
  ({ handler } = await import('#functions/scan-keys.ts'));
});

const context = {
  callbackWaitsForEmptyEventLoop: true,
  functionName: 'scan-keys',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:scan-keys',
  memoryLimitInMB: '256',
  awsRequestId: 'request-1',
  logGroupName: '/aws/lambda/scan-keys',
  logStreamName: 'stream',
  getRemainingTimeInMillis: () => 60_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
};

// The SSM parameter moves the rotation age from 90 to 95 days: a 92-day-old key shows whether it was applied.
// It is read with one signed GetParameter request (shared/aws/clients/ssm.ts), answered here in place of SSM.
const parameterReads: string[] = [];
const answerSsm = (): void => {
  jest.spyOn(globalThis, 'fetch').mockImplementation(async (_url, init) => {
    const headers = new Headers(init?.headers);
    parameterReads.push(`${headers.get('x-amz-target') ?? ''} ${String(init?.body)}`);
    return new Response(JSON.stringify({ Parameter: { Value: '{"ROTATION_MAX_AGE_DAYS":"95"}' } }), { status: 200 });
  });
};

beforeEach(() => {
  iam.reset();
  sfn.reset();
  jest.restoreAllMocks();
  answerSsm();
  const created = new Date(Date.now() - 100 * DAY_MS);
  const almost = new Date(Date.now() - 92 * DAY_MS);
  const recent = new Date(Date.now() - DAY_MS);
  const csv = credentialReportCsv([
    { userName: 'due-user', keys: [{ active: true, createdAt: created, lastUsedAt: recent }] },
    { userName: 'almost-user', keys: [{ active: true, createdAt: almost, lastUsedAt: recent }] },
    { userName: 'fresh-user', keys: [{ active: true, createdAt: recent, lastUsedAt: recent }] },
  ]);
  iam.on(GenerateCredentialReportCommand).resolves({ State: 'COMPLETE' });
  iam.on(GetCredentialReportCommand).resolves({ Content: new TextEncoder().encode(csv) });
  iam.on(GetAccountAuthorizationDetailsCommand).resolves({
    UserDetailList: [
      { UserName: 'due-user', Path: '/', GroupList: [], Tags: [] },
      { UserName: 'almost-user', Path: '/', GroupList: [], Tags: [] },
      { UserName: 'fresh-user', Path: '/', GroupList: [], Tags: [{ Key: 'rotation:warn-days', Value: 'lots' }] },
    ],
  });
  iam
    .on(ListAccessKeysCommand, { UserName: 'due-user' })
    .resolves({ AccessKeyMetadata: [{ AccessKeyId: 'AKIADUE', Status: 'Active', CreateDate: created }] });
  iam
    .on(ListAccessKeysCommand, { UserName: 'almost-user' })
    .resolves({ AccessKeyMetadata: [{ AccessKeyId: 'AKIAALMOST', Status: 'Active', CreateDate: almost }] });
  sfn.on(ListExecutionsCommand).resolves({ executions: [] });
  // No scheduled execution of any key yet: each due key's name is free.
  sfn.on(DescribeExecutionCommand).rejects(new ExecutionDoesNotExist({ message: 'Execution does not exist', $metadata: {} }));
  sfn.on(StartExecutionCommand).resolves({ executionArn: `${STATE_MACHINE}:x`, startDate: new Date() });
});

describe('the scan-keys handler', () => {
  test('scans with the settings from SSM, starts the due rotation and returns a summary per class', async () => {
    // Act
    const summary = await handler({ source: 'aws.events', 'detail-type': 'Scheduled Event' }, context);

    // Assess
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, {
      stateMachineArn: STATE_MACHINE,
      input: expect.stringContaining('"accessKeyId":"AKIADUE"'),
    });
    expect(summary.counts).toEqual({ ok: 1, warn: 1, due: 1, unused: 0, exempt: 0, inactive: 0 });
    expect(summary.rotationsStarted.map((rotation: { accessKeyId: string }) => rotation.accessKeyId)).toEqual(['AKIADUE']);
    expect(summary.tagProblems.map((problem: { userName: string }) => problem.userName)).toEqual(['fresh-user']);
  });

  test('logs a structured summary, never the event or SDK responses', async () => {
    // Prepare
    const info = jest.spyOn(logger, 'info');
    const warn = jest.spyOn(logger, 'warn');

    // Act
    await handler({ secret: 'do-not-log-me' }, context);

    // Assess
    expect(info).toHaveBeenCalledWith(
      'scan finished',
      expect.objectContaining({
        counts: expect.objectContaining({ due: 1 }),
        rotationsStarted: [expect.stringContaining('due-user-AKIADUE-scheduled-')],
      }),
    );
    expect(warn).toHaveBeenCalledWith('invalid tag', expect.objectContaining({ userName: 'fresh-user', tag: 'rotation:warn-days' }));
    const logged = JSON.stringify([...info.mock.calls, ...warn.mock.calls]);
    expect(logged).not.toContain('do-not-log-me');
    expect(logged).not.toContain('arn:aws:iam::123456789012:user');
  });

  test('emits keys per class and rotations started as metrics', async () => {
    // Prepare
    const single = jest.spyOn(metrics, 'singleMetric');
    const add = jest.spyOn(metrics, 'addMetric');

    // Act
    await handler({}, context);

    // Assess
    expect(single).toHaveBeenCalledTimes(6);
    expect(add).toHaveBeenCalledWith('RotationsStarted', 'Count', 1);
  });

  test('the SSM parameter was read once for all the invocations of this file (it runs last)', async () => {
    // Act: one more invocation, the last in this file.
    await handler({}, context);

    // Assess
    expect(parameterReads).toEqual(['AmazonSSM.GetParameter {"Name":"/iam-key-rotator/config","WithDecryption":true}']);
  });
});
