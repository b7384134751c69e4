import { ListAccountAliasesCommand } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import type { Command } from 'commander';
import { formatDuration, parseDuration } from '#shared/base/duration.ts';
import { iam, organizations, sfn, sts } from '#shared/aws/clients.ts';
import { iamWith } from '#shared/aws/clients/iam.ts';
import { containCommand } from '#shared/base/cli-commands.ts';
import { systemClock } from '#shared/base/clock.ts';
import { loadConfig, type Config } from '#shared/config/settings.ts';
import { memberCredentials } from '#shared/aws/member-account.ts';
import {
  AccessKeyNotFoundError,
  HistoryBoundError,
  InvalidInputError,
  InvalidTagError,
  KeyOfAnotherUserError,
  MissingCredentialsError,
  UserNotFoundError,
} from '#shared/base/errors.ts';
import { HISTORY_BOUND_EVENTS, historyBoundExcess } from '#shared/config/history-budget.ts';
import { logger as lambdaLogger, silentLogger } from '#shared/base/logger.ts';
import type { Durations } from '#shared/rotation/deps.ts';
import { Contained } from '#shared/rotation/workflow-state.ts';
import { LOCAL_DURATIONS, localDefaults, runRotation, type RotationReport, type StateRecord } from '#local/runner.ts';
import { STATES } from '#statemachines/rotate-key.ts';
import { refuseHeldBack, resolveTarget, startRotation } from '#shared/start/start-rotation.ts';
import { accountAdmission } from '#shared/org/account-admission.ts';
import { colors, type Output } from '../local/terminal.ts';
import { addStackOptions, consoleUrl, parseAccountFlag, resolveStack, stackAccountId, STACK_HELP } from './stack.ts';
import { addOutputOptions, outputFormat, type OutputFlags } from './output-format.ts';

export interface RotateFlags extends OutputFlags {
  readonly local?: boolean;
  readonly key?: string;
  readonly account?: string;
  readonly healthCheckInterval?: string;
  readonly healthCheckDeadline?: string;
  readonly observation?: string;
  readonly quietPeriod?: string;
  readonly reason?: string;
  readonly compromised?: boolean;
  readonly overrideExemption?: string;
  readonly stage?: string;
  readonly stack?: string;
  /** retire only: schedule the user's secret for deletion once the key is deleted. */
  readonly deleteSecret?: boolean;
  /** --local against a real account (no AWS_ENDPOINT_URL): go on without asking. */
  readonly yes?: boolean;
}

type RequestedKind = 'manual' | 'compromise' | 'retire';

