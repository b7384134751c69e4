import { Option, type Command } from 'commander';
import Table from 'cli-table3';
import { dynamodb, iam, sfn, sns, sts } from '#shared/aws/clients.ts';
import { requireUser } from '#shared/aws/iam.ts';
import { asOfFromToday, fixedClock, systemClock } from '#shared/base/clock.ts';
import { loadConfig, type Config } from '#shared/config/settings.ts';
import { InvalidInputError } from '#shared/base/errors.ts';
import { callerAccountId, createNotifier, ledgerFor } from '#shared/notify/notifier.ts';
import { KEY_CLASSES, type KeyClass } from '#shared/scan/classify-keys.ts';
import { logger as lambdaLogger, silentLogger } from '#shared/base/logger.ts';
import { planScanNotifications, sendScanNotifications } from '#shared/scan/scan-notices.ts';
import { scanAccount, type ScanResult, type ScannedKey } from '#shared/scan/scanner.ts';
import { runOrganizationScan } from '#local/org-runner.ts';
import { colors, type Output } from '../local/terminal.ts';
import { addStackOptions, resolveStack } from './stack.ts';
import { addOutputOptions, outputFormat, type OutputFlags } from './output-format.ts';
import { rowsCsv } from '#shared/base/csv.ts';

interface ScanFlags extends OutputFlags {
  readonly user?: string[];
  readonly all?: boolean;
  readonly asOf?: string;
  readonly dryRun?: boolean;
  readonly apply?: boolean;
  readonly detailedExitcode?: boolean;
  readonly org?: boolean;
  readonly stateMachineArn: string | undefined;
  readonly stage?: string;
  readonly stack?: string;
}

/** One listed key as `--json` prints it. */
export interface ScanRow extends ScannedKey {
  /** What this scan did about the key: "rotation started", "deactivated", or why it did not. */
  readonly outcome: string | null;
  /** The user's invalid rotation tags, one message each (empty: none). */
  readonly tagProblems: readonly string[];
}

const HELP = `
Which keys are listed:
  By default, the keys that need action or attention (every class but ok), at the scheduled
  scanner's cost: one IAM credential report, one GetAccountAuthorizationDetails page per 1,000
  users, and live reads only of users whose keys are not ok. With --user, every key of the named
  users (read directly, no report). With --all, every key of every user.

Classes: ok, warn (rotation due soon), due, unused (retire rather than renew), exempt, inactive.

Plan, then apply: scan only reads and shows its plan (what it would start or change) unless asked
to act with --apply, so a ROTATION_STATE_MACHINE_ARN left in the shell never turns a look into an
action. With --apply and a state machine, scan starts a rotation for each due key (at most
MAX_ROTATIONS_PER_RUN, oldest first, one per user) and deactivates or retires unused keys as
UNUSED_KEY_ACTION says, like the scheduled scanner; with a notification topic it also sends the
owners' warnings (due soon, unused, exemption ending), each once per key and threshold across scans
(recorded in the ledger table). --dry-run is the default, kept for scripts.

Where the state machine, topic and ledger table come from:
  --stage STAGE / --stack NAME: the deployed stack iam-key-rotator-<stage> (or NAME), from its
  outputs RotateKeyStateMachineArn, NotificationTopicArn and NotificationLedgerTableName, with the
  stack-only settings of its StackSettings output (SECRET_NAME_PREFIX, MEMBER_ROLE_NAME,
  MEMBER_ROLE_EXTERNAL_ID, the ORG_* filters), whatever the environment says; the stack must exist.
  Otherwise: --state-machine-arn, else ROTATION_STATE_MACHINE_ARN, with NOTIFICATION_TOPIC_ARN and
  NOTIFICATION_LEDGER_TABLE from the environment (--state-machine-arn and --stage/--stack conflict).
--apply without a state machine is refused. --as-of answers "what will be due then?" and never acts
on a date that has not come (it refuses --apply). A plan notifies no one.

Organization (--org): lists the organization's accounts with this CLI's credentials (the management
account or a delegated administrator), selects them with ORG_INCLUDE_*/ORG_EXCLUDE_* (OUs, account ids,
tags), and runs statemachines/scan-organization.asl.json locally: each selected account is scanned
through its member role (MEMBER_ROLE_NAME, MEMBER_ROLE_EXTERNAL_ID; this account with the CLI's own
credentials), at most ORG_MAX_CONCURRENT_ACCOUNTS at a time, and rotations it starts carry the account.
It prints one line per account, the skipped accounts with the reason, and the failed ones with the fix;
the exit code is 1 when any account failed. --dry-run and --as-of act as above; --json prints the run.

Exit code: 0 success; 1 a user, action or notice failed; 2 bad usage (a --user the account does not
have is refused before anything is scanned); with --detailed-exitcode, 3
when keys are due (a CI job that fails while keys are past their age), 0 when none is.

Every other setting comes from the environment (see "Configuration" in the README).

Examples:
  $ iam-key-rotator scan --stage prod                 # the plan: what is due, and what would start
  $ iam-key-rotator scan --stage prod --apply         # act on it, as the daily scan does
  $ iam-key-rotator scan --as-of 2026-12-31 --json
  $ iam-key-rotator scan --user billing-export --user onprem-backup
  $ iam-key-rotator scan --org`;

