import { anySourceRead, gapsOf, type KeyCallsRead } from '../aws/key-calls.ts';
import { consumerKey } from '../consumers/fingerprint.ts';
import { consumersOf, type Consumer } from '../consumers/inventory.ts';
import { consumerMovement, describeConsumer, silentConsumers } from '../consumers/movement.ts';
import { formatDuration } from '../base/duration.ts';
import { keyLastUsed } from '../aws/iam.ts';
import { usedSince, type CheckResult } from './decisions.ts';
import type { RotationDeps } from './deps.ts';
import type { Deactivated, NewKey, Promoted, Rotation, Straggler } from './workflow-state.ts';

/** The state names at most this many stragglers: enough for a person to act on, and the state stays small. */
export const MAX_STRAGGLERS = 10;

export function straggler(consumer: Consumer): Straggler {
  return { source: consumer.source, agent: consumer.agent, calls: [...consumer.topCalls.slice(0, 3)], lastSeen: consumer.lastSeen };
}

/** The key's calls from every CloudTrail source that could be read; undefined when none could (or none is configured). */
export async function read(deps: RotationDeps, accessKeyId: string, from: Date, to: Date): Promise<KeyCallsRead | undefined> {
  if (!deps.readKeyCalls) return undefined;
  const calls = await deps.readKeyCalls({ accessKeyId, from, to });
  return anySourceRead(calls) ? calls : undefined;
}

/**
 * The consumers read, and the remembered ones this read missed, as far as a Straggler tells: too few
 * calls known to judge a cadence, so consumerMovement keeps them waiting until they are seen on the new key.
 */
function withRemembered(read: readonly Consumer[], remembered: readonly Straggler[]): Consumer[] {
  const seen = new Set(read.map((consumer) => consumer.key));
  const missed = new Map<string, Consumer>();
  for (const straggler of remembered) {
    const key = consumerKey(straggler);
    if (seen.has(key) || missed.has(key)) continue;
    missed.set(key, {
      source: straggler.source,
      agent: straggler.agent,
      key,
      firstSeen: straggler.lastSeen,
      lastSeen: straggler.lastSeen,
      calls: 0,
      services: [...new Set(straggler.calls.map((call) => call.split(':')[0] ?? call))],
      topCalls: [...straggler.calls],
      errors: {},
      cadenceMs: undefined,
      readsSecret: straggler.calls.includes('secretsmanager:GetSecretValue'),
    });
  }
  return [...read, ...missed.values()];
}

const lookbackStart = (at: string, deps: RotationDeps): Date => new Date(Date.parse(at) - deps.config.consumerLookbackMs);

/**
 * The consumers-moved check: every consumer CloudTrail saw on the old key over CONSUMER_LOOKBACK
 * has been seen on the new key since promotion (or has stopped calling, see consumerMovement), and
 * the old key has been quiet for CloudTrail's delivery delay. Without a readable CloudTrail source
 * it is judged as new-key-used, and says so: the default gate never becomes weaker than before.
 *
 * `remembered` are the consumers an earlier read of this rotation saw on the old key (Promote's and
 * the previous check's): a sampled read may miss a rare consumer that an earlier one found, and a
 * consumer once seen must not pass the gate by the luck of the next sample. Such a consumer waits
 * until it is seen on the new key, or until a read that sees it again shows it has stopped calling.
 */
