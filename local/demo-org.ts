import { IAMClient } from '@aws-sdk/client-iam';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DescribeExecutionCommand, ListExecutionsCommand } from '@aws-sdk/client-sfn';
import type { Output } from './terminal.ts';
import { colors } from './terminal.ts';
import { DAY_MS } from '#shared/base/clock.ts';
import { SimulatedConsumer, type ConsumerStats } from './consumer.ts';
import { CONSUMER_INTERVAL_MS, createDemoStack, currentKeyId, DEMO_ACCOUNT_ID, DEMO_DURATIONS, seconds, withLocalAws } from './demo.ts';
import { DEMO_SCAN_DAYS_AHEAD, seedDemoUser, type DemoUser } from './demo-account.ts';
import { noticesAbout, printDemoTable, type DemoUserOutcome, type ExpectedOutcome } from './demo-table.ts';
import { motoCredentialsIn, publishedNotifications, type PublishedNotification } from './moto-inspect.ts';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Config } from '#shared/config/settings.ts';
import type { RotationReport } from './runner.ts';
import type { ScannedKey } from '#shared/scan/scanner.ts';

interface OrgDemoUser extends DemoUser {
  readonly account: 'payments-prod' | 'data-prod' | 'sandbox-1';
  /** What the demo expects, checked against what happened. */
  readonly expected: ExpectedOutcome;
}

const USERS: readonly OrgDemoUser[] = [
  {
    account: 'payments-prod',
    userName: 'card-processor',
    owner: 'payments@example.com',
    tags: {},
    keys: 1,
    consumers: [{ name: 'checkout-api', behaviour: 'follows-rotation' }],
    expected: 'Succeeded',
    story: 'due: rotated in its own account, consumer follows',
  },
  {
    account: 'payments-prod',
    userName: 'ledger-sync',
    owner: 'payments@example.com',
    tags: {},
    keys: 1,
    consumers: [{ name: 'ledger-batch', behaviour: 'follows-rotation' }],
    expected: 'Succeeded',
    story: 'due: rotated in its own account, consumer follows',
  },
  {
    account: 'data-prod',
    userName: 'etl-loader',
    owner: 'data@example.com',
    tags: {},
    keys: 1,
    consumers: [{ name: 'airflow-worker', behaviour: 'follows-rotation' }],
    expected: 'Succeeded',
    story: 'due: rotated in its own account, consumer follows',
  },
  {
    account: 'data-prod',
    userName: 'bi-export',
    owner: 'data@example.com',
    tags: {},
    keys: 1,
    consumers: [{ name: 'dashboard-extract', behaviour: 'never-moves' }],
    expected: 'NeedsAttention',
    story: 'consumer never moves: both keys kept, owner told',
  },
  {
    account: 'sandbox-1',
    userName: 'scratch',
    owner: 'sandbox@example.com',
    tags: {},
    keys: 1,
    consumers: [{ name: 'notebook', behaviour: 'follows-rotation' }],
    expected: 'not rotated',
    story: 'account in the excluded sandbox OU: never scanned',
  },
];

/**
 * `iam-key-rotator demo --org`: organization-wide rotation on a laptop. moto hosts an organization
 * (this, the management account, and three member accounts, one of them in a sandbox OU that
 * ORG_EXCLUDE_OUS leaves out); each member account has users whose workloads read their keys from a
 * secret in that account. The real scan-organization state machine runs locally (list, Distributed
 * Map over the accounts, report), the scans start rotations that name their account, and the local
 * runner executes each through the member role while the consumers keep calling AWS.
 */
export async function runOrgDemo(output: Output): Promise<number> {
  return withLocalAws(output, (moto, step, started) => runAgainst(moto.endpoint, output, step, started));
}

type MemberClients = { readonly accountId: string; readonly iam: IAMClient; readonly secretsManager: SecretsManagerClient };
type ExecutionInput = { userName: string; accessKeyId: string; accountId?: string; accountName?: string; reason?: string };

