import { GetAccessKeyLastUsedCommand, GetUserCommand, ListAccessKeysCommand, type IAMClient } from '@aws-sdk/client-iam';
import type { MetadataBearer, MiddlewareStack } from '@aws-sdk/types';
import type { KeyOwner } from './cloudtrail-record.ts';

/**
 * Whether a request's key authenticates at the time of the call, decided as AWS decides it and moto
 * does not: moto serves a request signed with an Inactive, deleted or unknown key, AWS refuses it
 * (InvalidClientTokenId and kin) before anything happens. For the local CloudTrail stand-in, which
 * must not record such a call, nor let it reach moto and move the key's last-used date.
 */

/**
 * What the SDK throws when AWS refuses a request's credentials: a client fault with HTTP 403 whose
 * `name` is AWS's error code. Not the service's own ServiceException class (this middleware serves
 * any client), so callers match the name, as the rotator and the consumer provider do.
 */
export class CredentialsRefusedError extends Error {
  readonly $fault = 'client';
  readonly $metadata = { httpStatusCode: 403, attempts: 1, totalRetryDelay: 0 };

  constructor(code: string, message: string) {
    super(message);
    this.name = code;
  }
}

/**
 * The error AWS answers a request whose key is not valid with, by protocol: S3 and EC2 have their
 * own codes, JSON services say UnrecognizedClientException, query services (STS, IAM, SNS, SQS…)
 * InvalidClientTokenId.
 */
export function refusal(service: string, contentType: string | undefined): CredentialsRefusedError {
  if (service === 's3')
    return new CredentialsRefusedError('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
  if (service === 'ec2') return new CredentialsRefusedError('AuthFailure', 'AWS was not able to validate the provided access credentials');
  const code = contentType?.startsWith('application/x-amz-json') ? 'UnrecognizedClientException' : 'InvalidClientTokenId';
  return new CredentialsRefusedError(code, 'The security token included in the request is invalid.');
}

/** What a SigV4 Authorization header says about the request: the key id and its credential scope. */
export interface Signature {
  readonly accessKeyId: string;
  readonly region: string;
  readonly service: string;
}

/** The signature of a signed HTTP request; undefined for an unsigned one. Reads the key id only, never the signature itself. */
export function signatureOf(request: unknown): Signature | undefined {
  const authorization = requestHeader(request, 'authorization');
  const scope = authorization === undefined ? null : /Credential=([A-Z0-9]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(authorization);
  if (!scope?.[1] || !scope[2] || !scope[3]) return undefined;
  return { accessKeyId: scope[1], region: scope[2], service: scope[3] };
}

/** A header of an HTTP request, by its name in lower case. */
export function requestHeader(request: unknown, name: string): string | undefined {
  if (typeof request !== 'object' || request === null || !('headers' in request)) return undefined;
  const headers = request.headers;
  if (typeof headers !== 'object' || headers === null) return undefined;
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === name && typeof value === 'string') return value;
  return undefined;
}

export type KeyState = { readonly status: 'Active'; readonly owner: KeyOwner } | { readonly status: 'Inactive' | 'absent' };

const isNoSuchEntity = (error: unknown): boolean =>
  error instanceof Error && (error.name === 'NoSuchEntityException' || error.name === 'NoSuchEntity');

/**
 * Who owns each key (read once: a key never changes hands) and each user's key statuses (read again
 * after `cacheMs`, or at once for a key the last read did not list).
 */
class KeyStatuses {
  private readonly owners = new Map<string, Promise<KeyOwner | undefined>>();
  private readonly statuses = new Map<string, { readonly readAt: number; readonly keys: Promise<ReadonlyMap<string, string>> }>();

  constructor(
    private readonly iam: IAMClient,
    private readonly cacheMs: number,
  ) {}

  /** After a key changed: every status is read afresh (owners stay, a key never changes hands). */
  forgetStatuses(): void {
    this.statuses.clear();
  }

  async stateOf(accessKeyId: string, now: Date): Promise<KeyState> {
    const owner = await this.ownerOf(accessKeyId);
    if (!owner) return { status: 'absent' };
    let status = (await this.keysOf(owner.userName, now.getTime())).get(accessKeyId);
    // A key the cached list does not hold may be newer than the list: only a fresh read may call it absent.
    if (status === undefined) status = (await this.keysOf(owner.userName, now.getTime(), true)).get(accessKeyId);
    if (status === 'Active') return { status, owner };
    return { status: status === 'Inactive' ? 'Inactive' : 'absent' };
  }

  private ownerOf(accessKeyId: string): Promise<KeyOwner | undefined> {
    const known = this.owners.get(accessKeyId);
    if (known) return known;
    const reading = this.readOwner(accessKeyId);
    this.owners.set(accessKeyId, reading);
    // Only a found owner is kept: a key unknown now (or a failed read) is asked about again.
    const forget = (): void => {
      if (this.owners.get(accessKeyId) === reading) this.owners.delete(accessKeyId);
    };
    reading.then((owner) => {
      if (!owner) forget();
    }, forget);
    return reading;
  }

  private async readOwner(accessKeyId: string): Promise<KeyOwner | undefined> {
    try {
      const used = await this.iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: accessKeyId }));
      if (!used.UserName) return undefined;
      const user = (await this.iam.send(new GetUserCommand({ UserName: used.UserName }))).User;
      if (!user?.Arn || !user.UserId) return undefined;
      return { userName: used.UserName, userId: user.UserId, arn: user.Arn, accountId: user.Arn.split(':')[4] ?? '' };
    } catch (error) {
      if (isNoSuchEntity(error)) return undefined;
      throw error;
    }
  }

  private keysOf(userName: string, nowMs: number, fresh = false): Promise<ReadonlyMap<string, string>> {
    const cached = this.statuses.get(userName);
    if (!fresh && cached && nowMs >= cached.readAt && nowMs - cached.readAt < this.cacheMs) return cached.keys;
    const keys = this.readKeys(userName);
    this.statuses.set(userName, { readAt: nowMs, keys });
    keys.catch(() => {
      if (this.statuses.get(userName)?.keys === keys) this.statuses.delete(userName);
    });
    return keys;
  }

  private async readKeys(userName: string): Promise<ReadonlyMap<string, string>> {
    try {
      // A user has at most two keys: one page.
      const listed = await this.iam.send(new ListAccessKeysCommand({ UserName: userName }));
      return new Map((listed.AccessKeyMetadata ?? []).map((key) => [key.AccessKeyId ?? '', key.Status ?? '']));
    } catch (error) {
      if (isNoSuchEntity(error)) return new Map();
      throw error;
    }
  }
}

