import { DescribeSecretCommand, GetResourcePolicyCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretNotBoundError } from '../base/errors.ts';
import { defaultSecretName } from '../config/user-settings.ts';
import type { RotationDeps } from './deps.ts';
import { secretKmsKeyIdFor } from './step-account.ts';
import { IAM_USER_TAG, MANAGED_BY_TAG } from './secret.ts';
import { selfRefreshFenceOf, selfRefreshReader } from './self-refresh-policy.ts';
import { actionMatches } from '../aws/iam-action.ts';

/**
 * Which secret may receive a user's new key. Tags are data, not authority: whoever can tag a user
 * must not be able to send its key into a secret they can read. A user's key goes only into a
 * secret bound to that user:
 *
 * - every secret, the default `<SECRET_NAME_PREFIX><userName>` included, must be encrypted with the
 *   KMS key the rotator itself would use (SECRET_KMS_KEY_ID; the AWS managed key in a member
 *   account), so reading it needs kms:Decrypt on a key the rotator's operators control, and must
 *   have no resource policy that grants any principal read: the rotator reads through its own
 *   role's identity policy, so a grant in the secret's policy is always for someone else;
 * - a secret named by the `rotation:secret-name` tag must also carry the tags the rotator writes
 *   when it creates a secret for that user (`managed-by=iam-key-rotator`, `iam-user=<userName>`).
 *   Those tags alone could be forged by anyone who may tag secrets; the two conditions above are
 *   what a forger cannot meet without rights over the stack's key and the secret's policy.
 * - a secret that does not exist yet is bound: the rotator creates it, with those tags and its key.
 *
 * The default-named secret is exempt from the tag condition only: its name already ties it to the
 * user, and operators pre-create it (as the demo and a first onboarding do) without the tags.
 */

export interface SecretFacts {
  readonly exists: boolean;
  readonly tags: ReadonlyMap<string, string>;
  /** As DescribeSecret returns it: a key id, key ARN or alias ARN; absent for the AWS managed key aws/secretsmanager. */
  readonly kmsKeyId: string | undefined;
  /** The resource policy's JSON text; undefined when the secret has none. */
  readonly resourcePolicy: string | undefined;
}

export interface BindingRule {
  readonly userName: string;
  readonly secretName: string;
  /** `<SECRET_NAME_PREFIX><userName>`. */
  readonly defaultName: string;
  /** The KMS key the rotator encrypts this user's secrets with; '' for the AWS managed key. */
  readonly expectedKmsKeyId: string;
  /** The user's ARN, when known: a self-refresh policy must name exactly this user. */
  readonly userArn?: string | undefined;
  /** SELF_REFRESH_USERS lists the user: its own self-refresh policy (selfRefreshPolicy) is no grant to others. */
  readonly selfRefresh?: boolean;
}

export type BindingProblemKind = 'not-created-for-user' | 'bound-to-other-user' | 'foreign-kms-key' | 'readable-by-others';

export interface BindingProblem {
  readonly kind: BindingProblemKind;
  /** What is wrong, naming the secret's facts (never a value). */
  readonly detail: string;
  /** What a person does about it. */
  readonly fix: string;
}

const AWS_MANAGED_KEY = 'alias/aws/secretsmanager';
const KEY_ARN = /^arn:[^:]+:kms:[^:]*:[^:]*:key\/(.+)$/;
const ALIAS_ARN = /^arn:[^:]+:kms:[^:]*:[^:]*:(alias\/.+)$/;

/**
 * Whether two KMS key references name the same key. DescribeSecret returns "the key ID or alias ARN"
 * and omits the field for aws/secretsmanager (Secrets Manager API reference, DescribeSecret); moto
 * returns the value CreateSecret was given. A key id matches its key ARN; two ARNs must be equal.
 * An alias is not resolved (that would take a KMS call): only the same alias text matches, so a
 * secret encrypted through another alias is refused and the message says how to re-encrypt it.
 */
export function sameKmsKey(expected: string, actual: string | undefined): boolean {
  const isDefault = (value: string | undefined): boolean =>
    value === undefined || value === '' || value === AWS_MANAGED_KEY || ALIAS_ARN.exec(value)?.[1] === AWS_MANAGED_KEY;
  if (isDefault(expected) || isDefault(actual)) return isDefault(expected) && isDefault(actual);
  if (expected === actual) return true;
  const isBareId = (value: string): boolean => !value.startsWith('alias/') && !value.startsWith('arn:');
  const [expectedArn, actualArn] = [KEY_ARN.exec(expected), KEY_ARN.exec(actual ?? '')];
  if (expectedArn && actual !== undefined && isBareId(actual)) return expectedArn[1] === actual;
  if (actualArn && isBareId(expected)) return actualArn[1] === expected;
  return false;
}