const HELP = `
Without --local, the rotation starts in the deployed stack (StartExecution on its state machine)
and the command prints the execution's ARN and how to follow it (iam-key-rotator status <user>).
The user and key are checked first: an unknown user, or a key of another user, is refused and
nothing starts. Starting the same rotation while it runs finds that execution instead of a second
one; once a manual rotation has ended (say NeedsAttention), rotating again starts its next attempt,
which takes over the new key the ended one left in AWSCURRENT.
${STACK_HELP}

--compromised (needs --key) is the fast path for a leaked key: the key is deactivated and every
session issued with it so far is denied (an inline policy iam-key-rotator-deny-sessions-before-<time>)
before anything else, the owner and security hear it (severity critical), then a replacement is
issued as in any rotation without ever bringing the leaked key back. A running rotation of the user
is stopped first. COMPROMISED_KEY_ACTION decides whether the leaked key is deleted after the
observation period (delete) or kept Inactive for forensics (keep-inactive).

Exempt users (EXEMPT_PATHS, EXEMPT_GROUPS, a rotation:exempt tag) are refused (UserExemptError)
unless --override-exemption "<reason>" says explicitly to rotate them anyway; the reason goes into
the execution input and the notices. A leaked key of an exempt user is contained regardless, and
the notice says the user was exempt. Protected users (PROTECTED_USERS, PROTECTED_PATHS) are never
acted on, on any path (UserProtectedError): the stack's roles deny them too.

Local mode (--local) runs the real workflow (statemachines/rotate-key.asl.json) in this process
with aws-local-stepfunctions, every step bound to its real handler, against AWS_ENDPOINT_URL (e.g.
moto) or, when it is unset, the account of your AWS credentials: then it names that account, its
alias and the region first, and goes on only with --yes (or "yes" typed at a terminal). The user and
key are checked first, as deployed: a misspelled one is bad usage (exit 2) and nothing runs; a
protected, out-of-scope or exempt user, or one with invalid rotation tags, is refused (exit 1) with
nothing started or notified. Waits are compressed: by default
the health check runs every ${formatDuration(LOCAL_DURATIONS.healthCheckIntervalMs)}, gives up after ${formatDuration(LOCAL_DURATIONS.healthCheckDeadlineMs)}, and the old key is
observed for ${formatDuration(LOCAL_DURATIONS.observationMs)} before it is deleted. The quiet period that tells the old key is idle
(old-key-idle) is ${formatDuration(LOCAL_DURATIONS.oldKeyQuietMs)} against AWS_ENDPOINT_URL only; in a real account it is OLD_KEY_QUIET_PERIOD (default 24h),
as deployed, unless --quiet-period names another. Durations accept ms, s, m, h and d (e.g. 500ms, 30s, 1h).
Waits that could take the execution history past ${HISTORY_BOUND_EVENTS.toLocaleString('en-US')} events (Step Functions fails an execution at
25,000, without MakeSafe) are refused, as deployed: the error gives the smallest interval allowed for
the deadline and observation asked for (see "The execution history bound" in docs/architecture.md).

The workflow: create a new key, store it as AWSPENDING in the user's secret, verify it with STS,
promote it to AWSCURRENT, wait until consumers are healthy on it (HEALTH_CHECKS, default
"consumers-moved old-key-idle": every consumer CloudTrail saw on the old key has moved, and the old
key has gone unused for the quiet period), deactivate the old key, observe, then delete the old key. Trouble during observation
rolls back (old key Active and AWSCURRENT again). Past the health deadline nothing is deactivated:
the run ends as NeedsAttention with both keys Active and the owner notified. Notifications go to
NOTIFICATION_TOPIC_ARN, else to the SNS topic iam-key-rotator-notifications (created if missing).

Exit code: 0 when the rotation Succeeded (deployed: when it started); 3 when it ended safely but needs
a person (NeedsAttention, RolledBack); 1 when it Failed; 2 for bad usage.

Examples:
  $ iam-key-rotator rotate billing-export --reason "owner left the team"
  $ iam-key-rotator rotate billing-export --compromised --key AKIAIOSFODNN7EXAMPLE --stage prod
  $ iam-key-rotator rotate billing-export --compromised --key AKIAIOSFODNN7EXAMPLE --local
  $ iam-key-rotator rotate ci-deployer --account 111122223333 --stage prod
  $ iam-key-rotator rotate billing-export --local
  $ iam-key-rotator rotate legacy-vendor --override-exemption "vendor confirmed the new key works" --stage prod
  $ iam-key-rotator rotate billing-export --local --key AKIAIOSFODNN7EXAMPLE --observation 10s --json`;

export const QUIET_PERIOD_OPTION =
  `how long the key to be cut must go unused before it counts as idle (local default ${formatDuration(LOCAL_DURATIONS.oldKeyQuietMs)} against AWS_ENDPOINT_URL; ` +
  'in a real account OLD_KEY_QUIET_PERIOD, default 24h)';

function durationFlag(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = parseDuration(text);
  if (value === undefined) throw new InvalidInputError(`${flag} must be a positive duration like 500ms, 30s, 5m, 1h or 7d (got "${text}")`);
  return value;
}

/**
 * The flags' waits (the local defaults for those not given) are held to the execution history bound
 * before anything starts, naming the flags: the local run mirrors AWS, where so many polls would fail
 * the execution without MakeSafe. The runner checks again; this check speaks in flags.
 */
