import { beforeAll, describe, expect, test } from '@jest/globals';
import {
  CreateAccountCommand,
  CreateOrganizationalUnitCommand,
  CreateOrganizationCommand,
  ListRootsCommand,
  MoveAccountCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient } from '@aws-sdk/client-iam';
import { ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { STSClient } from '@aws-sdk/client-sts';
import { fixedClock } from '#shared/base/clock.ts';
import { memberAccountClients, memberCredentials } from '#shared/aws/member-account.ts';
import { loadConfig } from '#shared/config/settings.ts';
import { accountAdmission } from '#shared/org/account-admission.ts';
import { handleTrigger, type StartDeps } from '#shared/start/start-rotation.ts';
import { createPassStateMachine } from '../../helpers/iam-seed.ts';
import { iam, quietLogger } from '../../helpers/rotation-fixtures.ts';
import { viaRule } from '../../helpers/rule-delivery.ts';

// The organization filters bind on-demand starts as they bind the scan: a start in an excluded
// account is refused naming the filter, before its member role is assumed, and starts nothing.
// moto's Organizations keeps OUs and account tags; the management account is moto's default one.

const organizations = new OrganizationsClient({});
const sfn = new SFNClient({});
const TOOLING = '123456789012';

let prodOu = '';
let payments = '';
let sandbox = '';
let stateMachineArn = '';
const assumed: string[] = [];

async function memberUserWithKey(iamFor: (accountId: string) => Promise<IAMClient>, accountId: string, userName: string): Promise<void> {
  const memberIam = await iamFor(accountId);
  await memberIam.send(new CreateUserCommand({ UserName: userName }));
  await memberIam.send(new CreateAccessKeyCommand({ UserName: userName }));
}

const iamFor = memberAccountClients(
  memberCredentials(
    new STSClient({}),
    { memberRoleName: 'iam-key-rotator-member', memberRoleExternalId: '' },
    fixedClock('2026-06-01T12:00:00Z'),
  ),
  (credentials) => new IAMClient({ credentials }),
);
const countingIamFor = async (accountId: string): Promise<IAMClient> => {
  assumed.push(accountId);
  return iamFor(accountId);
};

beforeAll(async () => {
  await organizations.send(new CreateOrganizationCommand({ FeatureSet: 'ALL' }));
  const rootId = (await organizations.send(new ListRootsCommand({}))).Roots?.[0]?.Id ?? '';
  prodOu = (await organizations.send(new CreateOrganizationalUnitCommand({ Name: 'prod', ParentId: rootId }))).OrganizationalUnit?.Id ?? '';
  const create = async (name: string, tags: Record<string, string>): Promise<string> =>
    (
      await organizations.send(
        new CreateAccountCommand({
          AccountName: name,
          Email: `${name}@example.com`,
          Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
        }),
      )
    ).CreateAccountStatus?.AccountId ?? '';
  payments = await create('payments-prod', { env: 'prod' });
  sandbox = await create('sandbox', { env: 'sandbox' });
  await organizations.send(new MoveAccountCommand({ AccountId: payments, SourceParentId: rootId, DestinationParentId: prodOu }));
  await memberUserWithKey(iamFor, payments, 'payments-app');
  await memberUserWithKey(iamFor, sandbox, 'sandbox-app');
  stateMachineArn = await createPassStateMachine(sfn, 'iam-key-rotator-test-rotate-key-filters');
});

function depsWith(env: Record<string, string>): StartDeps {
  return {
    iam,
    sfn,
    stateMachineArn,
    logger: quietLogger,
    ownAccountId: async () => TOOLING,
    iamFor: countingIamFor,
    admitAccount: accountAdmission(organizations, loadConfig(env)),
  };
}

const executionCount = async (): Promise<number> =>
  (await sfn.send(new ListExecutionsCommand({ stateMachineArn }))).executions?.length ?? 0;

describe('organization filters on on-demand starts, against moto', () => {
  test('a start in an account under an excluded OU is refused naming ORG_EXCLUDE_OUS; no role is assumed, nothing starts', async () => {
    // Prepare
    assumed.length = 0;
    const deps = depsWith({ ORG_EXCLUDE_OUS: prodOu });

    // Act
    const refused = await handleTrigger({ userName: 'payments-app', accountId: payments }, deps).catch((error: unknown) => error);

    // Assess
    expect(refused).toMatchObject({ name: 'AccountExcludedError', accountId: payments, setting: 'ORG_EXCLUDE_OUS' });
    expect((refused as Error).message).toContain(`excluded by OU ${prodOu} (ORG_EXCLUDE_OUS)`);
    expect(assumed).toEqual([]);
    expect(await executionCount()).toBe(0);
  });

  test('an account without the included tag is refused naming ORG_INCLUDE_TAGS; one with it starts', async () => {
    // Prepare
    const deps = depsWith({ ORG_INCLUDE_TAGS: 'env=prod' });

    // Act
    const refused = await handleTrigger({ userName: 'sandbox-app', accountId: sandbox }, deps).catch((error: unknown) => error);
    const [started] = await handleTrigger({ userName: 'payments-app', accountId: payments }, deps);

    // Assess
    expect(refused).toMatchObject({ name: 'AccountExcludedError', setting: 'ORG_INCLUDE_TAGS' });
    expect(started).toMatchObject({ status: 'started', accountId: payments, userName: 'payments-app' });
    expect(await executionCount()).toBe(1);
  });

  test('an event about an excluded account is refused like a direct request', async () => {
    // Prepare
    const deps = depsWith({ ORG_EXCLUDE_ACCOUNTS: sandbox });
    const finding = {
      source: 'aws.guardduty',
      'detail-type': 'GuardDuty Finding',
      id: 'finding-1',
      account: sandbox,
      detail: {
        id: 'f-1',
        type: 'UnauthorizedAccess:IAMUser/MaliciousIPCaller',
        severity: 8,
        resource: {
          resourceType: 'AccessKey',
          accessKeyDetails: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', userName: 'sandbox-app', userType: 'IAMUser' },
        },
      },
    };

    // Act & Assess
    await expect(handleTrigger(viaRule(finding), deps)).rejects.toMatchObject({
      name: 'AccountExcludedError',
      setting: 'ORG_EXCLUDE_ACCOUNTS',
    });
  });
});
