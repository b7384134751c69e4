import { loadConfig } from '#shared/config/settings.ts';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import {
  CreateAccessKeyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  GetUserCommand,
  IAMClient,
  ListAccessKeysCommand,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import { CreateAccountCommand, CreateOrganizationCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@aws-sdk/types';
import { motoCredentialsIn } from '#local/moto-inspect.ts';
import { lambdaMemberClients } from '#shared/rotation/deps.ts';

const endpoint = (): string => process.env.AWS_ENDPOINT_URL ?? '';
const MANAGEMENT = '123456789012';
const MEMBER_ROLE = 'iam-key-rotator-member';
const SETTINGS = { ...loadConfig({}), memberRoleName: MEMBER_ROLE, memberRoleExternalId: '' };
const ADMIN_POLICY = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] });
/** What stack/member-role.yml grants on users, all of it: the session policy alone must keep notify from writing. */
const MEMBER_ROLE_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: ['iam:*', 'secretsmanager:*'], Resource: '*' }],
});
const TRUST = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${MANAGEMENT}:root` }, Action: ['sts:AssumeRole', 'sts:SetSourceIdentity'] },
  ],
});

async function enforceAuth(on: boolean): Promise<void> {
  const response = await fetch(`${endpoint()}/moto-api/reset-auth`, { method: 'POST', body: on ? '0' : 'inf' });
  if (!response.ok) throw new Error(`moto reset-auth failed: HTTP ${response.status}`);
}

/**
 * moto 5.2.1 takes the session policy on AssumeRole but never evaluates it (its access control reads
 * only the role's own policies), so in moto the refusal is the function's in-process check of the
 * same policy (limitToSession); AWS refuses the same call on the session policy itself. Auth is
 * enforced, so every call that does pass is checked against the member role's policy.
 */
describe('a function’s clients in a member account (moto, auth enforced)', () => {
  let member = '';
  let operatorIam: IAMClient;
  let credentials: AwsCredentialIdentity;

  const clientsOf = (fn: 'notify' | 'rotateCreateAndStore') =>
    lambdaMemberClients({
      function: fn,
      sts: new STSClient({ credentials }),
      iam: (session: AwsCredentialIdentityProvider) => new IAMClient({ credentials: session }),
      secretsManager: (session: AwsCredentialIdentityProvider) => new SecretsManagerClient({ credentials: session }),
    })(SETTINGS)(member);

  beforeAll(async () => {
    // Prepare: an administrator in the management account (the tooling side), a member account with
    // the member role and a user with one key.
    const setupIam = new IAMClient({});
    await setupIam.send(new CreateUserCommand({ UserName: 'rotator' }));
    await setupIam.send(new PutUserPolicyCommand({ UserName: 'rotator', PolicyName: 'admin', PolicyDocument: ADMIN_POLICY }));
    const key = (await setupIam.send(new CreateAccessKeyCommand({ UserName: 'rotator' }))).AccessKey;
    if (!key?.AccessKeyId || !key.SecretAccessKey) throw new Error('moto returned no access key');
    credentials = { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey };
    const organizations = new OrganizationsClient({ credentials });
    await organizations.send(new CreateOrganizationCommand({ FeatureSet: 'ALL' }));
    const created = await organizations.send(new CreateAccountCommand({ AccountName: 'workload', Email: 'workload@example.com' }));
    member = created.CreateAccountStatus?.AccountId ?? '';
    const setupSts = new STSClient({ credentials });
    operatorIam = new IAMClient({ credentials: await motoCredentialsIn(setupSts, member, 'setup') });
    await operatorIam.send(new CreateRoleCommand({ RoleName: MEMBER_ROLE, AssumeRolePolicyDocument: TRUST }));
    await operatorIam.send(new PutRolePolicyCommand({ RoleName: MEMBER_ROLE, PolicyName: 'rotator', PolicyDocument: MEMBER_ROLE_POLICY }));
    await operatorIam.send(new CreateUserCommand({ UserName: 'alice' }));
    await operatorIam.send(new CreateAccessKeyCommand({ UserName: 'alice' }));
    await enforceAuth(true);
  }, 30_000);

  afterAll(async () => {
    await enforceAuth(false);
  });

  test('notify reads the user in the member account but cannot create a key there', async () => {
    // Act
    const { iam } = await clientsOf('notify');
    const user = await iam.send(new GetUserCommand({ UserName: 'alice' }));
    const refused = await iam.send(new CreateAccessKeyCommand({ UserName: 'alice' })).catch((error: unknown) => error);

    // Assess
    expect(user.User?.UserName).toBe('alice');
    expect(refused).toMatchObject({ name: 'AccessDenied', message: expect.stringContaining('iam:CreateAccessKey') });
    await enforceAuth(false);
    const keys = await operatorIam.send(new ListAccessKeysCommand({ UserName: 'alice' }));
    await enforceAuth(true);
    expect(keys.AccessKeyMetadata).toHaveLength(1);
  });

  test('create-and-store, through the same member role, may create the key (the refusal is notify’s session, not the role)', async () => {
    // Act
    const { iam } = await clientsOf('rotateCreateAndStore');
    const created = await iam.send(new CreateAccessKeyCommand({ UserName: 'alice' }));

    // Assess
    expect(created.AccessKey?.UserName).toBe('alice');
  });
});
