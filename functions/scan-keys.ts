import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { IAMClient } from '@aws-sdk/client-iam';
import { StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import * as z from 'zod/mini';
import { ACCOUNT_ID } from '#shared/base/account-id.ts';
import { dynamodb } from '#shared/aws/clients/dynamodb.ts';
import { iam, iamWith } from '#shared/aws/clients/iam.ts';
import { sfn } from '#shared/aws/clients/sfn.ts';
import { sns } from '#shared/aws/clients/sns.ts';
import { sts } from '#shared/aws/clients/sts.ts';
import { systemClock, type Clock } from '#shared/base/clock.ts';
import type { Config } from '#shared/config/settings.ts';
import { ConfigError, errorMessage, errorName, InvalidInputError, MemberAccountAccessError } from '#shared/base/errors.ts';
import { executionArnFor } from '#shared/base/execution-name.ts';
import { memberAccountClientsOnFirstUse, memberRoleArn } from '#shared/aws/member-account.ts';
import { deployedAccountId } from '#shared/aws/deployed-account.ts';
import { lambdaNotifier, type Notifier } from '#shared/notify/notifier.ts';
import { KEY_CLASSES, type KeyClass } from '#shared/scan/classify-keys.ts';
import { logger } from '#shared/base/logger.ts';
import { metrics } from '#shared/base/metrics.ts';
import { configLoader } from '#shared/config/load-config.ts';
import { planScanNotifications, sendScanNotifications, type ScanNotificationSummary } from '#shared/scan/scan-notices.ts';
import { scanAccount, type ScanAccountTarget, type ScanResult, type SkippedAction, type StartedRotation, type TagProblem, type UserProblem } from '#shared/scan/scanner.ts';

export interface ScanSummary {
  readonly asOf: string;
  readonly counts: Readonly<Record<KeyClass, number>>;
  readonly usersSeen: number;
  readonly usersReadLive: number;
  /** Due keys left for later runs without a live read: the cap was filled by older ones. */
  readonly dueNotReadLive: number;
  readonly rotationsStarted: readonly StartedRotation[];
  readonly rotationsSkipped: readonly SkippedAction[];
  readonly keysDeactivated: number;
  readonly deactivationsSkipped: readonly SkippedAction[];
  readonly tagProblems: readonly TagProblem[];
  readonly userErrors: readonly UserProblem[];
  readonly notifications: ScanNotificationSummary;
}

export interface ScanDependencies {
  readonly iam: IAMClient;
  readonly sfn: SFNClient;
  readonly config: Config;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Absent in local runs (the CLI), where EMF lines on stdout would only be noise. */
  readonly metrics?: Metrics;
  readonly notifier: Notifier;
}

/** The scheduled scan: scan, act within the cap, tell owners what is coming, then log and chart what happened. */
export async function runScheduledScan(deps: ScanDependencies, options: { readonly dryRun?: boolean; readonly account?: ScanAccountTarget } = {}): Promise<ScanSummary> {
  const dryRun = options.dryRun ?? false;
  const result = await scanAccount({ iam: deps.iam, sfn: deps.sfn, config: deps.config, clock: deps.clock, dryRun, account: options.account });
  const notices = dryRun ? [] : planScanNotifications(result.keys, result.keysDeactivated, deps.config, new Date(result.asOf));
  const summary = summarize(result, await sendScanNotifications(notices, deps.notifier));
  record(summary, deps.logger, deps.metrics, options.account);
  return summary;
}

/** One account of an organization scan, as the scan-organization state machine passes it (an item of list-accounts' `accounts`). */
export const AccountScanEventSchema = z.object({
  accountId: z.string().check(z.regex(ACCOUNT_ID, 'accountId must be a 12-digit AWS account id')),
  accountName: z.string(),
});
export type AccountScanEvent = z.infer<typeof AccountScanEventSchema>;

/**
 * What one account's scan returns to the Map state. Deliberately small and flat (the Map's
 * ResultSelector picks exactly these fields): the Map collects one per account into its output,
 * which Step Functions caps at 256 KB, so 1,000 accounts leave about 250 bytes each. Hence no
 * account name (the Report joins it from list-accounts' output), counts instead of lists, and a
 * cause cut to CAUSE_LIMIT characters (the Report adds the fix for each error name).
 */
export interface AccountScanOutcome {
  readonly accountId: string;
  readonly status: 'scanned' | 'failed';
  readonly usersSeen: number;
  readonly keysDue: number;
  readonly rotationsStarted: number;
  /** Users, rotations, deactivations or notifications that failed within an account that was scanned. */
  readonly problems: number;
  readonly error: string | null;
  readonly cause: string | null;
}

export const CAUSE_LIMIT = 160;

/** Errors that mean "this identity may not do that here": in a member account, the member role is missing, untrusted or too narrow. */
const REFUSALS = new Set(['AccessDenied', 'AccessDeniedException', 'InvalidClientTokenId', 'UnrecognizedClientException', 'ExpiredToken', 'SignatureDoesNotMatch', 'InvalidAccessKeyId']);

export interface AccountScanDependencies extends Omit<ScanDependencies, 'iam'> {
  /** The account the stack runs in: scanned with the function's own role, as in single-account mode. */
  readonly ownAccountId: string;
  readonly ownIam: IAMClient;
  /** An IAM client signed by the member role of this account; rejects with MemberAccountAccessError when the role cannot be assumed. */
  readonly memberIam: (accountId: string) => Promise<IAMClient>;
  /** The stack's notifier; member accounts' notices are sent through it naming their account (withAccount). */
  readonly notifier: Notifier;
  readonly dryRun?: boolean;
}

/**
 * Scans one account of the organization. Never throws for a problem of that account (a missing or
 * too narrow member role, a refused call): it is returned as `failed` with the error's name, so the
 * Map goes on with the others and the Report tells operations. A throw (a bug, a timeout) is caught
 * by the state machine's Catch instead, with the same effect.
 */
export async function runAccountScan(event: AccountScanEvent, deps: AccountScanDependencies): Promise<AccountScanOutcome> {
  const own = event.accountId === deps.ownAccountId;
  try {
    const summary = await runScheduledScan(
      { ...deps, iam: own ? deps.ownIam : await deps.memberIam(event.accountId), notifier: own ? deps.notifier : withAccount(deps.notifier, event) },
      // The own account is acted on with the stack's own roles, exactly as in single-account mode: its rotations carry no account.
      { dryRun: deps.dryRun ?? false, ...(own ? {} : { account: event }) },
    );
    const failedActions = [...summary.rotationsSkipped, ...summary.deactivationsSkipped].filter((item) => item.error !== undefined).length;
    return {
      accountId: event.accountId,
      status: 'scanned',
      usersSeen: summary.usersSeen,
      keysDue: summary.counts.due,
      rotationsStarted: summary.rotationsStarted.length,
      problems: summary.userErrors.length + failedActions + summary.notifications.failures.length,
      error: null,
      cause: null,
    };
  } catch (caught) {
    const error = own ? caught : asMemberAccessError(caught, event.accountId, deps.config);
    deps.logger.error('account could not be scanned', { accountId: event.accountId, accountName: event.accountName, errorName: errorName(error), detail: errorMessage(error) });
    return { accountId: event.accountId, status: 'failed', usersSeen: 0, keysDue: 0, rotationsStarted: 0, problems: 0, error: errorName(error), cause: shorten(errorMessage(error)) };
  }
}

/** Owners' notices about a member account's keys name that account (facts.accountId/accountName), so a user name is never ambiguous. */
export function withAccount(notifier: Notifier, account: ScanAccountTarget): Notifier {
  return { send: (request) => notifier.send({ ...request, facts: { ...request.facts, accountId: account.accountId, accountName: account.accountName } }) };
}

/** A refusal inside a member account means the same as a refused AssumeRole: the member role is missing, untrusted or too narrow. */
function asMemberAccessError(error: unknown, accountId: string, config: Config): unknown {
  if (error instanceof MemberAccountAccessError || !REFUSALS.has(errorName(error))) return error;
  return new MemberAccountAccessError(
    accountId,
    `Cannot act in account ${accountId}: ${memberRoleArn(accountId, config)} was refused (${errorName(error)}: ${errorMessage(error)}).`,
  );
}

function shorten(text: string): string {
  return text.length <= CAUSE_LIMIT ? text : `${text.slice(0, CAUSE_LIMIT - 1)}…`;
}

export interface OrganizationScanStart {
  readonly scope: 'organization';
  readonly executionName: string;
  readonly executionArn: string;
  /** The scheduled event was delivered again after its scan had ended. */
  readonly alreadyStarted: boolean;
}

/**
 * SCAN_SCOPE=organization: the schedule only starts the scan-organization state machine, which fans
 * out over the accounts (one Lambda per account, bounded concurrency). The execution is named after
 * the schedule's slot (the event's `time`, equal in every delivery of one scheduled event; else
 * now, to the minute) with a constant input: a duplicate delivery gets the running execution back
 * (StartExecution is idempotent for an equal name and input) or, once it has ended, is told so
 * (ExecutionAlreadyExists), and never scans twice.
 */
export async function startOrganizationScan(
  sfnClient: SFNClient,
  config: Config,
  clock: Clock,
  log: Logger,
  scheduledAt?: string,
): Promise<OrganizationScanStart> {
  if (config.orgScanStateMachineArn === '') {
    throw new ConfigError('SCAN_SCOPE=organization but ORG_SCAN_STATE_MACHINE_ARN is not set: set it to the stack output OrgScanStateMachineArn, or set SCAN_SCOPE=account.');
  }
  const slot = scheduledAt !== undefined && !Number.isNaN(Date.parse(scheduledAt)) ? new Date(scheduledAt) : clock();
  const executionName = `scan-${slot.toISOString().slice(0, 16).replace(':', '-')}`;
  const executionArn = executionArnFor(config.orgScanStateMachineArn, executionName);
  try {
    const response = await sfnClient.send(new StartExecutionCommand({ stateMachineArn: config.orgScanStateMachineArn, name: executionName, input: '{}' }));
    log.info('organization scan started', { executionName, executionArn: response.executionArn });
    return { scope: 'organization', executionName, executionArn: response.executionArn ?? executionArn, alreadyStarted: false };
  } catch (error) {
    if (errorName(error) !== 'ExecutionAlreadyExists') throw error;
    log.info('organization scan of this schedule slot already ran; not started again', { executionName, executionArn });
    return { scope: 'organization', executionName, executionArn, alreadyStarted: true };
  }
}

function summarize(result: ScanResult, notifications: ScanNotificationSummary): ScanSummary {
  return {
    asOf: result.asOf,
    counts: result.counts,
    usersSeen: result.usersSeen,
    usersReadLive: result.usersReadLive,
    dueNotReadLive: result.dueNotReadLive,
    rotationsStarted: result.rotationsStarted,
    rotationsSkipped: result.rotationsSkipped,
    keysDeactivated: result.keysDeactivated.length,
    deactivationsSkipped: result.deactivationsSkipped,
    tagProblems: result.tagProblems,
    userErrors: result.userErrors,
    notifications,
  };
}

function countBy(items: readonly SkippedAction[]): Record<string, number> {
  const counts: Record<string, number> = {};
  // Reasons that name an execution are grouped by their first words, so the log stays one line.
  for (const item of items) {
    const key = item.error ?? item.reason.split(' (')[0] ?? item.reason;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

function chart(summary: ScanSummary, metrics: Metrics): void {
  for (const cls of KEY_CLASSES) {
    const single = metrics.singleMetric();
    single.addDimension('class', cls);
    single.addMetric('KeysByClass', MetricUnit.Count, summary.counts[cls]);
  }
  metrics.addMetric('RotationsStarted', MetricUnit.Count, summary.rotationsStarted.length);
  metrics.addMetric('RotationsSkipped', MetricUnit.Count, summary.rotationsSkipped.length);
  metrics.addMetric('KeysDeactivated', MetricUnit.Count, summary.keysDeactivated);
  metrics.addMetric('UserErrors', MetricUnit.Count, summary.userErrors.length);
  metrics.addMetric('TagProblems', MetricUnit.Count, summary.tagProblems.length);
  metrics.addMetric('NotificationsSent', MetricUnit.Count, summary.notifications.sent);
  metrics.addMetric('NotificationFailures', MetricUnit.Count, summary.notifications.failures.length);
}

function record(summary: ScanSummary, log: Logger, metrics: Metrics | undefined, account?: ScanAccountTarget): void {
  if (metrics) chart(summary, metrics);
  log.info('scan finished', {
    ...(account === undefined ? {} : { accountId: account.accountId, accountName: account.accountName }),
    asOf: summary.asOf,
    counts: summary.counts,
    usersSeen: summary.usersSeen,
    usersReadLive: summary.usersReadLive,
    dueNotReadLive: summary.dueNotReadLive,
    rotationsStarted: summary.rotationsStarted.map((rotation) => rotation.executionName),
    rotationsSkippedByReason: countBy(summary.rotationsSkipped),
    keysDeactivated: summary.keysDeactivated,
    deactivationsSkippedByReason: countBy(summary.deactivationsSkipped),
    notificationsSent: summary.notifications.sent,
    notificationsAlreadySent: summary.notifications.alreadySent,
    notificationsNotSent: summary.notifications.notSent,
  });
  for (const problem of summary.tagProblems) log.warn('invalid tag', { userName: problem.userName, tag: problem.tag, detail: problem.message });
  for (const failure of summary.userErrors) log.error('user could not be scanned', { userName: failure.userName, errorName: failure.error, detail: failure.message });
  for (const failure of summary.notifications.failures) {
    log.error('notification failed; the next scan tries again', { userName: failure.userName, dedupeId: failure.dedupeId, errorName: failure.error, detail: failure.message });
  }
  for (const failed of [...summary.rotationsSkipped, ...summary.deactivationsSkipped].filter((item) => item.error !== undefined)) {
    log.error('action failed', { userName: failed.userName, accessKeyId: failed.accessKeyId, errorName: failed.error, detail: failed.reason });
  }
}

const config = configLoader(process.env);
const ownAccountId = deployedAccountId();
const notifierFor = lambdaNotifier({ sns, dynamodb }, logger, systemClock);
// One IAM client per member account per container, all sharing one STS client; each assumes the
// member role on first use and renews it before it ends (shared/aws/member-account.ts).
const memberIam = memberAccountClientsOnFirstUse(sts, systemClock, iamWith);

/**
 * Three kinds of event: the schedule with SCAN_SCOPE=account (the default: scan this account, as
 * always), the schedule with SCAN_SCOPE=organization (start the organization scan and return), and
 * one account from the scan-organization state machine (`{ accountId, accountName }`).
 */
export const handler = middy(async (event: unknown): Promise<ScanSummary | OrganizationScanStart | AccountScanOutcome> => {
  const loaded = await config();
  const isAccountEvent = typeof event === 'object' && event !== null && 'accountId' in event;
  if (isAccountEvent) {
    const parsed = AccountScanEventSchema.safeParse(event);
    if (!parsed.success) throw new InvalidInputError(`The account to scan is malformed: ${parsed.error.issues.map((issue) => issue.message).join('; ')}. The scan-organization state machine passes { accountId, accountName }.`);
    const own = await ownAccountId();
    return runAccountScan(parsed.data, {
      sfn,
      config: loaded,
      clock: systemClock,
      logger,
      metrics,
      ownAccountId: own,
      ownIam: iam,
      memberIam: memberIam(loaded),
      notifier: notifierFor(loaded),
    });
  }
  if (loaded.scanScope === 'organization') {
    const scheduledAt = typeof event === 'object' && event !== null && 'time' in event && typeof event.time === 'string' ? event.time : undefined;
    return startOrganizationScan(sfn, loaded, systemClock, logger, scheduledAt);
  }
  return runScheduledScan({ iam, sfn, config: loaded, clock: systemClock, logger, metrics, notifier: notifierFor(loaded) });
})
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics, { captureColdStartMetric: true }));
