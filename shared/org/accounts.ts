import {
  paginateListAccountsForParent,
  paginateListOrganizationalUnitsForParent,
  paginateListRoots,
  paginateListTagsForResource,
  type OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { mapWithConcurrency } from '../base/concurrency.ts';
import { RotatorError } from '../base/errors.ts';
import type { AccountFilters, TagMatcher } from '../config/organization-filters.ts';

/** One account of the organization, with where it sits in the OU tree. */
export interface OrgAccount {
  readonly id: string;
  readonly name: string;
  /** The account's State (ACTIVE, SUSPENDED, PENDING_CLOSURE, CLOSED, ...); only ACTIVE accounts are scanned. */
  readonly status: string;
  /** Every OU above the account and the root id last, nearest first: an OU filter matches at any depth. */
  readonly parentIds: readonly string[];
  /** Empty unless the accounts were listed with tags. */
  readonly tags: Readonly<Record<string, string>>;
}

export interface SkippedAccount {
  readonly account: OrgAccount;
  readonly reason: string;
}

export interface AccountSelection {
  readonly selected: OrgAccount[];
  readonly skipped: SkippedAccount[];
}

/**
 * The organization could not be read: this account is not in one, or may not list it. The message
 * says where to deploy and what to grant; nothing was scanned.
 */
export class OrganizationAccessError extends RotatorError {
  override readonly name = 'OrganizationAccessError';
}

/** The most these List calls accept per page. */
const PAGE_SIZE = 20;
/**
 * Organizations allows only a few List calls per second per account; a handful in flight walks a
 * large tree several times faster than one at a time, and the SDK's adaptive retry absorbs throttling.
 */
const ORGANIZATIONS_CONCURRENCY = 4;

const READ_ACTIONS = ['organizations:ListRoots', 'organizations:ListOrganizationalUnitsForParent', 'organizations:ListAccountsForParent'];
const TAG_ACTION = 'organizations:ListTagsForResource';

interface Parent {
  readonly id: string;
  /** The parent itself, then its ancestors up to the root. */
  readonly chain: readonly string[];
}

/**
 * Every account of the organization with all its ancestor OUs, walking the tree from the roots
 * (two paginated calls per OU: its child OUs and its accounts). Tags cost one more call per account,
 * so they are read only when `withTags` (a tag filter is set). Accounts come back sorted by id.
 */
export async function listOrganizationAccounts(organizations: OrganizationsClient, options: { withTags: boolean }): Promise<OrgAccount[]> {
  const client = { client: organizations, pageSize: PAGE_SIZE };
  const roots = await readingOrganization('organizations:ListRoots', async () => {
    const ids: string[] = [];
    for await (const page of paginateListRoots(client, {}))
      for (const root of page.Roots ?? []) if (root.Id !== undefined) ids.push(root.Id);
    return ids;
  });

  const accounts = new Map<string, Omit<OrgAccount, 'tags'>>();
  // A visited set as well as the tree's own shape: the walk ends even if a listing repeated an OU.
  const seen = new Set<string>(roots);
  let level: Parent[] = roots.map((id) => ({ id, chain: [id] }));
  while (level.length > 0) {
    const children = await mapWithConcurrency(level, ORGANIZATIONS_CONCURRENCY, async (parent) => {
      await readingOrganization('organizations:ListAccountsForParent', async () => {
        for await (const page of paginateListAccountsForParent(client, { ParentId: parent.id })) {
          for (const account of page.Accounts ?? []) {
            if (account.Id === undefined) continue;
            // State replaces Status (retired September 2026); either says whether the account is ACTIVE.
            const status = account.State ?? account.Status ?? 'UNKNOWN';
            accounts.set(account.Id, { id: account.Id, name: account.Name ?? account.Id, status, parentIds: parent.chain });
          }
        }
      });
      return readingOrganization('organizations:ListOrganizationalUnitsForParent', async () => {
        const ous: Parent[] = [];
        for await (const page of paginateListOrganizationalUnitsForParent(client, { ParentId: parent.id })) {
          for (const ou of page.OrganizationalUnits ?? []) {
            if (ou.Id === undefined || seen.has(ou.Id)) continue;
            seen.add(ou.Id);
            ous.push({ id: ou.Id, chain: [ou.Id, ...parent.chain] });
          }
        }
        return ous;
      });
    });
    level = children.flat();
  }

  const sorted = [...accounts.values()].sort((a, b) => compareIds(a.id, b.id));
  if (!options.withTags) return sorted.map((account) => ({ ...account, tags: {} }));
  return mapWithConcurrency(sorted, ORGANIZATIONS_CONCURRENCY, async (account) => ({
    ...account,
    tags: await readTags(organizations, account.id),
  }));
}

export async function readTags(organizations: OrganizationsClient, accountId: string): Promise<Record<string, string>> {
  return readingOrganization(TAG_ACTION, async () => {
    const tags: Record<string, string> = {};
    for await (const page of paginateListTagsForResource({ client: organizations }, { ResourceId: accountId })) {
      for (const tag of page.Tags ?? []) if (tag.Key !== undefined) tags[tag.Key] = tag.Value ?? '';
    }
    return tags;
  });
}

/** Turns "not in an organization" and "access denied" into an error that says where to deploy and what to grant. */
export async function readingOrganization<T>(action: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    const name = error instanceof Error ? error.name : '';
    if (name === 'AWSOrganizationsNotInUseException') {
      throw new OrganizationAccessError(
        'This account is not in an AWS Organization, so there are no member accounts to scan. ' +
          'Deploy the rotator in the organization’s management account or in a delegated administrator account, ' +
          'or set SCAN_SCOPE=account to rotate keys in this account only.',
        { cause: error },
      );
    }
    if (name === 'AccessDeniedException' && !READ_ACTIONS.includes(action) && action !== TAG_ACTION) {
      // One account's reads, made by start-rotation and the CLI to apply the filters to an on-demand start.
      throw new OrganizationAccessError(
        `The rotator may not read the organization (${action} was denied), so it cannot tell whether the organization filters admit the account; nothing was started. ` +
          'Allow the caller organizations:DescribeAccount, organizations:ListParents and organizations:ListTagsForResource, from the management account or a delegated administrator account.',
        { cause: error },
      );
    }
    if (name === 'AccessDeniedException') {
      const needed = [...READ_ACTIONS, ...(action === TAG_ACTION ? [TAG_ACTION] : [])];
      throw new OrganizationAccessError(
        `The rotator may not read the organization (${action} was denied). ` +
          'Deploy it in the management account or in a delegated administrator account (the management account shares read access with ' +
          '`aws organizations put-resource-policy`), and allow the scanner’s role ' +
          `${needed.join(', ')}${action === TAG_ACTION ? '' : ` (and ${TAG_ACTION} when tag filters are set)`}.`,
        { cause: error },
      );
    }
    throw error;
  }
}

