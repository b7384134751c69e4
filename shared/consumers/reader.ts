import type { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { AwsCredentialIdentityProvider } from '@aws-sdk/types';
import {
  DEFAULT_READ_BUDGET,
  eventHistorySource,
  intervalRateGate,
  ledgerRateGate,
  LOOKUP_EVENTS_PER_SECOND,
  readCalls,
  trailLogGroupSource,
} from '../aws/cloudtrail.ts';
import type { Config } from '../config/settings.ts';
import type { CallSource, KeyCallReader, RateGate, ReadBudget } from '../aws/key-calls.ts';

/** Where IAM, STS's global endpoint and the other global services log their calls. */
const GLOBAL_SERVICES_REGION = 'us-east-1';

export interface KeyCallReaderOptions {
  /** The regions whose event history is read, most important first (cloudtrailRegions). */
  readonly regions: readonly string[];
  /** Event history (LookupEvents); absent where it cannot exist (moto implements no LookupEvents). `accountId`: a member account's. */
  readonly eventHistory?: {
    readonly clientFor: (region: string) => CloudTrailClient;
    readonly gate: RateGate;
    readonly accountId?: string;
    /** Keep each call's resources (KeyCall.resources): the `usage` command only. */
    readonly resources?: boolean;
  };
  /**
   * A trail's CloudWatch Logs group (CLOUDTRAIL_LOG_GROUP), its source already made (trailLogGroupSource);
   * absent when none is set. Made by the caller so that a bundle without it carries no CloudWatch Logs client.
   */
  readonly trailLogGroup?: CallSource;
  /** How late a call may show in what these sources read (CLOUDTRAIL_DELIVERY_DELAY deployed). */
  readonly deliveryDelayMs: number;
  readonly budget?: ReadBudget;
}

/** The regions to read: CLOUDTRAIL_REGIONS, else the stack's region and us-east-1. */
export function cloudtrailRegions(configured: readonly string[], stackRegion: string): string[] {
  return [...new Set(configured.length > 0 ? configured : [stackRegion, GLOBAL_SERVICES_REGION])];
}

/**
 * A key's calls from every source configured, merged. Undefined when no source is configured at all:
 * the steps then say so (consumers-moved is judged as new-key-used), rather than read nothing and
 * take "no calls" for "no consumers".
 */
export function keyCallReader(options: KeyCallReaderOptions): KeyCallReader | undefined {
  const sources: CallSource[] = [
    ...(options.eventHistory ? [eventHistorySource(options.eventHistory)] : []),
    ...(options.trailLogGroup ? [options.trailLogGroup] : []),
  ];
  if (sources.length === 0) return undefined;
  const budget = options.budget ?? DEFAULT_READ_BUDGET;
  return async ({ accessKeyId, from, to, maxApiCalls }) => {
    const limited = maxApiCalls === undefined ? budget : { maxApiCalls: Math.min(budget.maxApiCalls, maxApiCalls) };
    const read = await readCalls(sources, { accessKeyId, from, to, regions: options.regions }, limited);
    return { ...read, deliveryDelayMs: options.deliveryDelayMs };
  };
}

/** The deployed functions' reader: event history in the configured regions, rationed across Lambdas, and the trail's log group when one is set. */
export function deployedKeyCallReader(
  config: Config,
  clients: {
    readonly cloudtrailFor: (region: string) => CloudTrailClient;
    /**
     * The trail log group's source for a group name (trailLogGroupSource over the function's CloudWatch Logs
     * client). Absent in Promote and Contain, whose bundles stay under 500 KB so: they read event history alone.
     */
    readonly trailLogGroup?: (logGroupName: string) => CallSource;
    readonly dynamodb: DynamoDBClient;
  },
  stackRegion: string,
): KeyCallReader | undefined {
  return keyCallReader({
    regions: cloudtrailRegions(config.cloudtrailRegions, stackRegion),
    eventHistory: {
      clientFor: clients.cloudtrailFor,
      gate: ledgerRateGate(clients.dynamodb, config.notificationLedgerTable, LOOKUP_EVENTS_PER_SECOND),
    },
    ...(clients.trailLogGroup && config.cloudtrailLogGroup !== ''
      ? { trailLogGroup: clients.trailLogGroup(config.cloudtrailLogGroup) }
      : {}),
    deliveryDelayMs: config.cloudtrailDeliveryDelayMs,
  });
}

/**
 * A member account's reader (organization-wide rotation): that account's event history, read with the
 * function's member session and rationed apart from the stack's own (each account has its own quota).
 * The stack's trail log group is not read for it: unless it receives an organization trail it holds
 * none of the member's calls, and "no calls" must never pass for "no consumers".
 */
export function memberKeyCallReader(
  config: Config,
  clients: { readonly cloudtrailFor: (region: string) => CloudTrailClient; readonly dynamodb: DynamoDBClient },
  accountId: string,
  stackRegion: string,
): KeyCallReader | undefined {
  return keyCallReader({
    regions: cloudtrailRegions(config.cloudtrailRegions, stackRegion),
    eventHistory: {
      clientFor: clients.cloudtrailFor,
      gate: ledgerRateGate(clients.dynamodb, config.notificationLedgerTable, LOOKUP_EVENTS_PER_SECOND),
      accountId,
    },
    deliveryDelayMs: config.cloudtrailDeliveryDelayMs,
  });
}

/**
 * The member-account reader builder the steps pass to lambdaDeps (`member.keyCalls`): that account's
 * event history over CloudTrail clients signed by the member session (`cloudtrailWith`), held to the
 * session policy by `limit`.
 */
export function memberKeyCalls(
  cloudtrailWith: (
    credentials: AwsCredentialIdentityProvider,
    limit: (client: CloudTrailClient) => CloudTrailClient,
  ) => (region: string) => CloudTrailClient,
  dynamodb: DynamoDBClient,
  stackRegion: string,
): (
  config: Config,
  credentials: AwsCredentialIdentityProvider,
  accountId: string,
  limit: (client: CloudTrailClient) => CloudTrailClient,
) => KeyCallReader | undefined {
  return (config, credentials, accountId, limit) =>
    memberKeyCallReader(config, { cloudtrailFor: cloudtrailWith(credentials, limit), dynamodb }, accountId, stackRegion);
}

/**
 * A reader for one process (the CLI, a local run): LookupEvents is rationed in process, and against
 * moto (AWS_ENDPOINT_URL), which implements no LookupEvents, only the trail log group is read.
 */
export function inProcessKeyCallReader(
  config: Config,
  clients: { readonly cloudtrailFor: (region: string) => CloudTrailClient; readonly logs: CloudWatchLogsClient },
  env: Readonly<Record<string, string | undefined>>,
  deliveryDelayMs = config.cloudtrailDeliveryDelayMs,
  keep: { readonly resources?: boolean } = {},
): KeyCallReader | undefined {
  const moto = env.AWS_ENDPOINT_URL !== undefined;
  const resources = keep.resources === true;
  return keyCallReader({
    regions: inProcessRegions(config, env),
    ...(moto ? {} : { eventHistory: { clientFor: clients.cloudtrailFor, gate: intervalRateGate(LOOKUP_EVENTS_PER_SECOND), resources } }),
    ...(config.cloudtrailLogGroup === ''
      ? {}
      : { trailLogGroup: trailLogGroupSource({ logs: clients.logs, logGroupName: config.cloudtrailLogGroup, resources }) }),
    deliveryDelayMs,
  });
}

/** The regions an in-process reader reads event history in, for a report to name. */
export function inProcessRegions(config: Config, env: Readonly<Record<string, string | undefined>>): string[] {
  return cloudtrailRegions(config.cloudtrailRegions, env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? GLOBAL_SERVICES_REGION);
}
