/**
 * What each Lambda function may do in a member account, as the session policy it passes to
 * AssumeRole of the member role (stack/member-role.yml). The member role holds the union of these
 * actions; a session gets only the intersection of the role's policy and its session policy
 * (IAM user guide, "Session policies"), so notify's session cannot create a key even though the role
 * can. The lists are the IAM and Secrets Manager actions of each function's own role in serverless.yml,
 * cloudtrail:LookupEvents for the functions that read who uses a key (that account's event history), and
 * the Security Hub actions of the two that keep findings (SECURITY_HUB_FINDINGS; the member role grants them only then):
 * test/integration/functions/package.test.ts fails when a role and its session policy drift apart.
 * Only Verify reads a secret value: every other step learns key ids from version ids (readSecret).
 */
export const MEMBER_SESSION_ACTIONS = {
  scanKeys: [
    'iam:GenerateCredentialReport',
    'iam:GetCredentialReport',
    'iam:GetAccountAuthorizationDetails',
    'iam:GetUser',
    'iam:ListUserTags',
    'iam:ListGroupsForUser',
    'iam:ListAccessKeys',
    'iam:GetAccessKeyLastUsed',
    'iam:UpdateAccessKey',
    'securityhub:BatchImportFindings',
    'securityhub:GetFindings',
  ],
  startRotation: ['iam:GetAccessKeyLastUsed', 'iam:ListAccessKeys', 'iam:GetUser', 'iam:ListUserTags', 'iam:ListGroupsForUser'],
  rotateContain: [
    'iam:GetUser',
    'iam:ListUserTags',
    'iam:ListGroupsForUser',
    'iam:ListAccessKeys',
    'iam:GetAccessKeyLastUsed',
    'iam:ListUserPolicies',
    'iam:ListAttachedUserPolicies',
    'iam:UpdateAccessKey',
    'iam:PutUserPolicy',
    'secretsmanager:DescribeSecret',
    'cloudtrail:LookupEvents',
  ],
  rotatePrepare: [
    'iam:GetUser',
    'iam:ListUserTags',
    'iam:ListGroupsForUser',
    'iam:ListAccessKeys',
    'iam:GetAccessKeyLastUsed',
    'iam:DeleteAccessKey',
    'iam:UntagUser',
    'secretsmanager:DescribeSecret',
    'secretsmanager:GetResourcePolicy',
  ],
  rotateCreateAndStore: [
    'iam:ListAccessKeys',
    'iam:GetAccessKeyLastUsed',
    'iam:CreateAccessKey',
    'iam:DeleteAccessKey',
    'secretsmanager:DescribeSecret',
    'secretsmanager:GetResourcePolicy',
    'secretsmanager:CreateSecret',
    'secretsmanager:TagResource',
    'secretsmanager:PutSecretValue',
    'secretsmanager:PutResourcePolicy',
  ],
  rotateVerify: ['secretsmanager:GetSecretValue'],
  rotatePromote: ['secretsmanager:DescribeSecret', 'secretsmanager:UpdateSecretVersionStage', 'cloudtrail:LookupEvents'],
  rotateCheckConsumers: ['iam:GetAccessKeyLastUsed', 'cloudtrail:LookupEvents'],
  rotateAwaitConfirmation: [],
  rotateDeactivate: ['iam:ListAccessKeys', 'iam:UpdateAccessKey', 'secretsmanager:DescribeSecret'],
  rotateCheckObservation: ['cloudtrail:LookupEvents'],
  rotateRollback: [
    'iam:ListAccessKeys',
    'iam:GetAccessKeyLastUsed',
    'iam:UpdateAccessKey',
    'iam:DeleteAccessKey',
    'secretsmanager:DescribeSecret',
    'secretsmanager:UpdateSecretVersionStage',
  ],
  rotateDeleteOldKey: [
    'iam:ListAccessKeys',
    'iam:DeleteAccessKey',
    'secretsmanager:DescribeSecret',
    'secretsmanager:UpdateSecretVersionStage',
    'secretsmanager:DeleteSecret',
  ],
  rotateMakeSafe: [
    'iam:ListAccessKeys',
    'iam:GetAccessKeyLastUsed',
    'iam:UpdateAccessKey',
    'iam:DeleteAccessKey',
    'secretsmanager:DescribeSecret',
    'secretsmanager:UpdateSecretVersionStage',
  ],
  notify: ['iam:GetUser', 'iam:ListUserTags', 'secretsmanager:DescribeSecret', 'securityhub:BatchImportFindings'],
} as const satisfies Record<string, readonly string[]>;

/** A serverless.yml function key that acts in member accounts. */
export type MemberFunction = keyof typeof MEMBER_SESSION_ACTIONS;

/** AWS STS quota: a session policy is at most 2,048 characters once packed (no whitespace). */
export const SESSION_POLICY_MAX_CHARS = 2048;

/** How one function's session in a member account is named, and what it may do there. */
export interface MemberSession {
  /** RoleSessionName: the last part of the assumed-role ARN in the member account's CloudTrail. */
  readonly sessionName: string;
  /**
   * SourceIdentity: kept by AWS on the session and on any role chained from it, and logged in
   * CloudTrail, so the member account sees which function acted even where the session name is lost.
   */
  readonly sourceIdentity: string;
  /** The session policy (JSON): the role's permissions are cut down to these actions. */
  readonly policy: string;
  /** The actions the policy allows, for the in-process check (memberAccountClients). */
  readonly actions: ReadonlySet<string>;
}

/**
 * The packed session policy of a function. `Resource: "*"` is safe: a session policy only takes
 * away, so the member role's own resource scoping (users under the path, secrets under the prefix)
 * still applies on top.
 */
export function sessionPolicyOf(fn: MemberFunction): string {
  const actions = MEMBER_SESSION_ACTIONS[fn];
  // A statement with no action is a malformed policy, which STS refuses with the whole AssumeRole: a
  // function that needs nothing in the member account gets a session that may do nothing there.
  const statement =
    actions.length === 0
      ? { Sid: 'NothingInMemberAccounts', Effect: 'Deny', Action: '*', Resource: '*' }
      : { Sid: 'OnlyThisFunctionsActions', Effect: 'Allow', Action: [...actions], Resource: '*' };
  return JSON.stringify({ Version: '2012-10-17', Statement: [statement] });
}

/** The session a function asks for: its name twice (2 to 64 of [\w+=,.@-], as STS requires), its own policy. */
export function memberSessionOf(fn: MemberFunction): MemberSession {
  const name = `iam-key-rotator.${fn}`;
  return { sessionName: name, sourceIdentity: name, policy: sessionPolicyOf(fn), actions: new Set(MEMBER_SESSION_ACTIONS[fn]) };
}