// Account ids are 12 digits, so a plain string comparison is numeric order, the same in every locale.
function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const describeTag = (key: string, value: string | undefined): string => (value === undefined ? key : `${key}=${value}`);

function matchingTag(account: OrgAccount, matchers: readonly TagMatcher[]): string | undefined {
  for (const matcher of matchers) {
    const value = account.tags[matcher.key];
    if (value !== undefined && (matcher.value === undefined || matcher.value === value)) return describeTag(matcher.key, value);
  }
  return undefined;
}

/** Why an account is left out, and the filter setting that leaves it out (none for an account that is not ACTIVE). */
export interface AccountExclusion {
  readonly reason: string;
  readonly setting?: string;
}

/** Why the account is not scanned, or undefined when it is. Excludes are checked before includes, so an exclude always wins. */
export function accountExclusion(account: OrgAccount, filters: AccountFilters, isSelf: boolean): AccountExclusion | undefined {
  if (account.status !== 'ACTIVE') return { reason: account.status === 'SUSPENDED' ? 'suspended' : `not active (${account.status})` };
  if (filters.excludeAccounts.includes(account.id)) return { reason: 'excluded by account id', setting: 'ORG_EXCLUDE_ACCOUNTS' };
  const excludedOu = account.parentIds.find((id) => filters.excludeOus.includes(id));
  if (excludedOu !== undefined) return { reason: `excluded by OU ${excludedOu}`, setting: 'ORG_EXCLUDE_OUS' };
  const excludedTag = matchingTag(account, filters.excludeTags);
  if (excludedTag !== undefined) return { reason: `tag ${excludedTag} excluded`, setting: 'ORG_EXCLUDE_TAGS' };
  // The rotator's own account was scanned before organization mode and stays scanned: include
  // filters pick member accounts, and the tooling account rarely sits in a workload OU. Only an
  // explicit exclude leaves it out.
  if (isSelf) return undefined;
  if (filters.includeAccounts.length > 0 && !filters.includeAccounts.includes(account.id))
    return { reason: 'not in the included accounts', setting: 'ORG_INCLUDE_ACCOUNTS' };
  if (filters.includeOus.length > 0 && !account.parentIds.some((id) => filters.includeOus.includes(id)))
    return { reason: 'not in an included OU', setting: 'ORG_INCLUDE_OUS' };
  if (filters.includeTags.length > 0 && matchingTag(account, filters.includeTags) === undefined) {
    return {
      reason: `no included tag (${filters.includeTags.map((matcher) => describeTag(matcher.key, matcher.value)).join(', ')})`,
      setting: 'ORG_INCLUDE_TAGS',
    };
  }
  return undefined;
}

/**
 * Which accounts to scan, and why each other one is not. Pure: the same accounts and filters always
 * give the same answer, both lists in account id order. `selfAccountId` is the account the rotator
 * runs in: include filters do not drop it, excludes do (see accountExclusion).
 */
export function selectAccounts(accounts: readonly OrgAccount[], filters: AccountFilters, selfAccountId?: string): AccountSelection {
  const selected: OrgAccount[] = [];
  const skipped: SkippedAccount[] = [];
  for (const account of [...accounts].sort((a, b) => compareIds(a.id, b.id))) {
    const exclusion = accountExclusion(account, filters, account.id === selfAccountId);
    if (exclusion === undefined) selected.push(account);
    else skipped.push({ account, reason: exclusion.reason });
  }
  return { selected, skipped };
}
