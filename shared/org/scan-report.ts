import type { Logger } from '@aws-lambda-powertools/logger';
import * as z from 'zod/mini';
import { InvalidInputError } from '../base/errors.ts';
import { MEMBER_ROLE_FIX } from '../aws/member-account.ts';
import type { Config } from '../config/settings.ts';
import type { Notifier, SendOutcome } from '../notify/notifier.ts';
import { OrgScanPageMissingError, type OrgScanStore } from './scan-store.ts';

/** What a person does about an account the scan could not reach, by error name. */
const FIX_BY_ERROR: Readonly<Record<string, string>> = {
  MemberAccountAccessError: MEMBER_ROLE_FIX,
  ConfigError: 'fix the configuration the message names; every account fails the same way until then',
  'States.Timeout': 'the account took longer than the scan function’s timeout: raise it, or lower MAX_ROTATIONS_PER_RUN',
  OrgScanPageNotRecorded:
    'the child execution of the ScanAccounts Distributed Map that scanned this page failed (open the Map Run of this execution); the next scan tries it again',
};
const DEFAULT_FIX = 'see the scan-keys function’s log lines for this account (accountId field); the next scan tries it again';

/**
 * The Report's input, from the scan-organization state machine: where the accounts and their outcomes
 * are (the execution's pages in the ledger table), and the skipped accounts. No list of accounts or
 * results: those would make the state grow with the organization.
 */
const ReportEventSchema = z.object({
  executionName: z.string(),
  pageCount: z.number().check(z.int(), z.gte(0)),
  skipped: z.array(z.object({ accountId: z.string(), accountName: z.string(), reason: z.string() })),
  /** All skipped accounts; `skipped` lists the first ones only (list-accounts bounds it). */
  skippedCount: z.optional(z.number()),
});
export type OrgScanReportEvent = z.infer<typeof ReportEventSchema>;

/** Pages read per BatchGetItem round (two items each): memory holds this many pages, not the organization. */
const PAGES_PER_READ = 50;
/**
 * Failed accounts named one by one in the notice and in the Report's output (the rest are counted by
 * error, and every one is logged): the notice stays well under SNS's 256 KB message limit and the
 * output under the state's 256 KiB at any number of failures.
 */
export const FAILED_LISTED = 50;

/** The page's child execution ended without recording its outcomes (it failed after its retries; the Map tolerates it). */
const NOT_RECORDED = 'OrgScanPageNotRecorded';

export interface FailedAccount {
  readonly accountId: string;
  readonly accountName: string;
  readonly error: string;
  readonly cause: string;
  readonly fix: string;
}

export interface OrgScanReport {
  readonly scanned: number;
  readonly rotationsStarted: number;
  readonly skipped: number;
  readonly failedCount: number;
  /** The first FAILED_LISTED failed accounts; failedByError counts them all. */
  readonly failed: readonly FailedAccount[];
  readonly failedByError: Readonly<Record<string, number>>;
  /** The one notification to operations (only when an account failed). */
  readonly notification: SendOutcome['status'] | 'none';
}

/**
 * A result from scan-keys holds the message itself; the Map's Catch keeps Lambda's Cause (errorMessage
 * and a stack trace) out of the gathered results and says where to find it. An older Cause as JSON
 * still yields its message.
 */
function causeMessage(cause: string | null | undefined): string {
  if (!cause) return 'no detail';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // Not JSON: the message itself.
  }
  return cause;
}

/**
 * Reads every page's outcomes from the store, a few pages at a time, logs each account's outcome, and
 * sends ONE notification to operations naming the accounts that failed, why, and the fix.
 */
