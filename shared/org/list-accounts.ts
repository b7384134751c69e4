import type { Logger } from '@aws-lambda-powertools/logger';
import type { OrganizationsClient } from '@aws-sdk/client-organizations';
import { filtersNeedTags, type AccountFilters } from '../config/organization-filters.ts';
import type { Config } from '../config/settings.ts';
import { listOrganizationAccounts, selectAccounts } from './accounts.ts';

export interface AccountRef {
  readonly accountId: string;
  readonly accountName: string;
}

export interface SkippedAccountRef extends AccountRef {
  readonly reason: string;
}

/**
 * The first state of the organization scan. Small on purpose: about 60 bytes per account
 * (`{"accountId":"123456789012","accountName":"…"}`), so 1,000 accounts (~60 KB, plus the skipped
 * ones with their reasons) stay well inside Step Functions' 256 KB limit on a state's input and output.
 */
export interface AccountList {
  readonly accounts: readonly AccountRef[];
  /** The first SKIPPED_IN_STATE skipped accounts with why (all of them are logged here): an organization of thousands excluded by filters must not fill the state. */
  readonly skipped: readonly SkippedAccountRef[];
  readonly skippedCount: number;
  /** ORG_MAX_CONCURRENT_ACCOUNTS, read by the Map's MaxConcurrencyPath: accounts scanned at the same time. */
  readonly maxConcurrency: number;
}

export function accountFilters(config: Config): AccountFilters {
  return {
    includeOus: config.orgIncludeOus,
    excludeOus: config.orgExcludeOus,
    includeAccounts: config.orgIncludeAccounts,
    excludeAccounts: config.orgExcludeAccounts,
    includeTags: config.orgIncludeTags,
    excludeTags: config.orgExcludeTags,
  };
}

export const SKIPPED_IN_STATE = 100;

/** Lists the organization's accounts and selects those to scan; the rotator's own account is never dropped by an include filter. */
export async function listAccounts(deps: {
  organizations: OrganizationsClient;
  config: Config;
  ownAccountId: string;
  logger: Logger;
}): Promise<AccountList> {
  const filters = accountFilters(deps.config);
  const all = await listOrganizationAccounts(deps.organizations, { withTags: filtersNeedTags(filters) });
  const { selected, skipped } = selectAccounts(all, filters, deps.ownAccountId);
  deps.logger.info('organization accounts listed', { accounts: all.length, selected: selected.length, skipped: skipped.length });
  for (const entry of skipped)
    deps.logger.info('account skipped', { accountId: entry.account.id, accountName: entry.account.name, reason: entry.reason });
  return {
    accounts: selected.map((account) => ({ accountId: account.id, accountName: account.name })),
    skipped: skipped
      .slice(0, SKIPPED_IN_STATE)
      .map((entry) => ({ accountId: entry.account.id, accountName: entry.account.name, reason: entry.reason })),
    skippedCount: skipped.length,
    maxConcurrency: deps.config.orgMaxConcurrentAccounts,
  };
}
