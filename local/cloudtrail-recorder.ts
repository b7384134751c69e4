import {
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  PutLogEventsCommand,
  type CloudWatchLogsClient,
  type InputLogEvent,
} from '@aws-sdk/client-cloudwatch-logs';
import { GetAccessKeyLastUsedCommand, GetUserCommand, ListAccessKeysCommand, type IAMClient } from '@aws-sdk/client-iam';
import type { FinalizeRequestMiddleware, MetadataBearer, MiddlewareStack } from '@aws-sdk/types';
import type { Logger } from '@aws-lambda-powertools/logger';
import { systemClock, type Clock } from '#shared/base/clock.ts';
import { silentLogger } from '#shared/base/logger.ts';
import { cloudTrailRecord, eventCategory, type KeyOwner, type ObservedCall } from './cloudtrail-record.ts';

/**
 * The local stand-in for a trail delivered to CloudWatch Logs. moto has no CloudTrail to speak of
 * (no LookupEvents, no records of the calls it serves), so this SDK middleware writes one CloudTrail
 * record per request a client makes into a moto log group, which the CloudTrail readers then read
 * as they read a real trail's group (FilterLogEvents with the key id as a quoted term). It exists
 * for local runs, the demos and tests only; nothing deployed imports it.
 *
 * It is at least as strict as AWS where moto is not: a request signed with a key that is not Active
 * (Inactive, deleted, never existed) fails authentication on AWS and CloudTrail records nothing
 * ("CloudTrail does not deliver logs for requests that fail authentication", S3 User Guide, "Logging
 * Amazon S3 API calls using AWS CloudTrail"); moto would serve it. Here such a request is refused
 * before it is sent, with the error AWS gives, and leaves no record.
 */

export const LOCAL_CLOUDTRAIL_LOG_GROUP = 'iam-key-rotator-local-cloudtrail';

/**
 * The configuration a local run reads CloudTrail with: against moto (AWS_ENDPOINT_URL set) the
 * recorder's group, unless CLOUDTRAIL_LOG_GROUP was set (to a name, or to nothing); against AWS the
 * configuration as it is.
 */
export function withLocalTrail<C extends { readonly cloudtrailLogGroup: string }>(
  config: C,
  env: Readonly<Record<string, string | undefined>> = process.env,
): C {
  if (config.cloudtrailLogGroup !== '' || !env.AWS_ENDPOINT_URL || env.CLOUDTRAIL_LOG_GROUP !== undefined) return config;
  return { ...config, cloudtrailLogGroup: LOCAL_CLOUDTRAIL_LOG_GROUP };
}

/** Where a consumer's calls come from, as CloudTrail would record them. */
export interface CallOrigin {
  /** sourceIPAddress: the machine the consumer stands for, e.g. `198.51.100.7`. */
  readonly sourceIp: string;
  /** userAgent as recorded, e.g. `aws-cli/2.15.30 Python/3.11.8 Linux/6.1 exe/x86_64`; default: the SDK's own User-Agent header. */
  readonly userAgent?: string;
}

export interface CloudTrailRecorderOptions {
  /** Reads who owns a key and whether it is Active: the account's own credentials, never the consumer's. */
  readonly iam: IAMClient;
  /** Writes the records. */
  readonly logs: CloudWatchLogsClient;
  /** Default: LOCAL_CLOUDTRAIL_LOG_GROUP. Created, with its streams, when missing. */
  readonly logGroupName?: string;
  /**
   * How long a key's status read from IAM is trusted. IAM itself is eventually consistent: a
   * deactivation takes effect "after a brief delay" (IAM User Guide, "Changes that I make are not
   * always immediately visible"), typically seconds, so a quarter second keeps the stand-in stricter
   * than AWS while sparing moto a read per call. 0 reads the status before every request.
   */
  readonly statusCacheMs?: number;
  /**
   * How long after the call a record becomes readable. 0 (the default): before the call returns, so
   * a reader that runs after a call sees it. AWS is slower ("CloudTrail typically delivers events
   * within an average of about 5 minutes of an API call", CloudTrail User Guide): set this to
   * rehearse a reader against late records. The call does not wait for a delayed record.
   */
  readonly deliveryDelayMs?: number;
  /** Whether the trail records data events (S3 object calls, Lambda Invoke, DynamoDB items); default true. */
  readonly dataEvents?: boolean;
  /** eventTime, and the age of cached key statuses. */
  readonly clock?: Clock;
  /** Told when records could not be written (never a record or an SDK response). Default: silent; `stats().lost` counts them. */
  readonly logger?: Logger;
}

