import { LookupEventsCommand, type CloudTrailClient, type LookupEventsCommandOutput } from '@aws-sdk/client-cloudtrail';
import { DAY_MS, systemClock, type Clock } from '../base/clock.ts';
import { InvalidInputError } from '../base/errors.ts';
import type { CallEvidence, CallQuery, CallSource, KeyCall, RateGate, ReadBudget } from './key-calls.ts';
import {
  continueWindow,
  shareBudget,
  startWindow,
  type CallPage,
  type PageFetch,
  type WindowRead,
  type WindowStart,
} from './call-window.ts';
import {
  checkQuery,
  deliveryBlindSpot,
  failureMessage,
  mergeCalls,
  sampledBlindSpot,
  SESSION_BLIND_SPOT,
  UNAUTHENTICATED_BLIND_SPOT,
  unreadableBlindSpot,
} from './call-evidence.ts';
import { readCloudTrailRecord } from './cloudtrail-record.ts';
import { failureKind, failureName } from './read-failures.ts';

/**
 * CloudTrail event history (LookupEvents): the management events of the last 90 days, per region,
 * with no trail needed. Filtered by the key (the AccessKeyId lookup attribute), 50 events a page,
 * newest first. LookupEvents allows 2 requests a second per account and Region, for every caller
 * together (CloudTrail API reference), so every call first passes the gate under
 * `lookup-events:<region>`; the gate is the caller's, shared by every reader in the account.
 */

export const LOOKUP_EVENTS_PAGE_SIZE = 50;
/** Requests a second per account and Region (CloudTrail API reference, LookupEvents). */
export const LOOKUP_EVENTS_PER_SECOND = 2;
export const EVENT_HISTORY_DAYS = 90;

/** The quota is per account and region: a member account's reads are rationed apart from the stack's own. */
export const lookupEventsGateKey = (region: string, accountId?: string): string =>
  accountId === undefined ? `lookup-events:${region}` : `lookup-events:${accountId}:${region}`;

export const MANAGEMENT_ONLY_BLIND_SPOT =
  'management events only: data events (such as S3 GetObject, Lambda Invoke, DynamoDB GetItem) are not in event history; set CLOUDTRAIL_LOG_GROUP to the log group of a trail that records them';

export interface EventHistoryOptions {
  /** The CloudTrail client of a region, created once by the caller (module scope) and reused. */
  readonly clientFor: (region: string) => CloudTrailClient;
  /** Rations LookupEvents across every reader of the account (ledgerRateGate across Lambdas). */
  readonly gate: RateGate;
  /** The member account the clients read (organization-wide rotation); absent for the stack's own. */
  readonly accountId?: string;
  readonly clock?: Clock;
  /** Places the sample points (sampleSlices); injectable so tests can fix them. */
  readonly random?: () => number;
  /** Keep the resources each record names (KeyCall.resources): the `usage` command's reads only. */
  readonly resources?: boolean;
}

/**
 * Reads the regions the query names, and only those: global services (IAM, STS's global endpoint,
 * CloudFront, Route 53) log in us-east-1, so a caller that wants them lists us-east-1; the caller
 * decides the list, most important first (a budget too small for every region reads the first ones).
 * Every region's first page is read at once (each has its own quota); the rest of the budget is then
 * shared by what each region still needs (shareBudget) and each region pages or samples its share.
 */
export function eventHistorySource(options: EventHistoryOptions): CallSource {
  return { name: 'event-history', read: (query, budget) => readEventHistory(options, query, budget) };
}

interface RegionOutcome {
  readonly region: string;
  readonly read: WindowRead;
}

async function readEventHistory(options: EventHistoryOptions, query: CallQuery, budget: ReadBudget): Promise<CallEvidence> {
  checkQuery(query);
  const regions = [...new Set(query.regions)];
  if (regions.length === 0) throw new InvalidInputError('An event history read needs at least one region (IAM and STS log in us-east-1).');
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const window = { from: query.from, to: query.to };
  const maxApiCalls = Math.max(0, Math.floor(budget.maxApiCalls));
  const read = regions.slice(0, maxApiCalls);
  const unread = regions.slice(maxApiCalls);

  const fetchers = new Map(read.map((region) => [region, lookupPages(options, region, query.accessKeyId)]));
  const fetcherOf = (region: string): PageFetch => fetchers.get(region) as PageFetch;
  const starts = await Promise.all(
    read.map(async (region): Promise<{ region: string; start?: WindowStart; failure?: unknown }> => {
      try {
        return { region, start: await startWindow(fetcherOf(region), window, 'newest-first') };
      } catch (failure) {
        return { region, failure };
      }
    }),
  );
  const started = starts.filter((entry): entry is { region: string; start: WindowStart } => entry.start !== undefined);
  const shares = shareBudget(
    maxApiCalls - read.length,
    started.map((entry) => entry.start.need),
  );
  const outcomes: RegionOutcome[] = await Promise.all(
    starts.map(async (entry): Promise<RegionOutcome> => {
      if (entry.start === undefined) {
        return {
          region: entry.region,
          read: { calls: [], apiCalls: 1, complete: false, sampled: false, unreadable: 0, failure: entry.failure },
        };
      }
      const share = shares[started.findIndex((other) => other.region === entry.region)] ?? 0;
      return { region: entry.region, read: await continueWindow(fetcherOf(entry.region), entry.start, 'newest-first', share, random) };
    }),
  );
  return evidenceOf(outcomes, unread, query, clock);
}

