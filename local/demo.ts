import { CreateStateMachineCommand } from '@aws-sdk/client-sfn';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { Output } from './terminal.ts';
import { colors } from './terminal.ts';
import { DAY_MS } from '#shared/base/clock.ts';
import type { Config } from '#shared/config/settings.ts';
import { startMoto, type MotoServer } from './moto.ts';
import { DEMO_ENVIRONMENT, DEMO_SCAN_DAYS_AHEAD, DEMO_USERS, seedDemoAccount } from './demo-account.ts';
import { publishedNotifications, type PublishedNotification } from './moto-inspect.ts';
import { SimulatedConsumer, type ConsumerStats } from './consumer.ts';
import { noticesAbout, printDemoTable, type ExpectedOutcome } from './demo-table.ts';
import type { RecorderStats } from './cloudtrail-recorder.ts';
import type { RotationReport, StateRecord } from './runner.ts';
import type { ScanResult } from '#shared/scan/scanner.ts';
import { loadDefinition } from '#statemachines/definitions.ts';
import { STATES } from '#statemachines/rotate-key.ts';

const REGION = 'us-east-1';
/** moto's default account: the demos' tooling (and, with --org, management) account. */
export const DEMO_ACCOUNT_ID = '123456789012';
/** Waits of the demo's rotations: a health check every 300 ms, a 3 s gate deadline, 600 ms of observation. */
export const DEMO_DURATIONS = { healthCheckIntervalMs: 300, healthCheckDeadlineMs: 3_000, observationMs: 600, oldKeyQuietMs: 600 };
export const CONSUMER_INTERVAL_MS = 100;
/** States worth a progress line; the polling loops would drown the rest. */
const MILESTONES = new Set<string>([
  STATES.CreateAndStore,
  STATES.Promote,
  STATES.Deactivate,
  STATES.Rollback,
  STATES.DeleteOldKey,
  STATES.MakeSafe,
  STATES.Contain,
]);

/** What each demo user's rotation should end as; the demo checks itself against it. */
const EXPECTED_OUTCOME: Readonly<Record<string, ExpectedOutcome>> = {
  'billing-export': 'Succeeded',
  'onprem-backup': 'Succeeded',
  'saas-analytics': 'not rotated',
  'partner-sftp': 'not rotated',
  'legacy-etl': 'Failed',
  'hardcoded-cron': 'NeedsAttention',
  'forgotten-bot': 'not rotated',
  'ml-pipeline': 'not rotated',
  // consumers-moved sees nightly-export (203.0.113.25) still on the old key: nothing is cut, and it is named.
  'reports-sync': 'NeedsAttention',
};

function expectedOutcomeOf(userName: string): ExpectedOutcome {
  const expected = EXPECTED_OUTCOME[userName];
  // A user added to the demo without an expectation would pass unchecked.
  if (expected === undefined) throw new Error(`the demo expects no outcome for ${userName}: add it to EXPECTED_OUTCOME`);
  return expected;
}

/**
 * `npm start`: the whole product on a laptop in well under a minute. A local AWS (moto) is started
 * and seeded with a small account whose workloads read their keys from Secrets Manager; the scan
 * runs as the scheduled Lambda would and starts real executions on a state machine in moto; the
 * local runner then executes each with the real ASL and handlers and compressed waits, while the
 * simulated consumers keep calling AWS. Nothing here can reach a real AWS account: the endpoint and
 * credentials are forced to the local moto before any client exists.
 */
export async function runDemo(output: Output): Promise<number> {
  return withLocalAws(output, (moto, step, started) => runAgainst(moto, output, step, started));
}

/**
 * Every demo's frame: start moto, point this process at it before any client exists, run the demo
 * with a progress printer, and stop moto however the demo ends.
 */
export async function withLocalAws(
  output: Output,
  demo: (moto: MotoServer, step: (text: string) => void, started: number) => Promise<number>,
): Promise<number> {
  const started = Date.now();
  const step = (text: string): void => output.out(`${colors.cyan('▸')} ${text}`);
  step('starting a local AWS (moto_server) on a free loopback port…');
  const moto = await startMoto();
  try {
    isolateFromRealAws(moto);
    return await demo(moto, step, started);
  } finally {
    await moto.stop();
    step(`stopped moto_server; nothing was left running (${seconds(started)} in all)`);
  }
}