export interface RecorderStats {
  /** Records written to the log group. */
  readonly recorded: number;
  /** Calls refused because their key was not Active: sent nowhere, recorded nowhere. */
  readonly refused: number;
  /** Records the log group would not take. */
  readonly lost: number;
}

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

/** Error codes of a request that failed authentication: CloudTrail records none of them (moto returns them when its auth is on). */
const AUTHENTICATION_FAILURES = new Set([
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'InvalidAccessKeyId',
  'AuthFailure',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'InvalidSignatureException',
  'MissingAuthenticationToken',
  'MissingAuthenticationTokenException',
  'ExpiredToken',
  'ExpiredTokenException',
  'RequestExpired',
]);

/**
 * Refusals by authorization, whose messages name the principal, action and resource. Other
 * errors are recorded by code only: their messages may quote a request parameter.
 */
const AUTHORIZATION_REFUSALS = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'AuthorizationError']);

/** What a SigV4 Authorization header says about the request: the key id and its credential scope. */
export interface Signature {
  readonly accessKeyId: string;
  readonly region: string;
  readonly service: string;
}

/** The signature of a signed HTTP request; undefined for an unsigned one. Reads the key id only, never the signature itself. */
export function signatureOf(request: unknown): Signature | undefined {
  const authorization = header(request, 'authorization');
  const scope = authorization === undefined ? null : /Credential=([A-Z0-9]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(authorization);
  if (!scope?.[1] || !scope[2] || !scope[3]) return undefined;
  return { accessKeyId: scope[1], region: scope[2], service: scope[3] };
}

function header(request: unknown, name: string): string | undefined {
  if (typeof request !== 'object' || request === null || !('headers' in request)) return undefined;
  const headers = request.headers;
  if (typeof headers !== 'object' || headers === null) return undefined;
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === name && typeof value === 'string') return value;
  return undefined;
}

type KeyState = { readonly status: 'Active'; readonly owner: KeyOwner } | { readonly status: 'Inactive' | 'absent' };

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

/** PutLogEvents takes up to 10,000 events and 1 MB per call; a record is about 1 KB. */
const MAX_BATCH = 500;

interface Queued {
  readonly event: InputLogEvent;
  readonly done: (written: boolean) => void;
}

/**
 * Appends records to the log group, one stream per account and region as CloudTrail names them
 * (`<account id>_CloudTrail_<region>`). Calls made meanwhile share the next PutLogEvents.
 */
class TrailWriter {
  private readonly streams = new Map<string, Promise<void>>();
  private readonly queues = new Map<string, Queued[]>();
  private readonly draining = new Map<string, Promise<void>>();
  private group: Promise<void> | undefined;

  constructor(
    private readonly logs: CloudWatchLogsClient,
    readonly logGroupName: string,
    private readonly logger: Logger,
  ) {}

  /** Resolves true once written, false if the group would not take it; never rejects. */
  write(stream: string, event: InputLogEvent): Promise<boolean> {
    return new Promise((done) => {
      const queue = this.queues.get(stream) ?? [];
      queue.push({ event, done });
      this.queues.set(stream, queue);
      this.pump(stream, queue);
    });
  }

  private pump(stream: string, queue: Queued[]): void {
    if (this.draining.has(stream)) return;
    const draining = this.drain(stream, queue).finally(() => {
      this.draining.delete(stream);
      // A record queued after the drain's last look at the queue, before this ran.
      if (queue.length > 0) this.pump(stream, queue);
    });
    this.draining.set(stream, draining);
  }

  /** Resolves when nothing is waiting to be written. */
  async idle(): Promise<void> {
    while (this.draining.size > 0) await Promise.all(this.draining.values());
  }

  private async drain(stream: string, queue: Queued[]): Promise<void> {
    while (queue.length > 0) {
      // Within one call PutLogEvents wants the events in time order.
      const batch = queue.splice(0, MAX_BATCH).sort((a, b) => (a.event.timestamp ?? 0) - (b.event.timestamp ?? 0));
      const written = await this.put(
        stream,
        batch.map((item) => item.event),
      );
      batch.forEach((item, index) => item.done(written[index] ?? false));
    }
  }

