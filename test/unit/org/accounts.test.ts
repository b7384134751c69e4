import { beforeEach, describe, expect, test } from '@jest/globals';
import {
  AccessDeniedException,
  AWSOrganizationsNotInUseException,
  ListAccountsForParentCommand,
  ListOrganizationalUnitsForParentCommand,
  ListRootsCommand,
  ListTagsForResourceCommand,
  OrganizationsClient,
  TooManyRequestsException,
} from '@aws-sdk/client-organizations';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { ConfigError } from '#shared/base/errors.ts';
import { listOrganizationAccounts, OrganizationAccessError, selectAccounts, type OrgAccount } from '#shared/org/accounts.ts';
import {
  filtersNeedTags,
  NO_FILTERS,
  parseAccountIds,
  parseOuIds,
  parseTagMatchers,
  type AccountFilters,
} from '#shared/config/organization-filters.ts';

const ROOT = 'r-root';
const PROD = 'ou-root-prod0000';
const PROD_EU = 'ou-root-prodeu00'; // child of PROD
const PROD_EU_LEGACY = 'ou-root-legacy00'; // child of PROD_EU
const DEV = 'ou-root-dev00000';
const SECURITY = 'ou-root-security';

const account = (id: string, parentIds: string[], tags: Record<string, string> = {}, status = 'ACTIVE'): OrgAccount => ({
  id,
  name: `account-${id}`,
  status,
  parentIds,
  tags,
});

// The organization the selection tests run against: nested OUs, tags, one suspended account.
const ORG: OrgAccount[] = [
  account('111111111111', [ROOT], { env: 'mgmt' }),
  account('222222222222', [PROD, ROOT], { env: 'prod', team: 'payments' }),
  account('333333333333', [PROD_EU, PROD, ROOT], { env: 'prod' }),
  account('444444444444', [PROD_EU_LEGACY, PROD_EU, PROD, ROOT], { env: 'prod', legacy: 'yes' }),
  account('555555555555', [DEV, ROOT], { env: 'dev', team: 'payments' }),
  account('666666666666', [DEV, ROOT], { env: 'dev' }, 'SUSPENDED'),
  account('777777777777', [SECURITY, ROOT], {}),
  account('888888888888', [DEV, ROOT], {}, 'PENDING_CLOSURE'),
];

const filters = (overrides: Partial<AccountFilters>): AccountFilters => ({ ...NO_FILTERS, ...overrides });
const ids = (accounts: readonly OrgAccount[]): string[] => accounts.map((a) => a.id);
const reasons = (result: ReturnType<typeof selectAccounts>): Record<string, string> =>
  Object.fromEntries(result.skipped.map((s) => [s.account.id, s.reason]));