function isolateFromRealAws(moto: MotoServer): void {
  process.env.AWS_ENDPOINT_URL = moto.endpoint;
  process.env.AWS_ACCESS_KEY_ID = 'demo';
  process.env.AWS_SECRET_ACCESS_KEY = 'demo';
  process.env.AWS_REGION = REGION;
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  delete process.env.ROTATION_STATE_MACHINE_ARN;
  delete process.env.NOTIFICATION_TOPIC_ARN;
  Object.assign(process.env, DEMO_ENVIRONMENT);
}

/** Where `npm start` writes the demo's compliance report (ignored by git). */
export const DEMO_REPORT_DIRECTORY = 'demo-report';

export const seconds = (since: number): string => `${((Date.now() - since) / 1000).toFixed(1)}s`;

async function runAgainst(moto: MotoServer, output: Output, step: (text: string) => void, started: number): Promise<number> {
  // Loaded only now, so the SDK clients they create see the local endpoint.
  const { iam, secretsManager } = await import('#shared/aws/clients.ts');
  const { loadConfig } = await import('#shared/config/settings.ts');
  const { defaultSecretName } = await import('#shared/config/user-settings.ts');
  const { listUserKeys } = await import('#shared/aws/iam.ts');
  const { CloudWatchLogsClient } = await import('@aws-sdk/client-cloudwatch-logs');
  const { CloudTrailRecorder, LOCAL_CLOUDTRAIL_LOG_GROUP, withLocalTrail } = await import('./cloudtrail-recorder.ts');

  // The rotation reads CloudTrail where the recorder writes it.
  const baseConfig = withLocalTrail(loadConfig(process.env));
  const secretName = (userName: string): string => defaultSecretName(baseConfig, userName);

  step(`seeding a demo account: ${DEMO_USERS.length} IAM users, a key each (two for one), and a secret per user holding its key`);
  await seedDemoAccount({ iam, secretsManager }, secretName);
  for (const user of DEMO_USERS) output.out(`    ${user.userName.padEnd(16)} ${colors.dim(user.story)}`);

  const recorder = new CloudTrailRecorder({
    iam,
    logs: new CloudWatchLogsClient({}),
    logGroupName: baseConfig.cloudtrailLogGroup || LOCAL_CLOUDTRAIL_LOG_GROUP,
  });
  // The rotations deactivate, reactivate and delete keys with this client: a consumer's call is then
  // either done before the change or refused after it, never sent on a key that was just cut.
  recorder.watchKeyChanges(iam);
  const consumers = DEMO_USERS.flatMap((user) =>
    user.consumers.map(
      (consumer) =>
        new SimulatedConsumer({
          userName: user.userName,
          secretId: secretName(user.userName),
          secretsManager,
          followsRotation: consumer.behaviour === 'follows-rotation',
          intervalMs: CONSUMER_INTERVAL_MS,
          name: consumer.name,
          sourceIp: consumer.sourceIp,
          userAgent: consumer.userAgent,
          recorder,
        }),
    ),
  );
  step(
    `starting ${consumers.length} simulated consumers: each reads its user's secret and calls STS every ${CONSUMER_INTERVAL_MS} ms (hardcoded-cron and reports-sync's nightly-export never re-read it)`,
  );
  output.out(
    `    every call is a CloudTrail record in log group ${recorder.logGroupName}, the local stand-in for a trail: ` +
      'a call on a key that is not Active is refused, as AWS refuses it, and leaves none',
  );
  for (const consumer of consumers) consumer.start();
  await Promise.all(consumers.map((consumer) => consumer.callOnce()));

  // Stopped however the run ends: a running consumer keeps the process alive.
  let run: Awaited<ReturnType<typeof scanAndRotate>>;
  let stats: ConsumerStats[];
  const demoConfig = await createDemoStack(baseConfig);
  try {
    run = await scanAndRotate(demoConfig, output, step);
  } finally {
    stats = await Promise.all(consumers.map((consumer) => consumer.stop()));
    await recorder.flush();
  }

  const notifications = await publishedNotifications(moto.endpoint);
  const outcomes = await Promise.all(
    DEMO_USERS.map(async (user) => ({
      userName: user.userName,
      scanClasses: run.scan.keys.filter((key) => key.userName === user.userName).map((key) => key.class),
      rotations: run.reports.filter((report) => report.userName === user.userName),
      expected: expectedOutcomeOf(user.userName),
      keys: await listUserKeys(iam, user.userName),
      currentKeyId: await currentKeyId(secretsManager, secretName(user.userName)),
      consumers: stats.filter((stat) => stat.userName === user.userName),
      notices: noticesAbout(notifications, user.userName, DEMO_ACCOUNT_ID),
    })),
  );

  step('what happened to every key');
  const surprises = printDemoTable(output, outcomes);
  printTrail(output, recorder.logGroupName, recorder.stats());
  printNotifications(output, notifications);

  const { writeDemoReport } = await import('./demo-report.ts');
  const files = await writeDemoReport({
    config: demoConfig,
    daysAhead: DEMO_SCAN_DAYS_AHEAD,
    rotationsFrom: run.scannedAt,
    directory: DEMO_REPORT_DIRECTORY,
  });
  step(`compliance report of the demo account (iam-key-rotator report writes the same for yours): ${files.html}`);
  output.out(`    ${colors.dim(`also ${files.csv} and ${files.json}`)}`);

  if (surprises > 0) {
    output.err(colors.red(`${surprises} user(s) did not end as the demo expects: see the table above.`));
    return 1;
  }
  // A consumer the gate could not see is cut off by a rotation that otherwise went as expected: say so rather than "nothing broken".
  const cutOff = stats.filter((consumer) => consumer.failures > 0);
  step(
    colors.green(`demo finished in ${seconds(started)}: due keys rotated with consumers moved first, the rest held back, `) +
      (cutOff.length === 0
        ? colors.green('nothing broken')
        : colors.yellow(
            `but the gate did not see ${cutOff.map((consumer) => `${consumer.userName}'s ${consumer.name} (${consumer.sourceIp}, ${consumer.failures} failed calls)`).join(', ')}`,
          )),
  );
  return 0;
}

