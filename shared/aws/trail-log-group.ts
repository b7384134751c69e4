import { FilterLogEventsCommand, type CloudWatchLogsClient, type FilterLogEventsCommandOutput } from '@aws-sdk/client-cloudwatch-logs';
import { systemClock, type Clock } from '../base/clock.ts';
import { InvalidInputError } from '../base/errors.ts';
import type { CallEvidence, CallQuery, CallSource, KeyCall, RateGate, ReadBudget } from './key-calls.ts';
import { readWindow, type CallPage, type PageFetch } from './call-window.ts';
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
 * A trail delivered to CloudWatch Logs (the log group named by CLOUDTRAIL_LOG_GROUP): whatever the trail
 * records, data events and every region included when it is set up so, for as long as the group keeps
 * them. Each log event's message is one CloudTrail record. FilterLogEvents finds the key's records with
 * the key id as a quoted term: AWS and moto both evaluate it (moto ignores JSON patterns and returns
 * everything), and the records are filtered again here, since a quoted term also matches a record that
 * merely mentions the key (the rotator's own GetAccessKeyLastUsed names it in its request parameters).
 * Pages come oldest first, up to 10,000 events or 1 MB.
 */

/** FilterLogEvents' largest page; a page also ends at 1 MB, a few hundred CloudTrail records. */
export const FILTER_LOG_EVENTS_LIMIT = 10_000;
export const FILTER_LOG_EVENTS_GATE_KEY = 'filter-log-events';
export const TRAIL_BLIND_SPOT = 'only what the trail records: check it logs data events and every region';

export interface TrailLogGroupOptions {
  /** The CloudWatch Logs client of the log group's region, created once by the caller. */
  readonly logs: CloudWatchLogsClient;
  /** The setting CLOUDTRAIL_LOG_GROUP. */
  readonly logGroupName: string;
  /** Events a page (FilterLogEvents' limit); FILTER_LOG_EVENTS_LIMIT unless a test wants small pages. */
  readonly limit?: number;
  /** Rations FilterLogEvents when several readers share the account's quota (key FILTER_LOG_EVENTS_GATE_KEY). */
  readonly gate?: RateGate;
  readonly clock?: Clock;
  readonly random?: () => number;
  /** Keep the resources each record names (KeyCall.resources): the `usage` command's reads only. */
  readonly resources?: boolean;
}

export function trailLogGroupSource(options: TrailLogGroupOptions): CallSource {
  return { name: 'trail-log-group', read: (query, budget) => readTrailLogGroup(options, query, budget) };
}

async function readTrailLogGroup(options: TrailLogGroupOptions, query: CallQuery, budget: ReadBudget): Promise<CallEvidence> {
  checkQuery(query);
  // The id goes inside a quoted filter term: anything but an access key id's characters could change the pattern.
  if (!/^[A-Z0-9]{16,128}$/.test(query.accessKeyId))
    throw new InvalidInputError(
      `"${query.accessKeyId}" is not an access key id (AKIA…): it cannot be looked for in the trail's log group.`,
    );
  const clock = options.clock ?? systemClock;
  const read = await readWindow(
    logPages(options, query.accessKeyId),
    { from: query.from, to: query.to },
    'oldest-first',
    Math.max(0, Math.floor(budget.maxApiCalls)),
    options.random ?? Math.random,
  );
  const problems: string[] = [];
  let unavailable: CallEvidence['unavailable'];
  if (read.failure !== undefined) {
    const kind = failureKind(read.failure);
    // Not a reason to report but a bug (a request built wrong): a person cannot fix it by a setting.
    if (kind === undefined) throw read.failure;
    const name = failureName(read.failure);
    const fix =
      kind === 'not-found'
        ? `set CLOUDTRAIL_LOG_GROUP to the log group the trail delivers to (its CloudWatchLogsLogGroupArn in \`aws cloudtrail describe-trails\`), in the region the rotator reads it from`
        : `grant the rotator's role logs:FilterLogEvents on the log group (arn:aws:logs:<region>:<account>:log-group:${options.logGroupName}:*)`;
    const message = failureMessage(kind, name, `FilterLogEvents on the log group ${options.logGroupName}`, fix, read.apiCalls - 1);
    problems.push(message);
    if (read.apiCalls <= 1) unavailable = { errorName: name, message };
  }
  if (read.sampled) problems.push(sampledBlindSpot(`log group ${options.logGroupName}`, read.apiCalls));
  return {
    source: 'trail-log-group',
    calls: mergeCalls([read.calls]),
    complete: read.complete,
    apiCalls: read.apiCalls,
    blindSpots: [
      TRAIL_BLIND_SPOT,
      UNAUTHENTICATED_BLIND_SPOT,
      SESSION_BLIND_SPOT,
      ...deliveryBlindSpot(query, clock),
      ...unreadableBlindSpot(read.unreadable),
      ...problems,
    ],
    ...(unavailable ? { unavailable } : {}),
  };
}

function logPages(options: TrailLogGroupOptions, accessKeyId: string): PageFetch {
  const limit = Math.min(Math.max(1, Math.floor(options.limit ?? FILTER_LOG_EVENTS_LIMIT)), FILTER_LOG_EVENTS_LIMIT);
  return async (window, token) => {
    await options.gate?.acquire(FILTER_LOG_EVENTS_GATE_KEY);
    const output = await options.logs.send(
      new FilterLogEventsCommand({
        logGroupName: options.logGroupName,
        filterPattern: `"${accessKeyId}"`,
        startTime: window.from.getTime(),
        endTime: window.to.getTime(),
        nextToken: token,
        limit,
      }),
    );
    return pageOf(output, accessKeyId, options.resources === true);
  };
}

function pageOf(output: Pick<FilterLogEventsCommandOutput, 'events' | 'nextToken'>, accessKeyId: string, resources: boolean): CallPage {
  const calls: KeyCall[] = [];
  let unreadable = 0;
  let reached: number | undefined;
  for (const event of output.events ?? []) {
    if (event.timestamp !== undefined && (reached === undefined || event.timestamp > reached)) reached = event.timestamp;
    const reading = readCloudTrailRecord(event.message, { resources });
    if (!('call' in reading)) {
      if (reading.unreadable) unreadable += 1;
    } else if (reading.call.accessKeyId === accessKeyId) calls.push(reading.call);
  }
  return { calls, next: output.nextToken || undefined, reached: reached === undefined ? undefined : new Date(reached), unreadable };
}
