import { formatDuration } from '../base/duration.ts';

/**
 * The execution history budget of one rotation: how many history events its waits may use.
 *
 * A Standard execution fails when its history reaches 25,000 events ("Execution history size:
 * 25,000 events in a single state machine execution history", Step Functions developer guide,
 * "Step Functions service quotas"; "Standard workflow executions have a maximum duration of one
 * year and 25,000 events", "Continuing long-running workflows"). It fails outright: no Catch runs,
 * so no MakeSafe, and a rotation that dies during observation leaves the old key Inactive and
 * undeleted. The gate and the observation are polling loops, so their number of polls (set by the
 * interval, the deadline and the observation period) decides whether a rotation can get there.
 *
 * Events, as GetExecutionHistory lists them (HistoryEvent types, Step Functions API reference):
 * - the execution: ExecutionStarted and ExecutionSucceeded/Failed: 2;
 * - a Wait, Choice, Pass or Succeed state: its …StateEntered and …StateExited: 2; a Fail state:
 *   FailStateEntered: 1;
 * - a Task (`arn:aws:states:::lambda:invoke`): TaskStateEntered and TaskStateExited, plus per
 *   attempt TaskScheduled, TaskStarted and TaskSucceeded/TaskFailed/TaskTimedOut: 3 (a
 *   `.waitForTaskToken` Task adds TaskSubmitted: 4). A retry is one more attempt, and each Retrier
 *   counts its own MaxAttempts, so the worst case is 1 + the sum of the Retriers' MaxAttempts.
 *
 * Every rotation Task retries AwsTransientError and Lambda's service errors up to 6 times
 * (statemachines/rotate-key.ts, TRANSIENT), so a Task costs at worst 2 + 7 × 3 = 23 events. One poll
 * of either loop is a Wait (2), a check Task (23) and a Choice (2): 27 events at worst, 9 without
 * retries. Retries are counted at their worst on every poll because the checks read CloudTrail,
 * whose LookupEvents allows 2 calls a second per account: many rotations polling at once are
 * throttled together, poll after poll. test/unit/config/history-budget.test.ts derives both numbers
 * from statemachines/rotate-key.asl.json and fails when the definition changes them.
 */

/** Step Functions' quota on one Standard execution's history. */
export const HISTORY_EVENT_QUOTA = 25_000;

/**
 * Kept free under the quota: for what this count does not model (a redrive appends to the same
 * history; event types AWS may add), and so that an edit of the workflow that adds a few states is
 * still safe before this file's test asks for new numbers.
 */
export const HISTORY_MARGIN_EVENTS = 2_500;

/** The most events a rotation's waits may be able to use: the quota less the margin. */
export const HISTORY_BOUND_EVENTS = HISTORY_EVENT_QUOTA - HISTORY_MARGIN_EVENTS;

/** One poll of the gate (WaitForConsumers, CheckConsumers, ConsumersHealthy) or of the observation (WaitObserving, CheckObservation, ObservationVerdict), retries at their worst. */
export const EVENTS_PER_POLL = 27;

/**
 * Every event outside the two loops on the longest path through the workflow, every Task retried at
 * its worst: the compromise path's Contain before Prepare, Verify's own retries (5 more for
 * KeyNotYetValidError), AwaitConfirmation's TaskSubmitted, a Rollback whose notice fails into
 * MakeSafe, NotifyFailed and Failed, and the execution's own two events.
 */
export const FIXED_EVENTS = 374;

/**
 * Polls per loop beyond ceil(period / interval). A check polls every interval from the moment the
 * period starts (Promote for the gate, Deactivate for the observation) and ends the loop once the
 * period is past, so ceil(period / interval) checks at most; one more covers a Wait that fires a
 * little early against the Lambda's clock.
 */
export const EXTRA_POLLS_PER_LOOP = 1;

/** The three durations that decide how often the workflow polls. */
export interface RotationWaits {
  readonly healthCheckIntervalMs: number;
  readonly healthCheckDeadlineMs: number;
  readonly observationMs: number;
}

/**
 * The most polls (gate and observation together) these waits allow. Wait states wait whole seconds,
 * rounded up (shared/rotation/decisions.ts waitSeconds), so on AWS a poll is never sooner than the
 * interval; local runs wait the interval itself. Either way the interval bounds the polls.
 */
