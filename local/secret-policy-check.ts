import { GetResourcePolicyCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { selfRefreshReader } from '#shared/rotation/self-refresh-policy.ts';

/**
 * moto lets any key read any secret (its auth is off by default, and when on it reads identity
 * policies only). On AWS, an IAM user without an identity-policy grant reads its secret only through
 * the secret's resource policy, and only when the policy's conditions hold for the request. This
 * stand-in refuses a user's GetSecretValue as AWS would unless the secret's policy is a self-refresh
 * policy naming that user whose fence admits the caller's address: anything else, a policy of another
 * shape included, is refused (stricter than AWS, never more lenient).
 */

export interface SecretReadOrigin {
  /** The user whose key signs the reads, e.g. arn:aws:iam::123456789012:user/app. */
  readonly userArn: string;
  /** aws:SourceIp of the reads. */
  readonly sourceIp: string;
  /** aws:SourceVpce, when the reads come through a VPC endpoint (then there is no public aws:SourceIp). */
  readonly sourceVpce?: string;
}

function ipv4ToNumber(address: string): number | undefined {
  const parts = address.split('.').map(Number);
  if (parts.length !== 4 || parts.some((part) => !Number.isInteger(part) || part < 0 || part > 255)) return undefined;
  return parts.reduce((value, part) => value * 256 + part, 0);
}

/** IPv4 only: an IPv6 address or range never matches here, which refuses rather than admits. */
export function inCidr(address: string, cidr: string): boolean {
  const [base = '', bitsText = ''] = cidr.split('/');
  const bits = Number(bitsText);
  const [value, start] = [ipv4ToNumber(address), ipv4ToNumber(base)];
  if (value === undefined || start === undefined || !Number.isInteger(bits) || bits < 0 || bits > 32) return false;
  const size = 2 ** (32 - bits);
  return Math.floor(value / size) === Math.floor(start / size);
}

interface Statement {
  readonly Condition?: {
    readonly IpAddress?: { readonly 'aws:SourceIp'?: readonly string[] };
    readonly StringEquals?: { readonly 'aws:SourceVpce'?: readonly string[] };
  };
}

/** Whether the secret's resource policy lets the origin read it, judged as AWS would for the policy shapes the rotator writes. */
export function policyAllowsRead(policyText: string | undefined, origin: SecretReadOrigin): boolean {
  if (policyText === undefined || selfRefreshReader(policyText) !== origin.userArn) return false;
  const statements = (JSON.parse(policyText) as { Statement: readonly Statement[] }).Statement;
  return statements.some((statement) => {
    const condition = statement.Condition;
    if (condition === undefined) return true;
    const cidrs = condition.IpAddress?.['aws:SourceIp'];
    if (cidrs !== undefined) return origin.sourceVpce === undefined && cidrs.some((cidr) => inCidr(origin.sourceIp, cidr));
    const vpces = condition.StringEquals?.['aws:SourceVpce'];
    if (vpces !== undefined) return origin.sourceVpce !== undefined && vpces.includes(origin.sourceVpce);
    return false;
  });
}

/**
 * Makes `client` (signed with the user's own key) refuse GetSecretValue unless the secret's resource
 * policy, read with `admin`, allows it for `origin`; the refusal is an AccessDeniedException as AWS sends.
 */
export function enforceSecretResourcePolicy(client: SecretsManagerClient, admin: SecretsManagerClient, origin: SecretReadOrigin): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'GetSecretValueCommand') return next(args);
      const secretId = (args.input as { SecretId?: string }).SecretId ?? '';
      const policy = (await admin.send(new GetResourcePolicyCommand({ SecretId: secretId }))).ResourcePolicy;
      if (!policyAllowsRead(policy === '' ? undefined : policy, origin)) {
        throw Object.assign(
          new Error(
            `User: ${origin.userArn} is not authorized to perform: secretsmanager:GetSecretValue on resource: ${secretId} because no resource-based policy allows the secretsmanager:GetSecretValue action`,
          ),
          { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } },
        );
      }
      return next(args);
    },
    { step: 'initialize', name: 'localSecretResourcePolicy' },
  );
}
