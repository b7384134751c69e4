import { CreateAccessKeyCommand, CreateRoleCommand, CreateUserCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { CreateAccountCommand, CreateOrganizationCommand, type OrganizationsClient } from '@aws-sdk/client-organizations';
import type { STSClient } from '@aws-sdk/client-sts';
import { mapWithConcurrency } from '#shared/base/concurrency.ts';
import { motoCredentialsIn } from '#local/moto-inspect.ts';

export const MEMBER_ROLE = 'iam-key-rotator-member';
const ADMIN_POLICY = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] });

export interface SeededOrganization {
  /** Member accounts with the member role and one user with one key. */
  readonly withRole: readonly string[];
  /** Member accounts without it (the StackSet has not reached them yet): refuse AssumeRole into them with refuseAssumeRoleInto. */
  readonly withoutRole: readonly string[];
}

/**
 * An organization in moto: `members` member accounts (`member-000`…), each with one IAM user holding
 * one key; the first `members - withoutRole` also have the member role. Created a few at a time.
 */
export async function seedOrganization(
  clients: { readonly organizations: OrganizationsClient; readonly sts: STSClient; readonly managementAccountId: string },
  members: number,
  withoutRole: number,
): Promise<SeededOrganization> {
  await clients.organizations.send(new CreateOrganizationCommand({ FeatureSet: 'ALL' }));
  const trust = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${clients.managementAccountId}:root` }, Action: 'sts:AssumeRole' }],
  });
  const names = Array.from({ length: members }, (_, index) => `member-${String(index).padStart(3, '0')}`);
  const ids: string[] = [];
  // One at a time: moto numbers accounts in creation order, so the ids follow the names.
  for (const name of names) {
    const response = await clients.organizations.send(new CreateAccountCommand({ AccountName: name, Email: `${name}@example.com` }));
    const id = response.CreateAccountStatus?.AccountId;
    if (!id) throw new Error(`moto created no account ${name}`);
    ids.push(id);
  }
  const roleCount = members - withoutRole;
  await mapWithConcurrency(ids, 8, async (accountId, index) => {
    const iam = new IAMClient({ credentials: await motoCredentialsIn(clients.sts, accountId, 'setup') });
    if (index < roleCount) {
      await iam.send(new CreateRoleCommand({ RoleName: MEMBER_ROLE, AssumeRolePolicyDocument: trust }));
      await iam.send(new PutRolePolicyCommand({ RoleName: MEMBER_ROLE, PolicyName: 'rotator', PolicyDocument: ADMIN_POLICY }));
    }
    await iam.send(new CreateUserCommand({ UserName: `app-${index}` }));
    await iam.send(new CreateAccessKeyCommand({ UserName: `app-${index}` }));
  });
  return { withRole: ids.slice(0, roleCount), withoutRole: ids.slice(roleCount) };
}

/**
 * moto 5.2.1 hands out credentials for any role ARN, even one that does not exist, so AWS's refusal of
 * AssumeRole into an account without the member role is simulated where AWS makes it, at STS.
 */
export function refuseAssumeRoleInto(sts: STSClient, accountIds: readonly string[], caller: string): void {
  const refused = new Set(accountIds);
  sts.middlewareStack.add(
    (next) => async (args) => {
      const roleArn = (args.input as { RoleArn?: string }).RoleArn ?? '';
      const accountId = /^arn:aws:iam::(\d{12}):role\//.exec(roleArn)?.[1];
      if (accountId && refused.has(accountId))
        throw Object.assign(new Error(`User: ${caller} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`), {
          name: 'AccessDenied',
        });
      return next(args);
    },
    { step: 'initialize', name: 'refuseMissingMemberRoles' },
  );
}
