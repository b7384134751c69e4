import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import Table from 'cli-table3';
import type { IAMClient } from '@aws-sdk/client-iam';
import { iam } from '#shared/aws/clients.ts';
import { listUserKeys, readUser } from '#shared/aws/iam.ts';
import { readUserPolicies } from '#shared/aws/user-policies.ts';
import { gapsOf, type CallEvidence, type KeyCall, type KeyCallReader } from '#shared/aws/key-calls.ts';
import { DAY_MS, type Clock } from '#shared/base/clock.ts';
import { errorMessage, InvalidInputError } from '#shared/base/errors.ts';
import { loadConfig, type Config } from '#shared/config/settings.ts';
import { summariseUsage, usedActions, type ConsumerUsage, type UsageSummary } from '#shared/usage/key-usage.ts';
import { compareGrants, grantsOf, type GrantComparison } from '#shared/usage/policy-grants.ts';
import { proposePolicy, type PolicyProposal } from '#shared/usage/policy-proposal.ts';
import { proposeTrust, trustFileName, type TrustProposal } from '#shared/usage/trust-proposal.ts';
import { migrationChecklist } from '#shared/usage/migration.ts';
import { isDataEventAction } from '#shared/usage/actions.ts';
import { colors, type Output } from '../local/terminal.ts';
import { parseDays, sourcesRead } from './consumers.ts';
import { addOutputOptions, outputFormat, type OutputFlags } from './output-format.ts';
import { rowsCsv } from '#shared/base/csv.ts';

const HELP = `
What each access key of the user was used for, from CloudTrail (the sources \`consumers\` reads):
per consumer (source address or AWS service, and tool), the IAM actions its calls needed, how often,
the calls AWS refused, and the resources the records name (resources[], S3's bucketName and key, an
AssumeRole's roleArn, a topic, queue, table, function, secret or key ARN). Then the user's identity
policies (attached, inline, and its groups'), compared: the literal actions they grant that no call
used in the window, and the wildcard grants, reported as written (never expanded).

With --propose-role it also writes, to --out DIR (default ./usage-<user>):
  policy.json            a least-privilege policy: the actions used, by service, on the ARNs seen;
                         "*" only where the records force it, with a note for each
  trust-<consumer>.json  per consumer, a trust-policy sketch chosen from where it runs: an AWS
                         service's role (Lambda, ECS), OIDC federation for CI (GitHub Actions,
                         GitLab, CircleCI), IAM Roles Anywhere for anything else
and prints a migration checklist. Nothing is created in the account.

What the evidence cannot see is printed with it: event history holds management events only (no S3
GetObject, no DynamoDB items, no Lambda Invoke: set CLOUDTRAIL_LOG_GROUP to a trail that records data
events), only the regions read, the last 90 days. A grant "never used" may be used by a call the
sources could not see, or less often than the window: read a window as long as the rarest job's cycle.

Needs: iam:GetUser, iam:ListUserTags, iam:ListAccessKeys, iam:ListAttachedUserPolicies,
iam:ListUserPolicies, iam:GetUserPolicy, iam:ListGroupsForUser, iam:ListAttachedGroupPolicies,
iam:ListGroupPolicies, iam:GetGroupPolicy, iam:GetPolicy, iam:GetPolicyVersion;
cloudtrail:LookupEvents; logs:FilterLogEvents on CLOUDTRAIL_LOG_GROUP when it is set.

Examples:
  $ iam-key-rotator usage billing-export
  $ iam-key-rotator usage billing-export --days 60 --key AKIAIOSFODNN7EXAMPLE --json
  $ iam-key-rotator usage billing-export --propose-role --out ./billing-export-role`;

export interface KeyUsageReport {
  readonly accessKeyId: string;
  readonly status: string;
  readonly usage: UsageSummary;
  readonly sources: readonly Omit<CallEvidence, 'calls'>[];
  /** What the evidence could not see, for a person. */
  readonly notSeen: readonly string[];
}

export interface UsageReport {
  readonly userName: string;
  readonly userArn: string;
  readonly days: number;
  readonly from: string;
  readonly to: string;
  /** Where the calls were looked for: event history's regions, the trail log group. */
  readonly read: { readonly eventHistoryRegions: readonly string[]; readonly trailLogGroup: string | undefined };
  readonly keys: readonly KeyUsageReport[];
  /** Every key read, together: what a role replacing them all must do. */
  readonly usage: UsageSummary;
  readonly grants: GrantComparison & { readonly problems: readonly string[] };
}

