import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteAccessKeyCommand } from '@aws-sdk/client-iam';
import { GetFindingsCommand, SecurityHubClient, type AwsSecurityFinding } from '@aws-sdk/client-securityhub';
import { SFNClient } from '@aws-sdk/client-sfn';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { STSClient } from '@aws-sdk/client-sts';
import { SimulatedConsumer } from '#local/consumer.ts';
import { resetMoto } from '#local/moto.ts';
import { LOCAL_LEDGER_TABLE, LOCAL_TOPIC_NAME, runRotation } from '#local/runner.ts';
import { securityHub, type SecurityHubApi } from '#shared/aws/security-hub.ts';
import { DAY_MS, fixedClock } from '#shared/base/clock.ts';
import { loadConfig, type Config } from '#shared/config/settings.ts';
import { findingId } from '#shared/findings/key-findings.ts';
import { ensureLedgerTable } from '#shared/notify/ledger.ts';
import { callerAccountId, createNotifier, ledgerFor } from '#shared/notify/notifier.ts';
import { runScheduledScan } from '#shared/scan/scheduled-scan.ts';
import { createPassStateMachine } from '../helpers/iam-seed.ts';
import { createUser, iam, keysOf, quietLogger, secretsManager, seedSecret } from '../helpers/rotation-fixtures.ts';

// SECURITY_HUB_FINDINGS against moto's Security Hub: the scan and the workflow keep one finding per
// key. The findings are read back with the official SDK client, not with the rotator's own. moto
// ignores GetFindings filters and lets a provider rewrite Workflow, so these tests assert what AWS
// honours for a finding provider: RecordState, Compliance, Severity and the fields the rotator writes.

const sns = new SNSClient({});
const sfn = new SFNClient({});
const dynamodb = new DynamoDBClient({});
const sts = new STSClient({});
const reader = new SecurityHubClient({});
const FAST = { healthCheckIntervalMs: 100, healthCheckDeadlineMs: 3_000, observationMs: 100, oldKeyQuietMs: 100 };
const consumers: SimulatedConsumer[] = [];
afterEach(async () => {
  await Promise.all(consumers.splice(0).map((consumer) => consumer.stop()));
});
let topicArn = '';
let stateMachineArn = '';
let api: SecurityHubApi;
let accountId = '';

beforeEach(async () => {
  await resetMoto(process.env.AWS_ENDPOINT_URL ?? '');
  topicArn = (await sns.send(new CreateTopicCommand({ Name: LOCAL_TOPIC_NAME }))).TopicArn ?? '';
  await ensureLedgerTable(dynamodb, LOCAL_LEDGER_TABLE);
  stateMachineArn = await createPassStateMachine(sfn);
  api = securityHub({ region: process.env.AWS_REGION ?? 'us-east-1', credentials: iam.config.credentials });
  accountId = await callerAccountId(sts)();
});

function settings(env: Record<string, string> = {}): Config {
  return loadConfig({
    NOTIFICATION_TOPIC_ARN: topicArn,
    NOTIFICATION_LEDGER_TABLE: LOCAL_LEDGER_TABLE,
    ROTATION_STATE_MACHINE_ARN: stateMachineArn,
    UNUSED_AFTER_DAYS: '365',
    SECURITY_HUB_FINDINGS: 'true',
    ...env,
  });
}

const scanOn = (days: number, config: Config) =>
  runScheduledScan({
    iam,
    sfn,
    config,
    clock: fixedClock(new Date(Date.now() + days * DAY_MS)),
    logger: quietLogger,
    notifier: createNotifier({
      sns,
      ledger: ledgerFor(dynamodb, config),
      config,
      accountId: callerAccountId(sts),
      clock: () => new Date(),
      logger: quietLogger,
    }),
    securityHub: { api, accountId: async () => accountId, region: process.env.AWS_REGION ?? 'us-east-1' },
  });

async function findingOf(userName: string, accessKeyId: string): Promise<AwsSecurityFinding | undefined> {
  const all = (await reader.send(new GetFindingsCommand({ MaxResults: 100 }))).Findings ?? [];
  return all.find((finding) => finding.Id === findingId(accountId, userName, accessKeyId));
}

