import { describe, expect, test } from '@jest/globals';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import {
  CreateRoleCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  ListRolePoliciesCommand,
  ListUserPoliciesCommand,
} from '@aws-sdk/client-iam';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { cloudTrailRecord, type ObservedCall } from '#local/cloudtrail-record.ts';
import { CloudTrailRecorder, LOCAL_CLOUDTRAIL_LOG_GROUP } from '#local/cloudtrail-recorder.ts';
import { TrailWriter } from '#local/trail-writer.ts';
import { runRotation, type RotationReport, type RunRotationInput } from '#local/runner.ts';
import { silentLogger } from '#shared/base/logger.ts';
import { loadConfig } from '#shared/config/settings.ts';
import { denySessionsPolicy } from '#shared/rotation/contain.ts';
import { PROPAGATION_MARGIN_MS, REVOKE_OLDER_SESSIONS_POLICY } from '#shared/rotation/incident.ts';
import { Contained } from '#shared/rotation/workflow-state.ts';
import { createUser, iam, keysOf, notificationsFor, quietLogger, seedSecret } from '../helpers/rotation-fixtures.ts';

// A GuardDuty finding about an IAM user's temporary credentials (an ASIA key id): the user's own
// sessions, opened with GetSessionToken. There is no key to rotate: Contain denies the user's sessions
// issued before now, settles the roles the session assumed, and names the long-term key that opened it.
// moto's STS answers GetSessionToken with one fixed AKIA key id for every session (AWS gives each an
// ASIA id), so these tests write the CloudTrail records AWS would, in the shape the CloudTrail user guide
// documents, into the local stand-in's log group: the GetSessionToken call made with the user's key,
// whose responseElements.credentials.accessKeyId names the session, and the AssumeRole made with it.
const FAST = { healthCheckIntervalMs: 50, healthCheckDeadlineMs: 200, observationMs: 50, oldKeyQuietMs: 50 };
const SESSION_KEY = 'ASIAQEXAMPLESESSION1';
const ATTACKER = { sourceIp: '203.0.113.77', userAgent: 'aws-cli/2.15.30 Python/3.11.8 Linux/6.1 exe/x86_64' };

async function owner(userName: string) {
  const user = (await iam.send(new GetUserCommand({ UserName: userName }))).User;
  const arn = user?.Arn ?? '';
  return { userName, userId: user?.UserId ?? '', arn, accountId: arn.split(':')[4] ?? '' };
}

type Made = Partial<ObservedCall> & Pick<ObservedCall, 'at' | 'accessKeyId' | 'operation'>;

/** Writes CloudTrail records of STS calls the user's credentials made, from the attacker's address. */
async function writeRecords(userName: string, calls: readonly Made[]): Promise<void> {
  const user = await owner(userName);
  const writer = new TrailWriter(new CloudWatchLogsClient({}), LOCAL_CLOUDTRAIL_LOG_GROUP, silentLogger());
  const stream = `${user.accountId}_CloudTrail_us-east-1`;
  for (const made of calls) {
    const record = cloudTrailRecord({ owner: user, service: 'sts', region: 'us-east-1', requestId: undefined, ...ATTACKER, ...made });
    expect(await writer.write(stream, { timestamp: made.at.getTime(), message: JSON.stringify(record) })).toBe(true);
  }
}

const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000);

/** Writes the records of a session opened with `accessKeyId` and of the session assuming `roleArn`, minutes ago. */
async function sessionRecords(userName: string, accessKeyId: string, roleArn: string): Promise<void> {
  await writeRecords(userName, [
    { at: minutesAgo(30), accessKeyId, operation: 'GetSessionToken', session: { accessKeyId: SESSION_KEY } },
    { at: minutesAgo(20), accessKeyId: SESSION_KEY, operation: 'AssumeRole', parameters: { roleArn } },
  ]);
}

async function createRole(roleName: string): Promise<string> {
  const trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: '*' }, Action: 'sts:AssumeRole' }] };
  return (await iam.send(new CreateRoleCommand({ RoleName: roleName, AssumeRolePolicyDocument: JSON.stringify(trust) }))).Role?.Arn ?? '';
}

/** A compromise run with role-session revocation on, and what Contain reported. */
async function containWithRevocation(input: RunRotationInput): Promise<{ report: RotationReport; state: Contained | undefined }> {
  let state: Contained | undefined;
  const report = await runRotation(input, {
    logger: quietLogger,
    durations: FAST,
    config: { ...loadConfig({}), compromiseRevokeRoleSessions: ['all'] },
    clients: { iam },
    onStateData: ({ name, output }) => {
      const parsed = Contained.safeParse((output as { contained?: unknown } | undefined)?.contained);
      if (name === 'Contain' && parsed.success) state = parsed.data;
    },
  });
  return { report, state };
}