  private async put(stream: string, events: InputLogEvent[], again = true): Promise<boolean[]> {
    try {
      await this.ensureStream(stream);
      const response = await this.logs.send(
        new PutLogEventsCommand({ logGroupName: this.logGroupName, logStreamName: stream, logEvents: events }),
      );
      const rejected = response.rejectedLogEventsInfo;
      return events.map(
        (_, index) =>
          !(
            (rejected?.tooNewLogEventStartIndex !== undefined && index >= rejected.tooNewLogEventStartIndex) ||
            (rejected?.tooOldLogEventEndIndex !== undefined && index <= rejected.tooOldLogEventEndIndex) ||
            (rejected?.expiredLogEventEndIndex !== undefined && index <= rejected.expiredLogEventEndIndex)
          ),
      );
    } catch (error) {
      // The group or stream went away (a moto reset between tests): create them again, once.
      if (again && error instanceof Error && error.name === 'ResourceNotFoundException') {
        this.group = undefined;
        this.streams.clear();
        return this.put(stream, events, false);
      }
      this.logger.warn('local CloudTrail records not written', {
        logGroupName: this.logGroupName,
        logStreamName: stream,
        records: events.length,
        errorName: error instanceof Error ? error.name : 'unknown',
      });
      return events.map(() => false);
    }
  }

  private ensureStream(stream: string): Promise<void> {
    let ready = this.streams.get(stream);
    if (!ready) {
      ready = this.ensureGroup().then(() =>
        ignoreExisting(this.logs.send(new CreateLogStreamCommand({ logGroupName: this.logGroupName, logStreamName: stream }))),
      );
      this.streams.set(stream, ready);
      const created = ready;
      created.catch(() => {
        if (this.streams.get(stream) === created) this.streams.delete(stream);
      });
    }
    return ready;
  }

  private ensureGroup(): Promise<void> {
    if (!this.group) {
      const creating = ignoreExisting(this.logs.send(new CreateLogGroupCommand({ logGroupName: this.logGroupName })));
      this.group = creating;
      creating.catch(() => {
        if (this.group === creating) this.group = undefined;
      });
    }
    return this.group;
  }
}

async function ignoreExisting(creating: Promise<unknown>): Promise<void> {
  try {
    await creating;
  } catch (error) {
    if (!(error instanceof Error && error.name === 'ResourceAlreadyExistsException')) throw error;
  }
}

function serviceErrorCode(error: unknown): string | undefined {
  if (!(error instanceof Error) || !('$metadata' in error)) return undefined;
  const metadata = error.$metadata;
  // Only an answer from the service is an outcome CloudTrail sees; a network failure or timeout reached nobody.
  if (typeof metadata !== 'object' || metadata === null || !('httpStatusCode' in metadata) || typeof metadata.httpStatusCode !== 'number')
    return undefined;
  return error.name;
}

function requestIdOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || !('$metadata' in value)) return undefined;
  const metadata = value.$metadata;
  if (typeof metadata !== 'object' || metadata === null || !('requestId' in metadata)) return undefined;
  return typeof metadata.requestId === 'string' ? metadata.requestId : undefined;
}

let nextId = 0;

export class CloudTrailRecorder {
  readonly logGroupName: string;
  private readonly keys: KeyStatuses;
  private readonly fences = new KeyFences();
  private readonly writer: TrailWriter;
  private readonly clock: Clock;
  private readonly deliveryDelayMs: number;
  private readonly dataEvents: boolean;
  private readonly delayed = new Set<Promise<void>>();
  private readonly counts = { recorded: 0, refused: 0, lost: 0 };

  constructor(options: CloudTrailRecorderOptions) {
    this.logGroupName = options.logGroupName ?? LOCAL_CLOUDTRAIL_LOG_GROUP;
    this.keys = new KeyStatuses(options.iam, options.statusCacheMs ?? 250);
    this.writer = new TrailWriter(options.logs, this.logGroupName, options.logger ?? silentLogger());
    this.clock = options.clock ?? systemClock;
    this.deliveryDelayMs = options.deliveryDelayMs ?? 0;
    this.dataEvents = options.dataEvents ?? true;
  }

  /**
   * Records every request the client sends, as made from `origin`. The middleware sits right after
   * signing, below the retries: each attempt is a request AWS would record, and the Authorization
   * header names the key that really signed it.
   */
  attach<Input extends object, Output extends MetadataBearer>(
    client: { readonly middlewareStack: MiddlewareStack<Input, Output> },
    origin: CallOrigin,
  ): void {
    nextId += 1;
    client.middlewareStack.addRelativeTo(this.middleware<Input, Output>(origin), {
      relation: 'after',
      toMiddleware: 'httpSigningMiddleware',
      name: `cloudtrail-recorder-${nextId}`,
    });
  }

