import { accessSync, constants, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import type { IAMClient } from '@aws-sdk/client-iam';
import { dynamodb, iam, organizations, sfn, sts } from '#shared/aws/clients.ts';
import { iamWith } from '#shared/aws/clients/iam.ts';
import { memberAccountClients, memberCredentials } from '#shared/aws/member-account.ts';
import { DAY_MS, asOfFromToday, fixedClock, systemClock, type Clock } from '#shared/base/clock.ts';
import { mapWithConcurrency } from '#shared/base/concurrency.ts';
import { InvalidInputError, errorMessage, errorName } from '#shared/base/errors.ts';
import { silentLogger } from '#shared/base/logger.ts';
import { loadConfig, type Config } from '#shared/config/settings.ts';
import { callerAccountId } from '#shared/notify/notifier.ts';
import { selectOrganizationAccounts } from '#shared/org/list-accounts.ts';
import { buildComplianceReport, COMPLIANCE_STATES, type AccountKeys, type ComplianceReport } from '#shared/report/compliance-report.ts';
import { reportCsv } from '#shared/report/report-csv.ts';
import { readRotationHistory, type RotationHistory } from '#shared/report/rotation-history.ts';
import { scanAccount } from '#shared/scan/scanner.ts';
import { LOCAL_LEDGER_TABLE } from '#local/run-registry.ts';
import { readLocalRunHistory } from '#local/run-history.ts';
import { colors, type Output } from '../local/terminal.ts';
import { addStackOptions, resolveStack, type StackFlags } from './stack.ts';
import { addOutputOptions, outputFormat, type OutputFlags } from './output-format.ts';

interface ReportFlags extends StackFlags, OutputFlags {
  readonly html?: string;
  readonly csv?: string;
  readonly org?: boolean;
  readonly days: string;
  readonly asOf?: string;
  readonly stateMachineArn?: string;
}

const HELP = `
What it reads (read-only: it starts nothing, changes no key and notifies no one):
  Every access key of every IAM user (one ListAccessKeys per user, GetAccessKeyLastUsed where the
  credential report does not settle the key's last use), classified as the scanner classifies it, and
  the rotations started in the last --days days: the rotation state machine's executions (one
  ListExecutions page per 1,000, one DescribeExecution per rotation) when a state machine is known
  (--stage/--stack, --state-machine-arn or ROTATION_STATE_MACHINE_ARN), else the local runs recorded
  in the ledger table (rotate --local, npm start).

States: compliant (inside its window, including due soon), due (past its window, rotating now),
overdue (past its window, nothing rotating it), unused, exempt, inactive.

Outputs: --html FILE writes a self-contained page (summary, charts, tables; opens from disk with no
network, prints on A4 landscape). --csv FILE writes one row per key (columns in the README, "Compliance
report"). --json prints the whole report on stdout. Without any of them, a summary is printed.

Organization (--org): every selected account (ORG_INCLUDE_*/ORG_EXCLUDE_*), through its member role
(MEMBER_ROLE_NAME, MEMBER_ROLE_EXTERNAL_ID), at most ORG_MAX_CONCURRENT_ACCOUNTS at a time; an account
that cannot be read is listed with its error and the others go on.

Examples:
  $ iam-key-rotator report --html report.html --csv report.csv
  $ iam-key-rotator report --stage prod --org --html org-report.html
  $ iam-key-rotator report --json --days 30 > report.json`;

export function registerReport(program: Command, output: Output, setResult: (code: number) => void): void {
  const command = program
    .command('report')
    .description('A compliance report of every access key: age against its window, state, owner, exemption, and rotation history.')
    .option('--html <file>', 'write the report as a self-contained HTML page')
    .option('--csv <file>', 'write one CSV row per key')
    .addOption(new Option('--org', 'report on every selected account of the organization, through its member role'))
    .option('--days <n>', 'rotation history of the last N days (1–90: Step Functions keeps ended executions 90 days)', '90')
    .option(
      '--as-of <date>',
      'count key ages to the end of this UTC day, today or later (YYYY-MM-DD): where keys will stand on an audit date',
    )
    .option('--state-machine-arn <arn>', 'rotation state machine whose executions are the history (default: $ROTATION_STATE_MACHINE_ARN)')
    .addHelpText('after', HELP)
    .action(async (flags: ReportFlags) => {
      setResult(await runReport(flags, output));
    });
  addOutputOptions(command, 'print the report as JSON on stdout', 'the rows and columns --csv writes, on stdout');
  addStackOptions(command);
}

function parseDays(text: string): number {
  if (!/^[1-9]\d?$/.test(text) || Number(text) > 90) {
    throw new InvalidInputError(
      `--days must be a whole number from 1 to 90 (got "${text}"): Step Functions keeps an ended execution for 90 days, so no longer history exists.`,
    );
  }
  return Number(text);
}

/** The state machine and stack settings the report reads with: a deployed stack's when one is named, else the environment's. */
async function reportConfig(flags: ReportFlags): Promise<Config> {
  if (flags.stage === undefined && flags.stack === undefined) {
    return loadConfig(process.env, flags.stateMachineArn === undefined ? {} : { ROTATION_STATE_MACHINE_ARN: flags.stateMachineArn });
  }
  if (flags.stateMachineArn !== undefined) {
    throw new InvalidInputError('--state-machine-arn and --stage/--stack both say whose history to read: pass one of them.');
  }
  const stack = await resolveStack(flags, process.env, undefined, { instead: 'leave out --stage/--stack to report the local runs' });
  return loadConfig(process.env, {
    ROTATION_STATE_MACHINE_ARN: stack.stateMachineArn,
    ...(stack.ledgerTableName === undefined ? {} : { NOTIFICATION_LEDGER_TABLE: stack.ledgerTableName }),
    ...stack.settings,
  });
}

async function readAccount(
  account: { readonly accountId: string; readonly accountName: string | null },
  accountIam: () => Promise<IAMClient>,
  config: Config,
  clock: Clock,
  progress: (message: string) => void,
): Promise<AccountKeys> {
  try {
    const result = await scanAccount({ iam: await accountIam(), sfn, config, clock, dryRun: true, all: true, progress });
    return { ...account, keys: result.keys, userErrors: result.userErrors, tagProblems: result.tagProblems, error: null };
  } catch (error) {
    return { ...account, keys: [], userErrors: [], tagProblems: [], error: `${errorName(error)}: ${errorMessage(error)}` };
  }
}

async function readAccounts(flags: ReportFlags, config: Config, clock: Clock, output: Output): Promise<AccountKeys[]> {
  const ownAccountId = await callerAccountId(sts)();
  const progress = (message: string): void => output.err(colors.dim(message));
  if (!flags.org) {
    // The caller's own account must be readable: a refusal here is the command's failure, not a row.
    const result = await scanAccount({ iam, sfn, config, clock, dryRun: true, all: true, progress });
    return [
      {
        accountId: ownAccountId,
        accountName: null,
        keys: result.keys,
        userErrors: result.userErrors,
        tagProblems: result.tagProblems,
        error: null,
      },
    ];
  }
  progress('listing the organization’s accounts…');
  const selection = await selectOrganizationAccounts({ organizations, config, ownAccountId, logger: silentLogger() });
  const memberIam = memberAccountClients(memberCredentials(sts, config, systemClock), iamWith);
  let done = 0;
  return mapWithConcurrency(selection.selected, config.orgMaxConcurrentAccounts, async (account) => {
    const read = await readAccount(
      account,
      account.accountId === ownAccountId ? async () => iam : () => memberIam(account.accountId),
      config,
      clock,
      () => undefined,
    );
    done += 1;
    progress(
      `read ${account.accountId} (${account.accountName}): ${read.error ?? `${read.keys.length} keys`} [${done}/${selection.selected.length}]`,
    );
    return read;
  });
}

async function readHistory(
  config: Config,
  since: Date,
  output: Output,
): Promise<{ history: RotationHistory; source: ComplianceReport['history']['source']; note: string | null }> {
  const progress = (message: string): void => output.err(colors.dim(message));
  if (config.stateMachineArn !== '') {
    return { history: await readRotationHistory(sfn, config.stateMachineArn, { since, progress }), source: 'step-functions', note: null };
  }
  const table = config.notificationLedgerTable || LOCAL_LEDGER_TABLE;
  return {
    history: await readLocalRunHistory(dynamodb, table, since),
    source: 'local-runs',
    note:
      `No rotation state machine given, so the rotations shown are the local runs (rotate --local, npm start) recorded in table ${table}. ` +
      'For a deployed stack, run the report with --stage or --stack.',
  };
}

/** The day key ages are counted to: today, or a later day asked for with --as-of (an earlier one would need the keys as they were then). */
function asOfClock(text: string | undefined, now: Date): Clock {
  if (text === undefined) return () => now;
  return fixedClock(asOfFromToday(text, now, 'For where keys stood then, keep each report (--json, --csv) as it is made.'));
}

/** Reads and builds the report. `clock` is the real time: history is read back from it, and --as-of counts from it. */
export async function buildReport(flags: ReportFlags, output: Output, clock: Clock = systemClock): Promise<ComplianceReport> {
  const days = parseDays(flags.days);
  const now = clock();
  const ageClock = asOfClock(flags.asOf, now);
  const config = await reportConfig(flags);
  const accounts = await readAccounts(flags, config, ageClock, output);
  const { history, source, note } = await readHistory(config, new Date(now.getTime() - days * DAY_MS), output);
  return buildComplianceReport({
    generatedAt: now,
    asOf: ageClock(),
    defaultMaxAgeDays: config.maxAgeDays,
    accounts,
    history: { source, since: history.since, note, rotations: history.records },
  });
}

function summaryText(report: ComplianceReport): string {
  const counts = COMPLIANCE_STATES.map((state) => `${report.summary[state]} ${state}`).join(', ');
  const rotations = report.history.rotations.length;
  return (
    `${report.summary.keys} access keys in ${report.accounts.length} account${report.accounts.length === 1 ? '' : 's'}: ${counts}` +
    `${report.summary.dueSoon > 0 ? ` (${report.summary.dueSoon} of the compliant due soon)` : ''}.\n` +
    `${rotations} rotation${rotations === 1 ? '' : 's'} since ${report.history.since.slice(0, 10)}.`
  );
}

/** A file the report cannot be written to is bad usage, found before minutes of reading. */
function refuseUnwritable(flag: string, file: string | undefined): void {
  if (file === undefined) return;
  const folder = dirname(resolve(file));
  try {
    accessSync(folder, constants.W_OK);
  } catch (error) {
    throw new InvalidInputError(`${flag} ${file}: the folder ${folder} does not exist or cannot be written to. Nothing was read.`, {
      cause: error,
    });
  }
}

async function runReport(flags: ReportFlags, output: Output): Promise<number> {
  const format = outputFormat(flags);
  refuseUnwritable('--html', flags.html);
  refuseUnwritable('--csv', flags.csv);
  const report = await buildReport(flags, output);
  const title = flags.org ? 'Access key compliance: organization' : `Access key compliance: account ${report.accounts[0]?.accountId ?? ''}`;
  if (flags.html !== undefined) {
    // Vega is loaded only to draw: every other command, and --help, starts without it.
    const { reportHtml } = await import('#shared/report/report-html.ts');
    writeFileSync(flags.html, await reportHtml(report, title));
    output.err(`wrote ${resolve(flags.html)}`);
  }
  if (flags.csv !== undefined) {
    writeFileSync(flags.csv, reportCsv(report));
    output.err(`wrote ${resolve(flags.csv)}`);
  }
  if (format === 'json') output.out(JSON.stringify(report, null, 2));
  else if (format === 'csv') output.out(reportCsv(report).trimEnd());
  else output.out(summaryText(report));
  if (report.history.note !== null && format === 'table') output.err(colors.dim(report.history.note));
  const unread = report.accounts.filter((account) => account.error !== null);
  for (const account of unread) output.err(colors.red(`error: account ${account.accountId} could not be read: ${account.error ?? ''}`));
  // A user deleted between the listing and its read is gone, not a failure (as in scan).
  const failures = report.userErrors.filter((problem) => problem.error !== 'UserNotFoundError');
  for (const problem of failures) output.err(colors.red(`error: user ${problem.userName}: ${problem.message}`));
  return unread.length > 0 || failures.length > 0 ? 1 : 0;
}