export function pollsAtMost(waits: RotationWaits): number {
  const interval = Math.max(1, waits.healthCheckIntervalMs);
  const loop = (periodMs: number): number => Math.ceil(Math.max(0, periodMs) / interval) + EXTRA_POLLS_PER_LOOP;
  return loop(waits.healthCheckDeadlineMs) + loop(waits.observationMs);
}

/** The most history events a rotation with these waits could use. */
export function historyEventsAtMost(waits: RotationWaits): number {
  return FIXED_EVENTS + EVENTS_PER_POLL * pollsAtMost(waits);
}

export function fitsHistoryBound(waits: RotationWaits): boolean {
  return historyEventsAtMost(waits) <= HISTORY_BOUND_EVENTS;
}

/**
 * The smallest interval that keeps this deadline and observation within the bound: whole seconds
 * from 1 s up (what a Wait state can express, and what a person types), milliseconds below (local runs).
 */
export function smallestIntervalMs(healthCheckDeadlineMs: number, observationMs: number): number {
  const fits = (intervalMs: number): boolean =>
    fitsHistoryBound({ healthCheckIntervalMs: intervalMs, healthCheckDeadlineMs, observationMs });
  // The polls never grow with the interval, so the smallest fitting interval is found by bisection;
  // an interval as long as both periods polls each loop twice at most, which always fits.
  let low = 1;
  let high = Math.max(1, healthCheckDeadlineMs, observationMs);
  while (low < high) {
    const middle = Math.floor((low + high) / 2);
    if (fits(middle)) high = middle;
    else low = middle + 1;
  }
  return low >= 1000 ? Math.ceil(low / 1000) * 1000 : low;
}

/** `1483s (about 25m)`: exact and typable (durations take one unit), then readable. */
export function formatInterval(intervalMs: number): string {
  if (intervalMs < 1000) return `${intervalMs}ms`;
  const exact = `${Math.round(intervalMs / 1000)}s`;
  const about = formatDuration(intervalMs);
  return about === exact ? exact : `${exact} (about ${about})`;
}

/** `a 5m interval, a 7d deadline and a 7d observation`. */
export function describeWaits(waits: RotationWaits): string {
  return `a ${formatDuration(waits.healthCheckIntervalMs)} interval, a ${formatDuration(waits.healthCheckDeadlineMs)} gate deadline and a ${formatDuration(waits.observationMs)} observation`;
}

export interface HistoryBoundExcess {
  readonly events: number;
  readonly bound: number;
  readonly smallestIntervalMs: number;
  /** What goes after the subject: how many events, the bound, and the smallest interval `intervalName` may take. */
  readonly detail: string;
}

/**
 * Undefined when the waits fit the bound; else the numbers and a sentence's end naming them, e.g.
 * `HEALTH_CHECK_INTERVAL=5m ` + `could take one rotation's execution history to 109,292 events…`.
 * `intervalName` is how the person sets the interval (a setting, a tag, a flag).
 */
export function historyBoundExcess(waits: RotationWaits, intervalName: string): HistoryBoundExcess | undefined {
  const events = historyEventsAtMost(waits);
  if (events <= HISTORY_BOUND_EVENTS) return undefined;
  const smallest = smallestIntervalMs(waits.healthCheckDeadlineMs, waits.observationMs);
  const tooLong =
    smallest > waits.healthCheckDeadlineMs
      ? `, longer than the deadline itself: shorten the observation (or rotate with a longer deadline)`
      : `, or shorten the deadline or the observation`;
  return {
    events,
    bound: HISTORY_BOUND_EVENTS,
    smallestIntervalMs: smallest,
    detail:
      `could take one rotation's execution history to ${count(events)} events (${count(pollsAtMost(waits))} polls of ${EVENTS_PER_POLL} events with every retry, ` +
      `plus ${FIXED_EVENTS} for the other states), above the bound of ${count(HISTORY_BOUND_EVENTS)}: Step Functions fails an execution at ` +
      `${count(HISTORY_EVENT_QUOTA)} events without running MakeSafe, which can leave the old key Inactive and undeleted. ` +
      `With a ${formatDuration(waits.healthCheckDeadlineMs)} gate deadline and a ${formatDuration(waits.observationMs)} observation, ` +
      `the smallest ${intervalName} allowed is ${formatInterval(smallest)}${tooLong}.`,
  };
}

const count = (value: number): string => value.toLocaleString('en-US');
