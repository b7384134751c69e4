import { describe, expect, test } from '@jest/globals';
import { loadDefinition } from '#statemachines/definitions.ts';
import { STATES } from '#statemachines/rotate-key.ts';
import {
  EVENTS_PER_POLL,
  FIXED_EVENTS,
  HISTORY_BOUND_EVENTS,
  HISTORY_EVENT_QUOTA,
  fitsHistoryBound,
  historyBoundExcess,
  historyEventsAtMost,
  pollsAtMost,
  smallestIntervalMs,
  type RotationWaits,
} from '#shared/config/history-budget.ts';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

interface State {
  readonly Type: string;
  readonly Resource?: string;
  readonly Next?: string;
  readonly Default?: string;
  readonly Choices?: readonly { readonly Next: string }[];
  readonly Retry?: readonly { readonly MaxAttempts?: number }[];
  readonly Catch?: readonly { readonly Next: string }[];
}

const definition = loadDefinition('us-east-1', '123456789012') as unknown as { StartAt: string; States: Record<string, State> };

/**
 * The history events one visit of a state adds at worst, as GetExecutionHistory lists them
 * (HistoryEvent types, Step Functions API reference): …StateEntered and …StateExited, and for a Task
 * TaskScheduled, TaskStarted and TaskSucceeded/Failed/TimedOut per attempt (TaskSubmitted too when it
 * waits for a task token), with every Retrier's MaxAttempts spent (3 is the ASL default).
 */
function worstEvents(state: State): number {
  if (state.Type === 'Fail') return 1;
  if (state.Type !== 'Task') return 2;
  const attempts = 1 + (state.Retry ?? []).reduce((sum, retrier) => sum + (retrier.MaxAttempts ?? 3), 0);
  const perAttempt = state.Resource?.endsWith('.waitForTaskToken') ? 4 : 3;
  return 2 + attempts * perAttempt;
}

const LOOPS = [
  [STATES.WaitForConsumers, STATES.CheckConsumers, STATES.ConsumersHealthy],
  [STATES.WaitObserving, STATES.CheckObservation, STATES.ObservationVerdict],
  // A retirement's gate, in place of the consumer gate: the two never run in one execution.
  [STATES.WaitForQuiet, STATES.CheckQuiet, STATES.KeyQuiet],
] as const;
const IN_LOOP = new Set<string>(LOOPS.flat());

function successors(name: string): string[] {
  const state = definition.States[name];
  if (state === undefined) throw new Error(`no state ${name}`);
  const next = [state.Next, state.Default, ...(state.Choices ?? []).map((rule) => rule.Next), ...(state.Catch ?? []).map((c) => c.Next)];
  // A loop's way back to its Wait is what the polls count; every other edge goes forward.
  return next.filter(
    (target): target is string => target !== undefined && !(IN_LOOP.has(name) && IN_LOOP.has(target) && target.startsWith('Wait')),
  );
}

/** The costliest way from `name` to an end, loop states counted in the polls instead. */
function longestFrom(name: string, memo = new Map<string, number>(), visiting = new Set<string>()): number {
  const known = memo.get(name);
  if (known !== undefined) return known;
  if (visiting.has(name)) throw new Error(`a loop other than the gate and the observation runs through ${name}`);
  visiting.add(name);
  const state = definition.States[name];
  if (state === undefined) throw new Error(`no state ${name}`);
  const own = IN_LOOP.has(name) ? 0 : worstEvents(state);
  const rest = Math.max(0, ...successors(name).map((next) => longestFrom(next, memo, visiting)));
  visiting.delete(name);
  memo.set(name, own + rest);
  return own + rest;
}

const waits = (healthCheckIntervalMs: number, healthCheckDeadlineMs = 7 * DAY, observationMs = 7 * DAY): RotationWaits => ({
  healthCheckIntervalMs,
  healthCheckDeadlineMs,
  observationMs,
});

describe('the history budget, derived from statemachines/rotate-key.asl.json', () => {
  test('one poll of any loop costs EVENTS_PER_POLL at worst, 9 without retries', () => {
    // Act
    const poll = (retried: boolean) =>
      LOOPS.map((loop) =>
        loop.reduce((sum, name) => {
          const state = definition.States[name] as State;
          return sum + worstEvents(retried ? state : { ...state, Retry: [] });
        }, 0),
      );

    // Assess
    expect(poll(true)).toEqual([EVENTS_PER_POLL, EVENTS_PER_POLL, EVENTS_PER_POLL]);
    expect(poll(false)).toEqual([9, 9, 9]);
  });

  test('the rest of the workflow costs FIXED_EVENTS at worst on its longest path, with the execution own two events', () => {
    // Act
    const fixed = 2 + longestFrom(definition.StartAt);

    // Assess
    expect(fixed).toBe(FIXED_EVENTS);
  });

  test('the bound leaves a margin of a tenth of the quota', () => {
    // Assess
    expect(HISTORY_EVENT_QUOTA).toBe(25_000);
    expect(HISTORY_BOUND_EVENTS).toBe(22_500);
  });
});