describe('compromise: a finding about the temporary credentials of a user', () => {
  test('denies the user’s older sessions, cuts no key, revokes the role the session assumed and names the key that opened it', async () => {
    // Prepare
    const key = await createUser('session-leak', { 'rotation:owner': 'team-s@example.com' });
    await seedSecret('session-leak', key);
    const roleArn = await createRole('session-target');
    await sessionRecords('session-leak', key.accessKeyId, roleArn);

    // Act
    const { report, state } = await containWithRevocation({
      userName: 'session-leak',
      accessKeyId: SESSION_KEY,
      kind: 'compromise',
      requestedBy: 'aws.guardduty:f1',
      reason: 'GuardDuty finding',
    });

    // Assess: the run stops after the notice, with the key untouched.
    expect(report.status).toBe('NeedsAttention');
    expect(report.states.map((made) => made.name)).toEqual([
      'IsCompromise',
      'Contain',
      'NotifyContained',
      'CanReplace',
      'NoReplacement',
      'NeedsAttention',
    ]);
    expect(await keysOf('session-leak')).toEqual({ [key.accessKeyId]: 'Active' });
    expect(state).toMatchObject({ keyWasActive: false, replacement: 'skip', session: { issuedBy: key.accessKeyId } });
    // The deny, as AWS documents a TokenIssueTime condition, reaching PROPAGATION_MARGIN_MS past containment.
    const deniedBefore = new Date(state?.deniedBefore ?? 0);
    expect(deniedBefore.getTime() - Date.parse(state?.containedAt ?? '')).toBeGreaterThanOrEqual(PROPAGATION_MARGIN_MS - 1000);
    const policyName = state?.denyPolicyName ?? '';
    expect((await iam.send(new ListUserPoliciesCommand({ UserName: 'session-leak' }))).PolicyNames).toEqual([policyName]);
    const document = (await iam.send(new GetUserPolicyCommand({ UserName: 'session-leak', PolicyName: policyName }))).PolicyDocument;
    expect(JSON.parse(decodeURIComponent(document ?? '{}'))).toEqual(JSON.parse(denySessionsPolicy(deniedBefore)));
    expect((await iam.send(new ListRolePoliciesCommand({ RoleName: 'session-target' }))).PolicyNames).toEqual([
      REVOKE_OLDER_SESSIONS_POLICY,
    ]);
    const notice = (await notificationsFor('session-leak')).find((sent) => sent.attributes.event === 'compromise-contained');
    expect(notice?.attributes.severity).toBe('critical');
    const email = (JSON.parse(notice?.message ?? '{}') as { email?: string }).email ?? '';
    expect(notice?.subject).toBe('CRITICAL: sessions of session-leak contained');
    expect(email).toContain(`No access key was deactivated`);
    expect(email).toContain(`It was opened with the user's access key ${key.accessKeyId} (GetSessionToken`);
    expect(email).toContain(`iam-key-rotator rotate session-leak --key ${key.accessKeyId} --compromised`);
    expect(email).toContain(`role ${roleArn} assumed 1 time(s)`);
  });

  test('without a record of the session being opened, the notice says the key that opened it is not known', async () => {
    // Prepare: no records at all for this user.
    const key = await createUser('session-console', { 'rotation:owner': 'team-s@example.com' });
    await seedSecret('session-console', key);

    // Act
    const report = await runRotation(
      {
        userName: 'session-console',
        accessKeyId: 'ASIAQEXAMPLESESSION2',
        kind: 'compromise',
        requestedBy: 'test',
        reason: 'GuardDuty finding',
      },
      { logger: quietLogger, durations: FAST, clients: { iam } },
    );

    // Assess
    expect(report.status).toBe('NeedsAttention');
    expect(await keysOf('session-console')).toEqual({ [key.accessKeyId]: 'Active' });
    const notice = (await notificationsFor('session-console')).find((sent) => sent.attributes.event === 'compromise-contained');
    const email = (JSON.parse(notice?.message ?? '{}') as { email?: string }).email ?? '';
    expect(email).toContain('Which key opened it is not known: no key of the user opened it in CloudTrail');
    expect(email).toContain('Find how the session was obtained');
  });

  test('a leaked key’s role session that assumed another role: both roles are found and revoked, the second named as chained', async () => {
    // Prepare: the leaked key assumes `hop-one` (recorded by the stand-in, as AWS records it), and that session
    // assumes `hop-two`. The stand-in records only calls signed with a user's key, so the second record is written as AWS would.
    const leaked = await createUser('chain-leak', { 'rotation:owner': 'team-s@example.com' });
    await seedSecret('chain-leak', leaked);
    const [hopOne, hopTwo] = [await createRole('hop-one'), await createRole('hop-two')];
    const trail = new CloudTrailRecorder({ iam, logs: new CloudWatchLogsClient({}), logGroupName: LOCAL_CLOUDTRAIL_LOG_GROUP });
    const sts = new STSClient({
      credentials: { accessKeyId: leaked.accessKeyId, secretAccessKey: leaked.secretAccessKey },
      maxAttempts: 1,
    });
    trail.attach(sts, ATTACKER);
    const session = (await sts.send(new AssumeRoleCommand({ RoleArn: hopOne, RoleSessionName: 'hop' }))).Credentials?.AccessKeyId ?? '';
    sts.destroy();
    await trail.flush();
    await writeRecords('chain-leak', [{ at: new Date(), accessKeyId: session, operation: 'AssumeRole', parameters: { roleArn: hopTwo } }]);

    // Act
    const { report, state } = await containWithRevocation({
      userName: 'chain-leak',
      accessKeyId: leaked.accessKeyId,
      kind: 'compromise',
      requestedBy: 'test',
      reason: 'found in a paste',
    });

    // Assess
    expect(session).toMatch(/^ASIA/);
    expect(report.status).toBe('Succeeded');
    expect(state?.incident?.roles).toEqual([
      expect.objectContaining({ roleArn: hopOne, outcome: 'revoked' }),
      expect.objectContaining({ roleArn: hopTwo, outcome: 'revoked', via: hopOne }),
    ]);
    for (const roleName of ['hop-one', 'hop-two'])
      expect((await iam.send(new ListRolePoliciesCommand({ RoleName: roleName }))).PolicyNames).toEqual([REVOKE_OLDER_SESSIONS_POLICY]);
    const notice = (await notificationsFor('chain-leak')).find((sent) => sent.attributes.event === 'compromise-contained');
    const email = (JSON.parse(notice?.message ?? '{}') as { email?: string }).email ?? '';
    expect(email).toContain(`role ${hopTwo} assumed 1 time(s) from a session of role ${hopOne}`);
  });
});