/** The actions that count as reading the secret: GetSecretValue, or PutResourcePolicy, which lets its holder grant itself read. */
const READ_ACTIONS = ['secretsmanager:GetSecretValue', 'secretsmanager:PutResourcePolicy'];

const asList = (value: unknown): unknown[] => (Array.isArray(value) ? value : value === undefined ? [] : [value]);

/**
 * The statements of a resource policy that let some principal read the secret, described by Sid or
 * position. Any Allow counts whatever its Principal or Condition: conditions can be met by others
 * than the rotator's operators, and the rotator never needs a grant here. An Allow with NotAction is
 * counted unless it excludes every read action; a policy that cannot be parsed counts as one grant.
 */
export function readGrants(policyText: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(policyText);
  } catch {
    return ['a resource policy that is not valid JSON'];
  }
  const statements = asList(parsed && typeof parsed === 'object' ? (parsed as { Statement?: unknown }).Statement : undefined);
  const grants: string[] = [];
  statements.forEach((statement, index) => {
    if (!statement || typeof statement !== 'object') return;
    const { Effect, Action, NotAction, Sid } = statement as { Effect?: unknown; Action?: unknown; NotAction?: unknown; Sid?: unknown };
    if (typeof Effect !== 'string' || Effect.toLowerCase() !== 'allow') return;
    const patterns = (value: unknown): string[] => asList(value).filter((item): item is string => typeof item === 'string');
    const grantsRead =
      NotAction !== undefined
        ? READ_ACTIONS.some((action) => !patterns(NotAction).some((pattern) => actionMatches(pattern, action)))
        : READ_ACTIONS.some((action) => patterns(Action).some((pattern) => actionMatches(pattern, action)));
    if (grantsRead) grants.push(typeof Sid === 'string' && Sid !== '' ? `Sid ${Sid}` : `statement ${index + 1}`);
  });
  return grants;
}

const kmsName = (value: string | undefined): string =>
  value === undefined || value === '' ? `${AWS_MANAGED_KEY} (the AWS managed key)` : value;

/** Every reason the secret is not bound to the user; empty when it may receive the user's key. */
export function bindingProblems(facts: SecretFacts, rule: BindingRule): BindingProblem[] {
  if (!facts.exists) return [];
  const { userName, secretName, defaultName } = rule;
  const problems: BindingProblem[] = [];
  const taggedUser = facts.tags.get(IAM_USER_TAG);
  if (taggedUser !== undefined && taggedUser !== userName) {
    problems.push({
      kind: 'bound-to-other-user',
      detail: `its ${IAM_USER_TAG} tag binds it to ${taggedUser}`,
      fix: `give ${userName} its own secret: remove its rotation:secret-name tag to use ${defaultName}`,
    });
  } else if (secretName !== defaultName && (facts.tags.get(MANAGED_BY_TAG.key) !== MANAGED_BY_TAG.value || taggedUser !== userName)) {
    problems.push({
      kind: 'not-created-for-user',
      detail: `it is named by ${userName}'s rotation:secret-name tag but the rotator did not create it for ${userName} (it lacks the tags ${MANAGED_BY_TAG.key}=${MANAGED_BY_TAG.value} and ${IAM_USER_TAG}=${userName})`,
      fix:
        `remove the rotation:secret-name tag to use ${defaultName}, or point it at a name no secret has yet (the rotator then creates that secret for ${userName}); ` +
        `if this secret is meant for ${userName}, an operator tags it ${MANAGED_BY_TAG.key}=${MANAGED_BY_TAG.value} ${IAM_USER_TAG}=${userName}`,
    });
  }
  if (!sameKmsKey(rule.expectedKmsKeyId, facts.kmsKeyId)) {
    problems.push({
      kind: 'foreign-kms-key',
      detail: `it is encrypted with KMS key ${kmsName(facts.kmsKeyId)}, not with the rotator's key ${kmsName(rule.expectedKmsKeyId)}`,
      fix: `re-encrypt it with the rotator's key (\`aws secretsmanager update-secret --secret-id ${secretName} --kms-key-id ${rule.expectedKmsKeyId || AWS_MANAGED_KEY}\`)`,
    });
  }
  const reader = facts.resourcePolicy === undefined ? undefined : selfRefreshReader(facts.resourcePolicy);
  const ownSelfRefresh = reader !== undefined && rule.selfRefresh === true && reader === rule.userArn;
  const grants = facts.resourcePolicy === undefined || ownSelfRefresh ? [] : readGrants(facts.resourcePolicy);
  if (reader !== undefined && !ownSelfRefresh && reader.endsWith(`/${userName}`)) {
    // The rotator's own self-refresh policy, for a user SELF_REFRESH_USERS no longer lists: it is not put back or kept.
    problems.push({
      kind: 'readable-by-others',
      detail: `its resource policy lets ${reader} read it with its own key (self-refresh), but SELF_REFRESH_USERS does not list ${userName}`,
      fix:
        `delete the policy (\`aws secretsmanager delete-resource-policy --secret-id ${secretName}\`) so only the secret's readers get the next key, ` +
        `or list ${userName} in SELF_REFRESH_USERS (README: "Consumers that fetch their own next key")`,
    });
  } else if (grants.length > 0) {
    problems.push({
      kind: 'readable-by-others',
      detail: `its resource policy lets other principals read it or change who may (${grants.join(', ')})`,
      fix: `remove those statements, or the policy (\`aws secretsmanager delete-resource-policy --secret-id ${secretName}\`)`,
    });
  }
  return problems;
}

