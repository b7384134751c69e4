import { afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListUserPoliciesCommand,
  ListUsersCommand,
  TagUserCommand,
} from '@aws-sdk/client-iam';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { GetFindingsCommand, SecurityHubClient } from '@aws-sdk/client-securityhub';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { loadConfig } from '#shared/config/settings.ts';
import { SimulatedConsumer } from '#local/consumer.ts';
import { motoCredentialsIn } from '#local/moto-inspect.ts';
import { runRotation, type RotationReport } from '#local/runner.ts';
import { iam, notificationsFor, quietLogger, secretsManager, type TestKey } from '../helpers/rotation-fixtures.ts';
import { versionIdFor } from '#shared/rotation/secret.ts';

// Organization-wide rotation against moto: the execution input names member account 111111111111,
// and every step acts there through the member role (moto's AssumeRole of arn:aws:iam::<id>:role/<any>
// returns credentials acting in account <id>). The tooling account, moto's default 123456789012,
// keeps only the notification topic and ledger.

const MEMBER = '111111111111';
const TOOLING = '123456789012';
const FAST = { healthCheckIntervalMs: 100, healthCheckDeadlineMs: 3_000, observationMs: 100, oldKeyQuietMs: 100 };

let member: { iam: IAMClient; secretsManager: SecretsManagerClient; securityHub: SecurityHubClient };

beforeAll(async () => {
  const sts = new STSClient({});
  const credentials = await motoCredentialsIn(sts, MEMBER, 'member-account-test');
  member = {
    iam: new IAMClient({ credentials }),
    secretsManager: new SecretsManagerClient({ credentials }),
    securityHub: new SecurityHubClient({ credentials }),
  };
  const identity = await new STSClient({ credentials }).send(new GetCallerIdentityCommand({}));
  expect(identity.Account).toBe(MEMBER);
});

const consumers: SimulatedConsumer[] = [];
afterEach(async () => {
  await Promise.all(consumers.splice(0).map((consumer) => consumer.stop()));
});

async function memberUser(userName: string): Promise<TestKey> {
  await member.iam.send(new CreateUserCommand({ UserName: userName }));
  await member.iam.send(new TagUserCommand({ UserName: userName, Tags: [{ Key: 'rotation:owner', Value: 'team-member@example.com' }] }));
  const created = await member.iam.send(new CreateAccessKeyCommand({ UserName: userName }));
  const key = { accessKeyId: created.AccessKey?.AccessKeyId ?? '', secretAccessKey: created.AccessKey?.SecretAccessKey ?? '' };
  await member.secretsManager.send(
    new CreateSecretCommand({
      Name: `iam-key-rotator/${userName}`,
      // As adopt-secret leaves a secret written by hand: under the rotator's version id.
      ClientRequestToken: versionIdFor(key.accessKeyId),
      SecretString: JSON.stringify({
        AccessKeyId: key.accessKeyId,
        SecretAccessKey: key.secretAccessKey,
        UserName: userName,
        CreatedAt: new Date().toISOString(),
      }),
    }),
  );
  return key;
}

/** A consumer in the member account that reads the user's secret and follows its rotations. */
function startFollowingConsumer(userName: string): void {
  const consumer = new SimulatedConsumer({
    userName,
    secretId: `iam-key-rotator/${userName}`,
    secretsManager: member.secretsManager,
    followsRotation: true,
    intervalMs: 25,
  });
  consumers.push(consumer);
  consumer.start();
}

async function memberKeys(userName: string): Promise<Record<string, string>> {
  const response = await member.iam.send(new ListAccessKeysCommand({ UserName: userName }));
  return Object.fromEntries((response.AccessKeyMetadata ?? []).map((key) => [key.AccessKeyId ?? '', key.Status ?? '']));
}

async function memberSecretKeyId(userName: string): Promise<string> {
  // The stage explicitly, as the fixtures' storedKey does: moto's stage-less read can lag a label move.
  const value = await member.secretsManager.send(
    new GetSecretValueCommand({ SecretId: `iam-key-rotator/${userName}`, VersionStage: 'AWSCURRENT' }),
  );
  return (JSON.parse(value.SecretString ?? '{}') as { AccessKeyId?: string }).AccessKeyId ?? '';
}

/** The tooling account holds no user, key or secret of the rotation. */
async function toolingAccountUntouched(): Promise<void> {
  expect((await iam.send(new ListUsersCommand({}))).Users ?? []).toEqual([]);
  expect((await secretsManager.send(new ListSecretsCommand({}))).SecretList ?? []).toEqual([]);
}

const names = (report: RotationReport): string[] => report.states.map((state) => state.name);