export function registerScan(program: Command, output: Output, setResult: (code: number) => void): void {
  const command = program
    .command('scan')
    .description('Find access keys that are due for rotation, due soon, unused or exempt, and plan their rotations (started with --apply).')
    .addOption(
      new Option('--user <name>', 'scan only this IAM user (repeat for more)').argParser(
        (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
      ),
    )
    .addOption(
      new Option(
        '--all',
        "list every key of every user; reads every user's keys, one ListAccessKeys call per user (slow on large accounts)",
      ).conflicts('user'),
    )
    .addOption(new Option('--as-of <date>', 'count key ages to the end of this UTC day (YYYY-MM-DD); never acts').conflicts('apply'))
    .addOption(
      new Option('--apply', 'act on the plan: start the due rotations, deactivate or retire unused keys, notify owners').conflicts(
        'dryRun',
      ),
    )
    .option('--dry-run', 'read and plan only, start and change nothing (the default)')
    .option('--detailed-exitcode', 'exit 3 when any key is due (past its rotation age), 0 when none is: for CI')
    .addOption(
      new Option('--org', 'scan every selected account of the organization through its member role (see below)').conflicts(['user', 'all']),
    )
    .option('--state-machine-arn <arn>', 'rotation state machine to start (default: $ROTATION_STATE_MACHINE_ARN)')
    .addHelpText('after', HELP)
    .action(async (flags: ScanFlags) => {
      setResult(await runScan(flags, output));
    });
  addOutputOptions(
    command,
    'print a JSON array with one object per listed key on stdout',
    'one row per listed key (with --org: per account), a column per JSON field',
  );
  addStackOptions(command);
}

/**
 * What scan acts with beyond the environment: a deployed stack's state machine, topic, ledger table
 * and stack-only settings (--stage/--stack), as the scheduled scanner in that stack does; else the
 * state machine of --state-machine-arn. Overrides for loadConfig, so they win over the environment.
 */
async function scanOverrides(flags: ScanFlags): Promise<Record<string, string>> {
  if (flags.stage === undefined && flags.stack === undefined) {
    return flags.stateMachineArn === undefined ? {} : { ROTATION_STATE_MACHINE_ARN: flags.stateMachineArn };
  }
  if (flags.stateMachineArn !== undefined) {
    throw new InvalidInputError('--state-machine-arn and --stage/--stack both say which state machine to start: pass one of them.');
  }
  const stack = await resolveStack(flags, process.env, undefined, {
    instead: 'leave out --stage/--stack to scan without starting anything',
  });
  return {
    ROTATION_STATE_MACHINE_ARN: stack.stateMachineArn,
    ...(stack.topicArn === undefined ? {} : { NOTIFICATION_TOPIC_ARN: stack.topicArn }),
    ...(stack.ledgerTableName === undefined ? {} : { NOTIFICATION_LEDGER_TABLE: stack.ledgerTableName }),
    ...stack.settings,
  };
}

async function runScan(flags: ScanFlags, output: Output): Promise<number> {
  if (flags.org) return runOrgScan(flags, output);
  const users = flags.user ?? [];
  const format = outputFormat(flags);
  const clock = flags.asOf === undefined ? systemClock : fixedClock(asOfFromToday(flags.asOf, systemClock(), PAST_AS_OF_HINT));
  const config = loadConfig(process.env, await scanOverrides(flags));
  refuseApplyWithoutStateMachine(flags, config);
  // A --user the account does not have is a name to check, refused before anything is read or printed.
  for (const user of users) await requireUser(iam, user);
  // ROTATION_MODE=report-only holds --apply back too: the pilot reports, whoever runs the scan.
  const dryRun = flags.apply !== true || config.rotationMode === 'report-only';
  const result = await scanAccount({
    iam,
    sfn,
    config,
    clock,
    dryRun,
    users,
    all: flags.all === true,
    progress: (message) => output.err(colors.dim(message)),
  });

  const rows = toRows(result).filter((row) => flags.all === true || users.length > 0 || row.class !== 'ok');
  if (format === 'json') output.out(JSON.stringify(rows, null, 2));
  else if (format === 'csv') output.out(rowsCsv(rows).trimEnd());
  else output.out(renderTable(rows));
  // What the summary and plan say goes to stderr when stdout is for a program.
  const report = (text: string): void => (format === 'table' ? output.out(text) : output.err(text));
  report(summaryLine(result, rows.length));
  // Before any of them is rotated: who uses each key, which the gate will wait for.
  for (const user of users) report(colors.dim(`Who uses the keys of ${user}: iam-key-rotator consumers ${user}`));
  if (dryRun) report(planLine(result, flags, config));
  const notificationFailures = flags.apply === true ? await notifyOwners(result, config, report, output) : 0;
  for (const problem of result.tagProblems) output.err(colors.yellow(`warning: ${problem.message}`));
  for (const override of result.weakened)
    output.err(
      colors.yellow(`weakened: user ${override.userName}: tag ${override.tag}="${override.value}" (account default: ${override.default})`),
    );
  const failures = result.userErrors.filter((failure) => users.length > 0 || failure.error !== 'UserNotFoundError');
  for (const failure of failures) output.err(colors.red(`error: user ${failure.userName}: ${failure.message}`));
  const failedActions = [...result.rotationsSkipped, ...result.deactivationsSkipped].filter((item) => item.error !== undefined);
  for (const failed of failedActions) output.err(colors.red(`error: ${failed.userName} ${failed.accessKeyId}: ${failed.reason}`));
  if (failures.length > 0 || failedActions.length > 0 || notificationFailures > 0) return 1;
  return flags.detailedExitcode === true && result.counts.due > 0 ? 3 : 0;
}

/** What to run instead of a scan --as-of in the past. */
const PAST_AS_OF_HINT = 'Leave --as-of out to see the keys as they are today.';

const NO_STATE_MACHINE =
  'no state machine is configured: pass --stage or --stack for a deployed stack, or set ROTATION_STATE_MACHINE_ARN, or pass --state-machine-arn';

/** --apply starts rotations: with nothing to start them on, it is bad usage, not a quiet listing. */
function refuseApplyWithoutStateMachine(flags: ScanFlags, config: Config): void {
  if (flags.apply === true && config.stateMachineArn === '')
    throw new InvalidInputError(`--apply starts rotations, but ${NO_STATE_MACHINE}. Nothing was scanned.`);
}

/** What a scan without --apply would have done, and how to do it. */
function planLine(result: ScanResult, flags: ScanFlags, config: Config): string {
  const isPlanned = (item: { readonly reason: string }): boolean =>
    item.reason.startsWith('dry run') || item.reason.startsWith('report-only');
  const planned = [...result.rotationsSkipped, ...result.deactivationsSkipped].filter(isPlanned);
  const starts = result.rotationsSkipped.filter(isPlanned).length;
  const changes = planned.length - starts;
  const unusedVerb = config.unusedAction === 'retire' ? 'retire' : 'deactivate';
  const what = [
    `${starts} rotation${starts === 1 ? '' : 's'} would start`,
    ...(changes > 0
      ? [`${changes} unused key${changes === 1 ? '' : 's'} would be ${unusedVerb === 'retire' ? 'retired' : 'deactivated'}`]
      : []),
  ].join(', ');
  if (flags.apply === true && config.rotationMode === 'report-only')
    return `Report-only (ROTATION_MODE=report-only): ${what}, and none was; owners are told below. Set ROTATION_MODE=rotate to act.`;
  if (flags.asOf !== undefined)
    return `Plan as of ${flags.asOf} (a what-if, it never acts): ${what} on that day. Nothing was started or changed.`;
  if (config.stateMachineArn === '') return `Plan only: nothing was started or changed (${NO_STATE_MACHINE}).`;
  return planned.length === 0
    ? 'Plan: nothing to start or change. Nothing was started or changed.'
    : `Plan: ${what}. Nothing was started or changed and no one was notified: run the same scan with --apply to act.`;
}

function orgDryRunReason(flags: ScanFlags, stateMachineArn: string): string {
  const why =
    flags.asOf !== undefined
      ? ' (--as-of is a what-if: it never acts)'
      : stateMachineArn === ''
        ? ` (${NO_STATE_MACHINE})`
        : ': run the same scan with --apply to act';
  return `Plan only${why}. No rotation was started, no key was changed and no one was notified.`;
}

/** `scan --org`: the organization scan, run locally with this CLI's credentials (local/org-runner.ts). */
async function runOrgScan(flags: ScanFlags, output: Output): Promise<number> {
  const clock = flags.asOf === undefined ? systemClock : fixedClock(asOfFromToday(flags.asOf, systemClock(), PAST_AS_OF_HINT));
  const config = loadConfig(process.env, await scanOverrides(flags));
  refuseApplyWithoutStateMachine(flags, config);
  const dryRun = flags.apply !== true;
  const format = outputFormat(flags);
  // The handlers' JSON log lines are for CloudWatch; on a terminal the lines below say the same.
  const logger = process.env.POWERTOOLS_LOG_LEVEL ? lambdaLogger : silentLogger();
  output.err(colors.dim('listing the organization’s accounts…'));
  const run = await runOrganizationScan({
    config,
    clock,
    dryRun,
    logger,
    onAccount: (outcome, account) => {
      if (format === 'table' && outcome.status === 'scanned') {
        output.err(
          colors.dim(
            `scanned ${account.accountId} (${account.accountName}): ${outcome.keysDue} due, ${outcome.rotationsStarted} rotations started`,
          ),
        );
      }
    },
  });
  const names = new Map(run.accounts.map((account) => [account.accountId, account.accountName]));
  if (format === 'json') output.out(JSON.stringify(run, null, 2));
  if (format === 'csv')
    output.out(rowsCsv(run.results.map((result) => ({ ...result, accountName: names.get(result.accountId) ?? null }))).trimEnd());
  const report = (text: string): void => (format === 'table' ? output.out(text) : output.err(text));
  if (format === 'table') {
    const table = new Table({
      head: ['account', 'name', 'result', 'due', 'rotations started', 'problems'],
      style: { head: [], border: [] },
    });
    for (const result of run.results) {
      table.push([
        result.accountId,
        names.get(result.accountId) ?? '',
        result.status === 'scanned' ? colors.green('scanned') : colors.red('failed'),
        String(result.keysDue ?? 0),
        String(result.rotationsStarted ?? 0),
        String(result.problems ?? 0),
      ]);
    }
    if (run.results.length > 0) output.out(table.toString());
  }
  for (const skipped of run.skipped) report(`skipped ${skipped.accountId} (${skipped.accountName}): ${skipped.reason}`);
  const skippedCount = run.report?.skipped ?? run.skipped.length;
  if (skippedCount > run.skipped.length)
    report(`… and ${skippedCount - run.skipped.length} more skipped accounts (the listAccounts log lists every one)`);
  if (run.status === 'Failed') {
    output.err(colors.red(`error: the organization scan stopped: ${run.error?.name ?? 'Error'}: ${run.error?.message ?? ''}`));
    return 1;
  }
  const failed = run.report?.failed ?? [];
  const failedCount = run.report?.failedCount ?? failed.length;
  for (const entry of failed)
    output.err(
      colors.red(`error: account ${entry.accountId} (${entry.accountName}): ${entry.error}: ${entry.cause} To fix: ${entry.fix}.`),
    );
  if (failedCount > failed.length)
    output.err(colors.red(`error: … and ${failedCount - failed.length} more failed accounts (the table above lists every one)`));
  report(
    `Organization scan: ${run.report?.scanned ?? 0} accounts scanned, ${failedCount} failed, ${skippedCount} skipped; ` +
      `${run.report?.rotationsStarted ?? 0} rotations started.` +
      (dryRun ? ` ${orgDryRunReason(flags, config.stateMachineArn)}` : ''),
  );
  return failedCount > 0 ? 1 : 0;
}

/** Sends the scan's owner notices (after the table, so a slow SNS never hides the results); returns how many failed. */
async function notifyOwners(result: ScanResult, config: Config, report: (text: string) => void, output: Output): Promise<number> {
  const notices = planScanNotifications(result.keys, result.keysDeactivated, config, new Date(result.asOf));
  if (notices.length === 0) return 0;
  if (config.topicArn === '') {
    report(`${notices.length} owner notification${notices.length === 1 ? '' : 's'} not sent: NOTIFICATION_TOPIC_ARN is not set.`);
    return 0;
  }
  // The notifier logs JSON lines for CloudWatch; on a terminal the summary line says the same.
  const logger = process.env.POWERTOOLS_LOG_LEVEL ? lambdaLogger : silentLogger();
  const notifier = createNotifier({
    sns,
    ledger: ledgerFor(dynamodb, config),
    config,
    accountId: callerAccountId(sts),
    clock: systemClock,
    logger,
  });
  const summary = await sendScanNotifications(notices, notifier);
  report(
    `Notifications: ${summary.sent} sent, ${summary.alreadySent} already sent by an earlier scan, ${summary.notSent} held back by NOTIFY_EVENTS or NOTIFICATIONS_QUIET` +
      (summary.failures.length > 0 ? `, ${summary.failures.length} failed (the next scan tries again).` : '.'),
  );
  for (const failure of summary.failures) output.err(colors.red(`error: notification ${failure.dedupeId}: ${failure.message}`));
  return summary.failures.length;
}

function toRows(result: ScanResult): ScanRow[] {
  const outcomes = new Map<string, string>();
  const keyOf = (item: { userName: string; accessKeyId: string }): string => `${item.userName}\n${item.accessKeyId}`;
  for (const started of result.rotationsStarted)
    outcomes.set(keyOf(started), started.kind === 'retire' ? 'retirement started' : 'rotation started');
  for (const done of result.keysDeactivated) outcomes.set(keyOf(done), 'deactivated');
  for (const skipped of [...result.rotationsSkipped, ...result.deactivationsSkipped])
    outcomes.set(keyOf(skipped), `not done: ${skipped.reason}`);
  const problems = new Map<string, string[]>();
  for (const problem of result.tagProblems) problems.set(problem.userName, [...(problems.get(problem.userName) ?? []), problem.message]);
  return [...result.keys]
    .sort((a, b) => a.userName.localeCompare(b.userName) || a.createdAt.localeCompare(b.createdAt))
    .map((key) => ({ ...key, outcome: outcomes.get(keyOf(key)) ?? null, tagProblems: problems.get(key.userName) ?? [] }));
}

const CLASS_COLOR: Record<KeyClass, (text: string) => string> = {
  ok: colors.green,
  warn: colors.yellow,
  due: colors.red,
  unused: colors.magenta,
  exempt: colors.cyan,
  inactive: colors.dim,
};

function renderTable(rows: readonly ScanRow[]): string {
  if (rows.length === 0) return 'No access keys need action or attention.';
  const table = new Table({
    head: ['user', 'owner', 'key id', 'status', 'age (days)', 'last used', 'class', 'reason', 'action'],
    style: { head: [], border: [] },
  });
  for (const row of rows) {
    const lastUsed = row.lastUsedDaysAgo === null ? 'never' : row.lastUsedDaysAgo === 0 ? 'today' : `${row.lastUsedDaysAgo} days ago`;
    const action = row.outcome === null ? row.action : `${row.action}: ${row.outcome}`;
    table.push([
      row.userName,
      row.owner ?? colors.dim('(none)'),
      row.accessKeyId,
      row.status,
      String(row.ageDays),
      lastUsed,
      CLASS_COLOR[row.class](row.class),
      wrap(row.reason, 40),
      wrap(action, 40),
    ]);
  }
  return table.toString();
}

/** Long reasons on several lines at word boundaries, so the table keeps to a terminal's width. */
function wrap(text: string, width: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(line);
  return lines.join('\n');
}

function summaryLine(result: ScanResult, listed: number): string {
  const classes = KEY_CLASSES.map((cls) => `${result.counts[cls]} ${cls}`).join(', ');
  const skipped = result.rotationsSkipped.length;
  return (
    `As of ${result.asOf.slice(0, 10)}: ${result.usersSeen} user${result.usersSeen === 1 ? '' : 's'} (${result.usersReadLive} read live), keys: ${classes}. ` +
    `Listed ${listed}. Rotations: ${result.rotationsStarted.length} started, ${skipped} not started` +
    (result.keysDeactivated.length > 0 ? `; ${result.keysDeactivated.length} unused keys deactivated.` : '.') +
    (result.dueNotReadLive > 0
      ? ` ${result.dueNotReadLive} more due key${result.dueNotReadLive === 1 ? '' : 's'} wait for later runs (this run's MAX_ROTATIONS_PER_RUN was filled by older keys; --all lists them).`
      : '')
  );
}