/** The refusal: names the secret, each problem and its fix; never a secret value. */
export function notBoundError(rule: BindingRule, problems: readonly BindingProblem[]): SecretNotBoundError {
  const { userName, secretName } = rule;
  return new SecretNotBoundError(
    secretName,
    `Secret ${secretName} is not bound to IAM user ${userName}, so the rotator will not store ${userName}'s key in it: ${problems.map((problem) => problem.detail).join('; ')}. ` +
      `No new key was created and nothing was written to the secret. To fix: ${problems.map((problem) => problem.fix).join('; ')}. Then start the rotation again.`,
  );
}

const isNotFound = (error: unknown): boolean => error instanceof Error && error.name === 'ResourceNotFoundException';

/** The facts the binding is decided on: DescribeSecret and GetResourcePolicy, neither of which returns a value. */
export async function readSecretFacts(secretsManager: SecretsManagerClient, secretName: string): Promise<SecretFacts> {
  try {
    const described = await secretsManager.send(new DescribeSecretCommand({ SecretId: secretName }));
    const policy = await secretsManager.send(new GetResourcePolicyCommand({ SecretId: secretName }));
    return {
      exists: true,
      tags: new Map((described.Tags ?? []).map((tag) => [tag.Key ?? '', tag.Value ?? ''])),
      kmsKeyId: described.KmsKeyId,
      resourcePolicy: policy.ResourcePolicy === undefined || policy.ResourcePolicy === '' ? undefined : policy.ResourcePolicy,
    };
  } catch (error) {
    if (isNotFound(error)) return { exists: false, tags: new Map(), kmsKeyId: undefined, resourcePolicy: undefined };
    throw error;
  }
}

/**
 * Refuses, with SecretNotBoundError, a secret not bound to the user, and returns the facts it judged
 * by. Prepare calls it before any key exists; CreateAndStore again before it writes, since the secret
 * may have changed between steps.
 */
export async function assertSecretBound(deps: RotationDeps, userName: string, secretName: string, userArn: string): Promise<SecretFacts> {
  const rule: BindingRule = {
    userName,
    secretName,
    defaultName: defaultSecretName(deps.config, userName),
    expectedKmsKeyId: secretKmsKeyIdFor(deps),
    userArn,
    selfRefresh: selfRefreshFenceOf(deps, userArn, userName) !== undefined,
  };
  const facts = await readSecretFacts(deps.secretsManager, secretName);
  const problems = bindingProblems(facts, rule);
  if (problems.length > 0) {
    const error = notBoundError(rule, problems);
    deps.logger.warn('secret not bound to the user; nothing was changed', {
      userName,
      secretName,
      problems: problems.map((problem) => problem.kind),
    });
    throw error;
  }
  return facts;
}