function refuseOverHistoryBound(given: Partial<Durations>): void {
  const durations: Durations = { ...LOCAL_DURATIONS, ...given };
  const flag = (name: string, key: keyof Durations): string =>
    `${name} ${formatDuration(durations[key])}${given[key] === undefined ? ' (the local default)' : ''}`;
  // As HEALTH_CHECK_INTERVAL may not outlast HEALTH_CHECK_DEADLINE (shared/config/settings.ts): the gate would check once, at its end.
  if (durations.healthCheckIntervalMs > durations.healthCheckDeadlineMs) {
    throw new InvalidInputError(
      `${flag('--health-check-interval', 'healthCheckIntervalMs')} is longer than ${flag('--health-check-deadline', 'healthCheckDeadlineMs')}: ` +
        'the deadline would pass before the gate checked twice. Shorten the interval or lengthen the deadline. Nothing was started.',
    );
  }
  const excess = historyBoundExcess(durations, '--health-check-interval');
  if (excess === undefined) return;
  throw new HistoryBoundError(
    excess.events,
    excess.bound,
    excess.smallestIntervalMs,
    `${flag('--health-check-interval', 'healthCheckIntervalMs')} with ${flag('--health-check-deadline', 'healthCheckDeadlineMs')} and ` +
      `${flag('--observation', 'observationMs')} ${excess.detail} Nothing was started.`,
  );
}

/** The workflow input keeps requestedBy to 256 characters (shared/rotation/workflow-state.ts). */
const MAX_REQUESTED_BY = 256;

/**
 * Who asked, as STS knows the credentials this CLI signs with: `cli:<caller ARN>`. Not the OS user
 * name, which says nothing about who may act in AWS and which anyone can set. The same credentials
 * sign the StartExecution, so CloudTrail records the same identity. A user ARN with a long IAM path
 * is shortened in the middle, keeping the account and the user name.
 */
export async function requestedBy(client: STSClient = sts): Promise<string> {
  let arn: string | undefined;
  try {
    arn = (await client.send(new GetCallerIdentityCommand({}))).Arn;
  } catch (error) {
    throw new MissingCredentialsError(
      'Could not tell who is asking (STS GetCallerIdentity failed): a rotation records the AWS identity that requested it, so nothing was started. ' +
        'Check your AWS credentials (aws sts get-caller-identity).',
      { cause: error },
    );
  }
  if (arn === undefined || arn === '') throw new MissingCredentialsError('STS GetCallerIdentity returned no ARN; nothing was started.');
  const recorded = `cli:${arn}`;
  if (recorded.length <= MAX_REQUESTED_BY) return recorded;
  const shortened = recorded.replace(/^(cli:arn:[^:]+:iam::\d{12}:user\/).*\/([^/]+)$/, '$1…/$2');
  return shortened.length <= MAX_REQUESTED_BY ? shortened : recorded.slice(0, MAX_REQUESTED_BY);
}

export function registerRotate(program: Command, output: Output, setResult: (code: number) => void): void {
  const command = program
    .command('rotate')
    .description("Rotate one IAM user's access key: new key in the user's secret, verified, consumers moved, old key retired.")
    .argument('<user>', 'IAM user name')
    .option('--local', 'run the workflow in this process (against AWS_ENDPOINT_URL or your credentials)')
    .option('--key <access-key-id>', "the key to replace (default: the user's oldest Active key)")
    .option(
      '--account <id>',
      "the member account the user lives in (organization-wide deployments): assumes the stack's MEMBER_ROLE_NAME there (its StackSettings output; the environment's with ROTATION_STATE_MACHINE_ARN, or with --local)",
    )
    .option(
      '--health-check-interval <duration>',
      `time between consumer health checks (local default ${formatDuration(LOCAL_DURATIONS.healthCheckIntervalMs)})`,
    )
    .option(
      '--health-check-deadline <duration>',
      `give up waiting for healthy consumers after this long (local default ${formatDuration(LOCAL_DURATIONS.healthCheckDeadlineMs)})`,
    )
    .option(
      '--observation <duration>',
      `how long the old key stays Inactive before it is deleted (local default ${formatDuration(LOCAL_DURATIONS.observationMs)})`,
    )
    .option('--quiet-period <duration>', QUIET_PERIOD_OPTION)
    .option('--reason <text>', 'why this rotation was requested (shown in notifications)')
    .option(
      '--override-exemption <reason>',
      'rotate a user that is exempt (EXEMPT_PATHS, EXEMPT_GROUPS, rotation:exempt) anyway; the reason is recorded in the execution input and the notices',
    )
    .option('--compromised', 'the key leaked: contain it first (deactivate, deny its sessions), then replace it; needs --key')
    .option('--yes', '--local in a real account (no AWS_ENDPOINT_URL): go on without asking')
    .addHelpText('after', HELP)
    .action(async (userName: string, flags: RotateFlags) => {
      setResult(await rotate(userName, flags, output));
    });
  addOutputOptions(command, 'print one JSON object with the outcome and every state on stdout');
  addStackOptions(command);
}