describe('selectAccounts', () => {
  test('with no filters every active account is selected, and suspended or closing ones are skipped with their state', () => {
    // Act
    const result = selectAccounts(ORG, NO_FILTERS);

    // Assess
    expect(ids(result.selected)).toEqual(['111111111111', '222222222222', '333333333333', '444444444444', '555555555555', '777777777777']);
    expect(reasons(result)).toEqual({ '666666666666': 'suspended', '888888888888': 'not active (PENDING_CLOSURE)' });
  });

  test.each<[string, Partial<AccountFilters>, string[], Record<string, string>]>([
    [
      'an included OU selects the accounts in its nested OUs at any depth',
      { includeOus: [PROD] },
      ['222222222222', '333333333333', '444444444444'],
      { '111111111111': 'not in an included OU', '555555555555': 'not in an included OU', '777777777777': 'not in an included OU' },
    ],
    [
      'an included child OU leaves out its parent’s own accounts',
      { includeOus: [PROD_EU] },
      ['333333333333', '444444444444'],
      {
        '111111111111': 'not in an included OU',
        '222222222222': 'not in an included OU',
        '555555555555': 'not in an included OU',
        '777777777777': 'not in an included OU',
      },
    ],
    [
      'the root id as an included OU is the whole organization',
      { includeOus: [ROOT] },
      ['111111111111', '222222222222', '333333333333', '444444444444', '555555555555', '777777777777'],
      {},
    ],
    [
      'an excluded OU inside an included one wins, and names the nearest excluded OU',
      { includeOus: [PROD], excludeOus: [PROD_EU_LEGACY, PROD_EU] },
      ['222222222222'],
      {
        '111111111111': 'not in an included OU',
        '333333333333': `excluded by OU ${PROD_EU}`,
        '444444444444': `excluded by OU ${PROD_EU_LEGACY}`,
        '555555555555': 'not in an included OU',
        '777777777777': 'not in an included OU',
      },
    ],
    [
      'an excluded OU alone leaves the rest',
      { excludeOus: [DEV, PROD] },
      ['111111111111', '777777777777'],
      {
        '222222222222': `excluded by OU ${PROD}`,
        '333333333333': `excluded by OU ${PROD}`,
        '444444444444': `excluded by OU ${PROD}`,
        '555555555555': `excluded by OU ${DEV}`,
      },
    ],
    [
      'included accounts',
      { includeAccounts: ['222222222222', '555555555555'] },
      ['222222222222', '555555555555'],
      {
        '111111111111': 'not in the included accounts',
        '333333333333': 'not in the included accounts',
        '444444444444': 'not in the included accounts',
        '777777777777': 'not in the included accounts',
      },
    ],
    [
      'an excluded account wins over its included OU and its included id',
      { includeOus: [PROD], includeAccounts: ['222222222222', '333333333333'], excludeAccounts: ['222222222222'] },
      ['333333333333'],
      {
        '111111111111': 'not in the included accounts',
        '222222222222': 'excluded by account id',
        '444444444444': 'not in the included accounts',
        '555555555555': 'not in the included accounts',
        '777777777777': 'not in the included accounts',
      },
    ],
    [
      'an excluded tag with a value matches only that value',
      { excludeTags: [{ key: 'env', value: 'dev' }] },
      ['111111111111', '222222222222', '333333333333', '444444444444', '777777777777'],
      { '555555555555': 'tag env=dev excluded' },
    ],
    [
      'an excluded tag without a value matches any value, and wins over an included OU',
      { includeOus: [PROD], excludeTags: [{ key: 'legacy' }] },
      ['222222222222', '333333333333'],
      {
        '111111111111': 'not in an included OU',
        '444444444444': 'tag legacy=yes excluded',
        '555555555555': 'not in an included OU',
        '777777777777': 'not in an included OU',
      },
    ],
    [
      'included tags: any one of them is enough',
      { includeTags: [{ key: 'team', value: 'payments' }, { key: 'legacy' }] },
      ['222222222222', '444444444444', '555555555555'],
      {
        '111111111111': 'no included tag (team=payments, legacy)',
        '333333333333': 'no included tag (team=payments, legacy)',
        '777777777777': 'no included tag (team=payments, legacy)',
      },
    ],
    [
      'an included OU and an included tag must both match',
      { includeOus: [PROD], includeTags: [{ key: 'team' }] },
      ['222222222222'],
      {
        '111111111111': 'not in an included OU',
        '333333333333': 'no included tag (team)',
        '444444444444': 'no included tag (team)',
        '555555555555': 'not in an included OU',
        '777777777777': 'not in an included OU',
      },
    ],
  ])('%s', (_name, overrides, selected, skipped) => {
    // Act
    const result = selectAccounts(ORG, filters(overrides));

    // Assess
    expect(ids(result.selected)).toEqual(selected);
    expect(reasons(result)).toEqual({ '666666666666': 'suspended', '888888888888': 'not active (PENDING_CLOSURE)', ...skipped });
  });

  test('tag values are matched exactly (tags are case-sensitive)', () => {
    // Act: select an account tagged env=Prod by env=prod.
    const result = selectAccounts(
      [account('222222222222', [ROOT], { env: 'Prod' })],
      filters({ includeTags: [{ key: 'env', value: 'prod' }] }),
    );

    // Assess
    expect(result.selected).toEqual([]);
  });

  test('the rotator’s own account is kept when include filters leave it out, and dropped when an exclude names it', () => {
    // Prepare: the security account is the rotator's own.
    const self = '777777777777';

    // Act & Assess
    expect(ids(selectAccounts(ORG, filters({ includeOus: [PROD] }), self).selected)).toEqual(
      [self, '222222222222', '333333333333', '444444444444'].sort(),
    );
    expect(reasons(selectAccounts(ORG, filters({ excludeOus: [SECURITY] }), self))[self]).toBe(`excluded by OU ${SECURITY}`);
    expect(reasons(selectAccounts(ORG, filters({ excludeAccounts: [self] }), self))[self]).toBe('excluded by account id');
  });

  test('the order is by account id, whatever order the accounts came in', () => {
    // Prepare
    const shuffled = [...ORG].reverse();

    // Act
    const result = selectAccounts(shuffled, NO_FILTERS);

    // Assess
    expect(result).toEqual(selectAccounts(ORG, NO_FILTERS));
    expect(ids(result.selected)).toEqual([...ids(result.selected)].sort());
  });

  test('every account is either selected or skipped, once', () => {
    // Act
    const result = selectAccounts(ORG, filters({ includeOus: [PROD], excludeTags: [{ key: 'legacy' }] }));

    // Assess
    expect([...ids(result.selected), ...result.skipped.map((s) => s.account.id)].sort()).toEqual(ids(ORG).sort());
  });
});

