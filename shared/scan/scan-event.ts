import type { IAMClient } from '@aws-sdk/client-iam';
import { InvalidInputError } from '../base/errors.ts';
import { AccountScanEventSchema, runAccountScan, type AccountScanOutcome } from './account-scan.ts';
import { runScheduledScan, type ScanDependencies, type ScanSummary } from './scheduled-scan.ts';
import { startOrganizationScan, type OrganizationScanStart } from './start-organization-scan.ts';

export interface ScanEventDependencies extends ScanDependencies {
  /** Read only for an account event: the other two never need the stack's account id. */
  readonly ownAccountId: () => Promise<string>;
  /** An IAM client signed by the member role of an account; rejects with MemberAccountAccessError when the role cannot be assumed. */
  readonly memberIam: (accountId: string) => Promise<IAMClient>;
}

export type ScanEventResult = ScanSummary | OrganizationScanStart | AccountScanOutcome;

/**
 * Three kinds of event: the schedule with SCAN_SCOPE=account (the default: scan this account, as
 * always), the schedule with SCAN_SCOPE=organization (start the organization scan and return), and
 * one account from the scan-organization state machine (`{ accountId, accountName }`).
 */
export async function handleScanEvent(event: unknown, deps: ScanEventDependencies): Promise<ScanEventResult> {
  const isAccountEvent = typeof event === 'object' && event !== null && 'accountId' in event;
  if (isAccountEvent) {
    const parsed = AccountScanEventSchema.safeParse(event);
    if (!parsed.success)
      throw new InvalidInputError(
        `The account to scan is malformed: ${parsed.error.issues.map((issue) => issue.message).join('; ')}. The scan-organization state machine passes { accountId, accountName }.`,
      );
    // The account the stack runs in is scanned with the function's own IAM client, as in single-account mode.
    return runAccountScan(parsed.data, { ...deps, ownAccountId: await deps.ownAccountId(), ownIam: deps.iam });
  }
  if (deps.config.scanScope === 'organization') {
    const scheduledAt =
      typeof event === 'object' && event !== null && 'time' in event && typeof event.time === 'string' ? event.time : undefined;
    return startOrganizationScan(deps.sfn, deps.config, deps.clock, deps.logger, scheduledAt);
  }
  return runScheduledScan(deps);
}
