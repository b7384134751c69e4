import { describe, expect, jest, test } from '@jest/globals';
import { Logger } from '@aws-lambda-powertools/logger';
import { IAMClient } from '@aws-sdk/client-iam';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { MemberAccountAccessError } from '#shared/base/errors.ts';
import { loadConfig, type Config } from '#shared/config/settings.ts';
import type { Notifier } from '#shared/notify/notifier.ts';
import { handleScanEvent, type ScanEventDependencies } from '#shared/scan/scan-event.ts';

const silent = new Logger({ serviceName: 'test', logLevel: 'SILENT' });
const ORG_SCAN = 'arn:aws:states:us-east-1:123456789012:stateMachine:scan-organization';
const notifier: Notifier = { send: () => Promise.reject(new Error('nothing is notified here')) };

function deps(config: Config, overrides: Partial<ScanEventDependencies> = {}): ScanEventDependencies {
  return {
    iam: new IAMClient({}),
    sfn: new SFNClient({}),
    config,
    clock: () => new Date('2026-11-23T12:34:56Z'),
    logger: silent,
    notifier,
    ownAccountId: () => Promise.resolve('123456789012'),
    memberIam: () => Promise.reject(new Error('no member account here')),
    ...overrides,
  };
}

// scan-keys takes three kinds of event apart: one account of an organization scan, the schedule in
// organization scope, and the schedule in account scope (test/unit/scan/scheduled-scan.test.ts, through the handler).
describe('handleScanEvent', () => {
  test('a malformed account event is refused before the stack’s account id is read', async () => {
    // Prepare
    const ownAccountId = jest.fn(() => Promise.resolve('123456789012'));

    // Act & Assess
    await expect(
      handleScanEvent({ accountId: '12345', accountName: 'short' }, deps(loadConfig({}), { ownAccountId })),
    ).rejects.toMatchObject({
      name: 'InvalidInputError',
      message: expect.stringMatching(/^The account to scan is malformed: accountId must be a 12-digit AWS account id\./),
    });
    expect(ownAccountId).not.toHaveBeenCalled();
  });

  test('a member account whose role cannot be assumed is returned as failed, for the Report', async () => {
    // Prepare: assuming the member role fails.
    const memberIam = () =>
      Promise.reject(new MemberAccountAccessError('111111111111', 'Cannot act in account 111111111111: assuming the member role failed.'));

    // Act
    const outcome = await handleScanEvent({ accountId: '111111111111', accountName: 'member' }, deps(loadConfig({}), { memberIam }));

    // Assess
    expect(outcome).toEqual({
      accountId: '111111111111',
      status: 'failed',
      usersSeen: 0,
      keysDue: 0,
      rotationsStarted: 0,
      problems: 0,
      error: 'MemberAccountAccessError',
      cause: 'Cannot act in account 111111111111: assuming the member role failed.',
    });
  });

  test('the schedule in organization scope starts the organization scan, named after the event’s time', async () => {
    // Prepare
    const sfn = mockClient(SFNClient);
    sfn.on(StartExecutionCommand).resolves({
      executionArn: 'arn:aws:states:us-east-1:123456789012:execution:scan-organization:scan-2026-11-23T06-00',
      startDate: new Date(),
    });
    const config = loadConfig({ SCAN_SCOPE: 'organization', ORG_SCAN_STATE_MACHINE_ARN: ORG_SCAN });

    // Act
    const started = await handleScanEvent({ source: 'aws.events', time: '2026-11-23T06:00:00Z' }, deps(config));

    // Assess
    expect(started).toMatchObject({ scope: 'organization', executionName: 'scan-2026-11-23T06-00', alreadyStarted: false });
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(1);
    sfn.restore();
  });
});
