import { PutResourcePolicyCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { selfRefreshFenceFor, type SelfRefreshFence } from '../config/self-refresh.ts';
import type { RotationDeps } from './deps.ts';

/**
 * The resource policy that lets a self-refresh user read its own secret (SELF_REFRESH_USERS): exactly
 * that user, exactly secretsmanager:GetSecretValue on this secret (`Resource: "*"` in a secret's policy
 * means the secret it is attached to), and, when fenced, only from those networks. A request through a
 * VPC endpoint carries aws:SourceVpce and no public aws:SourceIp, so each kind of fence is a statement of
 * its own: conditions inside one statement must all hold (IAM user guide, "Condition element").
 */
export const SELF_REFRESH_SID = 'IamKeyRotatorSelfRefresh';

interface Statement {
  readonly Sid: string;
  readonly Effect: 'Allow';
  readonly Principal: { readonly AWS: string };
  readonly Action: 'secretsmanager:GetSecretValue';
  readonly Resource: '*';
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>>;
}

export function selfRefreshPolicy(
  userArn: string,
  fence: SelfRefreshFence,
): { readonly Version: '2012-10-17'; readonly Statement: Statement[] } {
  const grant = (suffix: string, condition?: Statement['Condition']): Statement => ({
    Sid: `${SELF_REFRESH_SID}${suffix}`,
    Effect: 'Allow',
    Principal: { AWS: userArn },
    Action: 'secretsmanager:GetSecretValue',
    Resource: '*',
    ...(condition ? { Condition: condition } : {}),
  });
  const statements: Statement[] = [];
  if (fence.sourceCidrs.length > 0) statements.push(grant('FromAddresses', { IpAddress: { 'aws:SourceIp': [...fence.sourceCidrs] } }));
  if (fence.sourceVpces.length > 0)
    statements.push(grant('FromVpcEndpoints', { StringEquals: { 'aws:SourceVpce': [...fence.sourceVpces] } }));
  if (statements.length === 0) statements.push(grant(''));
  return { Version: '2012-10-17', Statement: statements };
}

/** Key order and whitespace aside, are two policy texts the same document? */
function sameDocument(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, index) => sameDocument(item, b[index]));
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].every((key) => sameDocument((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]));
  }
  return a === b;
}

export function isSelfRefreshPolicy(policyText: string, userArn: string, fence: SelfRefreshFence): boolean {
  try {
    return sameDocument(JSON.parse(policyText), selfRefreshPolicy(userArn, fence));
  } catch {
    return false;
  }
}

/**
 * The user a self-refresh policy lets read the secret, when the policy is made only of statements of
 * the shape selfRefreshPolicy writes (its Sid, Allow, GetSecretValue, one user) for one user, whatever
 * the fence; undefined for any other policy.
 */
export function selfRefreshReader(policyText: string): string | undefined {
  let statements: unknown;
  try {
    statements = (JSON.parse(policyText) as { Statement?: unknown }).Statement;
  } catch {
    return undefined;
  }
  if (!Array.isArray(statements) || statements.length === 0) return undefined;
  const readers = new Set<unknown>();
  for (const statement of statements as unknown[]) {
    const { Sid, Effect, Principal, Action, Resource, NotAction, NotPrincipal, NotResource } = (statement ?? {}) as Record<string, unknown>;
    const shaped =
      typeof Sid === 'string' &&
      Sid.startsWith(SELF_REFRESH_SID) &&
      Effect === 'Allow' &&
      Action === 'secretsmanager:GetSecretValue' &&
      Resource === '*' &&
      NotAction === undefined &&
      NotPrincipal === undefined &&
      NotResource === undefined;
    const reader = (Principal as { AWS?: unknown } | undefined)?.AWS;
    if (!shaped || typeof reader !== 'string' || !reader.startsWith('arn:') || !reader.includes(':user/')) return undefined;
    readers.add(reader);
  }
  return readers.size === 1 ? (readers.values().next().value as string) : undefined;
}

/**
 * Puts the user's self-refresh policy on its secret. BlockPublicPolicy makes Secrets Manager refuse a
 * policy that grants broad access (its default is not to block: Secrets Manager API reference,
 * PutResourcePolicy), a second check on top of ours that the policy names one user.
 */
export async function putSelfRefreshPolicy(
  secretsManager: SecretsManagerClient,
  secretName: string,
  userArn: string,
  fence: SelfRefreshFence,
): Promise<void> {
  await secretsManager.send(
    new PutResourcePolicyCommand({
      SecretId: secretName,
      ResourcePolicy: JSON.stringify(selfRefreshPolicy(userArn, fence)),
      BlockPublicPolicy: true,
    }),
  );
}

const ACCOUNT_OF_ARN = /^arn:[^:]+:iam::(\d{12}):/;

/** The user's fence when SELF_REFRESH_USERS lists it (for the account its ARN names); undefined otherwise. */
export function selfRefreshFenceOf(deps: Pick<RotationDeps, 'config'>, userArn: string, userName: string): SelfRefreshFence | undefined {
  return selfRefreshFenceFor(deps.config.selfRefreshUsers, ACCOUNT_OF_ARN.exec(userArn)?.[1] ?? '', userName);
}
