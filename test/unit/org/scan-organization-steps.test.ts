import { describe, expect, test } from '@jest/globals';
import {
  ListAccountsForParentCommand,
  ListOrganizationalUnitsForParentCommand,
  ListRootsCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { silentLogger } from '#shared/base/logger.ts';
import { loadConfig } from '#shared/config/settings.ts';
import type { Notifier } from '#shared/notify/notifier.ts';
import { listAccounts, SKIPPED_IN_STATE } from '#shared/org/list-accounts.ts';
import { reportOrgScan } from '#shared/org/scan-report.ts';
import { memoryOrgScanStore } from '#shared/org/scan-store.ts';
import { startOrganizationScan } from '#shared/scan/start-organization-scan.ts';

const silent = silentLogger();
const account = (index: number) => ({ Id: String(100000000000 + index), Name: `account-${index}`, Status: 'ACTIVE' as const });

// The organization scan's state has a 256 KB limit: what list-accounts puts there must stay bounded
// however many accounts the filters leave out.
describe('the organization scan state stays small', () => {
  test('list-accounts keeps the first skipped accounts with their reasons and counts them all', async () => {
    // Prepare
    const organizations = mockClient(OrganizationsClient);
    organizations.on(ListRootsCommand).resolves({ Roots: [{ Id: 'r-ab12' }] });
    organizations.on(ListOrganizationalUnitsForParentCommand).resolves({ OrganizationalUnits: [] });
    organizations.on(ListAccountsForParentCommand).resolves({ Accounts: Array.from({ length: 450 }, (_, index) => account(index)) });
    const config = loadConfig({ ORG_INCLUDE_ACCOUNTS: '100000000007' });

    const store = memoryOrgScanStore();

    // Act
    const list = await listAccounts({
      organizations: new OrganizationsClient({}),
      config,
      ownAccountId: '999999999999',
      logger: silent,
      store,
      executionName: 'scan-2026-11-23',
      clock: () => new Date('2026-11-23T06:00:00Z'),
    });

    // Assess
    expect(list).toMatchObject({ pages: [0], pageCount: 1, accountCount: 1 });
    expect(await store.getAccountPage('scan-2026-11-23', 0)).toEqual([{ accountId: '100000000007', accountName: 'account-7' }]);
    expect(list.skippedCount).toBe(449);
    expect(list.skipped).toHaveLength(SKIPPED_IN_STATE);
    expect(list.skipped[0]).toEqual({ accountId: '100000000000', accountName: 'account-0', reason: 'not in the included accounts' });
    expect(JSON.stringify(list).length).toBeLessThan(20_000);
    organizations.restore();
  });

  test('the report counts every skipped account, not only those the state lists', async () => {
    // Prepare
    const notifier: Notifier = { send: () => Promise.reject(new Error('no account failed: nothing to send')) };
    const store = memoryOrgScanStore();
    await store.putAccountPages('scan-2026-11-23', [[{ accountId: '100000000007', accountName: 'account-7' }]], 0);
    await store.putResultPage(
      'scan-2026-11-23',
      0,
      [{ accountId: '100000000007', status: 'scanned', keysDue: 2, rotationsStarted: 2, problems: 0, error: null, cause: null }],
      0,
    );

    // Act
    const report = await reportOrgScan(
      {
        executionName: 'scan-2026-11-23',
        pageCount: 1,
        skipped: [{ accountId: '100000000000', accountName: 'account-0', reason: 'not in the included accounts' }],
        skippedCount: 449,
      },
      { notifier, config: loadConfig({}), logger: silent, store },
    );

    // Assess
    expect(report).toMatchObject({ scanned: 1, rotationsStarted: 2, skipped: 449, failedCount: 0, failed: [], notification: 'none' });
  });
});

describe('the schedule starts the organization scan once per scheduled event', () => {
  const ORG_SCAN = 'arn:aws:states:us-east-1:123456789012:stateMachine:iam-key-rotator-dev-scan-organization';
  const config = loadConfig({ SCAN_SCOPE: 'organization', ORG_SCAN_STATE_MACHINE_ARN: ORG_SCAN });
  const clock = () => new Date('2026-11-23T12:34:56Z');

  test('named after the event’s scheduled time, so every delivery of one event names the same execution', async () => {
    // Prepare
    const sfn = mockClient(SFNClient);
    sfn.on(StartExecutionCommand).callsFake((input: { name: string }) => ({
      executionArn: `${ORG_SCAN.replace(':stateMachine:', ':execution:')}:${input.name}`,
      startDate: new Date(),
    }));

    // Act
    const started = await startOrganizationScan(new SFNClient({}), config, clock, silent, '2026-11-23T06:00:00Z');

    // Assess
    expect(started).toMatchObject({ executionName: 'scan-2026-11-23T06-00', alreadyStarted: false });
    expect(sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input).toEqual({
      stateMachineArn: ORG_SCAN,
      name: 'scan-2026-11-23T06-00',
      input: '{}',
    });
    sfn.restore();
  });

  test('a delivery after that scan ended is told so and starts nothing (no error, no alarm)', async () => {
    // Prepare
    const sfn = mockClient(SFNClient);
    sfn.on(StartExecutionCommand).rejects(Object.assign(new Error('Execution Already Exists'), { name: 'ExecutionAlreadyExists' }));

    // Act
    const started = await startOrganizationScan(new SFNClient({}), config, clock, silent, '2026-11-23T06:00:00Z');

    // Assess
    expect(started).toMatchObject({ executionName: 'scan-2026-11-23T06-00', alreadyStarted: true });
    sfn.restore();
  });

  test('without a scheduled time (invoked by hand) the slot is the current minute', async () => {
    // Prepare
    const sfn = mockClient(SFNClient);
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn', startDate: new Date() });

    // Act & Assess
    expect(await startOrganizationScan(new SFNClient({}), config, clock, silent)).toMatchObject({ executionName: 'scan-2026-11-23T12-34' });
    sfn.restore();
  });
});
