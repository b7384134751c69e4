import type { Logger } from '@aws-lambda-powertools/logger';
import * as z from 'zod/mini';
import { InvalidInputError } from '../base/errors.ts';
import { AccountResultSchema, type OrgScanStore, type StoredAccount } from './scan-store.ts';

/**
 * The two storage steps of one page of the organization scan (one child execution of the Distributed
 * Map): ReadPage gives the child its accounts, RecordPage keeps their outcomes where the Report reads
 * them. A function of their own, so that only they (and listAccounts, reportOrgScan) reach the
 * `orgscan#` items, and scan-keys, which acts in member accounts, does not.
 */

const PageRef = { executionName: z.string().check(z.minLength(1)), page: z.number().check(z.int(), z.gte(0)) };
const PageEventSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('read'), ...PageRef }),
  z.object({ op: z.literal('record'), ...PageRef, expiresAt: z.number(), results: z.array(AccountResultSchema) }),
]);

export interface ReadPageResult {
  readonly accounts: readonly StoredAccount[];
}
export interface RecordPageResult {
  readonly recorded: number;
}

export async function orgScanPage(
  event: unknown,
  deps: { readonly store: OrgScanStore; readonly logger: Logger },
): Promise<ReadPageResult | RecordPageResult> {
  const parsed = PageEventSchema.safeParse(event);
  if (!parsed.success)
    throw new InvalidInputError(
      `The organization scan's page step received a malformed event: ${parsed.error.issues.map((issue) => issue.message).join('; ')}.`,
    );
  const request = parsed.data;
  if (request.op === 'read') {
    const accounts = await deps.store.getAccountPage(request.executionName, request.page);
    deps.logger.info('organization scan page read', {
      executionName: request.executionName,
      page: request.page,
      accounts: accounts.length,
    });
    return { accounts };
  }
  await deps.store.putResultPage(request.executionName, request.page, request.results, request.expiresAt);
  const failed = request.results.filter((result) => result.status === 'failed').length;
  deps.logger.info('organization scan page recorded', {
    executionName: request.executionName,
    page: request.page,
    accounts: request.results.length,
    failed,
  });
  return { recorded: request.results.length };
}