describe('fitsHistoryBound', () => {
  test.each([
    ['the defaults (1h, 7d, 7d)', 338, 9_500, waits(HOUR)],
    ["the issue's 5m interval with the default deadline and observation", 4_034, 109_292, waits(5 * MINUTE)],
    ['a 30m interval, as the README example tag', 674, 18_572, waits(30 * MINUTE)],
    ['the local runner defaults (1s, 10s, 1s)', 13, 725, waits(SECOND, 10 * SECOND, SECOND)],
  ])('%s: %i polls, %i events at most', (_what, polls, events, given) => {
    // Act & Assess
    expect(pollsAtMost(given)).toBe(polls);
    expect(historyEventsAtMost(given)).toBe(events);
    expect(fitsHistoryBound(given)).toBe(events <= HISTORY_BOUND_EVENTS);
  });

  test('exactly at the bound fits; one poll more does not', () => {
    // Prepare: 22,500 - 374 leaves 22,126 events, 819 whole polls: (408 + 1) + (409 + 1) with a 1h interval.
    const atBound = waits(HOUR, 408 * HOUR, 409 * HOUR);
    const onePollMore = waits(HOUR, 408 * HOUR, 409 * HOUR + 1);

    // Act & Assess
    expect(historyEventsAtMost(atBound)).toBe(FIXED_EVENTS + 819 * EVENTS_PER_POLL);
    expect(historyEventsAtMost(atBound) + EVENTS_PER_POLL).toBeGreaterThan(HISTORY_BOUND_EVENTS);
    expect(fitsHistoryBound(atBound)).toBe(true);
    expect(fitsHistoryBound(onePollMore)).toBe(false);
  });
});

describe('smallestIntervalMs', () => {
  test('for the default 7d deadline and 7d observation it is 1483s: that interval fits and one second less does not', () => {
    // Act
    const smallest = smallestIntervalMs(7 * DAY, 7 * DAY);

    // Assess
    expect(smallest).toBe(1483 * SECOND);
    expect(fitsHistoryBound(waits(smallest))).toBe(true);
    expect(fitsHistoryBound(waits(smallest - SECOND))).toBe(false);
  });

  test.each([
    [DAY, DAY, 212 * SECOND],
    [3 * DAY, 2 * DAY, 529 * SECOND],
    [10 * SECOND, SECOND, 14],
  ])('deadline %i ms, observation %i ms: %i ms, and no less', (deadline, observation, expected) => {
    // Act
    const smallest = smallestIntervalMs(deadline, observation);

    // Assess
    expect(smallest).toBe(expected);
    expect(fitsHistoryBound(waits(smallest, deadline, observation))).toBe(true);
    expect(fitsHistoryBound(waits(smallest - (smallest >= SECOND ? SECOND : 1), deadline, observation))).toBe(false);
  });
});

describe('historyBoundExcess', () => {
  test('names the events, the bound and the smallest interval the person may set', () => {
    // Act
    const excess = historyBoundExcess(waits(5 * MINUTE), 'HEALTH_CHECK_INTERVAL');

    // Assess
    expect(excess).toMatchObject({ events: 109_292, bound: 22_500, smallestIntervalMs: 1483 * SECOND });
    expect(excess?.detail).toContain('109,292 events');
    expect(excess?.detail).toContain('above the bound of 22,500');
    expect(excess?.detail).toContain('the smallest HEALTH_CHECK_INTERVAL allowed is 1483s (about 25m)');
  });

  test('says when no interval up to the deadline fits: the observation must be shorter', () => {
    // Act
    const excess = historyBoundExcess(waits(HOUR, HOUR, 365 * DAY), '--health-check-interval');

    // Assess
    expect(excess?.detail).toContain('longer than the deadline itself: shorten the observation');
  });

  test('is undefined when the waits fit', () => {
    // Act & Assess
    expect(historyBoundExcess(waits(HOUR), 'HEALTH_CHECK_INTERVAL')).toBeUndefined();
  });
});
