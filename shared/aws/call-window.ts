import type { KeyCall } from './key-calls.ts';

/**
 * Reading one key's calls over a window within a budget of API calls, whatever the API: page through
 * the window when the budget covers it, sample it when it does not. Paging a chatty key newest first
 * would spend the whole budget on its last minutes and never reach the consumer that calls once a day;
 * reading one page at points spread over the window gives every consumer a chance in proportion to how
 * often it calls. The decisions are pure functions (sampleSlices, pagesToFinish, shareBudget); readWindow
 * only drives a page fetcher with them.
 */

export interface TimeWindow {
  readonly from: Date;
  readonly to: Date;
}

/**
 * The order an API returns a window's events in: LookupEvents newest first, FilterLogEvents oldest first.
 * A page therefore covers the window from one edge, and a sample reads away from its anchor in that order.
 */
export type PageOrder = 'newest-first' | 'oldest-first';

/** One stratum of a sampled window, and the point its one page is read from. */
export interface Slice extends TimeWindow {
  /** Newest-first: the page holds the calls just before the anchor; oldest-first: just after it. */
  readonly anchor: Date;
}

/**
 * `count` equal strata of [from, to], newest first, each with an anchor placed at random inside it
 * (stratified sampling). A fixed anchor (say, every stratum's end) would, for a window of whole days cut
 * into whole days, read the same time of day every time, and a consumer on a daily schedule would be
 * always or never found; a random anchor gives it the same chance on every read. `random() = 0` puts
 * each anchor at the edge a page starts from (the stratum's end, newest first), for tests.
 */
export function sampleSlices(window: TimeWindow, count: number, order: PageOrder, random: () => number = Math.random): Slice[] {
  const from = window.from.getTime();
  const to = window.to.getTime();
  const slices = Math.max(0, Math.floor(count));
  if (slices === 0 || to < from) return [];
  const width = (to - from) / slices;
  return Array.from({ length: slices }, (_, index) => {
    const end = to - index * width;
    const start = index === slices - 1 ? from : end - width;
    const offset = Math.min(Math.max(random(), 0), 1) * (end - start);
    const anchor = order === 'newest-first' ? end - offset : start + offset;
    return { from: new Date(start), to: new Date(end), anchor: new Date(Math.round(anchor)) };
  });
}

/**
 * Pages still needed to finish the window, judged from the pages read so far: they covered the span
 * from the window's starting edge to `reached`, so the rest takes proportionally many. Infinity when the
 * pages read covered no time at all (every call in the same millisecond: the key is too busy to page).
 */
export function pagesToFinish(window: TimeWindow, reached: Date, pagesRead: number, order: PageOrder): number {
  const from = window.from.getTime();
  const to = window.to.getTime();
  const point = Math.min(Math.max(reached.getTime(), from), to);
  const covered = order === 'newest-first' ? to - point : point - from;
  const rest = order === 'newest-first' ? point - from : to - point;
  if (rest <= 0) return 0;
  if (covered <= 0 || pagesRead <= 0) return Infinity;
  return Math.ceil((rest / covered) * pagesRead);
}

/**
 * Shares `total` calls among readers that each need some number of them (water-filling): a reader that
 * needs less than an equal share gets what it needs, and what it leaves goes to the others in equal
 * parts. A need is an estimate from one page (traffic is rarely even), so what is left once every need
 * is met is split among the readers that need anything at all, as headroom; a reader that needs nothing
 * (done in one page) gets nothing. Shares are whole calls and sum to at most `total`; a remainder goes
 * to the first readers (the caller lists the regions that matter most first).
 */
export function shareBudget(total: number, needs: readonly number[]): number[] {
  const shares = needs.map(() => 0);
  const give = (index: number, calls: number): void => {
    shares[index] = (shares[index] ?? 0) + calls;
  };
  let left = Math.max(0, Math.floor(total));
  const reading = needs.map((_, index) => index).filter((index) => (needs[index] ?? 0) > 0);
  let open = reading;
  while (left > 0 && open.length > 0) {
    const equal = Math.floor(left / open.length);
    if (equal === 0) {
      for (const index of open.slice(0, left)) give(index, 1);
      return shares;
    }
    for (const index of open) {
      const calls = Math.min(equal, (needs[index] ?? 0) - (shares[index] ?? 0));
      give(index, calls);
      left -= calls;
    }
    open = open.filter((index) => (shares[index] ?? 0) < (needs[index] ?? 0));
  }
  if (left > 0 && reading.length > 0) {
    const equal = Math.floor(left / reading.length);
    reading.forEach((index, position) => give(index, equal + (position < left % reading.length ? 1 : 0)));
  }
  return shares;
}

