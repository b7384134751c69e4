import { describe, expect, test } from '@jest/globals';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IAMClient } from '@aws-sdk/client-iam';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { GetFindingsCommand, SecurityHubClient, type AwsSecurityFinding } from '@aws-sdk/client-securityhub';
import { SFNClient } from '@aws-sdk/client-sfn';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { STSClient } from '@aws-sdk/client-sts';
import { DAY_MS, fixedClock } from '#shared/base/clock.ts';
import { silentLogger } from '#shared/base/logger.ts';
import { loadConfig } from '#shared/config/settings.ts';
import { ensureLedgerTable } from '#shared/notify/ledger.ts';
import { motoCredentialsIn } from '#local/moto-inspect.ts';
import { runOrganizationScan } from '#local/org-runner.ts';
import { createPassStateMachine } from '../helpers/iam-seed.ts';
import { MEMBER_ROLE, refuseAssumeRoleInto, seedOrganization } from '../helpers/org-seed.ts';

// SECURITY_HUB_FINDINGS in an organization: BatchImportFindings accepts a finding with the default
// product only from the account it names, so a member account's findings are imported through its
// member session into that account's Security Hub. Read back with each account's own credentials.

const MANAGEMENT = '123456789012';

async function findingsIn(sts: STSClient, accountId: string): Promise<AwsSecurityFinding[]> {
  const reader = new SecurityHubClient({ credentials: await motoCredentialsIn(sts, accountId, 'auditor') });
  return (await reader.send(new GetFindingsCommand({ MaxResults: 100 }))).Findings ?? [];
}

describe('Security Hub findings of member accounts', () => {
  test('the organization scan writes each member key’s finding in that member’s Security Hub; an account it cannot reach fails alone', async () => {
    // Prepare: two members with the member role and one without; every key past its window a hundred days on.
    const sts = new STSClient({});
    const org = await seedOrganization({ organizations: new OrganizationsClient({}), sts, managementAccountId: MANAGEMENT }, 3, 1);
    refuseAssumeRoleInto(sts, org.withoutRole, `arn:aws:iam::${MANAGEMENT}:user/rotator`);
    const sfn = new SFNClient({});
    const sns = new SNSClient({});
    const dynamodb = new DynamoDBClient({});
    const topicArn = (await sns.send(new CreateTopicCommand({ Name: 'member-findings' }))).TopicArn ?? '';
    await ensureLedgerTable(dynamodb, 'member-findings-ledger');
    const config = loadConfig({
      SCAN_SCOPE: 'organization',
      MEMBER_ROLE_NAME: MEMBER_ROLE,
      ROTATION_STATE_MACHINE_ARN: await createPassStateMachine(sfn),
      NOTIFICATION_TOPIC_ARN: topicArn,
      NOTIFICATION_LEDGER_TABLE: 'member-findings-ledger',
      OPERATIONS_OWNER: 'ops@example.com',
      UNUSED_AFTER_DAYS: '365',
      SECURITY_HUB_FINDINGS: 'true',
    });

    // Act
    const run = await runOrganizationScan({
      config,
      clock: fixedClock(new Date(Date.now() + 100 * DAY_MS)),
      clients: { iam: new IAMClient({}), sfn, sns, dynamodb, sts, organizations: new OrganizationsClient({}) },
      logger: silentLogger(),
      executionName: 'scan-member-findings',
    });

    // Assess: each reachable member holds exactly its own key's finding, naming that account.
    expect(run.status).toBe('Succeeded');
    for (const [index, accountId] of org.withRole.entries()) {
      const findings = await findingsIn(sts, accountId);
      expect(findings).toHaveLength(1);
      expect(findings[0]).toMatchObject({
        AwsAccountId: accountId,
        ProductArn: `arn:aws:securityhub:us-east-1:${accountId}:product/${accountId}/default`,
        RecordState: 'ACTIVE',
        Compliance: { Status: 'FAILED' },
      });
      expect(findings[0]?.Id).toMatch(new RegExp(`^iam-key-rotator/${accountId}/app-${index}/AKIA`));
    }
    // The rotator account holds only findings about its own keys, none of a member's.
    const own = await findingsIn(sts, MANAGEMENT);
    expect(own.filter((finding) => finding.AwsAccountId !== MANAGEMENT)).toEqual([]);
    // The account without the role: reported failed, nothing written for it anywhere.
    const missing = org.withoutRole[0] ?? '';
    expect(run.results.find((result) => result.accountId === missing)).toMatchObject({ status: 'failed' });
    expect(own.map((finding) => finding.Id).join(' ')).not.toContain(missing);
  }, 60_000);
});