/** A rotation, or with `retirement` a retirement: the same checks, the same local run or deployed start. */
export async function rotate(userName: string, flags: RotateFlags, output: Output, retirement = false): Promise<number> {
  if (flags.key !== undefined && !/^[A-Z0-9]{16,128}$/.test(flags.key)) {
    throw new InvalidInputError(`--key must be an access key id like AKIAIOSFODNN7EXAMPLE (got "${flags.key}")`);
  }
  const durations: Partial<Durations> = Object.fromEntries(
    Object.entries({
      healthCheckIntervalMs: durationFlag('--health-check-interval', flags.healthCheckInterval),
      healthCheckDeadlineMs: durationFlag('--health-check-deadline', flags.healthCheckDeadline),
      observationMs: durationFlag('--observation', flags.observation),
      oldKeyQuietMs: durationFlag('--quiet-period', flags.quietPeriod),
    }).filter(([, value]) => value !== undefined),
  );
  const accountId = parseAccountFlag(flags.account);
  if (flags.compromised && flags.key === undefined) {
    throw new InvalidInputError('--compromised needs --key <access-key-id>: name the leaked key, so only that key is contained.');
  }
  const kind: RequestedKind = retirement ? 'retire' : flags.compromised ? 'compromise' : 'manual';
  if (flags.overrideExemption !== undefined && flags.overrideExemption.trim() === '') {
    throw new InvalidInputError(
      '--override-exemption needs a reason: it is recorded in the notices, so say why this exempt user is rotated anyway.',
    );
  }
  if (flags.overrideExemption !== undefined && flags.compromised) {
    throw new InvalidInputError(
      '--override-exemption is not needed with --compromised: a leaked key is contained whether or not its user is exempt.',
    );
  }
  if (!flags.local) {
    if (Object.keys(durations).length > 0)
      throw new InvalidInputError(
        '--health-check-interval, --health-check-deadline, --observation and --quiet-period apply to --local runs; a deployed stack uses its configuration.',
      );
    return rotateDeployed(userName, kind, accountId, flags, output);
  }
  refuseOverHistoryBound(durations);
  const request = await rotationRequest(userName, kind, accountId, flags);
  const config = loadConfig(process.env);
  await confirmLocalTarget(flags, output, durations, config);
  // A misspelled user or key is bad usage, caught before the workflow starts: no Failed run, no notice.
  if (accountId === undefined)
    for (const problem of await checkLocalTarget(request, config)) output.err(colors.yellow(`warning: ${problem.message}`));
  // The step handlers log JSON lines for CloudWatch; on a terminal the state lines below say the same,
  // so their logs are off unless POWERTOOLS_LOG_LEVEL asks for them.
  const logger = process.env.POWERTOOLS_LOG_LEVEL ? lambdaLogger : silentLogger();

  const json = outputFormat(flags) === 'json';
  const progress = (text: string): void => (json ? output.err(text) : output.out(text));
  let contained: Contained | undefined;
  const report = await runRotation(request, {
    durations,
    logger,
    onNotice: (text) => output.err(colors.dim(text)),
    onState: (state) => progress(stateLine(state)),
    onStateData: ({ name, output: data }) => {
      const parsed = name === STATES.Contain ? Contained.safeParse((data as { contained?: unknown } | undefined)?.contained) : undefined;
      if (parsed?.success) contained = parsed.data;
    },
  });
  if (json) output.out(JSON.stringify(report, null, 2));
  else {
    if (contained) output.out(containedLine(contained, report));
    output.out(retirement ? retirementSummary(report) : summary(report, contained));
  }
  return exitCodeOf(report.status);
}

/**
 * --local acts wherever the credentials point. Against AWS_ENDPOINT_URL (moto, the demo) that is a
 * stand-in; without it, it is a real account: the CLI names the account, its alias and the region
 * before any change, and goes on only with --yes, or a "yes" typed at a terminal.
 */
