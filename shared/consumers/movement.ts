import { formatDuration } from '../base/duration.ts';
import type { Consumer } from './inventory.ts';

/**
 * Whether each consumer of the old key has moved to the new one (the `consumers-moved` gate check),
 * and which consumers went silent once the old key was cut (the observation period). Pure functions
 * of the inventories and "now"; the steps read the evidence.
 */

/** A consumer that called at least this often, and stopped for this many of its own intervals, has stopped calling that key. */
const LEFT_AFTER_INTERVALS = 5;
/** A regular consumer silent for this many of its own intervals since the old key was cut is broken. */
const SILENT_AFTER_INTERVALS = 10;
/** Fewer calls than this before the cut and a consumer's silence says nothing. */
const MIN_CALLS_FOR_SILENCE = 5;

export type MoveState = 'moved' | 'left' | 'waiting';

export interface ConsumerMove {
  readonly consumer: Consumer;
  readonly state: MoveState;
  /** For a person: when it was last seen on which key. */
  readonly detail: string;
}

export interface MovementFacts {
  /** Consumers of the old key over the lookback, up to now. */
  readonly oldKey: readonly Consumer[];
  /** Consumers of the new key since it was created (for a key taken over from an earlier run, that run's). */
  readonly newKey: readonly Consumer[];
  readonly promotedAt: string;
  readonly now: Date;
  /** How late CloudTrail may show a call (delivery delay): the old key must have been quiet at least this long. */
  readonly deliveryDelayMs: number;
}

export interface MovementVerdict {
  readonly passed: boolean;
  readonly moves: readonly ConsumerMove[];
  /** The consumers still on the old key, for the notices and `status`. */
  readonly stragglers: readonly Consumer[];
  /** No call on the old key within the delivery delay, and the delay has passed since promotion. */
  readonly oldKeyQuiet: boolean;
}

const ms = (iso: string): number => Date.parse(iso);

/**
 * Moved: seen on the new key (same address and tool) since promotion, or after its own last call on
 * the old key: a consumer moved between a run that ended NeedsAttention and the run that takes its
 * new key over need not call again to count. Left: it called the old key
 * regularly and has not for LEFT_AFTER_INTERVALS of its intervals (a replaced instance, a retired
 * job): waiting for it would hold every rotation of an autoscaled fleet until its deadline. Waiting:
 * anything else, including a consumer seen too seldom to tell (a weekly job holds the gate until it
 * runs or the deadline comes).
 */
export function consumerMovement(facts: MovementFacts): MovementVerdict {
  const now = facts.now.getTime();
  const onNewKey = new Map(facts.newKey.map((consumer) => [consumer.key, consumer]));
  const moves = facts.oldKey.map((consumer): ConsumerMove => {
    const moved = onNewKey.get(consumer.key);
    if (moved && (ms(moved.lastSeen) >= ms(facts.promotedAt) || ms(moved.lastSeen) > ms(consumer.lastSeen)))
      return { consumer, state: 'moved', detail: `on the new key since ${moved.firstSeen}` };
    const silentFor = now - ms(consumer.lastSeen);
    if (consumer.cadenceMs !== undefined && silentFor > Math.max(LEFT_AFTER_INTERVALS * consumer.cadenceMs, facts.deliveryDelayMs)) {
      return {
        consumer,
        state: 'left',
        detail: `stopped calling the old key ${formatDuration(silentFor)} ago (it called about every ${formatDuration(consumer.cadenceMs)})`,
      };
    }
    return { consumer, state: 'waiting', detail: `still on the old key: last seen ${consumer.lastSeen}` };
  });
  const lastOldCall = Math.max(0, ...facts.oldKey.map((consumer) => ms(consumer.lastSeen)));
  const oldKeyQuiet = now - ms(facts.promotedAt) >= facts.deliveryDelayMs && now - lastOldCall >= facts.deliveryDelayMs;
  const stragglers = moves.filter((move) => move.state === 'waiting').map((move) => move.consumer);
  return { passed: stragglers.length === 0 && oldKeyQuiet, moves, stragglers, oldKeyQuiet };
}

export interface SilentConsumer {
  readonly consumer: Consumer;
  readonly silentForMs: number;
}

/**
 * After the old key is cut, a call signed with it fails authentication and leaves no trace in
 * CloudTrail or in last-used data: a consumer stuck on it is seen only by its silence. A consumer
 * that called the old key regularly up to the cut, and has been seen on neither key since for
 * SILENT_AFTER_INTERVALS of its own intervals (and at least `minSilenceMs`, CloudTrail's delivery
 * delay), is broken: a consumer calling every minute and silent for an hour is; a weekly job is not.
 */
export function silentConsumers(
  beforeCut: readonly Consumer[],
  sinceCut: readonly Consumer[],
  deactivatedAt: string,
  now: Date,
  minSilenceMs: number,
): SilentConsumer[] {
  const heard = new Set(sinceCut.map((consumer) => consumer.key));
  const cut = ms(deactivatedAt);
  return beforeCut.flatMap((consumer): SilentConsumer[] => {
    if (heard.has(consumer.key) || consumer.cadenceMs === undefined || consumer.calls < MIN_CALLS_FOR_SILENCE) return [];
    const threshold = Math.max(SILENT_AFTER_INTERVALS * consumer.cadenceMs, minSilenceMs);
    // One that had stopped calling well before the cut was not cut off by it.
    if (cut - ms(consumer.lastSeen) > threshold) return [];
    const silentForMs = now.getTime() - ms(consumer.lastSeen);
    return silentForMs > threshold ? [{ consumer, silentForMs }] : [];
  });
}

/** One line naming a consumer for a notice, the CLI and the logs: address, tool, what it calls, when last seen. */
export function describeConsumer(consumer: Consumer): string {
  const calls = consumer.topCalls.slice(0, 3).join(', ');
  return `${consumer.source} (${consumer.agent}) calling ${calls || 'nothing seen'}, last seen ${consumer.lastSeen}`;
}