describe('rotation in a member account, run locally against moto', () => {
  test('the key is rotated in the member account, its secret lives there, the tooling account is untouched, notices name the account', async () => {
    // Prepare: a user with a key and its secret in the member account, and a consumer that follows the rotation.
    const old = await memberUser('member-app');
    startFollowingConsumer('member-app');

    // Act
    const report = await runRotation(
      { userName: 'member-app', accountId: MEMBER, accountName: 'payments-prod', reason: 'test' },
      { logger: quietLogger, durations: FAST },
    );

    // Assess
    expect(report).toMatchObject({ status: 'Succeeded', userName: 'member-app', oldAccessKeyId: old.accessKeyId });
    const newKeyId = report.newAccessKeyId ?? '';
    expect(await memberKeys('member-app')).toEqual({ [newKeyId]: 'Active' });
    expect(await memberSecretKeyId('member-app')).toBe(newKeyId);
    const described = await member.secretsManager.send(new DescribeSecretCommand({ SecretId: 'iam-key-rotator/member-app' }));
    expect(described.ARN).toContain(`:${MEMBER}:secret:`);
    await toolingAccountUntouched();

    const sent = await notificationsFor('member-app');
    expect(sent.map((notification) => notification.attributes.event)).toEqual([
      'rotation-started',
      'new-key-ready',
      'old-key-deactivated',
      'rotation-completed',
    ]);
    for (const notification of sent) {
      expect(notification.attributes).toMatchObject({ accountId: MEMBER, accountName: 'payments-prod', owner: 'team-member@example.com' });
      expect(notification.subject).toMatch(new RegExp(`^\\[payments-prod ${MEMBER}\\] `));
      expect((notification.subject ?? '').length).toBeLessThan(100);
      const email = (JSON.parse(notification.message) as { email: string }).email;
      expect(email).toContain(`Account ${MEMBER} (payments-prod)`);
      expect(email).toContain(`stack in account ${TOOLING}`);
    }
    // The new-key notice names the member account's secret ARN.
    expect((JSON.parse(sent[1]?.message ?? '{}') as { email: string }).email).toContain(`:${MEMBER}:secret:iam-key-rotator/member-app`);
  });

  test('with SECURITY_HUB_FINDINGS, the rotated key’s finding is written in the member account’s Security Hub, none in the tooling account’s', async () => {
    // Prepare
    const old = await memberUser('member-audited');
    startFollowingConsumer('member-audited');

    // Act
    const report = await runRotation(
      { userName: 'member-audited', accountId: MEMBER, accountName: 'payments-prod', reason: 'test' },
      { logger: quietLogger, durations: FAST, config: loadConfig({ ...process.env, SECURITY_HUB_FINDINGS: 'true' }) },
    );

    // Assess
    expect(report.status).toBe('Succeeded');
    const inMember = (await member.securityHub.send(new GetFindingsCommand({ MaxResults: 100 }))).Findings ?? [];
    expect(inMember).toEqual([
      expect.objectContaining({
        Id: `iam-key-rotator/${MEMBER}/member-audited/${old.accessKeyId}`,
        AwsAccountId: MEMBER,
        RecordState: 'ARCHIVED',
        Compliance: { Status: 'PASSED' },
      }),
    ]);
    const inTooling = (await new SecurityHubClient({}).send(new GetFindingsCommand({ MaxResults: 100 }))).Findings ?? [];
    expect(inTooling.filter((finding) => finding.AwsAccountId === MEMBER)).toEqual([]);
  });

  test('the stack account named explicitly behaves as single-account mode', async () => {
    // Act
    const report = await runRotation({ userName: 'nobody-here', accountId: TOOLING }, { logger: quietLogger, durations: FAST });

    // Assess
    // The user is looked up in the tooling account, where it does not exist: refused, nothing touched.
    expect(report.status).toBe('Failed');
    await toolingAccountUntouched();
  });

  test('compromise in a member account: the key is deactivated and old sessions denied there, then replaced there', async () => {
    // Prepare: a leaked key of a user in the member account.
    const leaked = await memberUser('member-leaky');

    // Act
    const report = await runRotation(
      {
        userName: 'member-leaky',
        accessKeyId: leaked.accessKeyId,
        kind: 'compromise',
        accountId: MEMBER,
        requestedBy: 'test',
        reason: 'found on a public repository',
      },
      { logger: quietLogger, durations: { ...FAST, healthCheckDeadlineMs: 200 } },
    );

    // Assess
    expect(report.status).toBe('Succeeded');
    expect(names(report).slice(0, 4)).toEqual(['IsCompromise', 'Contain', 'NotifyContained', 'CanReplace']);
    const replacement = report.newAccessKeyId ?? '';
    expect(await memberKeys('member-leaky')).toEqual({ [replacement]: 'Active' });
    expect(await memberSecretKeyId('member-leaky')).toBe(replacement);
    const policies = (await member.iam.send(new ListUserPoliciesCommand({ UserName: 'member-leaky' }))).PolicyNames ?? [];
    expect(policies).toEqual([expect.stringMatching(/^iam-key-rotator-deny-sessions-before-\d{8}T\d{6}Z$/)]);
    await toolingAccountUntouched();

    const critical = (await notificationsFor('member-leaky')).filter(
      (notification) => notification.attributes.event === 'compromise-contained',
    );
    expect(critical).toHaveLength(1);
    expect(critical[0]?.attributes).toMatchObject({ accountId: MEMBER, severity: 'critical' });
    expect(critical[0]?.subject).toContain(`[${MEMBER}]`);
  });
});
