import type { IAMClient } from '@aws-sdk/client-iam';
import * as z from 'zod/mini';
import { ACCOUNT_ID } from '../base/account-id.ts';
import { errorMessage, errorName, MemberAccountAccessError } from '../base/errors.ts';
import { memberRoleArn } from '../aws/member-account.ts';
import type { Config } from '../config/settings.ts';
import type { Notifier } from '../notify/notifier.ts';
import type { ScanAccountTarget } from './scanner.ts';
import { runScheduledScan, type ScanDependencies } from './scheduled-scan.ts';

/** One account of an organization scan, as the scan-organization state machine passes it (an item of list-accounts' `accounts`). */
export const AccountScanEventSchema = z.object({
  accountId: z.string().check(z.regex(ACCOUNT_ID, 'accountId must be a 12-digit AWS account id')),
  accountName: z.string(),
});
export type AccountScanEvent = z.infer<typeof AccountScanEventSchema>;

/**
 * What one account's scan returns to the Map state. Deliberately small and flat (the Map's
 * ResultSelector picks exactly these fields): a page's child execution gathers one per account of
 * its page (at most 200) into one state, which Step Functions caps at 256 KiB, and records them in
 * one ledger item. Hence no account name (the Report joins it from the page's accounts), counts
 * instead of lists, and a cause cut to CAUSE_LIMIT characters (the Report adds the fix for each error name).
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
const REFUSALS = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'ExpiredToken',
  'SignatureDoesNotMatch',
  'InvalidAccessKeyId',
]);

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
      {
        ...deps,
        iam: own ? deps.ownIam : await deps.memberIam(event.accountId),
        notifier: own ? deps.notifier : withAccount(deps.notifier, event),
      },
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
    deps.logger.error('account could not be scanned', {
      accountId: event.accountId,
      accountName: event.accountName,
      errorName: errorName(error),
      detail: errorMessage(error),
    });
    return {
      accountId: event.accountId,
      status: 'failed',
      usersSeen: 0,
      keysDue: 0,
      rotationsStarted: 0,
      problems: 0,
      error: errorName(error),
      cause: shorten(errorMessage(error)),
    };
  }
}

/** Owners' notices about a member account's keys name that account (facts.accountId/accountName), so a user name is never ambiguous. */
export function withAccount(notifier: Notifier, account: ScanAccountTarget): Notifier {
  return {
    send: (request) =>
      notifier.send({ ...request, facts: { ...request.facts, accountId: account.accountId, accountName: account.accountName } }),
  };
}

/** A refusal inside a member account means the same as a refused AssumeRole: the member role is missing, untrusted or too narrow. */
function asMemberAccessError(error: unknown, accountId: string, config: Config): unknown {
  if (error instanceof MemberAccountAccessError || !REFUSALS.has(errorName(error))) return error;
  return new MemberAccountAccessError(
    accountId,
    `Cannot act in account ${accountId}: ${memberRoleArn(accountId, config)} was refused (${errorName(error)}: ${errorMessage(error)}).`,
    { cause: error },
  );
}

function shorten(text: string): string {
  return text.length <= CAUSE_LIMIT ? text : `${text.slice(0, CAUSE_LIMIT - 1)}…`;
}
