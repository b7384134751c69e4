import { beforeEach, describe, expect, test } from '@jest/globals';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { STSClient } from '@aws-sdk/client-sts';
import { runScheduledScan } from '#shared/scan/scheduled-scan.ts';
import { resetMoto } from '#local/moto.ts';
import { LOCAL_LEDGER_TABLE, LOCAL_TOPIC_NAME } from '#local/runner.ts';
import { DAY_MS, fixedClock } from '#shared/base/clock.ts';
import { loadConfig, type Config } from '#shared/config/settings.ts';
import { ensureLedgerTable } from '#shared/notify/ledger.ts';
import { callerAccountId, createNotifier, ledgerFor, type Notifier } from '#shared/notify/notifier.ts';
import { metrics } from '#shared/base/metrics.ts';
import { createPassStateMachine } from '../helpers/iam-seed.ts';
import { createUser, iam, notificationsFor, quietLogger } from '../helpers/rotation-fixtures.ts';

// The scheduled scan's owner notices against moto: each test starts from an empty account, a topic,
// the ledger table and a stand-in state machine. moto cannot backdate keys, so the scans look ahead.

const sns = new SNSClient({});
const sfn = new SFNClient({});
const dynamodb = new DynamoDBClient({});
const sts = new STSClient({});
let topicArn = '';
let stateMachineArn = '';

beforeEach(async () => {
  await resetMoto(process.env.AWS_ENDPOINT_URL ?? '');
  topicArn = (await sns.send(new CreateTopicCommand({ Name: LOCAL_TOPIC_NAME }))).TopicArn ?? '';
  await ensureLedgerTable(dynamodb, LOCAL_LEDGER_TABLE);
  stateMachineArn = await createPassStateMachine(sfn);
});

function settings(env: Record<string, string> = {}): Config {
  return loadConfig({
    NOTIFICATION_TOPIC_ARN: topicArn,
    NOTIFICATION_LEDGER_TABLE: LOCAL_LEDGER_TABLE,
    ROTATION_STATE_MACHINE_ARN: stateMachineArn,
    UNUSED_AFTER_DAYS: '365',
    ...env,
  });
}

function notifierFor(config: Config): Notifier {
  return createNotifier({
    sns,
    ledger: ledgerFor(dynamodb, config),
    config,
    accountId: callerAccountId(sts),
    clock: () => new Date(),
    logger: quietLogger,
  });
}

const scanOn = (days: number, config: Config) =>
  runScheduledScan({
    iam,
    sfn,
    config,
    clock: fixedClock(new Date(Date.now() + days * DAY_MS)),
    logger: quietLogger,
    metrics,
    notifier: notifierFor(config),
  });

describe('scan notifications against moto', () => {
  test('two daily scans in a row send each warning once; unused keys and an ending exemption are told once too', async () => {
    // Prepare: a key soon due, an unused key, an ending exemption, and a user with no owner.
    await createUser('soon-due', { 'rotation:owner': 'soon@example.com' });
    await createUser('idle', { 'rotation:owner': 'idle@example.com', 'rotation:unused-after-days': '30', 'rotation:max-age-days': '365' });
    const exemptUntil = new Date(Date.now() + 85 * DAY_MS).toISOString().slice(0, 10);
    await createUser('held', {
      'rotation:owner': 'held@example.com',
      'rotation:exempt': 'vendor freeze',
      'rotation:exempt-until': exemptUntil,
    });
    await createUser('nobody-owns', {});
    const config = settings({ OPERATIONS_OWNER: 'ops@example.com' });

    // Act: two daily scans in a row.
    // 80 and 81 days ahead: inside the default 14-day warning window before day 90.
    const first = await scanOn(80, config);
    const second = await scanOn(81, config);

    // Assess
    expect(first.notifications).toEqual({ sent: 4, alreadySent: 0, notSent: 0, failures: [] });
    expect(second.notifications).toEqual({ sent: 0, alreadySent: 4, notSent: 0, failures: [] });
    const sent = async (userName: string) =>
      (await notificationsFor(userName)).map((message) => [message.attributes.event, message.attributes.owner]);
    expect(await sent('soon-due')).toEqual([['rotation-warning', 'soon@example.com']]);
    expect(await sent('idle')).toEqual([['unused-key', 'idle@example.com']]);
    expect(await sent('held')).toEqual([['exemption-expiring', 'held@example.com']]);
    expect(await sent('nobody-owns')).toEqual([['rotation-warning', 'ops@example.com']]);
    const warning = (await notificationsFor('soon-due'))[0];
    expect(JSON.parse(warning?.message ?? '{}')).toMatchObject({
      email: expect.stringContaining('The rotation starts with the first daily scan on or after'),
    });
  });

  test('with NOTIFY_EVENTS the scan sends only the listed events, and says how many it held back', async () => {
    // Prepare
    await createUser('filtered-due-soon', { 'rotation:owner': 'f@example.com' });

    // Act
    const summary = await scanOn(80, settings({ NOTIFY_EVENTS: 'action-needed,rotation-failed' }));

    // Assess
    expect(summary.notifications).toMatchObject({ sent: 0, notSent: 1 });
    expect(await notificationsFor('filtered-due-soon')).toEqual([]);
  });
});
