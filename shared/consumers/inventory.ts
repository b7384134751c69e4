import type { KeyCall } from '../aws/key-calls.ts';
import { consumerKey, consumerOf, type ConsumerId } from './fingerprint.ts';

/** One consumer of one key, from the calls CloudTrail shows. Never a request parameter or a secret. */
export interface Consumer extends ConsumerId {
  readonly key: string;
  readonly firstSeen: string;
  readonly lastSeen: string;
  readonly calls: number;
  /** The services it calls (`s3`, `sts`), most called first. */
  readonly services: readonly string[];
  /** Its most frequent calls (`s3:GetObject`), at most five. */
  readonly topCalls: readonly string[];
  /** Calls refused by authorization, by errorCode: the key works, but not for these. */
  readonly errors: Readonly<Record<string, number>>;
  /**
   * The median time between two of its calls, when it made at least three: how often it calls, which
   * tells a daily job from a consumer that calls every minute. Undefined when there is too little to tell.
   */
  readonly cadenceMs: number | undefined;
  /** It read a secret with the key (GetSecretValue, not refused): a self-refresh consumer, or whoever holds the key doing the same. */
  readonly readsSecret: boolean;
}

const MIN_CALLS_FOR_CADENCE = 3;
const TOP_CALLS = 5;

const serviceOf = (eventSource: string): string => eventSource.replace(/\.amazonaws\.com$/, '');

function ranked(counts: ReadonlyMap<string, number>, limit = Number.POSITIVE_INFINITY): string[] {
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, limit)
    .map(([name]) => name);
}

function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

function summarise(id: ConsumerId, calls: readonly KeyCall[]): Consumer {
  const times = calls.map((call) => call.at.getTime()).sort((a, b) => a - b);
  const services = new Map<string, number>();
  const actions = new Map<string, number>();
  const errors: Record<string, number> = {};
  for (const call of calls) {
    const service = serviceOf(call.eventSource);
    services.set(service, (services.get(service) ?? 0) + 1);
    actions.set(`${service}:${call.eventName}`, (actions.get(`${service}:${call.eventName}`) ?? 0) + 1);
    if (call.errorCode !== undefined) errors[call.errorCode] = (errors[call.errorCode] ?? 0) + 1;
  }
  // Gaps of a sampled read include the unread time between slices; the median keeps to the gaps inside them.
  const gaps = times.slice(1).map((time, index) => time - (times[index] ?? time));
  return {
    ...id,
    key: consumerKey(id),
    firstSeen: new Date(times[0] ?? 0).toISOString(),
    lastSeen: new Date(times.at(-1) ?? 0).toISOString(),
    calls: calls.length,
    services: ranked(services),
    topCalls: ranked(actions, TOP_CALLS),
    errors,
    cadenceMs: calls.length >= MIN_CALLS_FOR_CADENCE ? median(gaps.filter((gap) => gap > 0)) : undefined,
    readsSecret: calls.some(
      (call) => call.eventSource === 'secretsmanager.amazonaws.com' && call.eventName === 'GetSecretValue' && call.errorCode === undefined,
    ),
  };
}

/** The consumers among `calls` (of one key), most recently seen first. */
export function consumersOf(calls: readonly KeyCall[]): Consumer[] {
  const byConsumer = new Map<string, { id: ConsumerId; calls: KeyCall[] }>();
  for (const call of calls) {
    const id = consumerOf(call);
    const key = consumerKey(id);
    const entry = byConsumer.get(key) ?? { id, calls: [] };
    entry.calls.push(call);
    byConsumer.set(key, entry);
  }
  return [...byConsumer.values()]
    .map((entry) => summarise(entry.id, entry.calls))
    .sort((a, b) => b.lastSeen.localeCompare(a.lastSeen) || a.key.localeCompare(b.key));
}
