import { afterAll, describe, expect, test } from '@jest/globals';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  ListExecutionsCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { CreateAccessKeyCommand, CreateRoleCommand, GetRolePolicyCommand, IAMClient, ListRolePoliciesCommand } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { CloudTrailRecorder, LOCAL_CLOUDTRAIL_LOG_GROUP } from '#local/cloudtrail-recorder.ts';
import { runRotation } from '#local/runner.ts';
import { loadConfig } from '#shared/config/settings.ts';
import { PROPAGATION_MARGIN_MS, REVOKE_OLDER_SESSIONS_POLICY, revokeOlderSessionsPolicy } from '#shared/rotation/incident.ts';
import { Contained } from '#shared/rotation/workflow-state.ts';
import { cli } from '../helpers/cli.ts';
import { createUser, iam, keysOf, notificationsFor, quietLogger, seedSecret, type TestKey } from '../helpers/rotation-fixtures.ts';

// Role sessions opened with a leaked key: the user's TokenIssueTime deny does not reach them (a role
// session has the role's permissions), so Contain reads the key's calls from the local CloudTrail
// stand-in's log group and revokes the older sessions of each role the key assumed, as the IAM
// console does. moto evaluates only StringEquals conditions and treats DateLessThan as matching, so it
// cannot show which sessions the deny lets through: these tests pin the documents to the shape AWS
// documents ("Revoking IAM role temporary security credentials", IAM user guide) and the deny's time.
const FAST = { healthCheckIntervalMs: 50, healthCheckDeadlineMs: 200, observationMs: 50, oldKeyQuietMs: 50 };
const ACCOUNT = '123456789012';
const ATTACKER = { sourceIp: '203.0.113.66', userAgent: 'attacker-tool/0.1' };

const clients: { destroy(): void }[] = [];
afterAll(() => {
  for (const client of clients) client.destroy();
});

async function createRole(roleName: string): Promise<string> {
  const trust = {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'sts:AssumeRole' }],
  };
  const made = await iam.send(new CreateRoleCommand({ RoleName: roleName, AssumeRolePolicyDocument: JSON.stringify(trust) }));
  return made.Role?.Arn ?? '';
}

/** The attacker's calls, signed with the leaked key through clients the recorder writes CloudTrail records for. */
async function attack(trail: CloudTrailRecorder, leaked: TestKey, roleArn: string, victim: string): Promise<string> {
  const credentials = { accessKeyId: leaked.accessKeyId, secretAccessKey: leaked.secretAccessKey };
  const sts = new STSClient({ credentials, maxAttempts: 1 });
  const attackerIam = new IAMClient({ credentials, maxAttempts: 1 });
  clients.push(sts, attackerIam);
  trail.attach(sts, ATTACKER);
  trail.attach(attackerIam, ATTACKER);
  await sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'persist' }));
  const created = await attackerIam.send(new CreateAccessKeyCommand({ UserName: victim }));
  await trail.flush();
  return created.AccessKey?.AccessKeyId ?? '';
}

function recorder(): CloudTrailRecorder {
  const made = new CloudTrailRecorder({ iam, logs: new CloudWatchLogsClient({}), logGroupName: LOCAL_CLOUDTRAIL_LOG_GROUP });
  made.watchKeyChanges(iam);
  return made;
}

async function contained(userName: string, accessKeyId: string, revoke: string[], cloudtrailLogGroup?: string) {
  let state: Contained | undefined;
  const exits: { name: string; output: unknown }[] = [];
  const report = await runRotation(
    { userName, accessKeyId, kind: 'compromise', requestedBy: 'test', reason: 'found on a public repository' },
    {
      logger: quietLogger,
      durations: FAST,
      config: { ...loadConfig({}), compromiseRevokeRoleSessions: revoke, ...(cloudtrailLogGroup ? { cloudtrailLogGroup } : {}) },
      clients: { iam },
      onStateData: ({ name, output }) => {
        exits.push({ name, output });
        const parsed = Contained.safeParse((output as { contained?: unknown } | undefined)?.contained);
        if (name === 'Contain' && parsed.success) state = parsed.data;
      },
    },
  );
  // The run as Step Functions' execution history records it: each state entered, then exited with its output.
  const history: HistoryEvent[] = [];
  for (const entered of report.states) {
    history.push({
      id: history.length + 1,
      type: 'TaskStateEntered',
      timestamp: new Date(entered.enteredAt),
      stateEnteredEventDetails: { name: entered.name },
    });
    const exit = exits.findIndex((candidate) => candidate.name === entered.name);
    if (exit >= 0) {
      const output = exits.splice(exit, 1)[0]?.output;
      history.push({
        id: history.length + 1,
        type: 'TaskStateExited',
        timestamp: new Date(entered.enteredAt),
        stateExitedEventDetails: { name: entered.name, output: JSON.stringify(output) },
      });
    }
  }
  const notice = (await notificationsFor(userName)).find((sent) => sent.attributes.event === 'compromise-contained');
  const email = (JSON.parse(notice?.message ?? '{}') as { email?: string }).email ?? '';
  return { report, state, email, history };
}

