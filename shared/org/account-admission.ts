import { DescribeAccountCommand, ListParentsCommand, type OrganizationsClient } from '@aws-sdk/client-organizations';
import { AccountExcludedError } from '../base/errors.ts';
import type { AccountFilters } from '../config/organization-filters.ts';
import type { Config } from '../config/settings.ts';
import { accountFilters } from './list-accounts.ts';
import { accountExclusion, readingOrganization, readTags, type OrgAccount } from './accounts.ts';

/**
 * The organization filters bind on-demand starts as they bind the scan: a person, an API call or an
 * event must not reach an account the operators left out. One account is read, not the whole tree:
 * DescribeAccount (its state), ListParents up to the root (only when an OU filter is set) and its
 * tags (only when a tag filter is set).
 */

/** OUs nest at most five deep under the root (Organizations quotas); the walk stops well past that. */
const MAX_DEPTH = 10;

function hasFilters(filters: AccountFilters, isSelf: boolean): boolean {
  const excludes = filters.excludeAccounts.length + filters.excludeOus.length + filters.excludeTags.length;
  // Include filters never drop the rotator's own account (accountExclusion), so only excludes matter for it.
  const includes = isSelf ? 0 : filters.includeAccounts.length + filters.includeOus.length + filters.includeTags.length;
  return excludes + includes > 0;
}

/** The account's ancestors, nearest first, root last. */
async function parentsOf(organizations: OrganizationsClient, accountId: string): Promise<string[]> {
  const chain: string[] = [];
  let child = accountId;
  for (let depth = 0; depth < MAX_DEPTH; depth += 1) {
    const response = await readingOrganization('organizations:ListParents', () =>
      organizations.send(new ListParentsCommand({ ChildId: child })),
    );
    const parent = response.Parents?.[0];
    if (parent?.Id === undefined) return chain;
    chain.push(parent.Id);
    if (parent.Type === 'ROOT') return chain;
    child = parent.Id;
  }
  return chain;
}

async function describe(organizations: OrganizationsClient, accountId: string, filters: AccountFilters): Promise<OrgAccount> {
  let described;
  try {
    described = await readingOrganization('organizations:DescribeAccount', () =>
      organizations.send(new DescribeAccountCommand({ AccountId: accountId })),
    );
  } catch (error) {
    if (error instanceof Error && error.name === 'AccountNotFoundException') {
      throw new AccountExcludedError(
        accountId,
        undefined,
        `Account ${accountId} is not an account of this organization, so the rotator does not act in it. Nothing was started.`,
        { cause: error },
      );
    }
    throw error;
  }
  const needsOus = filters.includeOus.length > 0 || filters.excludeOus.length > 0;
  const needsTags = filters.includeTags.length > 0 || filters.excludeTags.length > 0;
  return {
    id: accountId,
    name: described.Account?.Name ?? accountId,
    status: described.Account?.State ?? described.Account?.Status ?? 'UNKNOWN',
    parentIds: needsOus ? await parentsOf(organizations, accountId) : [],
    tags: needsTags ? await readTags(organizations, accountId) : {},
  };
}

/**
 * Resolves when the filters admit the account; otherwise throws AccountExcludedError naming the
 * filter setting. With no filter that could apply, nothing is read (a single-account stack need not
 * be in an organization). Organizations that cannot be read fail closed, with OrganizationAccessError.
 */
export async function admitAccount(
  organizations: OrganizationsClient,
  filters: AccountFilters,
  accountId: string,
  isSelf: boolean,
): Promise<void> {
  if (!hasFilters(filters, isSelf)) return;
  // An account excluded by id is refused without a read: the answer cannot depend on the organization.
  const byId = filters.excludeAccounts.includes(accountId);
  const account = byId
    ? { id: accountId, name: accountId, status: 'ACTIVE', parentIds: [], tags: {} }
    : await describe(organizations, accountId, filters);
  const exclusion = accountExclusion(account, filters, isSelf);
  if (exclusion === undefined) return;
  const by = exclusion.setting === undefined ? '' : ` (${exclusion.setting})`;
  throw new AccountExcludedError(
    accountId,
    exclusion.setting,
    `Account ${accountId}${account.name === accountId ? '' : ` (${account.name})`} is left out of rotation: ${exclusion.reason}${by}. Nothing was started. ` +
      (exclusion.setting === undefined
        ? 'Only ACTIVE accounts of the organization are rotated.'
        : `The organization filters apply to on-demand rotations too; change ${exclusion.setting} in the stack to rotate here.`),
  );
}

/** StartDeps.admitAccount for this configuration; undefined when no filter is set, so nothing is read. */
export function accountAdmission(
  organizations: OrganizationsClient,
  config: Config,
): ((accountId: string, isSelf: boolean) => Promise<void>) | undefined {
  const filters = accountFilters(config);
  if (!hasFilters(filters, false)) return undefined;
  return (accountId, isSelf) => admitAccount(organizations, filters, accountId, isSelf);
}
