import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { Clock } from '../base/clock.ts';
import { errorMessage, errorName } from '../base/errors.ts';
import type { Config } from '../config/settings.ts';
import type { Notifier } from '../notify/notifier.ts';
import { KEY_CLASSES, type KeyClass } from './classify-keys.ts';
import { planScanNotifications, sendScanNotifications, type ScanNotificationSummary } from './scan-notices.ts';
import type { SecurityHubApi } from '../aws/security-hub.ts';
import { syncScanFindings, type ScanFindingsOutcome } from './scan-findings.ts';
import {
  scanAccount,
  type ScanAccountTarget,
  type ScanResult,
  type SkippedAction,
  type StartedRotation,
  type TagProblem,
  type WeakenedTag,
  type UserProblem,
} from './scanner.ts';

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
  /** Applied tags that weaken a default, each with its value and the account's default. */
  readonly weakened: readonly WeakenedTag[];
  readonly userErrors: readonly UserProblem[];
  readonly notifications: ScanNotificationSummary;
  /** SECURITY_HUB_FINDINGS: what this scan wrote to Security Hub; null when off, a dry run, or a member account it cannot write in. */
  readonly securityHub: ScanFindingsOutcome | null;
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
  /** Where findings go when SECURITY_HUB_FINDINGS is on: the rotator account's Security Hub, and a member account's own. */
  readonly securityHub?: {
    readonly api: SecurityHubApi;
    readonly accountId: () => Promise<string>;
    readonly region: string;
    /** A member account's Security Hub, signed by its member session (the member role grants it with SecurityHubFindings=true). */
    readonly memberApi?: (accountId: string) => Promise<SecurityHubApi>;
  };
}

/** The scheduled scan: scan, act within the cap, tell owners what is coming, then log and chart what happened. */
export async function runScheduledScan(
  deps: ScanDependencies,
  options: { readonly dryRun?: boolean; readonly account?: ScanAccountTarget } = {},
): Promise<ScanSummary> {
  const dryRun = options.dryRun ?? false;
  // report-only: owners are told and findings kept as usual, and nothing is started or changed.
  const reportOnly = deps.config.rotationMode === 'report-only';
  const result = await scanAccount({
    iam: deps.iam,
    sfn: deps.sfn,
    config: deps.config,
    clock: deps.clock,
    dryRun: dryRun || reportOnly,
    account: options.account,
    // Findings name each key: the due users the cap leaves for later are read too (one ListAccessKeys each).
    readDeferredKeys: writesFindings(deps, dryRun, options.account),
  });
  const retiring = result.rotationsStarted.filter((started) => started.kind === 'retire');
  const notices = dryRun ? [] : planScanNotifications(result.keys, result.keysDeactivated, deps.config, new Date(result.asOf), retiring);
  const summary = summarize(
    result,
    await sendScanNotifications(notices, deps.notifier),
    await findingsOf(result, deps, dryRun, options.account),
  );
  record(summary, deps.logger, deps.metrics, options.account);
  return summary;
}

function writesFindings(deps: ScanDependencies, dryRun: boolean, account: ScanAccountTarget | undefined): boolean {
  if (!deps.config.securityHubFindings || dryRun || deps.securityHub === undefined) return false;
  return account === undefined || deps.securityHub.memberApi !== undefined;
}

/**
 * Security Hub findings for this scan, when the deployment writes them. A member account's findings
 * are imported in that account, through its member session: BatchImportFindings accepts a finding
 * with the default product only from the account it names (Security Hub API reference,
 * BatchImportFindings). A member account whose Security Hub cannot be reached is logged, and the
 * next scan tries again; it never fails the scan.
 */
async function findingsOf(
  result: ScanResult,
  deps: ScanDependencies,
  dryRun: boolean,
  account: ScanAccountTarget | undefined,
): Promise<ScanFindingsOutcome | null> {
  const target = deps.securityHub;
  if (!deps.config.securityHubFindings || dryRun || target === undefined) return null;
  if (account === undefined) {
    return syncScanFindings(target.api, result, { accountId: await target.accountId(), region: target.region }, deps.logger);
  }
  if (target.memberApi === undefined) {
    deps.logger.info('Security Hub findings not written: no member-account Security Hub client', { accountId: account.accountId });
    return null;
  }
  let api: SecurityHubApi;
  try {
    api = await target.memberApi(account.accountId);
  } catch (error) {
    deps.logger.warn('Security Hub findings not written: the member account could not be reached', {
      accountId: account.accountId,
      detail: `${errorName(error)}: ${errorMessage(error)}`,
    });
    return null;
  }
  return syncScanFindings(api, result, { accountId: account.accountId, region: target.region }, deps.logger);
}

function summarize(result: ScanResult, notifications: ScanNotificationSummary, securityHub: ScanFindingsOutcome | null): ScanSummary {
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
    weakened: result.weakened,
    userErrors: result.userErrors,
    notifications,
    securityHub,
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
  metrics.addMetric('WeakeningTags', MetricUnit.Count, summary.weakened.length);
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
    ...(summary.securityHub === null
      ? {}
      : {
          securityHubWritten: summary.securityHub.written,
          securityHubArchived: summary.securityHub.archived,
          securityHubFailed: summary.securityHub.failed,
        }),
  });
  // Each one waits for a person: the scan never starts it again.
  for (const ended of summary.rotationsSkipped)
    if (ended.restartWith !== undefined)
      log.warn('scheduled rotation ended without success; not started again', {
        userName: ended.userName,
        accessKeyId: ended.accessKeyId,
        restartWith: ended.restartWith,
      });
  for (const problem of summary.tagProblems)
    log.warn('invalid tag', { userName: problem.userName, tag: problem.tag, detail: problem.message });
  // Each in plain sight: whoever may tag a user may set these, so operators see every one, every scan.
  for (const override of summary.weakened)
    log.warn('tag weakens a default', { userName: override.userName, tag: override.tag, value: override.value, default: override.default });
  for (const failure of summary.userErrors)
    log.error('user could not be scanned', { userName: failure.userName, errorName: failure.error, detail: failure.message });
  for (const failure of summary.notifications.failures) {
    log.error('notification failed; the next scan tries again', {
      userName: failure.userName,
      dedupeId: failure.dedupeId,
      errorName: failure.error,
      detail: failure.message,
    });
  }
  for (const failed of [...summary.rotationsSkipped, ...summary.deactivationsSkipped].filter((item) => item.error !== undefined)) {
    log.error('action failed', {
      userName: failed.userName,
      accessKeyId: failed.accessKeyId,
      errorName: failed.error,
      detail: failed.reason,
    });
  }
}
