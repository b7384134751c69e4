import { keyLastUsed } from '../aws/iam.ts';
import { formatDuration } from '../base/duration.ts';
import { consumersOf, type Consumer } from '../consumers/inventory.ts';
import { describeConsumer } from '../consumers/movement.ts';
import { addMs, isPast, secondsUntil, type LastUsedPrecision } from './decisions.ts';
import { decidedByOperators, personDecided } from './consumer-checks.ts';
import { MAX_STRAGGLERS, read, straggler } from './consumer-evidence.ts';
import type { RotationDeps } from './deps.ts';
import type { Gate, Rotation } from './workflow-state.ts';

/**
 * Retirement (kind `retire`): the key is taken out of service with no replacement. Its gate is the
 * consumer gate inverted: instead of waiting for every consumer to move to a new key, it waits until
 * no consumer has used the key for the quiet period (OLD_KEY_QUIET_PERIOD), then the usual way out
 * follows: deactivate, observe (a person's abort or a failing health URL reactivates it), delete.
 */

export interface QuietFacts {
  readonly now: Date;
  readonly startedAt: string;
  readonly quietMs: number;
  readonly deadline: string;
  readonly aborted: boolean;
  /** The key's consumers CloudTrail saw over the lookback; undefined when no CloudTrail source could be read. */
  readonly consumers: readonly Consumer[] | undefined;
  /** How late CloudTrail may show a call. */
  readonly deliveryDelayMs: number;
  /** GetAccessKeyLastUsed. */
  readonly lastUsed: Date | undefined;
  readonly precision: LastUsedPrecision;
}

export interface QuietVerdict {
  readonly status: 'healthy' | 'waiting' | 'overdue' | 'aborted';
  /** Consumers CloudTrail saw on the key within the quiet period, most recent first. */
  readonly stillUsing: readonly Consumer[];
  readonly detail: string;
}

/**
 * Quiet when neither source shows a use within the quiet period, each widened by how late it may show
 * one: CloudTrail's delivery delay (and at least that long since the retirement began, so a call made
 * just before is in), last-used data's lag. A key unused for months is quiet at the first check. An
 * abort wins; past the deadline the key stays Active and the owner is asked to act.
 */
export function quietVerdict(facts: QuietFacts): QuietVerdict {
  const now = facts.now.getTime();
  const trailFrom = now - facts.quietMs - facts.deliveryDelayMs;
  const stillUsing = (facts.consumers ?? []).filter((consumer) => Date.parse(consumer.lastSeen) >= trailFrom);
  const delivered = now - Date.parse(facts.startedAt) >= facts.deliveryDelayMs;
  const lastUsedFrom = now - facts.quietMs - facts.precision.lagMs;
  const lastUseRecent = facts.lastUsed !== undefined && facts.lastUsed.getTime() + facts.precision.granularityMs > lastUsedFrom;
  const quiet = stillUsing.length === 0 && delivered && !lastUseRecent;
  const period = formatDuration(facts.quietMs);
  const trail =
    facts.consumers === undefined
      ? 'no CloudTrail source could be read, so judged by the key’s last use alone'
      : stillUsing.length > 0
        ? `still used within the last ${period}: ${stillUsing.slice(0, 3).map(describeConsumer).join('; ')}${stillUsing.length > 3 ? `; and ${stillUsing.length - 3} more` : ''}`
        : delivered
          ? `no consumer in CloudTrail within the last ${period}`
          : 'waiting for CloudTrail’s delivery delay to pass since the retirement began';
  const last =
    facts.lastUsed === undefined
      ? 'never used'
      : `last used ${facts.lastUsed.toISOString()}${lastUseRecent ? `, within the last ${period}` : ''}`;
  const detail = `${trail}; ${last}`;
  if (facts.aborted) return { status: 'aborted', stillUsing, detail: `aborted by a person (iam-key-rotator abort); ${detail}` };
  if (quiet) return { status: 'healthy', stillUsing, detail: `the key is quiet: ${detail}` };
  if (isPast(facts.deadline, facts.now)) return { status: 'overdue', stillUsing, detail };
  return { status: 'waiting', stillUsing, detail };
}

/** The gate of a retirement: one check of the key's quiet, in the Gate shape the ASL's Choice and the notices read. */
export async function checkRetirement(rotation: Rotation, deps: RotationDeps): Promise<Gate> {
  const now = deps.clock();
  const deadline = retirementDeadline(rotation);
  const calls = await read(deps, rotation.oldAccessKeyId, new Date(now.getTime() - deps.config.consumerLookbackMs), now);
  const verdict = quietVerdict({
    now,
    startedAt: rotation.startedAt,
    quietMs: rotation.oldKeyQuietMs,
    deadline,
    aborted: await personDecided('abort', rotation.userName, rotation.oldAccessKeyId, decidedByOperators(rotation, deps), deps),
    consumers: calls ? consumersOf(calls.calls) : undefined,
    deliveryDelayMs: calls?.deliveryDelayMs ?? 0,
    lastUsed: await keyLastUsed(deps.iam, rotation.oldAccessKeyId, 'unused'),
    precision: deps.lastUsedPrecision,
  });
  deps.logger.info('retirement checked', { userName: rotation.userName, status: verdict.status, stillUsing: verdict.stillUsing.length });
  const quiet = verdict.status === 'healthy';
  return {
    status: verdict.status,
    checkedAt: now.toISOString(),
    passing: quiet ? ['key-quiet'] : [],
    failing: quiet ? [] : ['key-quiet'],
    detail: verdict.detail,
    stragglers: verdict.stillUsing.slice(0, MAX_STRAGGLERS).map(straggler),
    confirmTimeoutSeconds: secondsUntil(deadline, now),
  };
}

/** The retirement waits for quiet up to the health-check deadline from its start. */
export function retirementDeadline(rotation: Pick<Rotation, 'startedAt' | 'healthCheckDeadlineMs'>): string {
  return addMs(rotation.startedAt, rotation.healthCheckDeadlineMs);
}