export async function reportOrgScan(
  event: unknown,
  deps: { readonly notifier: Notifier; readonly config: Config; readonly logger: Logger; readonly store: OrgScanStore },
): Promise<OrgScanReport> {
  const parsed = ReportEventSchema.safeParse(event);
  if (!parsed.success)
    throw new InvalidInputError(
      `The organization scan's results are malformed: ${parsed.error.issues.map((issue) => issue.message).join('; ')}.`,
    );
  const { executionName, pageCount, skipped } = parsed.data;
  const skippedCount = parsed.data.skippedCount ?? skipped.length;
  const failed: FailedAccount[] = [];
  const failedByError: Record<string, number> = {};
  let failedCount = 0;
  let scanned = 0;
  let rotationsStarted = 0;
  const fail = (entry: Omit<FailedAccount, 'fix'>): void => {
    failedCount += 1;
    failedByError[entry.error] = (failedByError[entry.error] ?? 0) + 1;
    if (failed.length < FAILED_LISTED) failed.push({ ...entry, fix: FIX_BY_ERROR[entry.error] ?? DEFAULT_FIX });
    deps.logger.error('account failed', {
      accountId: entry.accountId,
      accountName: entry.accountName,
      errorName: entry.error,
      detail: entry.cause,
    });
  };
  for (let first = 0; first < pageCount; first += PAGES_PER_READ) {
    const numbers = Array.from({ length: Math.min(PAGES_PER_READ, pageCount - first) }, (_, index) => first + index);
    const pages = await deps.store.getPages(executionName, numbers);
    for (const number of numbers) {
      const page = pages.get(number);
      if (!page?.accounts)
        throw new OrgScanPageMissingError(
          `Page ${number} of organization scan ${executionName} is gone from the ledger table (expired?): the report cannot name its accounts.`,
        );
      const results = new Map((page.results ?? []).map((result) => [result.accountId, result]));
      for (const account of page.accounts) {
        const result = results.get(account.accountId);
        if (!result) {
          fail({
            accountId: account.accountId,
            accountName: account.accountName,
            error: NOT_RECORDED,
            cause: `no outcome was recorded for page ${number} of this scan`,
          });
          continue;
        }
        if (result.status === 'scanned') {
          scanned += 1;
          rotationsStarted += result.rotationsStarted ?? 0;
          deps.logger.info('account scanned', {
            accountId: account.accountId,
            accountName: account.accountName,
            rotationsStarted: result.rotationsStarted,
            problems: result.problems,
          });
          continue;
        }
        fail({
          accountId: account.accountId,
          accountName: account.accountName,
          error: result.error ?? 'Error',
          cause: causeMessage(result.cause),
        });
      }
    }
  }
  for (const entry of skipped)
    deps.logger.info('account skipped', { accountId: entry.accountId, accountName: entry.accountName, reason: entry.reason });
  deps.logger.info('organization scan finished', {
    executionName,
    scanned,
    failed: failedCount,
    skipped: skippedCount,
    rotationsStarted,
  });

  const notification =
    failedCount > 0 ? (await notifyOperations({ failed, failedCount, failedByError }, executionName, deps)).status : 'none';
  return { scanned, rotationsStarted, skipped: skippedCount, failedCount, failed, failedByError, notification };
}

/** The one notice to operations: every failed account with its error and fix, sent once per execution however often the Report runs. */
function notifyOperations(
  summary: {
    readonly failed: readonly FailedAccount[];
    readonly failedCount: number;
    readonly failedByError: Readonly<Record<string, number>>;
  },
  executionName: string,
  deps: { readonly notifier: Notifier; readonly config: Config },
): Promise<SendOutcome> {
  const named = summary.failed
    .map((entry) => `${entry.accountId} (${entry.accountName}): ${entry.error}: ${entry.cause} To fix: ${entry.fix}.`)
    .join(' | ');
  const more = summary.failedCount - summary.failed.length;
  const byError = Object.entries(summary.failedByError)
    .map(([error, count]) => `${error} ×${count} (to fix: ${FIX_BY_ERROR[error] ?? DEFAULT_FIX})`)
    .join('; ');
  const list =
    more > 0
      ? `${named} | … and ${more} more accounts (${summary.failedCount} failed in all: ${byError}); the reportOrgScan log names every one (message "account failed").`
      : named;
  return deps.notifier.send({
    facts: {
      event: 'accounts-unreachable',
      // The notice is about the organization, not a user: the field names the scan.
      userName: 'organization-scan',
      owner: deps.config.operationsEmail === '' ? undefined : deps.config.operationsEmail,
      reason: list,
      reference: executionName,
    },
    dedupeId: `org-scan#${executionName}#accounts-unreachable`,
    keepForMs: 7 * 86_400_000,
  });
}
