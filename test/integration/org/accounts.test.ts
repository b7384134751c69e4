import { beforeAll, describe, expect, test } from '@jest/globals';
import {
  CloseAccountCommand,
  CreateAccountCommand,
  CreateOrganizationalUnitCommand,
  CreateOrganizationCommand,
  ListRootsCommand,
  MoveAccountCommand,
  OrganizationsClient,
  type Tag,
} from '@aws-sdk/client-organizations';
import { resetMoto } from '#local/moto.ts';
import { listOrganizationAccounts, OrganizationAccessError, selectAccounts, type OrgAccount } from '#shared/org/accounts.ts';
import { NO_FILTERS, type AccountFilters } from '#shared/config/organization-filters.ts';
import { countCalls } from '../../helpers/call-counter.ts';

const endpoint = process.env.AWS_ENDPOINT_URL ?? '';
const organizations = new OrganizationsClient({});
const calls = countCalls(organizations);

/** The ids of what the organization holds, known once moto made them. */
interface Org {
  readonly rootId: string;
  readonly managementId: string;
  readonly ous: Readonly<Record<'prod' | 'prodEu' | 'prodEuLegacy' | 'dev' | 'sandbox', string>>;
  readonly accounts: Readonly<Record<'prodA' | 'prodEuA' | 'legacyA' | 'devA' | 'devB' | 'closed', string>>;
  /** Accounts made only to fill more than one page of ListAccountsForParent (moto pages by 20). */
  readonly sandbox: readonly string[];
}

async function createOu(name: string, parentId: string): Promise<string> {
  const created = await organizations.send(new CreateOrganizationalUnitCommand({ Name: name, ParentId: parentId }));
  const id = created.OrganizationalUnit?.Id;
  if (id === undefined) throw new Error(`moto created OU ${name} without an id`);
  return id;
}

/** CreateAccount puts the account under the root; MoveAccount takes it where the test wants it. */
async function createAccount(rootId: string, name: string, parentId: string, tags: Record<string, string> = {}): Promise<string> {
  const Tags: Tag[] = Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
  const created = await organizations.send(new CreateAccountCommand({ AccountName: name, Email: `${name}@example.com`, Tags }));
  const id = created.CreateAccountStatus?.AccountId;
  if (id === undefined) throw new Error(`moto created account ${name} without an id`);
  if (parentId !== rootId)
    await organizations.send(new MoveAccountCommand({ AccountId: id, SourceParentId: rootId, DestinationParentId: parentId }));
  return id;
}

async function createOrganization(): Promise<Org> {
  const created = await organizations.send(new CreateOrganizationCommand({ FeatureSet: 'ALL' }));
  const managementId = created.Organization?.MasterAccountId ?? '';
  const rootId = (await organizations.send(new ListRootsCommand({}))).Roots?.[0]?.Id ?? '';
  const prod = await createOu('prod', rootId);
  const prodEu = await createOu('prod-eu', prod);
  const prodEuLegacy = await createOu('prod-eu-legacy', prodEu);
  const dev = await createOu('dev', rootId);
  const sandbox = await createOu('sandbox', rootId);
  const accounts = {
    prodA: await createAccount(rootId, 'prod-a', prod, { env: 'prod', team: 'payments' }),
    prodEuA: await createAccount(rootId, 'prod-eu-a', prodEu, { env: 'prod' }),
    legacyA: await createAccount(rootId, 'legacy-a', prodEuLegacy, { env: 'prod', legacy: 'yes' }),
    devA: await createAccount(rootId, 'dev-a', dev, { env: 'dev', team: 'payments' }),
    devB: await createAccount(rootId, 'dev-b', dev),
    closed: await createAccount(rootId, 'closed', dev, { env: 'dev' }),
  };
  await organizations.send(new CloseAccountCommand({ AccountId: accounts.closed }));
  const sandboxAccounts: string[] = [];
  for (let i = 0; i < 23; i += 1) sandboxAccounts.push(await createAccount(rootId, `sandbox-${i}`, sandbox));
  return { rootId, managementId, ous: { prod, prodEu, prodEuLegacy, dev, sandbox }, accounts, sandbox: sandboxAccounts };
}

const filters = (overrides: Partial<AccountFilters>): AccountFilters => ({ ...NO_FILTERS, ...overrides });
const sorted = (ids: readonly string[]): string[] => [...ids].sort();
const idsOf = (accounts: readonly OrgAccount[]): string[] => accounts.map((account) => account.id);