function evidenceOf(outcomes: readonly RegionOutcome[], unread: readonly string[], query: CallQuery, clock: Clock): CallEvidence {
  const problems: string[] = [];
  let firstFailure: { name: string; message: string } | undefined;
  let answered = 0;
  for (const { region, read } of outcomes) {
    if (read.failure !== undefined) {
      const kind = failureKind(read.failure);
      // Not a reason to report but a bug (a request built wrong): a person cannot fix it by a setting.
      if (kind === undefined) throw read.failure;
      const name = failureName(read.failure);
      const message = failureMessage(
        kind,
        name,
        `LookupEvents in ${region}`,
        `grant the rotator's role cloudtrail:LookupEvents (Resource "*": the action has no resource type) and check that no SCP denies it in ${region}`,
        read.apiCalls - 1,
      );
      firstFailure ??= { name, message };
      problems.push(message);
    }
    if (read.failure === undefined || read.apiCalls > 1) answered += 1;
    if (read.sampled) problems.push(sampledBlindSpot(region, read.apiCalls));
  }
  if (unread.length > 0) problems.push(`not read, the budget ran out before them: ${unread.join(', ')}`);
  const read = outcomes.map((outcome) => outcome.region);
  const from = new Date(clock().getTime() - EVENT_HISTORY_DAYS * DAY_MS);
  const blindSpots = [
    MANAGEMENT_ONLY_BLIND_SPOT,
    `only the regions read (${read.join(', ') || 'none'}): calls to services in other regions are not seen; IAM, STS's global endpoint and other global services log in us-east-1`,
    query.from < from
      ? `only the last ${EVENT_HISTORY_DAYS} days: calls before ${from.toISOString()} are no longer in event history`
      : `only the last ${EVENT_HISTORY_DAYS} days`,
    UNAUTHENTICATED_BLIND_SPOT,
    SESSION_BLIND_SPOT,
    ...deliveryBlindSpot(query, clock),
    ...unreadableBlindSpot(outcomes.reduce((sum, outcome) => sum + outcome.read.unreadable, 0)),
    ...problems,
  ];
  return {
    source: 'event-history',
    calls: mergeCalls(outcomes.map((outcome) => outcome.read.calls)),
    complete: unread.length === 0 && outcomes.every((outcome) => outcome.read.complete),
    apiCalls: outcomes.reduce((sum, outcome) => sum + outcome.read.apiCalls, 0),
    blindSpots,
    ...(answered === 0 && firstFailure ? { unavailable: { errorName: firstFailure.name, message: firstFailure.message } } : {}),
  };
}

/** The page fetcher of one region: gate, LookupEvents, and the records narrowed to the key. */
function lookupPages(options: EventHistoryOptions, region: string, accessKeyId: string): PageFetch {
  return async (window, token) => {
    await options.gate.acquire(lookupEventsGateKey(region, options.accountId));
    const output = await options.clientFor(region).send(
      new LookupEventsCommand({
        LookupAttributes: [{ AttributeKey: 'AccessKeyId', AttributeValue: accessKeyId }],
        StartTime: window.from,
        EndTime: window.to,
        MaxResults: LOOKUP_EVENTS_PAGE_SIZE,
        NextToken: token,
      }),
    );
    return pageOf(output, accessKeyId, options.resources === true);
  };
}

function pageOf(output: Pick<LookupEventsCommandOutput, 'Events' | 'NextToken'>, accessKeyId: string, resources: boolean): CallPage {
  const calls: KeyCall[] = [];
  let unreadable = 0;
  let reached: Date | undefined;
  for (const event of output.Events ?? []) {
    const reading = readCloudTrailRecord(event.CloudTrailEvent, { resources });
    const at = event.EventTime ?? ('call' in reading ? reading.call.at : undefined);
    if (at && (reached === undefined || at < reached)) reached = at;
    if (!('call' in reading)) {
      if (reading.unreadable) unreadable += 1;
    } else if (reading.call.accessKeyId === accessKeyId) calls.push(reading.call);
  }
  return { calls, next: output.NextToken || undefined, reached, unreadable };
}