export interface UsageDeps {
  readonly iam: IAMClient;
  /** A reader that keeps each call's resources (inProcessKeyCallReader with `resources: true`). */
  readonly readKeyCalls: KeyCallReader;
  readonly clock: Clock;
  readonly read: UsageReport['read'];
}

export async function usageReport(userName: string, days: number, keyId: string | undefined, deps: UsageDeps): Promise<UsageReport> {
  const user = await readUser(deps.iam, userName);
  const to = deps.clock();
  const from = new Date(to.getTime() - days * DAY_MS);
  const keys = await listUserKeys(deps.iam, userName);
  const chosen = keyId === undefined ? keys : keys.filter((key) => key.accessKeyId === keyId);
  if (keyId !== undefined && chosen.length === 0)
    throw new InvalidInputError(
      `${keyId} is not an access key of ${userName} (its keys: ${keys.map((key) => key.accessKeyId).join(', ') || 'none'}); pass one of them to --key, or leave --key out to read them all.`,
    );
  const reports: KeyUsageReport[] = [];
  let allCalls: readonly KeyCall[] = [];
  for (const key of chosen) {
    const read = await deps.readKeyCalls({ accessKeyId: key.accessKeyId, from, to });
    // concat, not push(...calls): a busy key's calls would overflow the call stack as arguments.
    allCalls = allCalls.concat(read.calls);
    reports.push({
      accessKeyId: key.accessKeyId,
      status: key.status,
      usage: summariseUsage(read.calls),
      sources: read.evidence.map(({ calls: _calls, ...rest }) => rest),
      notSeen: gapsOf(read),
    });
  }
  const usage = summariseUsage(allCalls);
  const { grants, problems } = grantsOf(await readUserPolicies(deps.iam, userName));
  // Only a trail can hold data events; event history never does ("Logging data events", CloudTrail User Guide).
  const trailRead = reports.some((key) => key.sources.some((source) => source.source === 'trail-log-group' && !source.unavailable));
  const unseen = (action: string): string | undefined =>
    !trailRead && isDataEventAction(action)
      ? 'its calls are data events, which event history does not hold: set CLOUDTRAIL_LOG_GROUP to a trail that logs them to know'
      : undefined;
  return {
    userName,
    userArn: user.arn,
    days,
    from: from.toISOString(),
    to: to.toISOString(),
    read: deps.read,
    keys: reports,
    usage,
    grants: { ...compareGrants(grants, usedActions(usage.actions), { unseen }), problems },
  };
}

export interface RoleProposal {
  readonly policy: PolicyProposal;
  readonly trusts: readonly { readonly consumer: string; readonly file: string; readonly runsOn: string; readonly trust: TrustProposal }[];
  readonly checklist: readonly string[];
}

/** The policy and trust sketches for a report: pure, so a test reads them without writing files. */
export function roleProposal(report: UsageReport): RoleProposal {
  const account = accountOf(report.userArn);
  const taken = new Set<string>();
  const trusts = report.usage.consumers.map((consumer: ConsumerUsage) => {
    const file = trustFileName(consumer, taken);
    taken.add(file);
    return { consumer: consumer.key, file, runsOn: consumer.runtime.evidence, trust: proposeTrust(consumer.runtime, account) };
  });
  return {
    policy: proposePolicy(report.usage.actions),
    trusts,
    checklist: migrationChecklist({
      userName: report.userName,
      accessKeyIds: report.keys.map((key) => key.accessKeyId),
      policyFile: 'policy.json',
      moves: trusts.map(({ consumer, file, trust }, index) => ({
        consumer,
        trustFile: file,
        trust,
        actions: usedActions(report.usage.consumers[index]?.actions ?? []),
      })),
      blindSpots: [...new Set(report.keys.flatMap((key) => key.notSeen))],
      assumedRoles: report.usage.actions.find((use) => use.action === 'sts:AssumeRole')?.resources ?? [],
    }),
  };
}

/** The account and partition of the user's ARN (arn:aws:iam::123456789012:user/name). */
function accountOf(arn: string): { accountId: string; partition: string } {
  const match = /^arn:([\w-]+):iam::(\d{12}):/.exec(arn);
  return { partition: match?.[1] ?? 'aws', accountId: match?.[2] ?? '<ACCOUNT-ID>' };
}