async function rolePolicies(roleName: string): Promise<string[]> {
  return (await iam.send(new ListRolePoliciesCommand({ RoleName: roleName }))).PolicyNames ?? [];
}

describe('compromise: the role sessions and keys the leaked key opened', () => {
  test('with revocation on, the role the key assumed gets AWSRevokeOlderSessions at the deny’s time, and the notice names the role and the created key', async () => {
    // Prepare
    const leaked = await createUser('leaky-roles', { 'rotation:owner': 'team-a@example.com' });
    await seedSecret('leaky-roles', leaked);
    await createUser('victim');
    const roleArn = await createRole('deployer');
    const untouched = await createRole('bystander');
    const createdKey = await attack(recorder(), leaked, roleArn, 'victim');

    // Act
    const { report, state, email } = await contained('leaky-roles', leaked.accessKeyId, ['all']);

    // Assess
    expect(report.status).toBe('Succeeded');
    expect(untouched).not.toBe('');
    const deniedBefore = new Date(state?.deniedBefore ?? 0);
    // The deny reaches PROPAGATION_MARGIN_MS past containment (rounded up to the second).
    const margin = deniedBefore.getTime() - Date.parse(state?.containedAt ?? '');
    expect(margin).toBeGreaterThanOrEqual(PROPAGATION_MARGIN_MS - 1000);
    expect(margin).toBeLessThanOrEqual(PROPAGATION_MARGIN_MS + 1000);
    expect(await rolePolicies('deployer')).toEqual([REVOKE_OLDER_SESSIONS_POLICY]);
    expect(await rolePolicies('bystander')).toEqual([]);
    const document = (await iam.send(new GetRolePolicyCommand({ RoleName: 'deployer', PolicyName: REVOKE_OLDER_SESSIONS_POLICY })))
      .PolicyDocument;
    expect(JSON.parse(decodeURIComponent(document ?? '{}'))).toEqual(JSON.parse(revokeOlderSessionsPolicy(deniedBefore)));
    expect(state?.incident?.roles).toEqual([
      expect.objectContaining({ roleArn, roleName: 'deployer', accountId: ACCOUNT, outcome: 'revoked', sourceIps: [ATTACKER.sourceIp] }),
    ]);
    expect(state?.incident?.createdKeys).toEqual([expect.objectContaining({ accessKeyId: createdKey, userName: 'victim' })]);
    expect(email).toContain(`role ${roleArn} assumed 1 time(s)`);
    expect(email).toContain(`are revoked (${REVOKE_OLDER_SESSIONS_POLICY} on the role)`);
    expect(email).toContain(`CONTAIN TOO: access key ${createdKey} of victim`);
    expect(email).toContain(`CreateAccessKey victim from ${ATTACKER.sourceIp}, ${ATTACKER.userAgent}`);
    expect(email).toContain('Sessions of roles assumed with the key are NOT cut by the user');
    // The created key is reported, never rotated or cut by this run.
    expect((await keysOf('victim'))[createdKey]).toBe('Active');
  });

  test('status shows what Contain cut and what the key did, read from the execution history of the run', async () => {
    // Prepare: a real containment; Step Functions answers status with that run's history (moto keeps no history of a local run).
    const leaked = await createUser('leaky-status', { 'rotation:owner': 'team-a@example.com' });
    await seedSecret('leaky-status', leaked);
    await createUser('victim-status');
    const roleArn = await createRole('status-deployer');
    const createdKey = await attack(recorder(), leaked, roleArn, 'victim-status');
    const { report, state, history } = await contained('leaky-status', leaked.accessKeyId, ['all']);
    const stateMachineArn = `arn:aws:states:us-east-1:${ACCOUNT}:stateMachine:iam-key-rotator-dev-rotate-key`;
    const executionArn = `arn:aws:states:us-east-1:${ACCOUNT}:execution:iam-key-rotator-dev-rotate-key:${report.executionName ?? 'leak'}`;
    const sfn = mockClient(SFNClient);
    sfn.on(ListExecutionsCommand).resolves({
      executions: [{ executionArn, stateMachineArn, name: report.executionName ?? 'leak', status: 'SUCCEEDED', startDate: new Date() }],
    });
    sfn.on(DescribeExecutionCommand).resolves({
      executionArn,
      name: report.executionName ?? 'leak',
      status: 'SUCCEEDED',
      input: JSON.stringify({ userName: 'leaky-status', accessKeyId: leaked.accessKeyId, kind: 'compromise' }),
      startDate: new Date(),
    });
    sfn.on(GetExecutionHistoryCommand).resolves({ events: history });
    process.env.ROTATION_STATE_MACHINE_ARN = stateMachineArn;

    // Act
    const shown = await cli('status', 'leaky-status').finally(() => {
      delete process.env.ROTATION_STATE_MACHINE_ARN;
      sfn.restore();
    });

    // Assess
    expect(shown.code).toBe(0);
    expect(shown.out).toContain(
      `contained: the key was deactivated; the user's sessions issued before ${state?.deniedBefore ?? '?'} are denied`,
    );
    expect(shown.out).toContain(`role ${roleArn} assumed 1 time(s)`);
    expect(shown.out).toContain(
      `its sessions issued before ${state?.deniedBefore ?? '?'} are revoked (${REVOKE_OLDER_SESSIONS_POLICY} on the role)`,
    );
    expect(shown.out).toContain(`CONTAIN TOO: access key ${createdKey} of victim-status`);
    expect(shown.out).toContain(`CreateAccessKey victim-status from ${ATTACKER.sourceIp}`);
  });

  test('with revocation off (the default), no role is written and the notice gives the exact command', async () => {
    // Prepare
    const leaked = await createUser('leaky-norevoke', { 'rotation:owner': 'team-a@example.com' });
    await seedSecret('leaky-norevoke', leaked);
    await createUser('victim-two');
    const roleArn = await createRole('reporting');
    await attack(recorder(), leaked, roleArn, 'victim-two');

    // Act
    const { report, state, email } = await contained('leaky-norevoke', leaked.accessKeyId, []);

    // Assess
    expect(report.status).toBe('Succeeded');
    expect(await rolePolicies('reporting')).toEqual([]);
    const deniedBefore = new Date(state?.deniedBefore ?? 0);
    expect(state?.incident?.roles).toEqual([expect.objectContaining({ roleName: 'reporting', outcome: 'not-enabled' })]);
    expect(email).toContain(
      'its sessions still work for up to 12 hours; COMPROMISE_REVOKE_ROLE_SESSIONS does not name it; to revoke, run:',
    );
    expect(email).toContain(
      `aws iam put-role-policy --role-name reporting --policy-name ${REVOKE_OLDER_SESSIONS_POLICY} --policy-document '${revokeOlderSessionsPolicy(deniedBefore)}'`,
    );
  });

  test('a CloudTrail that cannot be read does not stop containment: the key is cut, and the notice says what it could not check', async () => {
    // Prepare: the log group named does not exist.
    const leaked = await createUser('leaky-blind', { 'rotation:owner': 'team-a@example.com' });
    await seedSecret('leaky-blind', leaked);

    // Act
    const { report, state, email } = await contained('leaky-blind', leaked.accessKeyId, ['all'], 'no-such-trail-group');

    // Assess
    expect(report.status).toBe('Succeeded');
    expect(state).toMatchObject({ keyWasActive: true, incident: { read: false, roles: [], writes: [] } });
    expect(state?.incident?.gaps).toHaveLength(1);
    expect(email).toContain('What the leaked key did could not be read from CloudTrail');
    expect(email).toContain('sessions of roles it assumed are NOT cut');
  });
});