const secretName = (userName: string): string => `iam-key-rotator/${userName}`;

async function runAgainst(endpoint: string, output: Output, step: (text: string) => void, started: number): Promise<number> {
  // Every shared module is loaded only inside the steps, so the SDK clients it creates see the local endpoint.
  const memberOf = await createOrganization(step);
  step(`seeding ${USERS.length} IAM users in the member accounts, a key each and a secret holding it in the same account`);
  for (const user of USERS) {
    const { iam, secretsManager, accountId } = memberOf(user);
    await seedDemoUser({ iam, secretsManager }, user, secretName);
    output.out(`    ${`${user.account} ${accountId}`.padEnd(28)} ${user.userName.padEnd(16)} ${colors.dim(user.story)}`);
  }
  const consumers = USERS.flatMap((user) =>
    user.consumers.map(
      (consumer) =>
        new SimulatedConsumer({
          userName: user.userName,
          secretId: secretName(user.userName),
          secretsManager: memberOf(user).secretsManager,
          followsRotation: consumer.behaviour === 'follows-rotation',
          intervalMs: CONSUMER_INTERVAL_MS,
          name: consumer.name,
          sourceIp: consumer.sourceIp,
          userAgent: consumer.userAgent,
        }),
    ),
  );
  step(`starting ${consumers.length} simulated consumers, each in its account (bi-export's dashboard-extract never re-reads its secret)`);
  for (const consumer of consumers) consumer.start();
  await Promise.all(consumers.map((consumer) => consumer.callOnce()));

  // Stopped however the run ends: a running consumer keeps the process alive.
  let scanned: Awaited<ReturnType<typeof scanAndRotate>>;
  let stats: ConsumerStats[];
  try {
    scanned = await scanAndRotate(output, step, memberOf);
  } finally {
    stats = await Promise.all(consumers.map((consumer) => consumer.stop()));
  }
  if (scanned === undefined) return 1;

  const notifications = await publishedNotifications(endpoint);
  step('what happened to every key, account by account');
  const surprises = printDemoTable(output, await outcomesOf(memberOf, scanned, stats, notifications));
  printNotifications(output, notifications);
  if (surprises > 0) {
    output.err(colors.red(`${surprises} user(s) did not end as the demo expects: see the table above.`));
    return 1;
  }
  step(
    colors.green(
      `organization demo finished in ${seconds(started)}: each account scanned through its member role, the sandbox OU left out, due keys rotated in their own accounts`,
    ),
  );
  return 0;
}

/** What the organization scan saw and the rotations it started did. */
interface ScanAndRotation {
  /** The keys of each account the scan looked at, as it classified them. */
  readonly scannedKeys: ReadonlyMap<string, readonly ScannedKey[]>;
  readonly inputs: readonly ExecutionInput[];
  /** The report of each execution, at the index of its input. */
  readonly reports: readonly RotationReport[];
}

