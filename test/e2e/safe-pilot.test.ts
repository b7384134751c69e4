import { beforeEach, describe, expect, test } from '@jest/globals';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateUserCommand, CreateAccessKeyCommand, TagUserCommand } from '@aws-sdk/client-iam';
import { ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { STSClient } from '@aws-sdk/client-sts';
import { resetMoto } from '#local/moto.ts';
import { LOCAL_LEDGER_TABLE, LOCAL_TOPIC_NAME, runRotation } from '#local/runner.ts';
import { DAY_MS, fixedClock } from '#shared/base/clock.ts';
import { loadConfig } from '#shared/config/settings.ts';
import { ensureLedgerTable } from '#shared/notify/ledger.ts';
import { callerAccountId, createNotifier, ledgerFor } from '#shared/notify/notifier.ts';
import { runScheduledScan } from '#shared/scan/scheduled-scan.ts';
import { createPassStateMachine } from '../helpers/iam-seed.ts';
import { createUser, iam, keysOf, notificationsFor, quietLogger } from '../helpers/rotation-fixtures.ts';

// A safe pilot: the scope the stack's roles are limited to is honoured by the code too (a user outside
// it is refused before anything changes, never attempted and then denied), and report-only mode tells
// owners what would happen and starts nothing.

const sfn = new SFNClient({});
const sns = new SNSClient({});
const dynamodb = new DynamoDBClient({});
const sts = new STSClient({});

beforeEach(async () => {
  await resetMoto(process.env.AWS_ENDPOINT_URL ?? '');
});

describe('a safe pilot', () => {
  test('a rotation of a user outside ROTATION_USER_PATH is refused before anything changes, naming the scope', async () => {
    // Prepare: the stack rotates /pilot/ only; this user is at /.
    const old = await createUser('outside', { 'rotation:owner': 'team@example.com' });

    // Act
    const report = await runRotation(
      { userName: 'outside', reason: 'pilot test' },
      { logger: quietLogger, config: loadConfig({ ...process.env, ROTATION_USER_PATH: '/pilot/' }) },
    );

    // Assess
    expect(report.status).toBe('Failed');
    expect(report.error).toMatchObject({ name: 'UserOutOfScopeError' });
    expect(report.error?.message).toContain("outside the rotator's path /pilot/ (ROTATION_USER_PATH)");
    expect(await keysOf('outside')).toEqual({ [old.accessKeyId]: 'Active' });
  });

  test('ROTATION_MODE=report-only: the scheduled scan tells the owner what is due and starts nothing', async () => {
    // Prepare: one due key (a hundred days on), a topic, a ledger and a state machine.
    await iam.send(new CreateUserCommand({ UserName: 'piloted' }));
    await iam.send(new TagUserCommand({ UserName: 'piloted', Tags: [{ Key: 'rotation:owner', Value: 'team@example.com' }] }));
    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'piloted' }))).AccessKey?.AccessKeyId ?? '';
    const topicArn = (await sns.send(new CreateTopicCommand({ Name: LOCAL_TOPIC_NAME }))).TopicArn ?? '';
    await ensureLedgerTable(dynamodb, LOCAL_LEDGER_TABLE);
    const stateMachineArn = await createPassStateMachine(sfn);
    const config = loadConfig({
      ROTATION_STATE_MACHINE_ARN: stateMachineArn,
      NOTIFICATION_TOPIC_ARN: topicArn,
      NOTIFICATION_LEDGER_TABLE: LOCAL_LEDGER_TABLE,
      UNUSED_AFTER_DAYS: '365',
      ROTATION_WARN_DAYS: '14',
      ROTATION_MODE: 'report-only',
    });
    const scanOn = (days: number) => {
      const clock = fixedClock(new Date(Date.now() + days * DAY_MS));
      const notifier = createNotifier({
        sns,
        ledger: ledgerFor(dynamodb, config),
        config,
        accountId: callerAccountId(sts),
        clock,
        logger: quietLogger,
      });
      return runScheduledScan({ iam, sfn, config, clock, logger: quietLogger, notifier });
    };

    // Act
    const summary = await scanOn(80);
    const later = await scanOn(100);

    // Assess: warned at day 80, due at day 100, and never started.
    expect(summary.rotationsStarted).toEqual([]);
    expect(later.rotationsStarted).toEqual([]);
    expect(later.rotationsSkipped).toEqual([
      expect.objectContaining({ accessKeyId: key, reason: 'report-only (ROTATION_MODE=report-only): reported, not acted on' }),
    ]);
    expect((await sfn.send(new ListExecutionsCommand({ stateMachineArn }))).executions).toEqual([]);
    expect((await notificationsFor('piloted')).map((sent) => sent.attributes.event)).toContain('rotation-warning');
  });

  test('a rotation of a user with a misspelled gate tag is refused before anything changes, naming the tag, its value and the fix; a compromise is contained regardless', async () => {
    // Prepare
    const old = await createUser('typo-gate', {
      'rotation:owner': 'team@example.com',
      'rotation:health-checks': 'new-key-used typo-check',
    });

    // Act
    const report = await runRotation({ userName: 'typo-gate', reason: 'tag test' }, { logger: quietLogger });
    const contained = await runRotation(
      { userName: 'typo-gate', accessKeyId: old.accessKeyId, kind: 'compromise', reason: 'tag test' },
      { logger: quietLogger, durations: { healthCheckIntervalMs: 100, healthCheckDeadlineMs: 1_000, observationMs: 100 } },
    );

    // Assess
    expect(report).toMatchObject({ status: 'Failed', error: { name: 'InvalidTagError' } });
    expect(report.error?.message).toContain('tag rotation:health-checks="new-key-used typo-check" must list checks among');
    expect(report.error?.message).toContain('The rotation of typo-gate was refused and nothing was changed: fix the tag');
    expect(report.error?.message).not.toContain('the account default is used');
    expect(report.newAccessKeyId).toBeNull();
    expect(contained.states.map((state) => state.name)).toContain('Contain');
    expect((await keysOf('typo-gate'))[old.accessKeyId]).not.toBe('Active');
  });
});