/** The scheduled scan as of the demo's future date, its notices to owners, then every rotation it started, run by the local runner. */
async function scanAndRotate(
  config: Config,
  output: Output,
  step: (text: string) => void,
): Promise<{ scan: ScanResult; reports: RotationReport[]; scannedAt: Date }> {
  const { iam, sfn, sns, dynamodb, sts } = await import('#shared/aws/clients.ts');
  const { scanAccount } = await import('#shared/scan/scanner.ts');
  const { runRotation } = await import('./runner.ts');
  const { callerAccountId, createNotifier, ledgerFor } = await import('#shared/notify/notifier.ts');
  const { planScanNotifications, sendScanNotifications } = await import('#shared/scan/scan-notices.ts');
  const { silentLogger } = await import('#shared/base/logger.ts');

  const scannedAt = new Date();
  const asOf = new Date(scannedAt.getTime() + DEMO_SCAN_DAYS_AHEAD * DAY_MS);
  step(
    `scanning as of ${asOf.toISOString().slice(0, 10)}, ${DEMO_SCAN_DAYS_AHEAD} days from now (moto cannot backdate keys, so the demo moves the scanner's clock)`,
  );
  const scan = await scanAccount({
    iam,
    sfn,
    config,
    clock: () => asOf,
    dryRun: false,
    progress: (message) => output.out(colors.dim(`    ${message}`)),
  });
  output.out(
    `    ${scan.usersSeen} users, ${scan.usersReadLive} read live; ` +
      Object.entries(scan.counts)
        .map(([cls, count]) => `${count} ${cls}`)
        .join(', ') +
      `; ${scan.rotationsStarted.length} rotations started`,
  );
  const verdicts = new Map(scan.keys.map((key) => [key.accessKeyId, key]));
  const silent = silentLogger();
  const notifier = createNotifier({
    sns,
    ledger: ledgerFor(dynamodb, config),
    config,
    accountId: callerAccountId(sts),
    clock: () => asOf,
    logger: silent,
  });
  const notices = await sendScanNotifications(planScanNotifications(scan.keys, scan.keysDeactivated, config, asOf), notifier);
  output.out(`    owners notified of keys due soon, unused or losing their exemption: ${notices.sent} sent`);

  step(
    `running the ${scan.rotationsStarted.length} started executions with the local runner (real ASL and handlers; in AWS, Step Functions runs them)`,
  );
  const reports = await Promise.all(
    scan.rotationsStarted.map((rotation) => {
      const onState = (state: StateRecord): void => {
        if (MILESTONES.has(state.name) || state.type === 'Succeed' || state.type === 'Fail') {
          output.out(
            `    ${colors.dim(new Date().toISOString().slice(11, 23))} ${rotation.userName.padEnd(16)} ${state.name.padEnd(16)} ${state.outcome}`,
          );
        }
      };
      return runRotation(
        {
          userName: rotation.userName,
          accessKeyId: rotation.accessKeyId,
          kind: 'scheduled',
          requestedBy: 'scanner',
          reason: verdicts.get(rotation.accessKeyId)?.reason ?? '',
        },
        { config, durations: DEMO_DURATIONS, logger: silent, onState },
      );
    }),
  );
  return { scan, reports, scannedAt };
}