export async function writeProposal(dir: string, proposal: RoleProposal): Promise<string[]> {
  const files: [string, unknown][] = [
    ['policy.json', proposal.policy.document],
    ...proposal.trusts.map(({ file, trust }): [string, unknown] => [file, trust.document]),
  ];
  try {
    await mkdir(dir, { recursive: true });
    for (const [name, document] of files) await writeFile(join(dir, name), `${JSON.stringify(document, null, 2)}\n`);
  } catch (error) {
    throw new InvalidInputError(`--out ${dir} cannot be written (${errorMessage(error)}): choose a directory you may write to.`, {
      cause: error,
    });
  }
  return files.map(([name]) => join(dir, name));
}

const when = (iso: string): string => iso.slice(0, 16).replace('T', ' ');
const plural = (count: number, noun: string): string => `${count} ${noun}${count === 1 ? '' : 's'}`;

function renderConsumer(consumer: ConsumerUsage): string {
  const table = new Table({ head: ['Action', 'Calls', 'Refused', 'Resources', 'Last seen'], style: { head: [], border: [] } });
  for (const use of consumer.actions) {
    const resources = use.resources.slice(0, 4).join('\n') + (use.resources.length > 4 ? `\n… ${use.resources.length - 4} more` : '');
    table.push([
      use.action,
      String(use.allowed),
      use.refused > 0 ? String(use.refused) : '',
      resources || colors.dim('(none named)'),
      when(use.lastSeen),
    ]);
  }
  return [
    `  ${colors.bold(consumer.key)}: ${plural(consumer.calls, 'call')}, ${when(consumer.firstSeen)} to ${when(consumer.lastSeen)}, regions ${consumer.regions.join(', ') || '-'}`,
    colors.dim(`    runs: ${consumer.runtime.evidence}`),
    table.toString(),
  ].join('\n');
}

function renderKey(key: KeyUsageReport): string {
  const read = sourcesRead(key.sources);
  return [
    `${colors.bold(key.accessKeyId)} (${key.status}): ${plural(key.usage.calls, 'call')}, ${plural(key.usage.consumers.length, 'consumer')}`,
    ...(key.usage.consumers.length > 0 ? key.usage.consumers.map(renderConsumer) : [colors.dim('  no calls seen')]),
    colors.dim(`  read: ${read || 'no source configured'}`),
    ...key.notSeen.map((gap) => colors.yellow(`  not seen: ${gap}`)),
  ].join('\n');
}

function renderGrants(grants: UsageReport['grants']): string {
  const lines: string[] = [colors.bold('Granted by the user’s policies, compared with the calls:')];
  if (grants.unused.length === 0 && grants.wildcards.length === 0 && grants.notActions.length === 0 && grants.used.length === 0)
    lines.push('  no identity policy grants the user anything');
  if (grants.unused.length > 0) {
    lines.push('  never used in the window:');
    for (const entry of grants.unused)
      lines.push(
        `    ${entry.action}  ${colors.dim(`(${entry.policies.join('; ')})`)}${entry.mayBeUnseen === undefined ? '' : colors.yellow(`  may be used unseen: ${entry.mayBeUnseen}`)}`,
      );
  }
  for (const entry of grants.wildcards)
    lines.push(
      `  wildcard grant ${entry.pattern} ${colors.dim(`(${entry.policies.join('; ')})`)}: not expanded; ${entry.covers.length > 0 ? `covers the used ${entry.covers.join(', ')}` : 'covers none of the calls seen'}`,
    );
  for (const entry of grants.notActions)
    lines.push(`  NotAction grant in ${entry.policy}: everything but ${entry.except.join(', ')}; not expanded`);
  if (grants.used.length > 0) lines.push(`  used: ${grants.used.map((entry) => entry.action).join(', ')}`);
  if (grants.notGranted.length > 0)
    lines.push(`  used but granted by none of the user’s policies (a resource policy allowed them?): ${grants.notGranted.join(', ')}`);
  if (grants.denies.length > 0)
    lines.push(colors.dim(`  denied (listed, not evaluated): ${grants.denies.map((entry) => entry.action).join(', ')}`));
  for (const problem of grants.problems) lines.push(colors.yellow(`  not compared: ${problem}`));
  return lines.join('\n');
}

