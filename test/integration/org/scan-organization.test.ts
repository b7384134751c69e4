import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import {
  CreateAccessKeyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  IAMClient,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import {
  CreateAccountCommand,
  CreateOrganizationCommand,
  CreateOrganizationalUnitCommand,
  ListRootsCommand,
  MoveAccountCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { DescribeExecutionCommand, ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { STSClient } from '@aws-sdk/client-sts';
import { DAY_MS, fixedClock } from '#shared/base/clock.ts';
import { silentLogger } from '#shared/base/logger.ts';
import { loadConfig } from '#shared/config/settings.ts';
import { ensureLedgerTable } from '#shared/notify/ledger.ts';
import { motoCredentialsIn, publishedNotifications } from '#local/moto-inspect.ts';
import { runOrganizationScan, type OrgScanRun } from '#local/org-runner.ts';
import { createPassStateMachine } from '../../helpers/iam-seed.ts';

const endpoint = (): string => process.env.AWS_ENDPOINT_URL ?? '';
const MANAGEMENT = '123456789012';
const MEMBER_ROLE = 'iam-key-rotator-member';
const ADMIN_POLICY = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] });
const TRUST = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${MANAGEMENT}:root` }, Action: 'sts:AssumeRole' }],
});

/**
 * Auth is enforced (POST /moto-api/reset-auth) for the whole scan: the administrator's policy is
 * checked for the management account's calls, and account A's member role policy for every call
 * made in A. One thing moto 5.2.1 cannot do: refuse a role that does not exist. Its AssumeRole
 * hands out credentials for any role ARN, and a request signed with them then fails inside moto's
 * auth check (access_control.collect_policies → get_role raises NoSuchEntity, unhandled) with an
 * HTTP 500 HTML page instead of an AccessDenied. So only that refusal is simulated, at the STS
 * level, where AWS makes it: AssumeRole of B's member role is refused with AccessDenied.
 */
function refuseAssumeRoleInto(sts: STSClient, accountId: string): void {
  sts.middlewareStack.add(
    (next) => async (args) => {
      const input = args.input as { RoleArn?: string };
      if (input.RoleArn?.startsWith(`arn:aws:iam::${accountId}:role/`)) {
        throw Object.assign(
          new Error(
            `User: arn:aws:iam::${MANAGEMENT}:user/rotator is not authorized to perform: sts:AssumeRole on resource: ${input.RoleArn}`,
          ),
          { name: 'AccessDenied' },
        );
      }
      return next(args);
    },
    { step: 'initialize', name: 'refuseMissingMemberRole' },
  );
}
async function enforceAuth(on: boolean): Promise<void> {
  const response = await fetch(`${endpoint()}/moto-api/reset-auth`, { method: 'POST', body: on ? '0' : 'inf' });
  if (!response.ok) throw new Error(`moto reset-auth failed: HTTP ${response.status}`);
}

/** Before auth is enforced: an IAM client acting in `accountId` (moto does not check that the role exists yet). */
async function iamIn(sts: STSClient, accountId: string): Promise<IAMClient> {
  return new IAMClient({ credentials: await motoCredentialsIn(sts, accountId, 'setup') });
}

async function createAccount(organizations: OrganizationsClient, name: string): Promise<string> {
  const response = await organizations.send(new CreateAccountCommand({ AccountName: name, Email: `${name}@example.com` }));
  const id = response.CreateAccountStatus?.AccountId;
  if (!id) throw new Error(`moto created no account ${name}`);
  return id;
}

describe('organization scan against moto (auth enforced): three member accounts', () => {
  let run: OrgScanRun;
  let sfn: SFNClient;
  let stateMachineArn = '';
  let topicArn = '';
  const ids = { a: '', b: '', c: '' };
  let excludedOu = '';

  beforeAll(async () => {
    // Prepare: an administrator in the management account, whose keys every later request is signed with.
    const setupIam = new IAMClient({});
    await setupIam.send(new CreateUserCommand({ UserName: 'rotator' }));
    await setupIam.send(new PutUserPolicyCommand({ UserName: 'rotator', PolicyName: 'admin', PolicyDocument: ADMIN_POLICY }));
    const key = (await setupIam.send(new CreateAccessKeyCommand({ UserName: 'rotator' }))).AccessKey;
    if (!key?.AccessKeyId || !key.SecretAccessKey) throw new Error('moto returned no access key');
    const credentials = { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey };
    const organizations = new OrganizationsClient({ credentials });
    const sts = new STSClient({ credentials });
    sfn = new SFNClient({ credentials });
    const sns = new SNSClient({ credentials });
    const dynamodb = new DynamoDBClient({ credentials });

    // The organization: A (member role, a due key), B (a due key, no member role), C (member role, in an excluded OU).
    await organizations.send(new CreateOrganizationCommand({ FeatureSet: 'ALL' }));
    const rootId = (await organizations.send(new ListRootsCommand({}))).Roots?.[0]?.Id ?? '';
    excludedOu =
      (await organizations.send(new CreateOrganizationalUnitCommand({ ParentId: rootId, Name: 'sandbox' }))).OrganizationalUnit?.Id ?? '';
    ids.a = await createAccount(organizations, 'workload-a');
    ids.b = await createAccount(organizations, 'workload-b');
    ids.c = await createAccount(organizations, 'sandbox-c');
    await organizations.send(new MoveAccountCommand({ AccountId: ids.c, SourceParentId: rootId, DestinationParentId: excludedOu }));
    for (const [account, withRole, user] of [
      [ids.a, true, 'alice'],
      [ids.b, false, 'bob'],
      [ids.c, true, 'carol'],
    ] as const) {
      const iam = await iamIn(sts, account);
      if (withRole) {
        await iam.send(new CreateRoleCommand({ RoleName: MEMBER_ROLE, AssumeRolePolicyDocument: TRUST }));
        await iam.send(new PutRolePolicyCommand({ RoleName: MEMBER_ROLE, PolicyName: 'rotator', PolicyDocument: ADMIN_POLICY }));
      }
      await iam.send(new CreateUserCommand({ UserName: user }));
      await iam.send(new CreateAccessKeyCommand({ UserName: user }));
    }
    stateMachineArn = await createPassStateMachine(sfn);
    topicArn = (await sns.send(new CreateTopicCommand({ Name: 'org-scan-notifications' }))).TopicArn ?? '';
    await ensureLedgerTable(dynamodb, 'org-scan-ledger');
    await enforceAuth(true);
    refuseAssumeRoleInto(sts, ids.b);

    // Act: the real scan-organization ASL, a hundred days on (moto cannot backdate keys), every key due.
    const config = loadConfig({
      SCAN_SCOPE: 'organization',
      ROTATION_STATE_MACHINE_ARN: stateMachineArn,
      NOTIFICATION_TOPIC_ARN: topicArn,
      NOTIFICATION_LEDGER_TABLE: 'org-scan-ledger',
      OPERATIONS_OWNER: 'ops@example.com',
      ORG_EXCLUDE_OUS: excludedOu,
      UNUSED_AFTER_DAYS: '365',
    });
    run = await runOrganizationScan({
      config,
      clock: fixedClock(new Date(Date.now() + 100 * DAY_MS)),
      clients: { iam: new IAMClient({ credentials }), sfn, sns, dynamodb, sts, organizations },
      logger: silentLogger(),
      executionName: 'scan-org-test',
    });
  }, 60_000);

  afterAll(async () => {
    await enforceAuth(false);
  });

  test('the run succeeds although one account fails', () => {
    // Assess
    expect(run.error).toBeUndefined();
    expect(run.status).toBe('Succeeded');
    expect(run.accounts.map((account) => account.accountId).sort()).toEqual([MANAGEMENT, ids.a, ids.b].sort());
  });

  test('C is skipped, excluded by its OU', () => {
    // Assess
    expect(run.skipped).toEqual([{ accountId: ids.c, accountName: 'sandbox-c', reason: `excluded by OU ${excludedOu}` }]);
  });

  test('A is scanned through its member role, and its rotation execution carries account A', async () => {
    // Assess
    const a = run.results.find((result) => result.accountId === ids.a);
    expect(a).toMatchObject({ status: 'scanned', rotationsStarted: 1, error: null });
    const executions = (await sfn.send(new ListExecutionsCommand({ stateMachineArn }))).executions ?? [];
    const inputs = await Promise.all(
      executions.map(
        async (execution) =>
          JSON.parse((await sfn.send(new DescribeExecutionCommand({ executionArn: execution.executionArn }))).input ?? '{}') as Record<
            string,
            unknown
          >,
      ),
    );
    expect(inputs).toContainEqual(
      expect.objectContaining({ userName: 'alice', accountId: ids.a, accountName: 'workload-a', kind: 'scheduled' }),
    );
    // The management account is the rotator's own: scanned with its own credentials, its rotations carry no account.
    expect(inputs).toContainEqual(expect.objectContaining({ userName: 'rotator' }));
    expect(inputs.find((input) => input.userName === 'rotator')).not.toHaveProperty('accountId');
    // Nothing of B (no member role) or C (excluded) was started.
    expect(inputs.map((input) => input.userName)).not.toEqual(expect.arrayContaining(['bob']));
    expect(inputs.map((input) => input.userName)).not.toEqual(expect.arrayContaining(['carol']));
  });

  test('B is reported failed: the member role is refused, the message names the account, and the fix', () => {
    // Assess
    expect(run.results.find((result) => result.accountId === ids.b)).toMatchObject({ status: 'failed', error: 'MemberAccountAccessError' });
    const failed = run.report?.failed ?? [];
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ accountId: ids.b, accountName: 'workload-b', error: 'MemberAccountAccessError' });
    expect(failed[0]?.cause).toContain(`Cannot act in account ${ids.b}`);
    expect(failed[0]?.cause).toContain('AccessDenied');
    expect(failed[0]?.fix).toContain('stack/member-role.yml');
  });

  test('operations get one notification listing B', async () => {
    // Assess
    expect(run.report?.notification).toBe('sent');
    const notices = (await publishedNotifications(endpoint())).filter((notice) => notice.attributes.event === 'accounts-unreachable');
    expect(notices).toHaveLength(1);
    const message = JSON.parse(notices[0]?.message ?? '{}') as { email?: string };
    expect(message.email).toContain(ids.b);
    expect(message.email).toContain('workload-b');
    expect(message.email).toContain('stack/member-role.yml');
    expect(message.email).not.toContain(ids.a);
  });
});