async function confirmLocalTarget(flags: RotateFlags, output: Output, given: Partial<Durations>, config: Config): Promise<void> {
  if (process.env.AWS_ENDPOINT_URL) {
    output.err(colors.dim(`Local run against ${process.env.AWS_ENDPOINT_URL} (AWS_ENDPOINT_URL).`));
    return;
  }
  const identity = await sts.send(new GetCallerIdentityCommand({}));
  const aliases = await iam.send(new ListAccountAliasesCommand({})).then(
    (response) => response.AccountAliases ?? [],
    () => [],
  );
  const region = await sts.config.region();
  const where = `AWS account ${identity.Account ?? '?'}${aliases[0] ? ` (${aliases[0]})` : ''}, region ${region}, as ${identity.Arn ?? '?'}`;
  output.err(colors.yellow(`--local without AWS_ENDPOINT_URL acts in a real account: ${where}.`));
  const quiet = given.oldKeyQuietMs ?? localDefaults(config).oldKeyQuietMs;
  output.err(
    colors.yellow(
      `The key to be cut counts as idle only after ${formatDuration(quiet)} with no use` +
        `${given.oldKeyQuietMs === undefined ? ' (OLD_KEY_QUIET_PERIOD, as deployed; --quiet-period to change)' : ' (--quiet-period)'}.`,
    ),
  );
  if (flags.yes) return;
  if (!process.stdin.isTTY || !process.stderr.isTTY) {
    throw new InvalidInputError(
      `Nothing was changed: --local in a real account (${where}) needs --yes. Or set AWS_ENDPOINT_URL to run against moto.`,
    );
  }
  const readline = await import('node:readline/promises');
  const prompt = readline.createInterface({ input: process.stdin, output: process.stderr });
  const answer = await prompt.question('Type "yes" to go on: ').finally(() => prompt.close());
  if (answer.trim().toLowerCase() !== 'yes') throw new InvalidInputError(`Nothing was changed: you did not confirm acting in ${where}.`);
}

/**
 * The same live checks a deployed start makes, before the workflow starts: a misspelled user or key
 * is bad usage; a user the rotator may not act on (protected, out of scope, invalid rotation tags,
 * exempt) is refused as deployed, with its typed error, and no one is notified.
 */
async function checkLocalTarget(request: Awaited<ReturnType<typeof rotationRequest>>, config: Config): Promise<readonly InvalidTagError[]> {
  let target: { userName: string };
  try {
    target = await resolveTarget(request, iam);
  } catch (error) {
    if (error instanceof UserNotFoundError || error instanceof AccessKeyNotFoundError || error instanceof KeyOfAnotherUserError) {
      throw new InvalidInputError(error.message, { cause: error });
    }
    throw error;
  }
  return refuseHeldBack(target.userName, request, iam, config, systemClock);
}

/** 0 Succeeded; 3 (EXIT_NEEDS_PERSON) when it ended safely but a person must act (NeedsAttention, RolledBack); 1 Failed. */
function exitCodeOf(status: RotationReport['status']): number {
  if (status === 'Succeeded') return 0;
  return status === 'Failed' ? 1 : 3;
}

/** What the person asked for, the same for a local run and a deployed start. */
async function rotationRequest(userName: string, kind: RequestedKind, accountId: string | undefined, flags: RotateFlags) {
  return {
    userName,
    accessKeyId: flags.key,
    kind,
    requestedBy: await requestedBy(),
    reason: flags.reason ?? '',
    ...(accountId === undefined ? {} : { accountId }),
    ...(flags.overrideExemption === undefined ? {} : { exemptionOverride: flags.overrideExemption }),
    ...(flags.deleteSecret ? { deleteSecret: true } : {}),
  };
}

