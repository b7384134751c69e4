import { describe, expect, test } from '@jest/globals';
import { DAY_MS } from '#shared/base/clock.ts';
import { pagesToFinish, readWindow, sampleSlices, shareBudget, type CallPage, type PageFetch } from '#shared/aws/call-window.ts';
import { FIXTURE_KEY } from '../../helpers/cloudtrail-fixtures.ts';
import { lookupFetch, seededRandom, SyntheticTrail, type SyntheticConsumer } from '../../helpers/synthetic-trail.ts';

const TO = new Date('2026-11-20T12:00:00Z');
const FROM = new Date(TO.getTime() - 14 * DAY_MS);
const HOUR = 3_600_000;
const MINUTE = 60_000;
const window = { from: FROM, to: TO };

const consumer = (name: string, periodMs: number, phaseMs: number, untilMs?: number): SyntheticConsumer => ({
  sourceIp: `198.51.100.${name.length}`,
  userAgent: `${name}/1.0`,
  periodMs,
  phaseMs,
  ...(untilMs === undefined ? {} : { untilMs }),
});

/** Counts the fetches a read makes and what they returned. */
function counted(fetch: PageFetch): { fetch: PageFetch; calls: () => number } {
  let calls = 0;
  return {
    fetch: async (target, token) => {
      calls += 1;
      return fetch(target, token);
    },
    calls: () => calls,
  };
}

describe('sampleSlices', () => {
  test('cuts the window into equal strata, newest first, that cover it end to end', () => {
    // Act
    const slices = sampleSlices(window, 14, 'newest-first', () => 0.5);

    // Assess
    expect(slices).toHaveLength(14);
    expect(slices[0]?.to).toEqual(TO);
    expect(slices.at(-1)?.from).toEqual(FROM);
    for (const [index, slice] of slices.entries()) {
      expect(slice.to.getTime() - slice.from.getTime()).toBeCloseTo(DAY_MS, -1);
      if (index > 0) expect(slice.to).toEqual(slices[index - 1]?.from);
      expect(slice.anchor.getTime()).toBe(slice.to.getTime() - DAY_MS / 2);
    }
  });

  test.each([
    ['newest-first', (slice: { from: Date; to: Date }) => slice.to],
    ['oldest-first', (slice: { from: Date; to: Date }) => slice.from],
  ] as const)('with random() = 0 a %s read starts at the edge a page starts from', (order, edge) => {
    // Act
    const slices = sampleSlices(window, 5, order, () => 0);

    // Assess
    for (const slice of slices) expect(slice.anchor).toEqual(edge(slice));
  });

  test('every anchor falls inside its own stratum, whatever the generator gives', () => {
    // Prepare
    const random = seededRandom(7);

    // Act
    const slices = sampleSlices(window, 50, 'newest-first', random);

    // Assess
    for (const slice of slices) {
      expect(slice.anchor.getTime()).toBeGreaterThanOrEqual(slice.from.getTime());
      expect(slice.anchor.getTime()).toBeLessThanOrEqual(slice.to.getTime());
    }
    expect(new Set(slices.map((slice) => (slice.to.getTime() - slice.anchor.getTime()) % DAY_MS)).size).toBeGreaterThan(40);
  });

  test.each([
    [0, 0],
    [-3, 0],
    [2.7, 2],
  ])('%s slices asked: %s given', (count, expected) => {
    // Act & Assess
    expect(sampleSlices(window, count, 'newest-first')).toHaveLength(expected);
  });
});

describe('pagesToFinish', () => {
  test.each([
    ['one page took the newest day of 14', 'newest-first', new Date(TO.getTime() - DAY_MS), 1, 13],
    ['two pages took the newest day', 'newest-first', new Date(TO.getTime() - DAY_MS), 2, 26],
    ['oldest first, one page took the first 7 days', 'oldest-first', new Date(FROM.getTime() + 7 * DAY_MS), 1, 1],
    ['the page reached the far edge', 'newest-first', FROM, 1, 0],
    ['the page covered no time at all', 'newest-first', TO, 1, Infinity],
  ] as const)('%s: %s more', (_, order, reached, pages, expected) => {
    // Act & Assess
    expect(pagesToFinish(window, reached, pages, order)).toBe(expected);
  });
});

describe('shareBudget', () => {
  test.each([
    ['every need met, and the rest as headroom', 10, [1, 2], [5, 5]],
    ['headroom only for readers that need more pages', 10, [0, 2, 0], [0, 10, 0]],
    ['a small need leaves the rest to a large one', 10, [100, 2], [8, 2]],
    ['unknown needs share equally, the remainder to the first', 10, [Infinity, Infinity, Infinity], [4, 3, 3]],
    ['nothing to share', 0, [5, 5], [0, 0]],
    ['a finished reader gets nothing', 3, [0, 5], [0, 3]],
    ['fewer calls than readers: the first ones', 2, [5, 5, 5], [1, 1, 0]],
    ['water-filling over three', 9, [1, 10, 10], [1, 4, 4]],
  ])('%s', (_, total, needs, expected) => {
    // Act
    const shares = shareBudget(total, needs);

    // Assess
    expect(shares).toEqual(expected);
    expect(shares.reduce((sum, share) => sum + share, 0)).toBeLessThanOrEqual(total);
  });
});