describe('Security Hub findings (SECURITY_HUB_FINDINGS=true) against moto', () => {
  test('a due key gets a finding naming user, key, owner and the remedy; rotated, its finding is archived and PASSED', async () => {
    // Prepare: a key past its window (the scan looks 100 days ahead), with a secret consumers read.
    const key = await createUser('audited', { 'rotation:owner': 'team-a@example.com' });
    await seedSecret('audited', key);
    const consumer = new SimulatedConsumer({
      userName: 'audited',
      secretId: 'iam-key-rotator/audited',
      secretsManager,
      followsRotation: true,
      intervalMs: 25,
    });
    consumers.push(consumer);
    consumer.start();
    const config = settings();

    // Act & Assess: the scan flags it; the rotation resolves it.
    const scanned = await scanOn(100, config);
    expect(scanned.securityHub).toMatchObject({ written: 1, failed: 0, archived: 0 });
    const due = await findingOf('audited', key.accessKeyId);
    expect(due).toMatchObject({
      GeneratorId: 'iam-key-rotator',
      AwsAccountId: accountId,
      RecordState: 'ACTIVE',
      Severity: { Label: 'MEDIUM' },
      Compliance: { Status: 'FAILED' },
      Resources: [expect.objectContaining({ Type: 'AwsIamAccessKey', Id: key.accessKeyId })],
      ProductFields: expect.objectContaining({ 'iam-key-rotator/Owner': 'team-a@example.com', 'iam-key-rotator/State': 'due' }),
    });
    expect(JSON.stringify(due)).not.toContain(key.secretAccessKey);

    const report = await runRotation(
      { userName: 'audited', accessKeyId: key.accessKeyId, kind: 'manual' },
      { logger: quietLogger, durations: FAST, config, clients: { iam } },
    );
    expect(report.status).toBe('Succeeded');
    expect((await keysOf('audited'))[key.accessKeyId]).toBeUndefined();
    const rotated = await findingOf('audited', key.accessKeyId);
    expect(rotated).toMatchObject({ RecordState: 'ARCHIVED', Compliance: { Status: 'PASSED' }, Severity: { Label: 'INFORMATIONAL' } });
  });

  test('a compromise is CRITICAL, and the next scan leaves it for a person to close', async () => {
    // Prepare
    const key = await createUser('leaked', { 'rotation:owner': 'team-b@example.com' });
    await seedSecret('leaked', key);
    const config = settings();

    // Act
    const report = await runRotation(
      { userName: 'leaked', accessKeyId: key.accessKeyId, kind: 'compromise', reason: 'found on a public repository' },
      { logger: quietLogger, durations: FAST, config, clients: { iam } },
    );
    const scanned = await scanOn(0, config);

    // Assess
    expect(report.status).toBe('Succeeded');
    expect(await findingOf('leaked', key.accessKeyId)).toMatchObject({
      RecordState: 'ACTIVE',
      Severity: { Label: 'CRITICAL' },
      Types: ['TTPs/Credential Access'],
      ProductFields: expect.objectContaining({ 'iam-key-rotator/State': 'compromised' }),
    });
    expect(scanned.securityHub?.archived).toBe(0);
  });

  test('a key deleted by hand has its finding archived by the next scan; a key still due keeps its finding', async () => {
    // Prepare: two due keys flagged by a scan; one user's key is then deleted by hand.
    const gone = await createUser('deleted-by-hand');
    const kept = await createUser('still-due');
    const config = settings({ MAX_ROTATIONS_PER_RUN: '0' });
    const first = await scanOn(100, config);
    expect(first.securityHub).toMatchObject({ written: 2, failed: 0 });
    await iam.send(new DeleteAccessKeyCommand({ UserName: 'deleted-by-hand', AccessKeyId: gone.accessKeyId }));

    // Act
    const second = await scanOn(100, config);

    // Assess
    expect(second.securityHub).toMatchObject({ archived: 1, failed: 0 });
    expect(await findingOf('deleted-by-hand', gone.accessKeyId)).toMatchObject({ RecordState: 'ARCHIVED' });
    expect(await findingOf('still-due', kept.accessKeyId)).toMatchObject({ RecordState: 'ACTIVE' });
  });

  test('off by default: no finding is written', async () => {
    // Prepare
    await createUser('quiet');

    // Act
    const scanned = await scanOn(100, settings({ SECURITY_HUB_FINDINGS: 'false' }));

    // Assess
    expect(scanned.securityHub).toBeNull();
    expect((await reader.send(new GetFindingsCommand({}))).Findings ?? []).toEqual([]);
  });
});
