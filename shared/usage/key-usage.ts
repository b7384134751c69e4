import type { KeyCall } from '../aws/key-calls.ts';
import { consumerKey, consumerOf, type ConsumerId } from '../consumers/fingerprint.ts';
import { iamActionsOf, resourcesForAction } from './actions.ts';
import { runtimeOf, type Runtime } from './runtime.ts';

/**
 * What a key was used for, from its calls (read with their resources: KeyCall.resources): per IAM
 * action, the event names that needed it, how often, and the resources it was used on; per consumer
 * (the `consumers` fingerprint: source and tool) the same, and where the consumer runs. Pure: the
 * window and the calls come in, nothing is read.
 */

/** Error codes of a call refused by authorization: the key tried the action and was not allowed it. */
const REFUSALS = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'UnauthorizedOperation',
  'Client.UnauthorizedOperation',
  'AuthorizationError',
]);

export function isRefusal(errorCode: string | undefined): boolean {
  return errorCode !== undefined && REFUSALS.has(errorCode);
}

export interface ActionUse {
  /** `s3:ListBucket`, as IAM spells it. */
  readonly action: string;
  /** The CloudTrail events that needed it, `eventSource eventName` (`s3.amazonaws.com ListObjectsV2`). */
  readonly events: readonly string[];
  /** Calls that needed it and were allowed (a call that failed for another reason, NoSuchKey, was allowed). */
  readonly allowed: number;
  /** Calls refused by authorization: the key does not have the action today. */
  readonly refused: number;
  /** The resources the allowed calls were made on, as ARNs, sorted. */
  readonly resources: readonly string[];
  /** Allowed calls whose record named no resource for the action. */
  readonly withoutResource: number;
  readonly lastSeen: string;
}

export interface ConsumerUsage extends ConsumerId {
  readonly key: string;
  readonly calls: number;
  readonly firstSeen: string;
  readonly lastSeen: string;
  readonly regions: readonly string[];
  readonly actions: readonly ActionUse[];
  readonly runtime: Runtime;
}

export interface UsageSummary {
  readonly calls: number;
  /** The regions the calls were made in (awsRegion), sorted. */
  readonly regions: readonly string[];
  /** Every action any consumer used, merged. */
  readonly actions: readonly ActionUse[];
  /** Most recently seen first, as `consumers` lists them. */
  readonly consumers: readonly ConsumerUsage[];
}

interface ActionTally {
  events: Set<string>;
  allowed: number;
  refused: number;
  resources: Set<string>;
  withoutResource: number;
  lastSeen: number;
}

/** How many distinct user agents of a consumer are kept to tell where it runs (they differ by minor version only). */
const AGENTS_KEPT = 10;

function tally(calls: readonly KeyCall[]): ActionUse[] {
  const byAction = new Map<string, ActionTally>();
  for (const call of calls) {
    for (const action of iamActionsOf(call)) {
      const entry = byAction.get(action) ?? {
        events: new Set<string>(),
        allowed: 0,
        refused: 0,
        resources: new Set<string>(),
        withoutResource: 0,
        lastSeen: 0,
      };
      entry.events.add(`${call.eventSource} ${call.eventName}`);
      entry.lastSeen = Math.max(entry.lastSeen, call.at.getTime());
      if (isRefusal(call.errorCode)) entry.refused += 1;
      else {
        entry.allowed += 1;
        const resources = resourcesForAction(action, call.resources ?? []);
        if (resources.length === 0) entry.withoutResource += 1;
        for (const arn of resources) entry.resources.add(arn);
      }
      byAction.set(action, entry);
    }
  }
  return [...byAction.entries()]
    .map(([action, entry]) => ({
      action,
      events: [...entry.events].sort(),
      allowed: entry.allowed,
      refused: entry.refused,
      resources: [...entry.resources].sort(),
      withoutResource: entry.withoutResource,
      lastSeen: new Date(entry.lastSeen).toISOString(),
    }))
    .sort((a, b) => a.action.localeCompare(b.action));
}

export function summariseUsage(calls: readonly KeyCall[]): UsageSummary {
  const byConsumer = new Map<string, { id: ConsumerId; invokedBy: string | undefined; agents: Set<string>; calls: KeyCall[] }>();
  for (const call of calls) {
    const id = consumerOf(call);
    const key = consumerKey(id);
    const entry = byConsumer.get(key) ?? { id, invokedBy: call.invokedBy, agents: new Set<string>(), calls: [] };
    if (entry.agents.size < AGENTS_KEPT) entry.agents.add(call.userAgent);
    entry.calls.push(call);
    byConsumer.set(key, entry);
  }
  const consumers = [...byConsumer.values()]
    .map((entry): ConsumerUsage => {
      // A loop, not Math.min(...times): a busy consumer's hundreds of thousands of calls would overflow the call stack as arguments.
      let first = Infinity;
      let last = -Infinity;
      for (const call of entry.calls) {
        first = Math.min(first, call.at.getTime());
        last = Math.max(last, call.at.getTime());
      }
      return {
        ...entry.id,
        key: consumerKey(entry.id),
        calls: entry.calls.length,
        firstSeen: new Date(first).toISOString(),
        lastSeen: new Date(last).toISOString(),
        regions: regionsOf(entry.calls),
        actions: tally(entry.calls),
        runtime: runtimeOf({ source: entry.id.source, invokedBy: entry.invokedBy, userAgents: [...entry.agents] }),
      };
    })
    .sort((a, b) => b.lastSeen.localeCompare(a.lastSeen) || a.key.localeCompare(b.key));
  return { calls: calls.length, regions: regionsOf(calls), actions: tally(calls), consumers };
}

function regionsOf(calls: readonly KeyCall[]): string[] {
  return [...new Set(calls.map((call) => call.region).filter((region) => region !== ''))].sort();
}

/** The actions the key was allowed and used: what a replacement role must grant. */
export function usedActions(actions: readonly ActionUse[]): string[] {
  return actions.filter((use) => use.allowed > 0).map((use) => use.action);
}
