import type { AwsCredentialIdentityProvider } from '@aws-sdk/types';
import { SecurityHubError } from '../base/errors.ts';
import { serviceEndpoint, signedJsonClient } from './signed-json.ts';

/**
 * The two Security Hub operations the rotator uses (BatchImportFindings, GetFindings), as signed
 * JSON requests (signed-json.ts). Why not @aws-sdk/client-securityhub: its request schema carries the
 * whole AWS Security Finding Format (hundreds of resource-detail shapes), and the registry holds no
 * release of it on the version train of our other clients; scan-keys and notify, which write
 * findings, are within a few KB of their 500 KB bundle budget. The REST-JSON protocol of these two
 * operations is small: `POST /findings/import` and `POST /findings` (Security Hub API reference).
 */

/** One finding in the AWS Security Finding Format; built by shared/findings/key-findings.ts. */
export type AwsSecurityFinding = Readonly<Record<string, unknown>>;

export interface ImportResult {
  readonly successCount: number;
  readonly failedCount: number;
  readonly failedFindings: readonly { readonly id: string; readonly errorCode: string; readonly errorMessage: string }[];
}

export interface FindingsPage {
  readonly findings: readonly AwsSecurityFinding[];
  readonly nextToken: string | undefined;
}

export interface SecurityHubApi {
  batchImportFindings(findings: readonly AwsSecurityFinding[]): Promise<ImportResult>;
  getFindings(filters: Readonly<Record<string, unknown>>, nextToken?: string): Promise<FindingsPage>;
}

export interface SecurityHubOptions {
  readonly region: string;
  readonly credentials: AwsCredentialIdentityProvider;
  /** AWS_ENDPOINT_URL_SECURITYHUB or AWS_ENDPOINT_URL, as the SDK reads them (moto locally). */
  readonly endpoint?: string;
  readonly fetch?: typeof fetch;
  readonly maxAttempts?: number;
}

export function securityHubEndpoint(region: string, env: Readonly<Record<string, string | undefined>> = process.env): string {
  return serviceEndpoint('SECURITYHUB', `securityhub.${region}.amazonaws.com`, env);
}

export function securityHub(options: SecurityHubOptions): SecurityHubApi {
  const send = signedJsonClient({
    service: 'securityhub',
    region: options.region,
    credentials: options.credentials,
    endpoint: options.endpoint ?? securityHubEndpoint(options.region),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
  });

  async function call(operation: string, path: string, body: unknown): Promise<unknown> {
    try {
      return await send({ path, body });
    } catch (error) {
      const type = error instanceof Error ? error.name : 'Error';
      const message = error instanceof Error ? error.message : String(error);
      throw new SecurityHubError(
        `Security Hub ${operation} failed (${type}: ${message}). ` +
          (type === 'InvalidAccessException'
            ? 'Security Hub is not enabled in this account and Region: enable it (aws securityhub enable-security-hub), or set SECURITY_HUB_FINDINGS=false.'
            : type === 'AccessDeniedException'
              ? 'The role lacks the permission: deploy the stack with securityHubFindings=true, which grants it.'
              : 'Findings are written again by the next scan or rotation event.'),
        type,
        { cause: error },
      );
    }
  }

  return {
    async batchImportFindings(findings) {
      if (findings.length > 100)
        throw new SecurityHubError(
          `BatchImportFindings takes at most 100 findings a request (got ${findings.length}).`,
          'InvalidInputException',
        );
      const output = (await call('BatchImportFindings', '/findings/import', { Findings: findings })) as {
        SuccessCount?: number;
        FailedCount?: number;
        FailedFindings?: { Id?: string; ErrorCode?: string; ErrorMessage?: string }[];
      };
      return {
        successCount: output.SuccessCount ?? 0,
        failedCount: output.FailedCount ?? 0,
        failedFindings: (output.FailedFindings ?? []).map((failed) => ({
          id: failed.Id ?? '',
          errorCode: failed.ErrorCode ?? '',
          errorMessage: failed.ErrorMessage ?? '',
        })),
      };
    },
    async getFindings(filters, nextToken) {
      const output = (await call('GetFindings', '/findings', {
        Filters: filters,
        MaxResults: 100,
        ...(nextToken ? { NextToken: nextToken } : {}),
      })) as {
        Findings?: AwsSecurityFinding[];
        NextToken?: string;
      };
      return { findings: output.Findings ?? [], nextToken: output.NextToken || undefined };
    },
  };
}