export async function consumersMoved(
  rotation: Rotation,
  newKey: NewKey,
  promoted: Promoted,
  deps: RotationDeps,
  now: Date,
  remembered: readonly Straggler[] = [],
): Promise<{ readonly result: CheckResult; readonly stragglers: Straggler[] }> {
  const old = await read(deps, rotation.oldAccessKeyId, lookbackStart(promoted.promotedAt, deps), now);
  // From the new key's creation: a key taken over from an earlier run may have moved consumers before this run's promotion.
  const newKeySince = new Date(Math.min(Date.parse(promoted.promotedAt), Date.parse(newKey.createdAt)));
  const fresh = old ? await read(deps, newKey.accessKeyId, newKeySince, now) : undefined;
  if (!old || !fresh) {
    const why = deps.readKeyCalls ? 'no CloudTrail source could be read' : 'no CloudTrail source is configured';
    // Since promotion, not creation: Verify signs one call with the new key before it is promoted.
    const passed = usedSince(await keyLastUsed(deps.iam, newKey.accessKeyId, 'unused'), promoted.promotedAt, deps.lastUsedPrecision);
    return {
      result: {
        check: 'consumers-moved',
        passed,
        detail: `${why}, so judged by the new key's last use: ${passed ? 'the new key is in use' : 'the new key has not been used since it was promoted'}`,
      },
      stragglers: [],
    };
  }
  const verdict = consumerMovement({
    oldKey: withRemembered(consumersOf(old.calls), remembered),
    newKey: consumersOf(fresh.calls),
    promotedAt: promoted.promotedAt,
    now,
    deliveryDelayMs: Math.max(old.deliveryDelayMs, fresh.deliveryDelayMs),
  });
  const moved = verdict.moves.filter((move) => move.state !== 'waiting').length;
  const gaps = gapsOf(old);
  const seen = `${verdict.moves.length} consumer${verdict.moves.length === 1 ? '' : 's'} seen on the old key, ${moved} moved or stopped`;
  const detail = verdict.passed
    ? `${seen}; the old key is quiet`
    : verdict.stragglers.length > 0
      ? `${seen}; still on the old key: ${verdict.stragglers.slice(0, 3).map(describeConsumer).join('; ')}${verdict.stragglers.length > 3 ? `; and ${verdict.stragglers.length - 3} more` : ''}`
      : `${seen}; waiting for the old key to stay quiet for CloudTrail's delivery delay`;
  return {
    result: {
      check: 'consumers-moved',
      passed: verdict.passed,
      detail: gaps.length > 0 ? `${detail} (not seen: ${gaps.join('; ')})` : detail,
    },
    stragglers: verdict.stragglers.slice(0, MAX_STRAGGLERS).map(straggler),
  };
}

/**
 * During observation, whatever the gate's checks were: the consumers that called the old key
 * regularly up to its deactivation and have been heard on neither key since (a request signed with an
 * Inactive key fails authentication and leaves no trace, so silence is the only signal AWS gives).
 * Empty when CloudTrail cannot be read.
 */
export async function silentSinceDeactivation(
  rotation: Rotation,
  newKey: NewKey,
  deactivated: Deactivated,
  deps: RotationDeps,
  now: Date,
): Promise<string[]> {
  const cut = new Date(deactivated.deactivatedAt);
  const before = await read(deps, rotation.oldAccessKeyId, lookbackStart(deactivated.deactivatedAt, deps), cut);
  if (!before) return [];
  const [oldSince, newSince] = await Promise.all([read(deps, rotation.oldAccessKeyId, cut, now), read(deps, newKey.accessKeyId, cut, now)]);
  if (!newSince) return [];
  const silent = silentConsumers(
    consumersOf(before.calls),
    consumersOf([...(oldSince?.calls ?? []), ...newSince.calls]),
    deactivated.deactivatedAt,
    now,
    Math.max(before.deliveryDelayMs, newSince.deliveryDelayMs),
  );
  return silent.map(
    ({ consumer, silentForMs }) =>
      `consumer ${describeConsumer(consumer)} has gone silent: nothing from it on either key for ${formatDuration(silentForMs)}, where it called about every ${formatDuration(consumer.cadenceMs ?? 0)}: it is most likely failing on the deactivated old key`,
  );
}

/** For the new-key-ready notice: who used the old key over the lookback, i.e. what the owner has to move. Undefined when CloudTrail cannot be read. */
export async function oldKeyConsumers(
  rotation: Rotation,
  promoted: Promoted,
  deps: RotationDeps,
): Promise<{ readonly consumers: Straggler[]; readonly more: number } | undefined> {
  const old = await read(deps, rotation.oldAccessKeyId, lookbackStart(promoted.promotedAt, deps), new Date(promoted.promotedAt));
  if (!old) return undefined;
  const consumers = consumersOf(old.calls);
  return { consumers: consumers.slice(0, MAX_STRAGGLERS).map(straggler), more: Math.max(0, consumers.length - MAX_STRAGGLERS) };
}
