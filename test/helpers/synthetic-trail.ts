import type { LookupEventsCommandInput, LookupEventsCommandOutput } from '@aws-sdk/client-cloudtrail';
import type { FilterLogEventsCommandInput, FilterLogEventsCommandOutput } from '@aws-sdk/client-cloudwatch-logs';
import type { PageFetch } from '#shared/aws/call-window.ts';
import { parseCloudTrailRecord } from '#shared/aws/cloudtrail-record.ts';
import { syntheticRecord } from './cloudtrail-fixtures.ts';

/**
 * A key's CloudTrail, generated rather than stored: each consumer calls every `periodMs` from its
 * `phaseMs` on, so 10,000 calls an hour over 14 days (3.4 million records) costs nothing until a page
 * is asked for. It answers LookupEvents as AWS does (newest first, 50 a page, a NextToken bound to the
 * query's parameters) and FilterLogEvents (oldest first, `limit` and 1 MB a page, the key as a quoted
 * term matching any record that contains it), and counts the calls. For the unit tests and
 * bench/consumer-evidence.ts, which need more events than moto could hold.
 */

export interface SyntheticConsumer {
  readonly sourceIp: string;
  readonly userAgent: string;
  readonly periodMs: number;
  /** The first call's time (epoch ms); calls before the window are simply never served. */
  readonly phaseMs: number;
  /** Calls after this time (epoch ms) are not made: a consumer that moved to another key. */
  readonly untilMs?: number;
  /** Another key whose records mention this one (the rotator's GetAccessKeyLastUsed): only a quoted-term filter finds them. */
  readonly mentionsOnly?: boolean;
}

interface Cursor {
  readonly t: number;
  readonly c: number;
}

const PAGE_BYTES = 1_048_576;
const EVENT_ID = 'synthetic-event-id';
const EPOCH = '"1970-01-01T00:00:00Z"';
const eventIdOf = (c: number, t: number): string => `c${c}-${t}`;
export const OTHER_KEY = 'AKIAI44QH8DHBEXAMPLE';

export class SyntheticTrail {
  lookupCalls = 0;
  filterCalls = 0;
  /** Each consumer's record as JSON with placeholders: a bench reads hundreds of thousands of them. */
  private readonly templates = new Map<number, string>();

  constructor(
    readonly accessKeyId: string,
    readonly consumers: readonly SyntheticConsumer[],
  ) {}

  /** Every call of the key in [from, to] (not the mentions), for checks on small trails. */
  callsIn(from: number, to: number): number {
    return this.consumers.reduce((sum, consumer, c) => (consumer.mentionsOnly ? sum : sum + this.count(c, from, to)), 0);
  }

  lookupEvents(input: LookupEventsCommandInput): Omit<LookupEventsCommandOutput, '$metadata'> {
    this.lookupCalls += 1;
    const attribute = input.LookupAttributes?.[0];
    if (attribute?.AttributeKey !== 'AccessKeyId' || attribute.AttributeValue !== this.accessKeyId) return { Events: [] };
    const start = input.StartTime?.getTime() ?? 0;
    const end = input.EndTime?.getTime() ?? Date.now();
    const max = Math.min(input.MaxResults ?? 50, 50);
    let before: Cursor = { t: end, c: Infinity };
    if (input.NextToken) {
      const token = JSON.parse(Buffer.from(input.NextToken, 'base64url').toString()) as Cursor & { start: number; end: number };
      // AWS: "This token must be passed in with the same parameters that were specified in the original call."
      if (token.start !== start || token.end !== end)
        throw Object.assign(new Error('Invalid NextToken'), { name: 'InvalidNextTokenException' });
      before = token;
    }
    const events: NonNullable<LookupEventsCommandOutput['Events']> = [];
    const heads = this.consumers.map((consumer, c) => (consumer.mentionsOnly ? undefined : this.lastAtOrBefore(c, before, start)));
    let last: Cursor | undefined;
    while (events.length < max) {
      let pick = -1;
      for (let c = 0; c < heads.length; c += 1) {
        const head = heads[c];
        const best = pick >= 0 ? heads[pick] : undefined;
        if (head !== undefined && (best === undefined || head > best || (head === best && c > pick))) pick = c;
      }
      if (pick < 0) break;
      const t = heads[pick] as number;
      events.push({
        EventId: eventIdOf(pick, t),
        EventName: 'GetCallerIdentity',
        EventTime: new Date(t),
        AccessKeyId: this.accessKeyId,
        CloudTrailEvent: this.message(pick, t),
      });
      last = { t, c: pick };
      const next = t - (this.consumers[pick] as SyntheticConsumer).periodMs;
      heads[pick] = next >= Math.max(start, (this.consumers[pick] as SyntheticConsumer).phaseMs) ? next : undefined;
    }
    const more = heads.some((head) => head !== undefined);
    return {
      Events: events,
      ...(more && last ? { NextToken: Buffer.from(JSON.stringify({ ...last, start, end })).toString('base64url') } : {}),
    };
  }