/** StartExecution in the deployed stack, after the same checks the start-rotation Lambda makes. */
async function rotateDeployed(
  userName: string,
  kind: RequestedKind,
  accountId: string | undefined,
  flags: RotateFlags,
  output: Output,
): Promise<number> {
  const stack = await resolveStack(flags);
  const silent = silentLogger();
  // The member role, its external id and the organization filters as the stack's functions use them.
  const config = loadConfig(process.env, stack.settings);
  // The stack's own account is the state machine's; another account is reached through its member role.
  const started = await startRotation(await rotationRequest(userName, kind, accountId, flags), {
    iam,
    sfn,
    stateMachineArn: stack.stateMachineArn,
    logger: silent,
    ownAccountId: async () => stackAccountId(stack.stateMachineArn),
    iamFor: async (member) => iamWith(memberCredentials(sts, config, systemClock)(member)),
    // The same organization filters as the deployed start-rotation: the CLI is no way around them.
    admitAccount: accountAdmission(organizations, config),
  });
  if (outputFormat(flags) === 'json') {
    output.out(JSON.stringify({ ...started, stateMachineArn: stack.stateMachineArn }, null, 2));
    return 0;
  }
  for (const stopped of started.stopped)
    output.out(colors.yellow(`Stopped running rotation ${stopped}: the compromise rotation takes over.`));
  const what = `${kind === 'retire' ? 'retirement' : `${kind} rotation`} of ${started.accessKeyId} (user ${started.userName}${started.accountId ? ` in account ${started.accountId}` : ''})`;
  output.out(
    started.status === 'started'
      ? `${colors.green('Started')} ${what}`
      : `${colors.yellow('Already started')}: ${what}; no second execution was started.`,
  );
  if (started.previousAttempt)
    output.out(
      `This is a new attempt: the previous one, ${started.previousAttempt.executionName}, ended ${started.previousAttempt.status}.`,
    );
  output.out(`Execution: ${started.executionArn}`);
  output.out(
    `Follow it: iam-key-rotator status ${started.userName}${started.accountId ? ` --account ${started.accountId}` : ''}${flags.stage ? ` --stage ${flags.stage}` : ''}${flags.stack ? ` --stack ${flags.stack}` : ''}`,
  );
  output.out(`Console:   ${consoleUrl(started.executionArn)}`);
  return 0;
}

function containedLine(contained: Contained, report: RotationReport): string {
  const quarantine =
    contained.awsQuarantinePolicies.length > 0 ? ` AWS quarantine kept attached: ${contained.awsQuarantinePolicies.join(', ')}.` : '';
  const policy = `(inline policy ${contained.denyPolicyName}; remove it by hand once the investigation is done).${quarantine}`;
  if (contained.session) {
    return (
      `${colors.red('Contained')}: the sessions of ${report.userName} issued before ${contained.deniedBefore} are denied ${policy} ` +
      `No key was deactivated: ${report.oldAccessKeyId ?? ''} is a session's temporary key id.\n${contained.session.detail}`
    );
  }
  return (
    `${colors.red('Contained')}: ${report.oldAccessKeyId ?? ''} is Inactive and sessions issued before ${contained.deniedBefore} are denied ` +
    `${policy}\nReplacement: ${contained.detail}.`
  );
}

function stateLine(state: StateRecord): string {
  const time = state.enteredAt.slice(11, 23);
  const failed = state.outcome.startsWith('failed') || state.outcome.startsWith('caught');
  const outcome = failed
    ? colors.red(state.outcome)
    : state.outcome === 'retried'
      ? colors.yellow(state.outcome)
      : colors.dim(state.outcome);
  return `${colors.dim(time)}  ${state.name.padEnd(26)} ${outcome}`;
}

const STATUS_COLOR: Record<RotationReport['status'], (text: string) => string> = {
  Succeeded: colors.green,
  RolledBack: colors.yellow,
  NeedsAttention: colors.yellow,
  Failed: colors.red,
};

/** What a person does after a compromise run that issued no replacement (NoReplacement): the critical notice's to-do, in short. */
function uncontainedNext(report: RotationReport, contained: Contained): string {
  if (contained.session) {
    return contained.session.issuedBy
      ? `If access key ${contained.session.issuedBy}, which opened the session, leaked too, contain it: ${containCommand(report.userName, contained.session.issuedBy)}. Then review what the session did (the critical notice lists it).`
      : 'Find how the session was obtained (a leaked key, a console password) and contain that; the critical notice lists what the session did.';
  }
  return `No replacement was issued (${contained.detail}); the user's other key keeps working. Follow the critical notice.`;
}

