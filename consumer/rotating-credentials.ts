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
  /**
   * Each read's TTL is spread by up to this fraction either way (default 0.1: ±10%), so a fleet of
   * services started together does not re-read the secret in the same second, minute after minute.
   */
  readonly ttlJitter?: number;
  /**
   * The secret is re-read for a refused key at most this often after the last read (default 1 s):
   * a key that AWS rejects while the secret still holds it (a bad secret, a deactivated key not yet
   * replaced) costs one read per interval, not one per failing request. A request refused sooner
   * waits for the interval's end and then shares one read with every other such request.
   */
  readonly minReadIntervalMs?: number;
  /** After a failed read, the first wait before the next read (default 1 s); it doubles with each failure in a row. */
  readonly errorBackoffMs?: number;
  /** The longest wait between failed reads (default 60 s). */
  readonly maxErrorBackoffMs?: number;
  readonly client?: SecretsManagerClient;
  readonly now?: () => number;
  /** A number in [0, 1), as Math.random; injected by tests to pin the jitter. */
  readonly random?: () => number;
  /** Waits; injected by tests together with `now`. */
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface RotatingCredentialProvider extends AwsCredentialIdentityProvider {
  /**
   * Say that AWS refused a key: the next request reads AWSCURRENT again (once `minReadIntervalMs`
   * has passed since the last read). With an access key id, only that key is forgotten, so a request
   * refused after another one already brought a new key does not throw the new key away.
   */
  invalidate(accessKeyId?: string): void;
  /**
   * Makes an SDK client retry a request once, with freshly read credentials, when AWS rejects the
   * cached key. Returns the same client, so it can wrap the constructor call.
   */
  attach<T extends { middlewareStack: { add: (...args: never[]) => void } }>(client: T): T;
}

/**
 * The secret could not be read and no key that AWS still accepts is cached. Carries the read's own
 * error as `cause` and when the next read will be tried; until then this error is thrown again
 * without a read, so a failing Secrets Manager is not hammered by every request.
 */
export class RotatingSecretUnavailableError extends Error {
  override readonly name = 'RotatingSecretUnavailableError';

  constructor(
    readonly secretId: string,
    readonly failures: number,
    readonly retryAt: Date,
    cause: unknown,
  ) {
    const reason = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    super(
      `Could not read the access key from secret ${secretId} (${failures} failed read${failures === 1 ? '' : 's'} in a row; ` +
        `next read at ${retryAt.toISOString()}): ${reason}. Check that this service may call secretsmanager:GetSecretValue ` +
        `on the secret (and kms:Decrypt on its key) and that the secret exists in this region.`,
      { cause },
    );
  }
}

interface StoredKey {
  readonly AccessKeyId: string;
  readonly SecretAccessKey: string;
}

/** What the provider knows between requests. The decisions on it (`nextStep`, `afterRead`, `afterFailure`) are pure. */
export interface CacheState {
  readonly key?: StoredKey;
  /** When the cached key must be read again (the read time plus the jittered TTL). */
  readonly freshUntil: number;
  /** AWS refused the cached key (`invalidate`). */
  readonly refused: boolean;
  /** When the last read began, successful or not: the minimum re-read interval counts from here. */
  readonly lastReadAt: number;
  readonly failures: number;
  readonly lastError?: unknown;
  /** No read before this time after a failure. */
  readonly retryAt: number;
}

export interface CachePolicy {
  readonly ttlMs: number;
  readonly ttlJitter: number;
  readonly minReadIntervalMs: number;
  readonly errorBackoffMs: number;
  readonly maxErrorBackoffMs: number;
}

export const EMPTY_CACHE: CacheState = { freshUntil: 0, refused: false, lastReadAt: Number.NEGATIVE_INFINITY, failures: 0, retryAt: 0 };

export type NextStep =
  | { readonly kind: 'use'; readonly key: StoredKey }
  | { readonly kind: 'read' }
  | { readonly kind: 'wait'; readonly until: number }
  | { readonly kind: 'fail' };

/**
 * What a request does now: use the cached key, read the secret, wait for the minimum re-read
 * interval to pass (a refused key, read too recently; or a failed read's backoff, when it ends within
 * that interval) or fail with the last read's error. A key
 * whose TTL ran out is still used while reads fail (it worked last time; AWS has not refused it);
 * a refused key is not: the read's error says more than a second refusal would.
 */
export function nextStep(state: CacheState, policy: CachePolicy, now: number): NextStep {
  const { key } = state;
  const backingOff = state.failures > 0 && now < state.retryAt;
  if (key && !state.refused && now < state.freshUntil) return { kind: 'use', key };
  if (backingOff) {
    if (key && !state.refused) return { kind: 'use', key };
    // A read failed moments ago (a throttle, a blip): wait out a backoff no longer than the minimum
    // re-read interval, then read once more, rather than fail a request that a second read may serve.
    return state.retryAt - now <= policy.minReadIntervalMs ? { kind: 'wait', until: state.retryAt } : { kind: 'fail' };
  }
  if (key && state.refused && now - state.lastReadAt < policy.minReadIntervalMs) {
    return { kind: 'wait', until: state.lastReadAt + policy.minReadIntervalMs };
  }
  return { kind: 'read' };
}

