import { beforeAll, describe, expect, test } from '@jest/globals';
import { IAMClient } from '@aws-sdk/client-iam';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { DescribeExecutionCommand, ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { STSClient } from '@aws-sdk/client-sts';
import { DAY_MS, fixedClock } from '#shared/base/clock.ts';
import { silentLogger } from '#shared/base/logger.ts';
import { loadConfig } from '#shared/config/settings.ts';
import { ensureLedgerTable } from '#shared/notify/ledger.ts';
import { ORG_SCAN_PREFIX } from '#shared/org/scan-store.ts';
import { publishedNotifications } from '#local/moto-inspect.ts';
import { runOrganizationScan, type OrgScanRun } from '#local/org-runner.ts';
import { createPassStateMachine } from '../helpers/iam-seed.ts';
import { refuseAssumeRoleInto, seedOrganization, type SeededOrganization } from '../helpers/org-seed.ts';

const endpoint = (): string => process.env.AWS_ENDPOINT_URL ?? '';
const MANAGEMENT = '123456789012';
const LEDGER = 'org-scan-many-ledger';
const MEMBERS = 54;
const WITHOUT_ROLE = 14;

/**
 * The whole organization scan against moto at the size where the old definition began to strain: 54
 * member accounts, 14 of them without the member role (refused at AssumeRole), scanned through the
 * real ASL with its Distributed Map over pages, the pages in a real DynamoDB table, and the Report
 * reading them back. One account's failure stays that account's.
 */
describe('organization scan against moto: 54 member accounts, 14 without the member role', () => {
  let run: OrgScanRun;
  let org: SeededOrganization;
  let sfn: SFNClient;
  let dynamodb: DynamoDBClient;
  let stateMachineArn = '';

  beforeAll(async () => {
    // Prepare: the organization, a ledger table, a topic and a stand-in rotation state machine.
    const organizations = new OrganizationsClient({});
    const sts = new STSClient({});
    sfn = new SFNClient({});
    dynamodb = new DynamoDBClient({});
    const sns = new SNSClient({});
    org = await seedOrganization({ organizations, sts, managementAccountId: MANAGEMENT }, MEMBERS, WITHOUT_ROLE);
    refuseAssumeRoleInto(sts, org.withoutRole, `arn:aws:iam::${MANAGEMENT}:user/rotator`);
    stateMachineArn = await createPassStateMachine(sfn);
    const topicArn = (await sns.send(new CreateTopicCommand({ Name: 'org-scan-many' }))).TopicArn ?? '';
    await ensureLedgerTable(dynamodb, LEDGER);

    // Act: the real scan-organization ASL, a hundred days on (moto cannot backdate keys), every key due.
    run = await runOrganizationScan({
      config: loadConfig({
        SCAN_SCOPE: 'organization',
        ROTATION_STATE_MACHINE_ARN: stateMachineArn,
        NOTIFICATION_TOPIC_ARN: topicArn,
        NOTIFICATION_LEDGER_TABLE: LEDGER,
        OPERATIONS_OWNER: 'ops@example.com',
        UNUSED_AFTER_DAYS: '365',
      }),
      clock: fixedClock(new Date(Date.now() + 100 * DAY_MS)),
      clients: { iam: new IAMClient({}), sfn, sns, dynamodb, sts, organizations },
      ownAccountId: MANAGEMENT,
      logger: silentLogger(),
      executionName: 'scan-org-many',
    });
  }, 240_000);

  test('the run succeeds, every selected account has exactly one result, and no state comes near 256 KiB', () => {
    // Assess
    expect(run.error).toBeUndefined();
    expect(run.status).toBe('Succeeded');
    expect(run.accounts).toHaveLength(MEMBERS + 1);
    expect(run.results.map((result) => result.accountId).sort()).toEqual(run.accounts.map((account) => account.accountId).sort());
    expect(run.largestState.bytes).toBeLessThan(32 * 1024);
  });

  test('the accounts with the member role are scanned and their rotations name their account', async () => {
    // Assess
    const scanned = run.results.filter((result) => result.status === 'scanned').map((result) => result.accountId);
    expect(scanned.sort()).toEqual([MANAGEMENT, ...org.withRole].sort());
    const executions = (await sfn.send(new ListExecutionsCommand({ stateMachineArn }))).executions ?? [];
    const accounts = await Promise.all(
      executions.map(
        async (execution) =>
          (
            JSON.parse((await sfn.send(new DescribeExecutionCommand({ executionArn: execution.executionArn }))).input ?? '{}') as {
              accountId?: string;
            }
          ).accountId,
      ),
    );
    expect(new Set(accounts.filter((id) => id !== undefined))).toEqual(new Set(org.withRole));
    expect(run.report).toMatchObject({ scanned: MEMBERS - WITHOUT_ROLE + 1, rotationsStarted: MEMBERS - WITHOUT_ROLE });
  });

  test('each account without the role fails alone, named with MemberAccountAccessError and the fix', () => {
    // Assess
    expect(run.report?.failedCount).toBe(WITHOUT_ROLE);
    expect(run.report?.failed.map((entry) => entry.accountId).sort()).toEqual([...org.withoutRole].sort());
    for (const entry of run.report?.failed ?? []) {
      expect(entry).toMatchObject({ error: 'MemberAccountAccessError', fix: expect.stringContaining('stack/member-role.yml') });
      expect(entry.cause).toContain(`Cannot act in account ${entry.accountId}`);
    }
  });

  test('operations get one accounts-unreachable notice naming every failed account', async () => {
    // Assess
    const notices = (await publishedNotifications(endpoint())).filter((notice) => notice.attributes.event === 'accounts-unreachable');
    expect(notices).toHaveLength(1);
    const email = (JSON.parse(notices[0]?.message ?? '{}') as { email?: string }).email ?? '';
    for (const accountId of org.withoutRole) expect(email).toContain(accountId);
    for (const accountId of org.withRole) expect(email).not.toContain(accountId);
  });

  test('the pages are in the ledger table under the organization scan’s prefix, with an expiry', async () => {
    // Act
    const items = (await dynamodb.send(new ScanCommand({ TableName: LEDGER }))).Items ?? [];

    // Assess
    const pages = items.filter((item) => item.id?.S?.startsWith(`${ORG_SCAN_PREFIX}scan-org-many#`));
    const accountPages = pages.filter((item) => item.id?.S?.includes('#accounts#'));
    const resultPages = pages.filter((item) => item.id?.S?.includes('#results#'));
    // 55 accounts at ORG_MAX_CONCURRENT_ACCOUNTS 10: two to a page.
    expect(accountPages).toHaveLength(28);
    expect(resultPages).toHaveLength(28);
    for (const item of pages) expect(Number(item.expiresAt?.N)).toBeGreaterThan(Date.now() / 1000);
  });
});