function summary(report: RotationReport, contained?: Contained): string {
  const next: Record<RotationReport['status'], string> = {
    Succeeded: 'The old key is deleted; consumers use the new key from the secret.',
    RolledBack:
      report.currentKeyId !== undefined && report.currentKeyId !== null && report.currentKeyId !== report.oldAccessKeyId
        ? 'The old key is Active again. AWSCURRENT stays on the new key, which stays Active: no version of the secret ever held the old key, so nothing reading the secret is locked out. Unless a person aborted it, find the consumer that failed (the notice to the owner says why it rolled back); then rotate again: that run takes the new key over.'
        : 'The old key is Active and AWSCURRENT again; the new key is Inactive. Unless a person aborted it, find the consumer that failed (the notice to the owner says why it rolled back); then rotate again.',
    NeedsAttention: `Consumers did not move to the new key in time. Both keys are Active; move the remaining consumers to the secret${report.secretName ? ` ${report.secretName}` : ''}, then rotate again: that run takes the new key over and retires the old one. Do not delete the new key: the secret holds it.`,
    // No state ran: the run was refused before the workflow started (another run of the user, no key to rotate).
    Failed:
      report.states.length === 0
        ? 'Nothing was started and nothing was changed.'
        : 'The workflow undid what it could (MakeSafe: no fewer working keys than before) and notified the owner.',
  };
  const noReplacement = contained !== undefined && report.states.some((state) => state.name === 'NoReplacement');
  const leaked = contained !== undefined && !contained.session;
  return endLines(
    report,
    `${leaked ? 'leaked' : 'old'} key ${report.oldAccessKeyId ?? '(none)'}, new key ${report.newAccessKeyId ?? '(none)'}`,
    leaked ? 'seen on the leaked key:' : 'still on the old key:',
    noReplacement ? uncontainedNext(report, contained) : leaked ? replacedNext(report, contained) : next[report.status],
  );
}

/** After a leaked key's replacement: it never comes back, whatever the run's end; a key containment left Active is named. */
function replacedNext(report: RotationReport, contained: Contained): string {
  const leaked = report.oldAccessKeyId ?? '';
  const other =
    contained.plan === 'delete-compromised' && contained.otherKeyId !== null
      ? ` The user's other key ${contained.otherKeyId} is still Active: containment left it alone; if it may have leaked too: ${containCommand(report.userName, contained.otherKeyId)}.`
      : '';
  const denyPolicy = ` Remove ${contained.denyPolicyName} once the investigation is over.`;
  switch (report.status) {
    case 'Succeeded':
      return (
        (contained.compromisedKeyAction === 'keep-inactive'
          ? `The leaked key ${leaked} is kept Inactive for forensics (COMPROMISED_KEY_ACTION=keep-inactive); delete it by hand when the investigation no longer needs it. `
          : `The leaked key ${leaked} is deleted. `) + `Consumers use the new key from the secret.${other}${denyPolicy}`
      );
    case 'Failed':
      return `The leaked key ${leaked} stays Inactive; the workflow undid what else it could (MakeSafe) and notified the owner. Fix the cause, then run it again: ${containCommand(report.userName, leaked)}.`;
    default:
      return `The leaked key ${leaked} stays Inactive and was not deleted; the new key stays AWSCURRENT. Find why consumers fail on it (the notice to the owner says why).${other}${denyPolicy}`;
  }
}

/** The lines after a local run, rotation or retirement alike: how it ended, its error, who still uses the key, what to do next. */
function endLines(report: RotationReport, keys: string, stillLabel: string, next: string): string {
  const lines = [
    '',
    `${STATUS_COLOR[report.status](report.status)}: ${report.userName}, ${keys} (${report.states.length} states, ${(report.durationMs / 1000).toFixed(1)}s)`,
  ];
  if (report.error) lines.push(`${colors.red(report.error.name)}: ${report.error.message}`);
  for (const consumer of report.stillOnOldKey ?? []) {
    lines.push(
      `${colors.yellow(stillLabel)} ${consumer.source} (${consumer.agent}) calling ${consumer.calls.join(', ') || 'nothing seen'}, last seen ${consumer.lastSeen}`,
    );
  }
  lines.push(next);
  return lines.join('\n');
}

function retirementSummary(report: RotationReport): string {
  const next: Record<RotationReport['status'], string> = {
    Succeeded: 'The key is deleted; no consumer had used it for the quiet period.',
    RolledBack: 'The key is Active again. Find what still needs it (iam-key-rotator consumers), move it off, then retire the key again.',
    NeedsAttention: 'The key is still used, so it was not cut: it stays Active. Move the consumers listed off it, then retire it again.',
    Failed:
      report.states.length === 0
        ? 'Nothing was started and nothing was changed.'
        : 'The key was left Active (MakeSafe reactivates it if it was cut) and the owner was notified.',
  };
  return endLines(report, `key ${report.oldAccessKeyId ?? '(none)'}`, 'still using the key:', next[report.status]);
}