describe('readWindow', () => {
  test('a quiet key is paged through: every call read, complete, no call spent beyond the last page', async () => {
    // Prepare: one call an hour over 14 days, 336 calls, 7 pages of 50
    const trail = new SyntheticTrail(FIXTURE_KEY, [consumer('cron', HOUR, FROM.getTime() + 30 * MINUTE)]);
    const fetch = counted(lookupFetch(trail));

    // Act
    const read = await readWindow(fetch.fetch, window, 'newest-first', 20);

    // Assess
    expect(read).toMatchObject({ complete: true, sampled: false, apiCalls: 7 });
    expect(new Set(read.calls.map((call) => call.eventId)).size).toBe(336);
    expect(fetch.calls()).toBe(7);
  });

  test.each([1, 2, 5, 20, 33])('a chatty key never costs more than the budget of %s calls', async (budget) => {
    // Prepare: 10,000 calls an hour
    const trail = new SyntheticTrail(FIXTURE_KEY, [consumer('chatty', 360, FROM.getTime())]);
    const fetch = counted(lookupFetch(trail));

    // Act
    const read = await readWindow(fetch.fetch, window, 'newest-first', budget, seededRandom(budget));

    // Assess
    expect(fetch.calls()).toBe(budget);
    expect(read.apiCalls).toBe(budget);
    expect(read.complete).toBe(false);
    expect(read.sampled).toBe(budget > 1);
  });

  test('a chatty key is sampled across the whole window, not paged from its newest minutes', async () => {
    // Prepare
    const trail = new SyntheticTrail(FIXTURE_KEY, [consumer('chatty', 360, FROM.getTime())]);

    // Act
    const read = await readWindow(lookupFetch(trail), window, 'newest-first', 20, seededRandom(1));

    // Assess: calls from every day of the 14
    const days = new Set(read.calls.map((call) => Math.floor((call.at.getTime() - FROM.getTime()) / DAY_MS)));
    expect(days.size).toBeGreaterThanOrEqual(13);
  });

  test('a daily consumer beside a busy one is found at the rate its share of the sampled time predicts', async () => {
    // Prepare: a busy consumer once a minute (a page of 50 spans 50 minutes); a daily one at an hour of
    // the day that the newest 20 pages (16.7 hours) never reach
    const daily = consumer('daily-report', DAY_MS, TO.getTime() - 20 * HOUR - 14 * DAY_MS);
    const trail = new SyntheticTrail(FIXTURE_KEY, [consumer('busy', MINUTE, FROM.getTime()), daily]);
    const budget = 20;
    const runs = 200;
    const random = seededRandom(42);

    // Act
    let found = 0;
    for (let run = 0; run < runs; run += 1) {
      const read = await readWindow(lookupFetch(trail), window, 'newest-first', budget, random);
      if (read.calls.some((call) => call.userAgent === daily.userAgent)) found += 1;
    }
    const paged = await readWindow(lookupFetch(trail), window, 'newest-first', budget, () => 0);

    // Assess: each of the 19 samples reads 50 minutes of its 17.6-hour stratum; 14 daily calls each fall in one
    const stratum = (14 * DAY_MS - 50 * MINUTE) / (budget - 1);
    const expected = 1 - (1 - (50 * MINUTE) / stratum) ** 14;
    expect(found / runs).toBeGreaterThan(expected - 0.1);
    expect(found / runs).toBeLessThan(expected + 0.1);
    expect(paged.calls.filter((call) => call.userAgent === daily.userAgent).length).toBeLessThanOrEqual(1);
  });

  test('a consumer that stopped a week ago is still found sometimes; paging newest first never finds it', async () => {
    // Prepare: a busy consumer once a minute, and one every 2 hours during the first week only
    const stopped = consumer('old-batch', 2 * HOUR, FROM.getTime(), FROM.getTime() + 7 * DAY_MS);
    const trail = new SyntheticTrail(FIXTURE_KEY, [consumer('busy', MINUTE, FROM.getTime()), stopped]);
    const random = seededRandom(3);
    const pageOnly = async (target: typeof window, token: string | undefined): Promise<CallPage> => lookupFetch(trail)(target, token);

    // Act
    let found = 0;
    for (let run = 0; run < 50; run += 1) {
      const read = await readWindow(lookupFetch(trail), window, 'newest-first', 20, random);
      if (read.calls.some((call) => call.userAgent === stopped.userAgent)) found += 1;
    }
    let token: string | undefined;
    const newest: string[] = [];
    for (let page = 0; page < 20; page += 1) {
      const next = await pageOnly(window, token);
      newest.push(...next.calls.map((call) => call.userAgent));
      token = next.next;
    }

    // Assess: some 9 of the 19 samples fall in its week, each with a 50-minute page against its 2-hour period
    expect(found).toBeGreaterThan(45);
    expect(newest).not.toContain(stopped.userAgent);
  });

  test('a failed fetch ends the read with what was read before it, and hands the error back', async () => {
    // Prepare
    const trail = new SyntheticTrail(FIXTURE_KEY, [consumer('cron', HOUR, FROM.getTime())]);
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    let calls = 0;
    const fetch: PageFetch = async (target, token) => {
      calls += 1;
      if (calls === 3) throw throttled;
      return lookupFetch(trail)(target, token);
    };

    // Act
    const read = await readWindow(fetch, window, 'newest-first', 20);

    // Assess
    expect(read).toMatchObject({ complete: false, apiCalls: 3, failure: throttled });
    expect(read.calls).toHaveLength(100);
  });

  test('a budget of nothing reads nothing', async () => {
    // Prepare
    const fetch = counted(lookupFetch(new SyntheticTrail(FIXTURE_KEY, [])));

    // Act
    const read = await readWindow(fetch.fetch, window, 'newest-first', 0);

    // Assess
    expect(read).toEqual({ calls: [], apiCalls: 0, complete: false, sampled: false, unreadable: 0 });
    expect(fetch.calls()).toBe(0);
  });
});
