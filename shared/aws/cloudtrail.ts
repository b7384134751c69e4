import type { CallEvidence, CallQuery, CallSource, KeyCall, ReadBudget } from './key-calls.ts';
import { mergeCalls } from './call-evidence.ts';

/**
 * Who uses a key, from CloudTrail: the two sources (event history, a trail's log group), the record
 * parser they share and the gates that ration them, behind one module for their readers.
 */

export { parseCloudTrailRecord, readCloudTrailRecord, type RecordReading } from './cloudtrail-record.ts';
export {
  eventHistorySource,
  lookupEventsGateKey,
  EVENT_HISTORY_DAYS,
  LOOKUP_EVENTS_PAGE_SIZE,
  LOOKUP_EVENTS_PER_SECOND,
  MANAGEMENT_ONLY_BLIND_SPOT,
  type EventHistoryOptions,
} from './event-history.ts';
export {
  trailLogGroupSource,
  FILTER_LOG_EVENTS_GATE_KEY,
  FILTER_LOG_EVENTS_LIMIT,
  TRAIL_BLIND_SPOT,
  type TrailLogGroupOptions,
} from './trail-log-group.ts';
export { intervalRateGate, ledgerRateGate, rateItemId, type GateTiming, type LedgerGateOptions, type Sleep } from './rate-gate.ts';
export { sampleSlices, shareBudget, pagesToFinish, type Slice, type TimeWindow, type PageOrder } from './call-window.ts';

/**
 * The budget of one source's read. 20 calls is 10 s of one region's LookupEvents quota (2 a second,
 * shared by the whole account), so a gate poll stays well inside a Lambda's minute even when a few
 * rotations read at once; it reads 1,000 events of event history in full (a key that calls fewer than
 * about 3 times an hour over 14 days) and up to 20 FilterLogEvents pages of a trail's log group (a
 * few hundred records each, 1 MB a page). Busier keys are sampled: see bench/consumer-evidence.ts for
 * what that finds.
 */
export const DEFAULT_READ_BUDGET: ReadBudget = { maxApiCalls: 20 };

export interface CallReading {
  /** Every call any source read, once each (by eventID), oldest first. */
  readonly calls: KeyCall[];
  /** One per source, in the order given: what it read, spent, could not see, or why it could not be read. */
  readonly evidence: CallEvidence[];
}

/**
 * Reads every source at once (each calls its own API, rationed by its own gate) with the same budget
 * each, and merges their calls. A source that cannot be read (denied, not configured, throttled) says
 * so in its evidence and the others still count: nothing here throws because CloudTrail cannot be
 * read. What does throw is a bug, or a gate that cannot work (its ledger table missing).
 */
export async function readCalls(sources: readonly CallSource[], query: CallQuery, budget: ReadBudget): Promise<CallReading> {
  const evidence = await Promise.all(sources.map((source) => source.read(query, budget)));
  return { calls: mergeCalls(evidence.map((one) => one.calls)), evidence };
}