/** The cache after a successful read that began at `startedAt`. `random` in [0, 1) picks the TTL's jitter. */
export function afterRead(key: StoredKey, policy: CachePolicy, startedAt: number, random: number): CacheState {
  const spread = policy.ttlMs * policy.ttlJitter * (2 * random - 1);
  return { key, freshUntil: startedAt + policy.ttlMs + spread, refused: false, lastReadAt: startedAt, failures: 0, retryAt: 0 };
}

/**
 * The cache after a failed read: the key (if any) is kept, and the next read waits
 * `errorBackoffMs · 2^(failures-1)`, capped at `maxErrorBackoffMs`, spread by the TTL's jitter.
 */
export function afterFailure(state: CacheState, policy: CachePolicy, startedAt: number, error: unknown, random: number): CacheState {
  const failures = state.failures + 1;
  const base = Math.min(policy.maxErrorBackoffMs, policy.errorBackoffMs * 2 ** (failures - 1));
  const wait = base * (1 + policy.ttlJitter * (2 * random - 1));
  return { ...state, lastReadAt: startedAt, failures, lastError: error, retryAt: startedAt + wait };
}

/** The cache after AWS refused `accessKeyId` (any cached key when none is named). */
export function afterRefusal(state: CacheState, accessKeyId?: string): CacheState {
  if (!state.key || (accessKeyId !== undefined && state.key.AccessKeyId !== accessKeyId)) return state;
  return { ...state, refused: true };
}

/**
 * Credentials for the AWS SDK for JavaScript v3 that follow rotations done by iam-key-rotator:
 * reads the secret's AWSCURRENT version, caches it for `ttlMs` (±`ttlJitter`), and re-reads it when
 * AWS says the key no longer works, so a service picks up a new key with no restart and at most one
 * retried call. Under load it reads at most once at a time (concurrent requests share a read), at
 * most once per `minReadIntervalMs` for a refused key, and backs off exponentially on failed reads.
 *
 * ```ts
 * const credentials = fromRotatingSecret({ secretId: 'iam-key-rotator/billing-export' });
 * const s3 = credentials.attach(new S3Client({ credentials }));
 * ```
 */
export function fromRotatingSecret(options: RotatingSecretOptions): RotatingCredentialProvider {
  const policy: CachePolicy = {
    ttlMs: options.ttlMs ?? 300_000,
    ttlJitter: options.ttlJitter ?? 0.1,
    minReadIntervalMs: options.minReadIntervalMs ?? 1_000,
    errorBackoffMs: options.errorBackoffMs ?? 1_000,
    maxErrorBackoffMs: options.maxErrorBackoffMs ?? 60_000,
  };
  if (!(policy.ttlJitter >= 0 && policy.ttlJitter < 1)) throw new RangeError(`ttlJitter must be in [0, 1); got ${policy.ttlJitter}`);
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms))));
  const client = options.client ?? new SecretsManagerClient({});
  let state = EMPTY_CACHE;
  let inflight: Promise<void> | undefined;

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

  /** One read at a time: every request that needs a read while one is under way waits for that one. */
  const refresh = (): Promise<void> => {
    inflight ??= (async () => {
      const startedAt = now();
      try {
        state = afterRead(await read(), policy, startedAt, random());
      } catch (error) {
        state = afterFailure(state, policy, startedAt, error, random());
      } finally {
        inflight = undefined;
      }
    })();
    return inflight;
  };

  const provider = async (): Promise<AwsCredentialIdentity> => {
    let step = nextStep(state, policy, now());
    // At most one wait and one read per request: wait → read → use (or fail).
    if (step.kind === 'wait') {
      await sleep(step.until - now());
      step = nextStep(state, policy, now());
      // The interval has passed, whatever a coarse clock says.
      if (step.kind === 'wait') step = { kind: 'read' };
    }
    if (step.kind === 'read') {
      await refresh();
      step = nextStep(state, policy, now());
      // A read slower than the TTL leaves a key already due again: it is fresh for the request that waited for it.
      if (step.kind === 'read' && state.key && !state.refused && state.failures === 0) step = { kind: 'use', key: state.key };
    }
    // A read that just failed is reported to the requests that waited for it, not retried by them.
    if (step.kind !== 'use') {
      throw new RotatingSecretUnavailableError(options.secretId, state.failures, new Date(state.retryAt), state.lastError);
    }
    return {
      accessKeyId: step.key.AccessKeyId,
      secretAccessKey: step.key.SecretAccessKey,
      expiration: new Date(now() + SDK_REFRESH_WINDOW_MS),
    };
  };

  const invalidate = (accessKeyId?: string): void => {
    state = afterRefusal(state, accessKeyId);
  };

  const attach: RotatingCredentialProvider['attach'] = (sdkClient) => {
    const retryWithFreshKey = (next: (args: unknown) => Promise<unknown>) => async (args: unknown) => {
      // The key this request will be signed with, so that its refusal forgets that key only.
      const signedWith = state.key?.AccessKeyId;
      try {
        return await next(args);
      } catch (error) {
        if (!(error instanceof Error) || !STALE_KEY_ERRORS.has(error.name)) throw error;
        invalidate(signedWith);
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