/** One page of a window's calls, already narrowed to the key. */
export interface CallPage {
  readonly calls: readonly KeyCall[];
  readonly next: string | undefined;
  /** The time of the page's event farthest from where it started (oldest, newest first), undefined for an empty page. */
  readonly reached: Date | undefined;
  /** Records the page held that could not be read (not JSON, no eventID or eventTime). */
  readonly unreadable: number;
}

/** Fetches the page of `window` that `token` points at (the first page without one). */
export type PageFetch = (window: TimeWindow, token: string | undefined) => Promise<CallPage>;

export interface WindowRead {
  readonly calls: readonly KeyCall[];
  readonly apiCalls: number;
  /** Every call of the window was read. */
  readonly complete: boolean;
  /** The budget did not cover the window, which was read at sampled points instead. */
  readonly sampled: boolean;
  readonly unreadable: number;
  /** What stopped the read, when a fetch failed; the caller decides whether it is a reason or a bug. */
  readonly failure?: unknown;
}

/** Where a window read stands after its first page: readers of several windows (regions) share the rest of their budget on it. */
export interface WindowStart {
  readonly window: TimeWindow;
  readonly first: CallPage;
  /** The calls the rest of the window would take to page through, from the first page's pace. */
  readonly need: number;
}

export async function startWindow(fetch: PageFetch, window: TimeWindow, order: PageOrder): Promise<WindowStart> {
  const first = await fetch(window, undefined);
  // An empty first page with a token (FilterLogEvents returns those while it searches) says nothing
  // about the pace: the need is unknown, and an equal share is the fair guess.
  const need = first.next === undefined ? 0 : first.reached ? Math.max(1, pagesToFinish(window, first.reached, 1, order)) : Infinity;
  return { window, first, need };
}

/**
 * Reads a window within `maxApiCalls`: first page, then on through the tokens while the pace so far
 * says the rest fits in what is left; as soon as it does not, what is left of the budget samples the
 * part not yet read (sampleSlices), one page per slice. A failed fetch ends the read with what was read.
 */
export async function readWindow(
  fetch: PageFetch,
  window: TimeWindow,
  order: PageOrder,
  maxApiCalls: number,
  random: () => number = Math.random,
): Promise<WindowRead> {
  if (maxApiCalls < 1) return { calls: [], apiCalls: 0, complete: false, sampled: false, unreadable: 0 };
  let start: WindowStart;
  try {
    start = await startWindow(fetch, window, order);
  } catch (failure) {
    return { calls: [], apiCalls: 1, complete: false, sampled: false, unreadable: 0, failure };
  }
  return continueWindow(fetch, start, order, maxApiCalls - 1, random);
}

/** The rest of readWindow, after its first page: `maxApiCalls` more calls at most. */
export async function continueWindow(
  fetch: PageFetch,
  start: WindowStart,
  order: PageOrder,
  maxApiCalls: number,
  random: () => number = Math.random,
): Promise<WindowRead> {
  const { window, first } = start;
  const calls: KeyCall[] = [...first.calls];
  let apiCalls = 1;
  let unreadable = first.unreadable;
  let reached = first.reached ?? (order === 'newest-first' ? window.to : window.from);
  let pages = first.reached ? 1 : 0;
  let token = first.next;
  const result = (complete: boolean, sampled: boolean, failure?: unknown): WindowRead => ({
    calls,
    apiCalls,
    complete,
    sampled,
    unreadable,
    ...(failure === undefined ? {} : { failure }),
  });
  const take = async (target: TimeWindow, pageToken: string | undefined): Promise<CallPage> => {
    apiCalls += 1;
    const page = await fetch(target, pageToken);
    calls.push(...page.calls);
    unreadable += page.unreadable;
    return page;
  };
  try {
    while (token !== undefined) {
      const left = maxApiCalls - (apiCalls - 1);
      if (left <= 0) return result(false, false);
      if (pages > 0 && pagesToFinish(window, reached, pages, order) > left) {
        const rest = order === 'newest-first' ? { from: window.from, to: reached } : { from: reached, to: window.to };
        for (const slice of sampleSlices(rest, left, order, random)) {
          // Bounded by the rest, not by the slice: the page is the calls next to the anchor, wherever they fall.
          await take(order === 'newest-first' ? { from: rest.from, to: slice.anchor } : { from: slice.anchor, to: rest.to }, undefined);
        }
        return result(false, true);
      }
      const page = await take(window, token);
      if (page.reached) {
        // The farthest so far, not this page's: pages need not arrive in order (moto does not interleave log streams).
        reached = farther(reached, page.reached, order);
        pages += 1;
      }
      token = page.next;
    }
    return result(true, false);
  } catch (failure) {
    return result(false, false, failure);
  }
}

function farther(a: Date, b: Date, order: PageOrder): Date {
  return (order === 'newest-first' ? b < a : b > a) ? b : a;
}
