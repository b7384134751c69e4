import {
  GetGroupPolicyCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetUserPolicyCommand,
  paginateListAttachedGroupPolicies,
  paginateListAttachedUserPolicies,
  paginateListGroupPolicies,
  paginateListGroupsForUser,
  paginateListUserPolicies,
  type IAMClient,
} from '@aws-sdk/client-iam';
import { UserNotFoundError } from '../base/errors.ts';
import { isNoSuchEntity } from './iam.ts';

/**
 * Every identity policy that applies to a user: its attached managed policies (their default
 * version), its inline policies, and both kinds of each of its groups. Reads only; documents come
 * back as IAM returns them (URL-encoded), for policy-grants.ts to read. A permissions boundary, an
 * SCP or a resource policy is not read: they can only narrow or add to what these grant.
 */

export type PolicyKind = 'attached' | 'inline' | 'group-attached' | 'group-inline';

/** One policy document that applies to the user, as IAM returned it. */
export interface PolicySource {
  readonly kind: PolicyKind;
  readonly name: string;
  /** A managed policy's ARN. */
  readonly arn?: string;
  /** The group it comes through, for group policies. */
  readonly group?: string;
  /** The document as IAM returns it: URL-encoded JSON (RFC 3986), or plain JSON. */
  readonly document: string;
}

const PAGE_SIZE = 1000;

export async function readUserPolicies(iam: IAMClient, userName: string): Promise<PolicySource[]> {
  try {
    const sources: PolicySource[] = [];
    for await (const page of paginateListAttachedUserPolicies({ client: iam, pageSize: PAGE_SIZE }, { UserName: userName }))
      for (const policy of page.AttachedPolicies ?? []) sources.push(await managedPolicy(iam, policy, 'attached'));
    for await (const page of paginateListUserPolicies({ client: iam, pageSize: PAGE_SIZE }, { UserName: userName }))
      for (const name of page.PolicyNames ?? []) {
        const inline = await iam.send(new GetUserPolicyCommand({ UserName: userName, PolicyName: name }));
        sources.push({ kind: 'inline', name, document: inline.PolicyDocument ?? '' });
      }
    for await (const page of paginateListGroupsForUser({ client: iam, pageSize: PAGE_SIZE }, { UserName: userName }))
      for (const group of page.Groups ?? [])
        if (group.GroupName !== undefined) sources.push(...(await groupPolicies(iam, group.GroupName)));
    return sources;
  } catch (error) {
    if (isNoSuchEntity(error))
      throw new UserNotFoundError(
        `IAM user ${userName} (or one of its policies) does not exist: check the name with \`aws iam get-user --user-name ${userName}\`, and run again if a policy was being changed.`,
        { cause: error },
      );
    throw error;
  }
}

async function groupPolicies(iam: IAMClient, group: string): Promise<PolicySource[]> {
  const sources: PolicySource[] = [];
  for await (const page of paginateListAttachedGroupPolicies({ client: iam, pageSize: PAGE_SIZE }, { GroupName: group }))
    for (const policy of page.AttachedPolicies ?? []) sources.push({ ...(await managedPolicy(iam, policy, 'group-attached')), group });
  for await (const page of paginateListGroupPolicies({ client: iam, pageSize: PAGE_SIZE }, { GroupName: group }))
    for (const name of page.PolicyNames ?? []) {
      const inline = await iam.send(new GetGroupPolicyCommand({ GroupName: group, PolicyName: name }));
      sources.push({ kind: 'group-inline', name, group, document: inline.PolicyDocument ?? '' });
    }
  return sources;
}

/** A managed policy's default version: GetPolicy names it, GetPolicyVersion holds the document. */
async function managedPolicy(
  iam: IAMClient,
  attached: { readonly PolicyArn?: string | undefined; readonly PolicyName?: string | undefined },
  kind: 'attached' | 'group-attached',
): Promise<PolicySource> {
  const arn = attached.PolicyArn ?? '';
  const name = attached.PolicyName ?? arn;
  const policy = await iam.send(new GetPolicyCommand({ PolicyArn: arn }));
  const versionId = policy.Policy?.DefaultVersionId;
  if (versionId === undefined) return { kind, name, arn, document: '' };
  const version = await iam.send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: versionId }));
  return { kind, name, arn, document: version.PolicyVersion?.Document ?? '' };
}