  filterLogEvents(input: FilterLogEventsCommandInput): Omit<FilterLogEventsCommandOutput, '$metadata'> {
    this.filterCalls += 1;
    const term = /^"(.+)"$/.exec(input.filterPattern ?? '')?.[1];
    if (term !== this.accessKeyId) return { events: [] };
    const start = input.startTime ?? 0;
    const end = input.endTime ?? Date.now();
    const limit = Math.min(input.limit ?? 10_000, 10_000);
    let after: Cursor = { t: start, c: -1 };
    if (input.nextToken) after = JSON.parse(Buffer.from(input.nextToken, 'base64url').toString()) as Cursor;
    const heads = this.consumers.map((_, c) => this.firstAtOrAfter(c, after, end));
    const events: NonNullable<FilterLogEventsCommandOutput['events']> = [];
    let bytes = 0;
    let last: Cursor | undefined;
    while (events.length < limit) {
      let pick = -1;
      for (let c = 0; c < heads.length; c += 1) {
        const head = heads[c];
        const best = pick >= 0 ? heads[pick] : undefined;
        if (head !== undefined && (best === undefined || head < best)) pick = c;
      }
      if (pick < 0) break;
      const t = heads[pick] as number;
      const message = this.message(pick, t);
      if (bytes + message.length > PAGE_BYTES) break;
      bytes += message.length;
      events.push({ logStreamName: '111122223333_CloudTrail_us-east-1', timestamp: t, message, eventId: `${pick}-${t}` });
      last = { t, c: pick };
      const next = t + (this.consumers[pick] as SyntheticConsumer).periodMs;
      const until = Math.min(end, (this.consumers[pick] as SyntheticConsumer).untilMs ?? Infinity);
      heads[pick] = next <= until ? next : undefined;
    }
    const more = heads.some((head) => head !== undefined);
    return { events, ...(more && last ? { nextToken: Buffer.from(JSON.stringify(last)).toString('base64url') } : {}) };
  }

  private message(c: number, t: number): string {
    let template = this.templates.get(c);
    if (template === undefined) {
      template = JSON.stringify(this.record(c, EVENT_ID, new Date(0)));
      this.templates.set(c, template);
    }
    return template
      .split(EVENT_ID)
      .join(eventIdOf(c, t))
      .replace(EPOCH, JSON.stringify(new Date(t).toISOString().replace('.000Z', 'Z')));
  }

  private record(c: number, eventId: string, at: Date): Record<string, unknown> {
    const consumer = this.consumers[c] as SyntheticConsumer;
    if (consumer.mentionsOnly)
      return syntheticRecord({
        eventId,
        at,
        accessKeyId: OTHER_KEY,
        sourceIp: consumer.sourceIp,
        userAgent: consumer.userAgent,
        eventName: 'GetAccessKeyLastUsed',
        requestParameters: { accessKeyId: this.accessKeyId },
      });
    return syntheticRecord({
      eventId,
      at,
      accessKeyId: this.accessKeyId,
      sourceIp: consumer.sourceIp,
      userAgent: consumer.userAgent,
    });
  }

  /** The consumer's latest call strictly before the cursor (in (t, c) order) and not before `start`. */
  private lastAtOrBefore(c: number, before: Cursor, start: number): number | undefined {
    const consumer = this.consumers[c] as SyntheticConsumer;
    const limit = Math.min(before.t, consumer.untilMs ?? Infinity);
    if (limit < consumer.phaseMs) return undefined;
    let t = consumer.phaseMs + Math.floor((limit - consumer.phaseMs) / consumer.periodMs) * consumer.periodMs;
    if (t === before.t && c >= before.c) t -= consumer.periodMs;
    return t >= Math.max(start, consumer.phaseMs) ? t : undefined;
  }

  /** The consumer's first call strictly after the cursor and not after `end`. */
  private firstAtOrAfter(c: number, after: Cursor, end: number): number | undefined {
    const consumer = this.consumers[c] as SyntheticConsumer;
    const from = Math.max(after.t, consumer.phaseMs);
    let t = consumer.phaseMs + Math.ceil((from - consumer.phaseMs) / consumer.periodMs) * consumer.periodMs;
    if (t === after.t && c <= after.c) t += consumer.periodMs;
    return t <= Math.min(end, consumer.untilMs ?? Infinity) ? t : undefined;
  }

  private count(c: number, from: number, to: number): number {
    const consumer = this.consumers[c] as SyntheticConsumer;
    const last = Math.min(to, consumer.untilMs ?? Infinity);
    const first = Math.max(from, consumer.phaseMs);
    if (last < first) return 0;
    const k0 = Math.ceil((first - consumer.phaseMs) / consumer.periodMs);
    const k1 = Math.floor((last - consumer.phaseMs) / consumer.periodMs);
    return Math.max(0, k1 - k0 + 1);
  }
}

/** A seeded generator (mulberry32), so a run of samples is the same every time. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** The trail's LookupEvents as a PageFetch for call-window's readers (newest first), with the records parsed. */
export function lookupFetch(trail: SyntheticTrail): PageFetch {
  return async (window, token) => {
    const output = trail.lookupEvents({
      LookupAttributes: [{ AttributeKey: 'AccessKeyId', AttributeValue: trail.accessKeyId }],
      StartTime: window.from,
      EndTime: window.to,
      MaxResults: 50,
      NextToken: token,
    });
    const calls = (output.Events ?? []).map((event) => parseCloudTrailRecord(event.CloudTrailEvent)).filter((call) => call !== undefined);
    const times = (output.Events ?? []).map((event) => event.EventTime?.getTime() ?? Infinity);
    return { calls, next: output.NextToken, reached: times.length > 0 ? new Date(Math.min(...times)) : undefined, unreadable: 0 };
  };
}