function renderReport(report: UsageReport): string {
  const where = [
    ...(report.read.eventHistoryRegions.length > 0 ? [`event history in ${report.read.eventHistoryRegions.join(', ')}`] : []),
    ...(report.read.trailLogGroup !== undefined ? [`trail log group ${report.read.trailLogGroup} (the regions the trail records)`] : []),
  ];
  return [
    `Usage of ${report.userName}'s keys from ${when(report.from)} to ${when(report.to)} UTC; read: ${where.join(' and ') || 'nothing'}`,
    '',
    ...(report.keys.length > 0 ? report.keys.map(renderKey) : [`${report.userName} has no access keys.`]),
    '',
    renderGrants(report.grants),
  ].join('\n');
}

function renderProposal(proposal: RoleProposal, files: readonly string[]): string {
  return [
    colors.bold('Proposed role (nothing was created in the account):'),
    ...files.map((file) => `  wrote ${file}`),
    `  policy: ${proposal.policy.document.Statement.length} statements, ${proposal.policy.characters} characters`,
    ...proposal.policy.notes.map((note) => colors.yellow(`  note: ${note}`)),
    ...proposal.trusts.map(({ consumer, file, trust }) => `  ${consumer} → ${trust.kind} (${file})`),
    '',
    colors.bold('Migration checklist:'),
    ...proposal.checklist.map((step, index) => `  ${index + 1}. ${step}`),
  ].join('\n');
}

interface UsageFlags extends OutputFlags {
  readonly days?: string;
  readonly key?: string;
  readonly proposeRole?: boolean;
  readonly out?: string;
}

export function registerUsage(
  program: Command,
  output: Output,
  setResult: (code: number) => void,
  readerFor: (config: Config) => Promise<{ readonly reader: KeyCallReader; readonly read: UsageReport['read'] }>,
): void {
  const command = program
    .command('usage')
    .description(
      'What each access key of a user was used for (actions, resources, per consumer), against what its policies grant; --propose-role drafts the role to replace it.',
    )
    .argument('<user>', 'IAM user name')
    .option('--days <n>', 'how many days back to read (default: CONSUMER_LOOKBACK)')
    .option('--key <id>', 'read only this access key of the user')
    .option('--propose-role', 'write a least-privilege policy and per-consumer trust policies, and print a migration checklist')
    .option('--out <dir>', 'where --propose-role writes its files (default: ./usage-<user>)')
    .addHelpText('after', HELP)
    .action(async (userName: string, flags: UsageFlags) => {
      const format = outputFormat(flags);
      const config = loadConfig();
      const days = parseDays(flags.days, config);
      if (flags.out !== undefined && !flags.proposeRole)
        throw new InvalidInputError('--out says where --propose-role writes its files: add --propose-role, or leave --out out.');
      if (flags.key !== undefined && !/^[A-Z0-9]{16,128}$/.test(flags.key))
        throw new InvalidInputError(`--key takes an access key id (AKIA…, upper-case letters and digits), not "${flags.key}".`);
      output.err(colors.dim(`reading CloudTrail and the policies of ${userName}, last ${days} days…`));
      const { reader, read } = await readerFor(config);
      const report = await usageReport(userName, days, flags.key, { iam, readKeyCalls: reader, clock: () => new Date(), read });
      const proposal = flags.proposeRole ? roleProposal(report) : undefined;
      const files = proposal ? await writeProposal(resolve(flags.out ?? `usage-${userName}`), proposal) : [];
      if (format === 'json') output.out(JSON.stringify({ ...report, ...(proposal ? { proposal: { ...proposal, files } } : {}) }, null, 2));
      else if (format === 'csv') output.out(rowsCsv(actionRows(report)).trimEnd());
      else output.out([renderReport(report), ...(proposal ? ['', renderProposal(proposal, files)] : [])].join('\n'));
      setResult(0);
    });
  addOutputOptions(
    command,
    'print the report (and the proposal) as JSON on stdout',
    'one row per action each consumer used, a column per JSON field',
  );
}

/** One row per consumer and action: who used which action how often, on what. */
function actionRows(report: UsageReport): object[] {
  return report.keys.flatMap((key) =>
    key.usage.consumers.flatMap(({ actions, regions, ...consumer }) =>
      actions.map((action) => ({ accessKeyId: key.accessKeyId, ...consumer, consumerRegions: regions, ...action })),
    ),
  );
}
