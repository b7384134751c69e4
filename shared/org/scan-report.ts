import type { Logger } from '@aws-lambda-powertools/logger';
import * as z from 'zod/mini';
import { InvalidInputError } from '../base/errors.ts';
import { MEMBER_ROLE_FIX } from '../aws/member-account.ts';
import type { Config } from '../config/settings.ts';
import type { Notifier, SendOutcome } from '../notify/notifier.ts';

/** What a person does about an account the scan could not reach, by error name. */
const FIX_BY_ERROR: Readonly<Record<string, string>> = {
  MemberAccountAccessError: MEMBER_ROLE_FIX,
  ConfigError: 'fix the configuration the message names; every account fails the same way until then',
  'States.Timeout': 'the account took longer than the scan function’s timeout: raise it, or lower MAX_ROTATIONS_PER_RUN',
};
const DEFAULT_FIX = 'see the scan-keys function’s log lines for this account (accountId field); the next scan tries it again';

const AccountSchema = z.object({ accountId: z.string(), accountName: z.string() });
/**
 * The Report's input, from the scan-organization state machine: the accounts listed, those skipped,
 * and one result per account (from scan-keys, or from the Map's Catch when the function itself failed).
 */
const ReportEventSchema = z.object({
  executionName: z.string(),
  accounts: z.array(AccountSchema),
  skipped: z.array(z.object({ accountId: z.string(), accountName: z.string(), reason: z.string() })),
  /** All skipped accounts; `skipped` lists the first ones only (list-accounts bounds it). Absent in states written before it existed. */
  skippedCount: z.optional(z.number()),
  results: z.array(
    z.object({
      accountId: z.string(),
      status: z.enum(['scanned', 'failed']),
      rotationsStarted: z.optional(z.number()),
      problems: z.optional(z.number()),
      error: z.nullable(z.optional(z.string())),
      cause: z.nullable(z.optional(z.string())),
    }),
  ),
});
export type OrgScanReportEvent = z.infer<typeof ReportEventSchema>;

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
  readonly failed: readonly FailedAccount[];
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

/** Logs every account's outcome and sends ONE notification to operations listing the accounts that failed and why. */
export async function reportOrgScan(
  event: unknown,
  deps: { readonly notifier: Notifier; readonly config: Config; readonly logger: Logger },
): Promise<OrgScanReport> {
  const parsed = ReportEventSchema.safeParse(event);
  if (!parsed.success)
    throw new InvalidInputError(
      `The organization scan's results are malformed: ${parsed.error.issues.map((issue) => issue.message).join('; ')}.`,
    );
  const { executionName, accounts, skipped, results } = parsed.data;
  const skippedCount = parsed.data.skippedCount ?? skipped.length;
  const names = new Map(accounts.map((account) => [account.accountId, account.accountName]));
  const failed: FailedAccount[] = [];
  let scanned = 0;
  let rotationsStarted = 0;
  for (const result of results) {
    const accountName = names.get(result.accountId) ?? result.accountId;
    if (result.status === 'scanned') {
      scanned += 1;
      rotationsStarted += result.rotationsStarted ?? 0;
      deps.logger.info('account scanned', {
        accountId: result.accountId,
        accountName,
        rotationsStarted: result.rotationsStarted,
        problems: result.problems,
      });
      continue;
    }
    const error = result.error ?? 'Error';
    const entry = {
      accountId: result.accountId,
      accountName,
      error,
      cause: causeMessage(result.cause),
      fix: FIX_BY_ERROR[error] ?? DEFAULT_FIX,
    };
    failed.push(entry);
    deps.logger.error('account failed', { accountId: entry.accountId, accountName, errorName: error, detail: entry.cause });
  }
  for (const entry of skipped)
    deps.logger.info('account skipped', { accountId: entry.accountId, accountName: entry.accountName, reason: entry.reason });
  deps.logger.info('organization scan finished', {
    executionName,
    scanned,
    failed: failed.length,
    skipped: skippedCount,
    rotationsStarted,
  });

  const notification = failed.length > 0 ? (await notifyOperations(failed, executionName, deps)).status : 'none';
  return { scanned, rotationsStarted, skipped: skippedCount, failed, notification };
}

/** The one notice to operations: every failed account with its error and fix, sent once per execution however often the Report runs. */
function notifyOperations(
  failed: readonly FailedAccount[],
  executionName: string,
  deps: { readonly notifier: Notifier; readonly config: Config },
): Promise<SendOutcome> {
  const list = failed
    .map((entry) => `${entry.accountId} (${entry.accountName}): ${entry.error}: ${entry.cause} To fix: ${entry.fix}.`)
    .join(' | ');
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