describe('parseTagMatchers', () => {
  test.each<[string, ReturnType<typeof parseTagMatchers>]>([
    ['', []],
    ['  ', []],
    ['env=prod', [{ key: 'env', value: 'prod' }]],
    ['env=prod,team', [{ key: 'env', value: 'prod' }, { key: 'team' }]],
    ['env=prod, team  cost-center=42', [{ key: 'env', value: 'prod' }, { key: 'team' }, { key: 'cost-center', value: '42' }]],
    ['aws:cloudformation:stack-name=x', [{ key: 'aws:cloudformation:stack-name', value: 'x' }]],
    ['url=a=b', [{ key: 'url', value: 'a=b' }]],
    ['Équipe=données', [{ key: 'Équipe', value: 'données' }]],
  ])('"%s" reads as %j', (text, expected) => {
    // Act & Assess
    expect(parseTagMatchers(text, 'ORG_INCLUDE_TAGS')).toEqual(expected);
  });

  test.each([
    ['no key', '=prod'],
    ['"=" and no value', 'env='],
    ['one bad entry among good ones', 'env=prod,=dev'],
    ['a character tags cannot hold in the value', 'env=pr!od'],
    ['a character tags cannot hold in the key', 'e*v'],
    ['a key over 128 characters', `${'k'.repeat(129)}=v`],
  ])('%s is a ConfigError naming the setting', (_name, text) => {
    // Act & Assess
    expect(() => parseTagMatchers(text, 'ORG_EXCLUDE_TAGS')).toThrow(ConfigError);
    expect(() => parseTagMatchers(text, 'ORG_EXCLUDE_TAGS')).toThrow(/^ORG_EXCLUDE_TAGS entry "/);
  });

  test('an entry with "=" and no value says how to match any value', () => {
    // Act & Assess
    expect(() => parseTagMatchers('env=', 'ORG_INCLUDE_TAGS')).toThrow('write env=value for one value, or env alone for any value');
  });
});

describe('parseAccountIds and parseOuIds', () => {
  test('read comma or space separated ids', () => {
    // Act & Assess
    expect(parseAccountIds('111111111111, 222222222222 333333333333', 'ORG_INCLUDE_ACCOUNTS')).toEqual([
      '111111111111',
      '222222222222',
      '333333333333',
    ]);
    expect(parseOuIds('ou-ab12-cd34ef56,r-ab12', 'ORG_INCLUDE_OUS')).toEqual(['ou-ab12-cd34ef56', 'r-ab12']);
    expect(parseOuIds('', 'ORG_INCLUDE_OUS')).toEqual([]);
  });

  test.each([['11111111111'], ['1111111111111'], ['account-1']])('account id "%s" is a ConfigError naming the setting', (text) => {
    // Act & Assess
    expect(() => parseAccountIds(text, 'ORG_EXCLUDE_ACCOUNTS')).toThrow(
      new ConfigError(`ORG_EXCLUDE_ACCOUNTS must list 12-digit AWS account ids separated by commas (not "${text}")`),
    );
  });

  test.each([['Production'], ['ou-ab12'], ['OU-AB12-CD34EF56']])(
    'OU "%s" (a name, or a malformed id) is a ConfigError naming the setting',
    (text) => {
      // Act & Assess
      expect(() => parseOuIds(text, 'ORG_EXCLUDE_OUS')).toThrow(/^ORG_EXCLUDE_OUS must list OU ids like ou-ab12-cd34ef56/);
    },
  );
});

describe('filtersNeedTags', () => {
  test('only tag filters need the tags', () => {
    // Act & Assess
    expect(filtersNeedTags(NO_FILTERS)).toBe(false);
    expect(filtersNeedTags(filters({ includeOus: [PROD], excludeAccounts: ['111111111111'] }))).toBe(false);
    expect(filtersNeedTags(filters({ includeTags: [{ key: 'env' }] }))).toBe(true);
    expect(filtersNeedTags(filters({ excludeTags: [{ key: 'env' }] }))).toBe(true);
  });
});

describe('listOrganizationAccounts', () => {
  // Class-level mock: the SDK paginators insist on a real client instance, whose sends this intercepts.
  const organizationsMock = mockClient(OrganizationsClient);
  const organizations = new OrganizationsClient({});
  const sdkAccount = (id: string, state?: 'ACTIVE' | 'SUSPENDED') => ({
    Id: id,
    Name: `account-${id}`,
    State: state ?? 'ACTIVE',
    Status: state ?? 'ACTIVE',
  });

  beforeEach(() => {
    organizationsMock.reset();
  });

  /** root → PROD (→ PROD_EU → PROD_EU_LEGACY) and DEV; every list comes in two pages. */
  function mockTree(): void {
    organizationsMock.on(ListRootsCommand).resolves({ Roots: [{ Id: ROOT }] });
    organizationsMock
      .on(ListOrganizationalUnitsForParentCommand, { ParentId: ROOT, NextToken: undefined })
      .resolves({ OrganizationalUnits: [{ Id: PROD }], NextToken: 'ous-2' })
      .on(ListOrganizationalUnitsForParentCommand, { ParentId: ROOT, NextToken: 'ous-2' })
      .resolves({ OrganizationalUnits: [{ Id: DEV }] })
      .on(ListOrganizationalUnitsForParentCommand, { ParentId: PROD })
      .resolves({ OrganizationalUnits: [{ Id: PROD_EU }] })
      .on(ListOrganizationalUnitsForParentCommand, { ParentId: PROD_EU })
      .resolves({ OrganizationalUnits: [{ Id: PROD_EU_LEGACY }] })
      .on(ListOrganizationalUnitsForParentCommand, { ParentId: PROD_EU_LEGACY })
      .resolves({ OrganizationalUnits: [] })
      .on(ListOrganizationalUnitsForParentCommand, { ParentId: DEV })
      .resolves({});
    organizationsMock
      .on(ListAccountsForParentCommand, { ParentId: ROOT })
      .resolves({ Accounts: [sdkAccount('111111111111')] })
      .on(ListAccountsForParentCommand, { ParentId: PROD, NextToken: undefined })
      .resolves({ Accounts: [sdkAccount('222222222222')], NextToken: 'accounts-2' })
      .on(ListAccountsForParentCommand, { ParentId: PROD, NextToken: 'accounts-2' })
      .resolves({ Accounts: [sdkAccount('299999999999')] })
      .on(ListAccountsForParentCommand, { ParentId: PROD_EU })
      .resolves({ Accounts: [sdkAccount('333333333333')] })
      .on(ListAccountsForParentCommand, { ParentId: PROD_EU_LEGACY })
      .resolves({ Accounts: [sdkAccount('444444444444')] })
      .on(ListAccountsForParentCommand, { ParentId: DEV })
      .resolves({ Accounts: [sdkAccount('666666666666', 'SUSPENDED'), sdkAccount('555555555555')] });
  }

  test('walks every page of the OU tree and gives each account all its ancestors, nearest first, sorted by id', async () => {
    // Prepare
    mockTree();

    // Act
    const accounts = await listOrganizationAccounts(organizations, { withTags: false });

    // Assess
    expect(accounts).toEqual([
      account('111111111111', [ROOT]),
      account('222222222222', [PROD, ROOT]),
      account('299999999999', [PROD, ROOT]),
      account('333333333333', [PROD_EU, PROD, ROOT]),
      account('444444444444', [PROD_EU_LEGACY, PROD_EU, PROD, ROOT]),
      account('555555555555', [DEV, ROOT]),
      account('666666666666', [DEV, ROOT], {}, 'SUSPENDED'),
    ]);
    expect(organizationsMock).toHaveReceivedCommandWith(ListOrganizationalUnitsForParentCommand, { ParentId: ROOT, NextToken: 'ous-2' });
    expect(organizationsMock).toHaveReceivedCommandWith(ListAccountsForParentCommand, { ParentId: PROD, NextToken: 'accounts-2' });
    expect(organizationsMock).toHaveReceivedCommandWith(ListAccountsForParentCommand, { ParentId: PROD, MaxResults: 20 });
  });

  test('without tag filters it costs two calls per OU and root, plus ListRoots, and no tag reads', async () => {
    // Prepare
    mockTree();

    // Act
    await listOrganizationAccounts(organizations, { withTags: false });

    // Assess
    // 5 parents (the root + 4 OUs) of one page each, but the root's OUs and PROD's accounts come in two.
    expect(organizationsMock).toHaveReceivedCommandTimes(ListRootsCommand, 1);
    expect(organizationsMock).toHaveReceivedCommandTimes(ListOrganizationalUnitsForParentCommand, 6);
    expect(organizationsMock).toHaveReceivedCommandTimes(ListAccountsForParentCommand, 6);
    expect(organizationsMock).not.toHaveReceivedCommand(ListTagsForResourceCommand);
  });

  test('with tags it reads every page of each account’s tags', async () => {
    // Prepare: the tree, and two pages of tags for one account.
    mockTree();
    organizationsMock
      .on(ListTagsForResourceCommand)
      .resolves({ Tags: [] })
      .on(ListTagsForResourceCommand, { ResourceId: '222222222222', NextToken: undefined })
      .resolves({ Tags: [{ Key: 'env', Value: 'prod' }], NextToken: 'tags-2' })
      .on(ListTagsForResourceCommand, { ResourceId: '222222222222', NextToken: 'tags-2' })
      .resolves({ Tags: [{ Key: 'team', Value: 'payments' }] });

    // Act
    const accounts = await listOrganizationAccounts(organizations, { withTags: true });

    // Assess
    expect(accounts.find((a) => a.id === '222222222222')?.tags).toEqual({ env: 'prod', team: 'payments' });
    expect(accounts.find((a) => a.id === '333333333333')?.tags).toEqual({});
    expect(organizationsMock).toHaveReceivedCommandTimes(ListTagsForResourceCommand, accounts.length + 1);
  });

  test('an account with only the retired Status field still reads as its status', async () => {
    // Prepare: an SDK account with Status and no State.
    organizationsMock.on(ListRootsCommand).resolves({ Roots: [{ Id: ROOT }] });
    organizationsMock.on(ListOrganizationalUnitsForParentCommand).resolves({});
    organizationsMock.on(ListAccountsForParentCommand).resolves({ Accounts: [{ Id: '111111111111', Name: 'old', Status: 'SUSPENDED' }] });

    // Act
    const [only] = await listOrganizationAccounts(organizations, { withTags: false });

    // Assess
    expect(only?.status).toBe('SUSPENDED');
  });

  test('an OU listed twice is walked once (the walk always ends)', async () => {
    // Prepare: PROD listed twice under the root, and the root again under PROD.
    organizationsMock.on(ListRootsCommand).resolves({ Roots: [{ Id: ROOT }] });
    organizationsMock
      .on(ListOrganizationalUnitsForParentCommand, { ParentId: ROOT })
      .resolves({ OrganizationalUnits: [{ Id: PROD }, { Id: PROD }] })
      .on(ListOrganizationalUnitsForParentCommand, { ParentId: PROD })
      .resolves({ OrganizationalUnits: [{ Id: ROOT }] });
    organizationsMock.on(ListAccountsForParentCommand).resolves({ Accounts: [] });

    // Act
    await listOrganizationAccounts(organizations, { withTags: false });

    // Assess
    expect(organizationsMock).toHaveReceivedCommandTimes(ListOrganizationalUnitsForParentCommand, 2);
  });

  test('an account outside any organization gets an OrganizationAccessError that says where to deploy', async () => {
    // Prepare
    organizationsMock
      .on(ListRootsCommand)
      .rejects(new AWSOrganizationsNotInUseException({ message: 'Your account is not a member of an organization.', $metadata: {} }));

    // Act
    const listing = listOrganizationAccounts(organizations, { withTags: false });

    // Assess
    await expect(listing).rejects.toThrow(OrganizationAccessError);
    await expect(listing).rejects.toThrow(
      /not in an AWS Organization.*management account or in a delegated administrator account.*SCAN_SCOPE=account/,
    );
  });

  test('a denied call names the action and the permissions to grant', async () => {
    // Prepare: DEV's accounts are denied.
    mockTree();
    organizationsMock
      .on(ListAccountsForParentCommand, { ParentId: DEV })
      .rejects(new AccessDeniedException({ message: 'You don’t have permissions to access this resource.', $metadata: {} }));

    // Act
    const listing = listOrganizationAccounts(organizations, { withTags: false });

    // Assess
    await expect(listing).rejects.toMatchObject({
      name: 'OrganizationAccessError',
      message: expect.stringMatching(
        /organizations:ListAccountsForParent was denied.*delegated administrator.*organizations:ListRoots, organizations:ListOrganizationalUnitsForParent, organizations:ListAccountsForParent/,
      ),
    });
  });

  test('a denied tag read asks for ListTagsForResource', async () => {
    // Prepare
    mockTree();
    organizationsMock.on(ListTagsForResourceCommand).rejects(new AccessDeniedException({ message: 'denied', $metadata: {} }));

    // Act & Assess
    await expect(listOrganizationAccounts(organizations, { withTags: true })).rejects.toThrow(
      /organizations:ListTagsForResource was denied.*allow the scanner’s role .*organizations:ListTagsForResource\.$/,
    );
  });

  test('other errors pass through unchanged', async () => {
    // Prepare
    const throttled = new TooManyRequestsException({ message: 'slow down', $metadata: {} });
    organizationsMock.on(ListRootsCommand).rejects(throttled);

    // Act & Assess
    await expect(listOrganizationAccounts(new OrganizationsClient({ maxAttempts: 1 }), { withTags: false })).rejects.toBe(throttled);
  });
});
