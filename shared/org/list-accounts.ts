import type { Logger } from '@aws-lambda-powertools/logger';
import type { OrganizationsClient } from '@aws-sdk/client-organizations';
import { filtersNeedTags, type AccountFilters } from '../config/organization-filters.ts';
import type { Clock } from '../base/clock.ts';
import type { Config } from '../config/settings.ts';
import { listOrganizationAccounts, selectAccounts } from './accounts.ts';
import { ORG_SCAN_RETENTION_MS, pageSize, toPages, type OrgScanStore } from './scan-store.ts';

export interface AccountRef {
  readonly accountId: string;
  readonly accountName: string;
}

export interface SkippedAccountRef extends AccountRef {
  readonly reason: string;
}

/**
 * The first state of the organization scan: no account list, whatever the organization's size. The
 * selected accounts are in the ledger table in `pageCount` pages (shared/org/scan-store.ts); the state
 * holds the page numbers the Map iterates over (at most MAX_PAGES), so it stays a few KB at 10,000
 * accounts as at 10 (the Lambda's response, too: Step Functions caps it at 256 KiB like any state).
 */
export interface AccountList {
  /** 0 … pageCount − 1: the Map's items. */
  readonly pages: readonly number[];
  readonly pageCount: number;
  readonly accountCount: number;
  /** The first SKIPPED_IN_STATE skipped accounts with why (all of them are logged here): an organization of thousands excluded by filters must not fill the state. */
  readonly skipped: readonly SkippedAccountRef[];
  readonly skippedCount: number;
  /** ORG_MAX_CONCURRENT_ACCOUNTS, read by the Map's MaxConcurrencyPath: pages (child executions) at the same time, each scanning one account at a time. */
  readonly maxConcurrency: number;
  /** Epoch seconds: when DynamoDB's TTL may remove this scan's pages (the results pages carry it too). */
  readonly expiresAt: number;
}

/** The organization's accounts, split by the filters. */
export interface AccountSelection {
  readonly selected: readonly AccountRef[];
  readonly skipped: readonly SkippedAccountRef[];
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
export async function selectOrganizationAccounts(deps: {
  organizations: OrganizationsClient;
  config: Config;
  ownAccountId: string;
  logger: Logger;
}): Promise<AccountSelection> {
  const filters = accountFilters(deps.config);
  const all = await listOrganizationAccounts(deps.organizations, { withTags: filtersNeedTags(filters) });
  const { selected, skipped } = selectAccounts(all, filters, deps.ownAccountId);
  deps.logger.info('organization accounts listed', { accounts: all.length, selected: selected.length, skipped: skipped.length });
  for (const entry of skipped)
    deps.logger.info('account skipped', { accountId: entry.account.id, accountName: entry.account.name, reason: entry.reason });
  return {
    selected: selected.map((account) => ({ accountId: account.id, accountName: account.name })),
    skipped: skipped.map((entry) => ({ accountId: entry.account.id, accountName: entry.account.name, reason: entry.reason })),
  };
}

/** Writes the selected accounts in pages where the Map's children and the Report read them, and returns the state that names them. */
export async function storeAccountList(
  selection: AccountSelection,
  deps: { readonly store: OrgScanStore; readonly executionName: string; readonly maxConcurrency: number; readonly clock: Clock },
): Promise<AccountList> {
  const size = pageSize(selection.selected.length, deps.maxConcurrency);
  const pages = toPages(selection.selected, size);
  const expiresAt = Math.floor((deps.clock().getTime() + ORG_SCAN_RETENTION_MS) / 1000);
  await deps.store.putAccountPages(deps.executionName, pages, expiresAt);
  return {
    pages: pages.map((_, page) => page),
    pageCount: pages.length,
    accountCount: selection.selected.length,
    skipped: selection.skipped.slice(0, SKIPPED_IN_STATE),
    skippedCount: selection.skipped.length,
    maxConcurrency: deps.maxConcurrency,
    expiresAt,
  };
}

/** ListAccounts: the selection, stored in pages. */
export async function listAccounts(deps: {
  organizations: OrganizationsClient;
  config: Config;
  ownAccountId: string;
  logger: Logger;
  store: OrgScanStore;
  executionName: string;
  clock: Clock;
}): Promise<AccountList> {
  const selection = await selectOrganizationAccounts(deps);
  const list = await storeAccountList(selection, { ...deps, maxConcurrency: deps.config.orgMaxConcurrentAccounts });
  deps.logger.info('organization accounts stored', {
    executionName: deps.executionName,
    pages: list.pageCount,
    accounts: list.accountCount,
  });
  return list;
}