  /**
   * Makes the key changes sent through `iam` (UpdateAccessKey, DeleteAccessKey: the rotator's
   * Deactivate, Rollback and Delete) take effect for the recorded clients at once: the calls with
   * that key already under way finish first, later ones wait and read the key's status afresh. A
   * change made through any other client is seen within `statusCacheMs`.
   */
  watchKeyChanges<Input extends object, Output extends MetadataBearer>(iam: {
    readonly middlewareStack: MiddlewareStack<Input, Output>;
  }): void {
    nextId += 1;
    iam.middlewareStack.add(
      (next, context) => async (args) => {
        const accessKeyId = 'AccessKeyId' in args.input ? args.input.AccessKeyId : undefined;
        if (!KEY_CHANGES.has(context.commandName ?? '') || typeof accessKeyId !== 'string') return next(args);
        return this.fences.change(accessKeyId, async () => {
          try {
            return await next(args);
          } finally {
            this.keys.forgetStatuses();
          }
        });
      },
      { step: 'initialize', name: `cloudtrail-recorder-watch-${nextId}` },
    );
  }

  stats(): RecorderStats {
    return { ...this.counts };
  }

  /** Resolves when every record of the calls made so far is written (or lost). */
  async flush(): Promise<void> {
    while (this.delayed.size > 0) await Promise.all(this.delayed);
    await this.writer.idle();
  }

  private middleware<Input extends object, Output extends MetadataBearer>(origin: CallOrigin): FinalizeRequestMiddleware<Input, Output> {
    return (next, context) => async (args) => {
      const signature = signatureOf(args.request);
      // An unsigned request names no key: there is nothing to hold it to.
      if (!signature) return next(args);
      if (header(args.request, 'x-amz-security-token') !== undefined) {
        throw new Error(
          'The local CloudTrail recorder records calls signed with IAM user access keys only; this request carries a session token. ' +
            'Attach it to clients that sign with a user key.',
        );
      }
      const at = this.clock();
      const sent = await this.fences.call(signature.accessKeyId, async () => {
        let state: KeyState;
        try {
          state = await this.keys.stateOf(signature.accessKeyId, at);
        } catch (error) {
          throw new Error(
            `The local CloudTrail recorder could not read the status of access key ${signature.accessKeyId} from IAM, so the request was not sent.`,
            { cause: error },
          );
        }
        if (state.status !== 'Active') {
          this.counts.refused += 1;
          throw refusal(signature.service, header(args.request, 'content-type'));
        }
        // The outcome is kept, not thrown, so the record is written outside the fence.
        try {
          return { ok: true as const, owner: state.owner, result: await next(args) };
        } catch (error) {
          return { ok: false as const, owner: state.owner, error };
        }
      });
      const call = {
        at,
        accessKeyId: signature.accessKeyId,
        owner: sent.owner,
        service: signature.service,
        region: signature.region,
        operation: (context.commandName ?? 'Unknown').replace(/Command$/, ''),
        sourceIp: origin.sourceIp,
        userAgent: origin.userAgent ?? header(args.request, 'user-agent') ?? 'unknown',
      };
      if (sent.ok) {
        await this.record({ ...call, requestId: requestIdOf(sent.result.output) });
        return sent.result;
      }
      const code = serviceErrorCode(sent.error);
      if (code !== undefined && !AUTHENTICATION_FAILURES.has(code)) {
        const message = AUTHORIZATION_REFUSALS.has(code) && sent.error instanceof Error ? sent.error.message : undefined;
        await this.record({ ...call, requestId: requestIdOf(sent.error), error: { code, message } });
      }
      throw sent.error;
    };
  }

  private async record(call: ObservedCall): Promise<void> {
    if (!this.dataEvents && eventCategory(call.service, call.operation) === 'Data') return;
    const record = cloudTrailRecord(call);
    const stream = `${call.owner.accountId}_CloudTrail_${call.region}`;
    const write = async (): Promise<void> => {
      const written = await this.writer.write(stream, { timestamp: call.at.getTime(), message: JSON.stringify(record) });
      if (written) this.counts.recorded += 1;
      else this.counts.lost += 1;
    };
    if (this.deliveryDelayMs <= 0) return write();
    const delivery = new Promise<void>((resolve) => setTimeout(resolve, this.deliveryDelayMs)).then(write);
    this.delayed.add(delivery);
    void delivery.finally(() => this.delayed.delete(delivery));
  }
}
