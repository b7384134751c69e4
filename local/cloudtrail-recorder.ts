import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { FinalizeRequestMiddleware, HandlerExecutionContext, MetadataBearer, MiddlewareStack } from '@aws-sdk/types';
import type { Logger } from '@aws-lambda-powertools/logger';
import { systemClock, type Clock } from '#shared/base/clock.ts';
import { silentLogger } from '#shared/base/logger.ts';
import {
  cloudTrailRecord,
  createdAccessKeyIdOf,
  eventCategory,
  recordedParameters,
  sessionOf,
  type ObservedCall,
} from './cloudtrail-record.ts';
import { CredentialsRefusedError, KeyAuthentication, requestHeader, signatureOf, type Sent } from './key-authentication.ts';
import { TrailWriter } from './trail-writer.ts';

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
 * before it is sent, with the error AWS gives, and leaves no record (key-authentication.ts decides;
 * the record's shape is cloudtrail-record.ts, the writing trail-writer.ts).
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
  private readonly authentication: KeyAuthentication;
  private readonly writer: TrailWriter;
  private readonly clock: Clock;
  private readonly deliveryDelayMs: number;
  private readonly dataEvents: boolean;
  private readonly delayed = new Set<Promise<void>>();
  private readonly counts = { recorded: 0, refused: 0, lost: 0 };

  constructor(options: CloudTrailRecorderOptions) {
    this.logGroupName = options.logGroupName ?? LOCAL_CLOUDTRAIL_LOG_GROUP;
    this.authentication = new KeyAuthentication(options.iam, options.statusCacheMs ?? 250);
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
    this.authentication.watchKeyChanges(iam, `cloudtrail-recorder-watch-${nextId}`);
  }

  /**
   * Records one request that reached the local AWS another way than through an SDK client of this
   * process: a proxy in front of moto for consumers that are other processes (the AWS CLI, Python).
   * The same rules as `attach`: a request whose key is not Active is refused with the error AWS gives
   * (a CredentialsRefusedError), before `send`, and leaves no record. `send` forwards the request and
   * resolves with its `$metadata` on success; a refusal by the service is thrown as an error named by
   * its code, with `$metadata.httpStatusCode`, and recorded with that code.
   */
  async recordRequest(
    origin: CallOrigin,
    request: { readonly headers: Readonly<Record<string, unknown>> },
    operation: string,
    send: () => Promise<MetadataBearer>,
  ): Promise<MetadataBearer> {
    const context = { commandName: `${operation}Command` } as HandlerExecutionContext;
    const handler = this.middleware<object, MetadataBearer>(origin)(async () => {
      const output = await send();
      return { output, response: undefined };
    }, context);
    return (await handler({ request, input: {} })).output;
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
      if (requestHeader(args.request, 'x-amz-security-token') !== undefined) {
        throw new Error(
          'The local CloudTrail recorder records calls signed with IAM user access keys only; this request carries a session token. ' +
            'Attach it to clients that sign with a user key.',
        );
      }
      const at = this.clock();
      let sent: Sent<Awaited<ReturnType<typeof next>>>;
      try {
        sent = await this.authentication.send(signature, args.request, at, () => next(args));
      } catch (error) {
        if (error instanceof CredentialsRefusedError) this.counts.refused += 1;
        throw error;
      }
      const operation = (context.commandName ?? 'Unknown').replace(/Command$/, '');
      const parameters = recordedParameters(operation, args.input);
      const call = {
        at,
        accessKeyId: signature.accessKeyId,
        owner: sent.owner,
        service: signature.service,
        region: signature.region,
        operation,
        sourceIp: origin.sourceIp,
        userAgent: origin.userAgent ?? requestHeader(args.request, 'user-agent') ?? 'unknown',
        ...(parameters ? { parameters } : {}),
      };
      if (sent.ok) {
        const createdAccessKeyId = createdAccessKeyIdOf(operation, sent.result.output);
        const session = sessionOf(operation, sent.result.output);
        await this.record({
          ...call,
          requestId: requestIdOf(sent.result.output),
          ...(createdAccessKeyId === undefined ? {} : { createdAccessKeyId }),
          ...(session === undefined ? {} : { session }),
        });
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
