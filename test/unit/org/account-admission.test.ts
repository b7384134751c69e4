import { beforeEach, describe, expect, test } from '@jest/globals';
import {
  AccessDeniedException,
  AccountNotFoundException,
  DescribeAccountCommand,
  ListParentsCommand,
  ListTagsForResourceCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { AccountExcludedError } from '#shared/base/errors.ts';
import { NO_FILTERS, type AccountFilters } from '#shared/config/organization-filters.ts';
import { loadConfig } from '#shared/config/settings.ts';
import { accountAdmission, admitAccount } from '#shared/org/account-admission.ts';
import { OrganizationAccessError } from '#shared/org/accounts.ts';

const ACCOUNT = '111122223333';
const SELF = '123456789012';
const ROOT = 'r-root';
const PROD = 'ou-root-prod0000';
const PROD_EU = 'ou-root-prodeu00'; // child of PROD

const mock = mockClient(OrganizationsClient);
const organizations = new OrganizationsClient({});

beforeEach(() => {
  mock.reset();
  mock.on(DescribeAccountCommand).resolves({ Account: { Id: ACCOUNT, Name: 'payments-prod', State: 'ACTIVE' } });
  mock.on(ListParentsCommand, { ChildId: ACCOUNT }).resolves({ Parents: [{ Id: PROD_EU, Type: 'ORGANIZATIONAL_UNIT' }] });
  mock.on(ListParentsCommand, { ChildId: PROD_EU }).resolves({ Parents: [{ Id: PROD, Type: 'ORGANIZATIONAL_UNIT' }] });
  mock.on(ListParentsCommand, { ChildId: PROD }).resolves({ Parents: [{ Id: ROOT, Type: 'ROOT' }] });
  mock.on(ListTagsForResourceCommand).resolves({ Tags: [{ Key: 'env', Value: 'prod' }] });
});

const filters = (overrides: Partial<AccountFilters>): AccountFilters => ({ ...NO_FILTERS, ...overrides });

describe('admitAccount: the organization filters applied to one on-demand start', () => {
  test('without filters nothing is read and every account is admitted', async () => {
    // Act
    await admitAccount(organizations, NO_FILTERS, ACCOUNT, false);

    // Assess
    expect(mock.calls()).toHaveLength(0);
  });

  test.each<[string, Partial<AccountFilters>, string, RegExp]>([
    ['an excluded account id', { excludeAccounts: [ACCOUNT] }, 'ORG_EXCLUDE_ACCOUNTS', /excluded by account id \(ORG_EXCLUDE_ACCOUNTS\)/],
    ['an excluded OU two levels up', { excludeOus: [PROD] }, 'ORG_EXCLUDE_OUS', /excluded by OU ou-root-prod0000 \(ORG_EXCLUDE_OUS\)/],
    ['an excluded tag', { excludeTags: [{ key: 'env', value: 'prod' }] }, 'ORG_EXCLUDE_TAGS', /tag env=prod excluded \(ORG_EXCLUDE_TAGS\)/],
    ['an account outside the included ones', { includeAccounts: ['999999999999'] }, 'ORG_INCLUDE_ACCOUNTS', /not in the included accounts/],
    ['an account outside the included OUs', { includeOus: ['ou-root-dev00000'] }, 'ORG_INCLUDE_OUS', /not in an included OU/],
    ['an account without an included tag', { includeTags: [{ key: 'team' }] }, 'ORG_INCLUDE_TAGS', /no included tag \(team\)/],
  ])('%s is refused with AccountExcludedError naming the filter', async (_case, given, setting, message) => {
    // Act
    const refused = await admitAccount(organizations, filters(given), ACCOUNT, false).catch((error: unknown) => error);

    // Assess
    expect(refused).toBeInstanceOf(AccountExcludedError);
    expect(refused).toMatchObject({ name: 'AccountExcludedError', accountId: ACCOUNT, setting });
    expect((refused as Error).message).toMatch(message);
    expect((refused as Error).message).toMatch(/Nothing was started/);
  });

  test('an account excluded by id is refused without reading the organization', async () => {
    // Act & Assess
    await expect(
      admitAccount(organizations, filters({ excludeAccounts: [ACCOUNT], includeOus: [PROD] }), ACCOUNT, false),
    ).rejects.toMatchObject({
      name: 'AccountExcludedError',
      setting: 'ORG_EXCLUDE_ACCOUNTS',
    });
    expect(mock.calls()).toHaveLength(0);
  });

  test('a refusal after a read names the account', async () => {
    // Act & Assess
    await expect(admitAccount(organizations, filters({ excludeOus: [PROD] }), ACCOUNT, false)).rejects.toThrow(
      /Account 111122223333 \(payments-prod\) is left out of rotation/,
    );
  });

  test('an account the filters include is admitted, reading its OUs up to the root and its tags', async () => {
    // Act
    await admitAccount(organizations, filters({ includeOus: [PROD], includeTags: [{ key: 'env', value: 'prod' }] }), ACCOUNT, false);

    // Assess
    expect(mock).toHaveReceivedCommandTimes(ListParentsCommand, 3);
    expect(mock).toHaveReceivedCommandTimes(ListTagsForResourceCommand, 1);
  });

  test('an account id filter reads neither OUs nor tags', async () => {
    // Act
    await admitAccount(organizations, filters({ includeAccounts: [ACCOUNT] }), ACCOUNT, false);

    // Assess
    expect(mock).toHaveReceivedCommandTimes(DescribeAccountCommand, 1);
    expect(mock).toHaveReceivedCommandTimes(ListParentsCommand, 0);
    expect(mock).toHaveReceivedCommandTimes(ListTagsForResourceCommand, 0);
  });

  test("include filters do not drop the rotator's own account, so nothing is read for it; an exclude does", async () => {
    // Act
    await admitAccount(organizations, filters({ includeOus: ['ou-root-dev00000'] }), SELF, true);

    // Assess
    expect(mock.calls()).toHaveLength(0);
    await expect(admitAccount(organizations, filters({ excludeAccounts: [SELF] }), SELF, true)).rejects.toMatchObject({
      name: 'AccountExcludedError',
      setting: 'ORG_EXCLUDE_ACCOUNTS',
    });
  });

  test('a suspended account is refused even when the filters include it', async () => {
    // Prepare
    mock.on(DescribeAccountCommand).resolves({ Account: { Id: ACCOUNT, Name: 'old', State: 'SUSPENDED' } });

    // Act & Assess
    await expect(admitAccount(organizations, filters({ includeAccounts: [ACCOUNT] }), ACCOUNT, false)).rejects.toMatchObject({
      name: 'AccountExcludedError',
      setting: undefined,
      message: expect.stringMatching(/suspended.*Only ACTIVE accounts/),
    });
  });

  test('an account outside the organization is refused', async () => {
    // Prepare
    mock.on(DescribeAccountCommand).rejects(new AccountNotFoundException({ message: 'not found', $metadata: {} }));

    // Act & Assess
    await expect(admitAccount(organizations, filters({ excludeOus: [PROD] }), ACCOUNT, false)).rejects.toMatchObject({
      name: 'AccountExcludedError',
      message: expect.stringMatching(/not an account of this organization/),
    });
  });

  test('an organization the rotator may not read refuses the start instead of skipping the check', async () => {
    // Prepare
    mock.on(DescribeAccountCommand).rejects(new AccessDeniedException({ message: 'denied', $metadata: {} }));

    // Act
    const refused = await admitAccount(organizations, filters({ excludeOus: [PROD] }), ACCOUNT, false).catch((error: unknown) => error);

    // Assess
    expect(refused).toBeInstanceOf(OrganizationAccessError);
    expect((refused as Error).message).toMatch(/organizations:DescribeAccount was denied.*nothing was started/);
  });
});

describe('accountAdmission', () => {
  test('is absent without filters, so a single-account stack never calls Organizations', () => {
    // Act & Assess
    expect(accountAdmission(organizations, loadConfig({}))).toBeUndefined();
  });

  test('applies the configured filters', async () => {
    // Prepare
    const admit = accountAdmission(organizations, loadConfig({ ORG_EXCLUDE_ACCOUNTS: ACCOUNT }));

    // Act & Assess
    await expect(admit?.(ACCOUNT, false)).rejects.toMatchObject({ name: 'AccountExcludedError', setting: 'ORG_EXCLUDE_ACCOUNTS' });
  });
});