/** The scan-organization state machine as of the demo's future date, then every rotation it started; undefined when the scan failed (said on stderr). */
async function scanAndRotate(
  output: Output,
  step: (text: string) => void,
  memberOf: (user: OrgDemoUser) => MemberClients,
): Promise<ScanAndRotation | undefined> {
  const { loadConfig } = await import('#shared/config/settings.ts');
  const { runOrganizationScan } = await import('./org-runner.ts');
  const { silentLogger } = await import('#shared/base/logger.ts');
  const config = { ...(await createDemoStack(loadConfig(process.env))), unusedAfterDays: 365 };
  const silent = silentLogger();

  const asOf = new Date(Date.now() + DEMO_SCAN_DAYS_AHEAD * DAY_MS);
  step(
    `running the scan-organization state machine as of ${asOf.toISOString().slice(0, 10)} (ListAccounts → Distributed Map of per-account scans → Report)`,
  );
  const run = await runOrganizationScan({
    config,
    clock: () => asOf,
    logger: silent,
    ownAccountId: DEMO_ACCOUNT_ID,
    onAccount: (outcome, account) =>
      output.out(
        `    ${account.accountId} ${account.accountName.padEnd(14)} ${outcome.status}: ${outcome.keysDue} due, ${outcome.rotationsStarted} rotations started`,
      ),
  });
  for (const skipped of run.skipped)
    output.out(`    ${skipped.accountId} ${skipped.accountName.padEnd(14)} ${colors.dim(`skipped: ${skipped.reason}`)}`);
  if (run.status !== 'Succeeded') {
    output.err(colors.red(`the organization scan failed: ${run.error?.name ?? ''}: ${run.error?.message ?? ''}`));
    return undefined;
  }

  const scannedKeys = await classifyAgain(config, asOf, new Set(run.accounts.map((account) => account.accountId)), memberOf);
  return { scannedKeys, ...(await runStartedExecutions(config, silent, step)) };
}

/**
 * The classes the organization scan gave the keys of the accounts it scanned. It returns only counts
 * per account (its results pass through Step Functions, whose states hold at most 256 KiB), so the same
 * scanner classifies the demo users' keys again: a dry run on the scan's clock, before any rotation changes them.
 */
async function classifyAgain(
  config: Config,
  asOf: Date,
  scannedAccountIds: ReadonlySet<string>,
  memberOf: (user: OrgDemoUser) => MemberClients,
): Promise<Map<string, readonly ScannedKey[]>> {
  const { sfn } = await import('#shared/aws/clients.ts');
  const { scanAccount } = await import('#shared/scan/scanner.ts');
  const scanned = new Map<string, readonly ScannedKey[]>();
  for (const user of USERS) {
    const { accountId, iam } = memberOf(user);
    if (!scannedAccountIds.has(accountId) || scanned.has(accountId)) continue;
    const result = await scanAccount({ iam, sfn, config, clock: () => asOf, dryRun: true, all: true });
    scanned.set(accountId, result.keys);
  }
  return scanned;
}

/** The organization in moto: two workload accounts, one sandbox account left out by ORG_EXCLUDE_OUS; returns each demo user's member-account clients. */
async function createOrganization(step: (text: string) => void): Promise<(user: OrgDemoUser) => MemberClients> {
  const { sts, organizations } = await import('#shared/aws/clients.ts');
  const { CreateAccountCommand, CreateOrganizationCommand, CreateOrganizationalUnitCommand, ListRootsCommand, MoveAccountCommand } =
    await import('@aws-sdk/client-organizations');
  step('creating an organization: this management account, OU workloads (payments-prod, data-prod), OU sandbox (sandbox-1)');
  await organizations.send(new CreateOrganizationCommand({ FeatureSet: 'ALL' }));
  const rootId = (await organizations.send(new ListRootsCommand({}))).Roots?.[0]?.Id ?? '';
  const ou = async (name: string): Promise<string> =>
    (await organizations.send(new CreateOrganizationalUnitCommand({ ParentId: rootId, Name: name }))).OrganizationalUnit?.Id ?? '';
  const workloads = await ou('workloads');
  const sandbox = await ou('sandbox');
  const accounts = new Map<OrgDemoUser['account'], string>();
  for (const [name, parent] of [
    ['payments-prod', workloads],
    ['data-prod', workloads],
    ['sandbox-1', sandbox],
  ] as const) {
    const created = await organizations.send(new CreateAccountCommand({ AccountName: name, Email: `${name}@example.com` }));
    const accountId = created.CreateAccountStatus?.AccountId ?? '';
    await organizations.send(new MoveAccountCommand({ AccountId: accountId, SourceParentId: rootId, DestinationParentId: parent }));
    accounts.set(name, accountId);
  }
  process.env.ORG_EXCLUDE_OUS = sandbox;
  process.env.SCAN_SCOPE = 'organization';

  // Clients acting in a member account, as the seeding "owner" of that account would have them.
  const clientsOf = new Map<string, { iam: IAMClient; secretsManager: SecretsManagerClient }>();
  for (const accountId of accounts.values()) {
    const credentials = await motoCredentialsIn(sts, accountId, 'demo-setup');
    clientsOf.set(accountId, { iam: new IAMClient({ credentials }), secretsManager: new SecretsManagerClient({ credentials }) });
  }
  return (user) => {
    const accountId = accounts.get(user.account) ?? '';
    const clients = clientsOf.get(accountId);
    if (!clients) throw new Error(`no clients for ${user.account}`);
    return { accountId, ...clients };
  };
}

