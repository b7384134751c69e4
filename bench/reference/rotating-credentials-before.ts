// The provider as it was before issue 21 (commit 3b3ec73), kept so bench/consumer-load.ts can measure the old
// behaviour against the new one in the same run. Not used by anything else.
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@aws-sdk/types';

/** Errors AWS services return when a request is signed with a key that is deleted, Inactive or unknown. */
const STALE_KEY_ERRORS = new Set([
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'AuthFailure',
]);

/**
 * The SDK caches an identity until five minutes before its `expiration`. Reporting an expiration
 * exactly that far away makes the SDK ask this provider before every request; the provider answers
 * from its own cache, so the only cost is a function call, and a refresh takes effect at once.
 */
const SDK_REFRESH_WINDOW_MS = 300_000;

export interface RotatingSecretOptions {
  /** Name or ARN of the secret the rotator writes (`iam-key-rotator/<userName>` by default). */
  readonly secretId: string;
  /** Re-read the secret at least this often; default 5 minutes. */
  readonly ttlMs?: number;
  readonly client?: SecretsManagerClient;
  readonly now?: () => number;
}

export interface RotatingCredentialProvider extends AwsCredentialIdentityProvider {
  /** Forget the cached key: the next request reads AWSCURRENT again. */
  invalidate(): void;
  /**
   * Makes an SDK client retry a request once, with freshly read credentials, when AWS rejects the
   * cached key. Returns the same client, so it can wrap the constructor call.
   */
  attach<T extends { middlewareStack: { add: (...args: never[]) => void } }>(client: T): T;
}

interface StoredKey {
  readonly AccessKeyId: string;
  readonly SecretAccessKey: string;
}

/**
 * Credentials for the AWS SDK for JavaScript v3 that follow rotations done by iam-key-rotator:
 * reads the secret's AWSCURRENT version, caches it for `ttlMs`, and re-reads it when AWS says the
 * key no longer works, so a service picks up a new key with no restart and at most one retried call.
 *
 * ```ts
 * const credentials = fromRotatingSecret({ secretId: 'iam-key-rotator/billing-export' });
 * const s3 = credentials.attach(new S3Client({ credentials }));
 * ```
 */
export function fromRotatingSecret(options: RotatingSecretOptions): RotatingCredentialProvider {
  const ttlMs = options.ttlMs ?? 300_000;
  const now = options.now ?? Date.now;
  const client = options.client ?? new SecretsManagerClient({});
  let cached: { key: StoredKey; readAt: number } | undefined;
  let inflight: Promise<StoredKey> | undefined;

  const read = async (): Promise<StoredKey> => {
    const response = await client.send(new GetSecretValueCommand({ SecretId: options.secretId, VersionStage: 'AWSCURRENT' }));
    let parsed: Partial<StoredKey>;
    try {
      parsed = JSON.parse(response.SecretString ?? '') as Partial<StoredKey>;
    } catch {
      // No cause: JSON.parse's message quotes the text, which is the secret.
      throw new Error(`Secret ${options.secretId} does not hold JSON; expected {"AccessKeyId": ..., "SecretAccessKey": ...}`);
    }
    if (typeof parsed.AccessKeyId !== 'string' || typeof parsed.SecretAccessKey !== 'string') {
      throw new Error(`Secret ${options.secretId} has no AccessKeyId and SecretAccessKey fields`);
    }
    return { AccessKeyId: parsed.AccessKeyId, SecretAccessKey: parsed.SecretAccessKey };
  };

  const provider = async (): Promise<AwsCredentialIdentity> => {
    if (!cached || now() - cached.readAt >= ttlMs) {
      inflight ??= read().finally(() => {
        inflight = undefined;
      });
      cached = { key: await inflight, readAt: now() };
    }
    return {
      accessKeyId: cached.key.AccessKeyId,
      secretAccessKey: cached.key.SecretAccessKey,
      expiration: new Date(now() + SDK_REFRESH_WINDOW_MS),
    };
  };

  const invalidate = (): void => {
    cached = undefined;
  };

  const attach: RotatingCredentialProvider['attach'] = (sdkClient) => {
    const retryWithFreshKey = (next: (args: unknown) => Promise<unknown>) => async (args: unknown) => {
      try {
        return await next(args);
      } catch (error) {
        if (!(error instanceof Error) || !STALE_KEY_ERRORS.has(error.name)) throw error;
        invalidate();
        return next(args);
      }
    };
    // The middleware stack's generic types differ per client; the shape used here is common to all.
    (sdkClient.middlewareStack.add as unknown as (mw: unknown, options: unknown) => void)(retryWithFreshKey, {
      step: 'initialize',
      name: 'iamKeyRotatorRetryWithFreshKey',
    });
    return sdkClient;
  };

  return Object.assign(provider, { invalidate, attach });
}