/**
 * The demos' stack in moto: the rotation state machine (the real ASL), the notification topic and
 * the ledger table; returns the configuration naming them. Clients load only now, after the demo
 * has pointed the environment at moto.
 */
export async function createDemoStack(baseConfig: Config): Promise<Config> {
  const { sfn, sns, dynamodb } = await import('#shared/aws/clients.ts');
  const { CreateTopicCommand } = await import('@aws-sdk/client-sns');
  const { ensureLedgerTable } = await import('#shared/notify/ledger.ts');
  const { LOCAL_TOPIC_NAME, LOCAL_LEDGER_TABLE } = await import('./runner.ts');
  const machine = await sfn.send(
    new CreateStateMachineCommand({
      name: 'iam-key-rotator-demo-rotate-key',
      definition: JSON.stringify(loadDefinition(REGION, DEMO_ACCOUNT_ID)),
      roleArn: `arn:aws:iam::${DEMO_ACCOUNT_ID}:role/iam-key-rotator-demo`,
    }),
  );
  const topic = await sns.send(new CreateTopicCommand({ Name: LOCAL_TOPIC_NAME }));
  await ensureLedgerTable(dynamodb, LOCAL_LEDGER_TABLE);
  return {
    ...baseConfig,
    stateMachineArn: machine.stateMachineArn ?? '',
    topicArn: topic.TopicArn ?? '',
    notificationLedgerTable: LOCAL_LEDGER_TABLE,
    operationsEmail: 'ops@example.com',
  };
}

function printTrail(output: Output, logGroupName: string, stats: RecorderStats): void {
  output.out(
    `${colors.cyan('▸')} ${stats.recorded} CloudTrail records written to ${logGroupName}; ` +
      `${stats.refused} calls refused on a key that was not Active (no record, as on AWS)` +
      (stats.lost > 0 ? colors.red(`; ${stats.lost} records lost`) : ''),
  );
}

export async function currentKeyId(
  secretsManager: import('@aws-sdk/client-secrets-manager').SecretsManagerClient,
  secretId: string,
): Promise<string | undefined> {
  try {
    const secret = await secretsManager.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: 'AWSCURRENT' }));
    const parsed = JSON.parse(secret.SecretString ?? '{}') as { AccessKeyId?: unknown };
    return typeof parsed.AccessKeyId === 'string' ? parsed.AccessKeyId : undefined;
  } catch {
    return undefined;
  }
}

function printNotifications(output: Output, notifications: readonly PublishedNotification[]): void {
  output.out(`${colors.cyan('▸')} ${notifications.length} notifications published to SNS (subject ← event, owner):`);
  for (const notification of notifications) {
    const { event = '?', owner = '?' } = notification.attributes;
    output.out(`    ${(notification.subject ?? '(no subject)').padEnd(64)} ${colors.dim(`${event}, ${owner}`)}`);
  }
}