/** Every execution the organization scan started, run by the local runner in the account its input names. */
async function runStartedExecutions(
  config: Config,
  logger: Logger,
  step: (text: string) => void,
): Promise<{ inputs: ExecutionInput[]; reports: RotationReport[] }> {
  const { sfn } = await import('#shared/aws/clients.ts');
  const { runRotation } = await import('./runner.ts');
  const executions = (await sfn.send(new ListExecutionsCommand({ stateMachineArn: config.stateMachineArn }))).executions ?? [];
  const inputs = await Promise.all(
    executions.map(async (execution) => {
      const described = await sfn.send(new DescribeExecutionCommand({ executionArn: execution.executionArn }));
      return JSON.parse(described.input ?? '{}') as ExecutionInput;
    }),
  );
  step(
    `running the ${inputs.length} started executions with the local runner: every step acts in the user's account through the member role`,
  );
  const reports = await Promise.all(
    inputs.map((input) =>
      runRotation(
        {
          userName: input.userName,
          accessKeyId: input.accessKeyId,
          kind: 'scheduled',
          requestedBy: 'scanner',
          reason: input.reason ?? '',
          accountId: input.accountId,
          accountName: input.accountName,
        },
        { config, durations: DEMO_DURATIONS, logger },
      ),
    ),
  );
  return { inputs, reports };
}

/** Every demo user after the run, in its account, as the demos' table shows it. */
async function outcomesOf(
  memberOf: (user: OrgDemoUser) => MemberClients,
  { scannedKeys, inputs, reports }: ScanAndRotation,
  stats: readonly ConsumerStats[],
  notifications: readonly PublishedNotification[],
): Promise<DemoUserOutcome[]> {
  const { listUserKeys } = await import('#shared/aws/iam.ts');
  return Promise.all(
    USERS.map(async (user) => {
      const { iam, secretsManager, accountId } = memberOf(user);
      return {
        account: { name: user.account, id: accountId },
        userName: user.userName,
        scanClasses: scannedKeys
          .get(accountId)
          ?.filter((key) => key.userName === user.userName)
          .map((key) => key.class),
        rotations: reports.filter((report, at) => report.userName === user.userName && inputs[at]?.accountId === accountId),
        expected: user.expected,
        keys: await listUserKeys(iam, user.userName),
        currentKeyId: await currentKeyId(secretsManager, secretName(user.userName)),
        // Consumers and their stats carry no account: the demo's user names are unique across its accounts.
        consumers: stats.filter((stat) => stat.userName === user.userName),
        notices: noticesAbout(notifications, user.userName, accountId),
      };
    }),
  );
}

function printNotifications(output: Output, notifications: readonly PublishedNotification[]): void {
  output.out(
    `${colors.cyan('▸')} ${notifications.length} notifications published to SNS, each naming the account of its key (subject ← event, accountId):`,
  );
  for (const notification of notifications) {
    const { event = '?', accountId = '?' } = notification.attributes;
    output.out(`    ${(notification.subject ?? '(no subject)').padEnd(72)} ${colors.dim(`${event}, ${accountId}`)}`);
  }
}