describe('organization accounts against moto', () => {
  test('an account outside any organization gets an OrganizationAccessError that says where to deploy', async () => {
    // Prepare: an account outside any organization.
    await resetMoto(endpoint);

    // Act & Assess
    await expect(listOrganizationAccounts(organizations, { withTags: false })).rejects.toThrow(OrganizationAccessError);
  });

  describe('in an organization with nested OUs', () => {
    let org: Org;
    let withTags: OrgAccount[];
    const byId = (id: string): OrgAccount | undefined => withTags.find((account) => account.id === id);

    beforeAll(async () => {
      // Prepare: nested OUs, tagged accounts, a closed one and more sandbox accounts than one page holds.
      await resetMoto(endpoint);
      org = await createOrganization();
      calls.reset();

      // Act
      withTags = await listOrganizationAccounts(organizations, { withTags: true });
    });

    test('every account is listed once, sorted by id, with all its ancestors nearest first', () => {
      // Assess
      const { ous, accounts, rootId } = org;

      expect(idsOf(withTags)).toEqual(sorted([org.managementId, ...Object.values(accounts), ...org.sandbox]));
      expect(byId(org.managementId)?.parentIds).toEqual([rootId]);
      expect(byId(accounts.prodA)?.parentIds).toEqual([ous.prod, rootId]);
      expect(byId(accounts.prodEuA)?.parentIds).toEqual([ous.prodEu, ous.prod, rootId]);
      expect(byId(accounts.legacyA)?.parentIds).toEqual([ous.prodEuLegacy, ous.prodEu, ous.prod, rootId]);
      expect(byId(org.sandbox[22] ?? '')?.parentIds).toEqual([ous.sandbox, rootId]);
    });

    test('names, states and tags come from the organization', () => {
      // Assess
      expect(byId(org.accounts.prodA)).toMatchObject({ name: 'prod-a', status: 'ACTIVE', tags: { env: 'prod', team: 'payments' } });
      expect(byId(org.accounts.devB)?.tags).toEqual({});
      expect(byId(org.accounts.closed)?.status).toBe('SUSPENDED');
    });

    test('more accounts than one page holds are all read (moto pages ListAccountsForParent by 20)', () => {
      // Assess
      expect(withTags.filter((account) => account.parentIds[0] === org.ous.sandbox)).toHaveLength(23);
      expect(calls.byCommand.ListAccountsForParentCommand).toBe(7); // 6 parents, the sandbox in two pages
    });

    test('without tag filters no tag is read: two calls per OU and root, plus ListRoots', async () => {
      // Prepare: count only this listing's calls.
      calls.reset();

      // Act
      const accounts = await listOrganizationAccounts(organizations, { withTags: false });

      // Assess
      expect(calls.byCommand.ListTagsForResourceCommand).toBeUndefined();
      expect(calls.total()).toBe(1 + 6 + 7);
      expect(accounts.every((account) => Object.keys(account.tags).length === 0)).toBe(true);
    });

    test('include by OU reaches the accounts of its nested OUs', () => {
      // Prepare
      const { accounts } = org;

      // Act
      const result = selectAccounts(withTags, filters({ includeOus: [org.ous.prod] }));

      // Assess
      expect(idsOf(result.selected)).toEqual(sorted([accounts.prodA, accounts.prodEuA, accounts.legacyA]));
      expect(result.skipped.find((skip) => skip.account.id === accounts.devA)?.reason).toBe('not in an included OU');
      expect(result.skipped.find((skip) => skip.account.id === accounts.closed)?.reason).toBe('suspended');
    });

    test('an excluded nested OU wins over its included parent', () => {
      // Prepare
      const { accounts, ous } = org;

      // Act
      const result = selectAccounts(withTags, filters({ includeOus: [ous.prod], excludeOus: [ous.prodEu] }));

      // Assess
      expect(idsOf(result.selected)).toEqual([accounts.prodA]);
      expect(result.skipped.find((skip) => skip.account.id === accounts.legacyA)?.reason).toBe(`excluded by OU ${ous.prodEu}`);
    });

    test('by tag: include payments, exclude dev', () => {
      // Prepare
      const { accounts } = org;

      // Act
      const result = selectAccounts(
        withTags,
        filters({ includeTags: [{ key: 'team', value: 'payments' }], excludeTags: [{ key: 'env', value: 'dev' }] }),
      );

      // Assess
      expect(idsOf(result.selected)).toEqual([accounts.prodA]);
      expect(result.skipped.find((skip) => skip.account.id === accounts.devA)?.reason).toBe('tag env=dev excluded');
      expect(result.skipped.find((skip) => skip.account.id === accounts.prodEuA)?.reason).toBe('no included tag (team=payments)');
    });

    test('the management account running the rotator stays selected when include filters leave it out', () => {
      // Act
      const result = selectAccounts(withTags, filters({ includeOus: [org.ous.dev] }), org.managementId);

      // Assess
      expect(idsOf(result.selected)).toEqual(sorted([org.managementId, org.accounts.devA, org.accounts.devB]));
    });
  });
});