/**
 * Orders the calls signed with a key against the changes of that key made through a watched IAM
 * client: a change waits for the calls already past their status check, and the calls that come
 * after it wait for it. No call is checked before a deactivation and sent after it, which would
 * reach moto (and move the key's last-used date) on a key that is no longer Active.
 */
class KeyFences {
  private readonly fences = new Map<string, Promise<void>>();
  private readonly inFlight = new Map<string, Set<Promise<void>>>();

  /** A call's status check and send, once no change of its key is under way. */
  async call<T>(accessKeyId: string, run: () => Promise<T>): Promise<T> {
    for (let fence = this.fences.get(accessKeyId); fence; fence = this.fences.get(accessKeyId)) await fence;
    // No await between the last look at the fences and registering: a change cannot slip in between.
    const running = run();
    const settled = running.then(
      () => undefined,
      () => undefined,
    );
    const calls = this.inFlight.get(accessKeyId) ?? new Set<Promise<void>>();
    calls.add(settled);
    this.inFlight.set(accessKeyId, calls);
    try {
      return await running;
    } finally {
      calls.delete(settled);
      if (calls.size === 0 && this.inFlight.get(accessKeyId) === calls) this.inFlight.delete(accessKeyId);
    }
  }

  /** A change of the key, once the calls under way are done; the calls that come meanwhile wait for it. */
  async change<T>(accessKeyId: string, run: () => Promise<T>): Promise<T> {
    // As in call: the fence is put up in the same step as the look that found none.
    for (let fence = this.fences.get(accessKeyId); fence; fence = this.fences.get(accessKeyId)) await fence;
    let release = (): void => undefined;
    this.fences.set(
      accessKeyId,
      new Promise<void>((resolve) => {
        release = resolve;
      }),
    );
    try {
      await Promise.all(this.inFlight.get(accessKeyId) ?? []);
      return await run();
    } finally {
      this.fences.delete(accessKeyId);
      release();
    }
  }
}

/** The IAM operations that change whether a key authenticates. */
const KEY_CHANGES = new Set(['UpdateAccessKeyCommand', 'DeleteAccessKeyCommand']);

/** A sent request's outcome, kept rather than thrown so the caller records it before passing it on. */
export type Sent<T> =
  | { readonly ok: true; readonly owner: KeyOwner; readonly result: T }
  | { readonly ok: false; readonly owner: KeyOwner; readonly error: unknown };

export class KeyAuthentication {
  private readonly statuses: KeyStatuses;
  private readonly fences = new KeyFences();

  /** `iam` reads who owns a key and whether it is Active; a status read is trusted for `statusCacheMs`. */
  constructor(iam: IAMClient, statusCacheMs: number) {
    this.statuses = new KeyStatuses(iam, statusCacheMs);
  }

  /**
   * Sends a request signed with `signature` if its key is Active at `at`; otherwise throws the
   * CredentialsRefusedError AWS would answer with, sending nothing. Fails, sending nothing, when IAM
   * cannot say.
   */
  async send<T>(signature: Signature, request: unknown, at: Date, send: () => Promise<T>): Promise<Sent<T>> {
    return this.fences.call(signature.accessKeyId, async () => {
      let state: KeyState;
      try {
        state = await this.statuses.stateOf(signature.accessKeyId, at);
      } catch (error) {
        throw new Error(
          `The local CloudTrail recorder could not read the status of access key ${signature.accessKeyId} from IAM, so the request was not sent.`,
          { cause: error },
        );
      }
      if (state.status !== 'Active') throw refusal(signature.service, requestHeader(request, 'content-type'));
      try {
        return { ok: true as const, owner: state.owner, result: await send() };
      } catch (error) {
        return { ok: false as const, owner: state.owner, error };
      }
    });
  }

  /**
   * Makes the key changes sent through `iam` (UpdateAccessKey, DeleteAccessKey: the rotator's
   * Deactivate, Rollback and Delete) take effect at once: the calls with that key already under way
   * finish first, later ones wait and read the key's status afresh. A change made through any other
   * client is seen within the status cache.
   */
  watchKeyChanges<Input extends object, Output extends MetadataBearer>(
    iam: { readonly middlewareStack: MiddlewareStack<Input, Output> },
    name: string,
  ): void {
    iam.middlewareStack.add(
      (next, context) => async (args) => {
        const accessKeyId = 'AccessKeyId' in args.input ? args.input.AccessKeyId : undefined;
        if (!KEY_CHANGES.has(context.commandName ?? '') || typeof accessKeyId !== 'string') return next(args);
        return this.fences.change(accessKeyId, async () => {
          try {
            return await next(args);
          } finally {
            this.statuses.forgetStatuses();
          }
        });
      },
      { step: 'initialize', name },
    );
  }
}
