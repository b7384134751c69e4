import { InvalidInputError } from './errors.ts';
/** Every decision takes "now" from a clock so tests and `--as-of` can move time. */
export type Clock = () => Date;

export const systemClock: Clock = () => new Date();

export function fixedClock(at: Date | string): Clock {
  const instant = new Date(at);
  if (Number.isNaN(instant.getTime())) throw new RangeError(`Invalid date for clock: ${String(at)}`);
  return () => new Date(instant);
}

export const DAY_MS = 86_400_000;

/** Whole days elapsed from `from` to `to` (floored; negative if `from` is in the future). */
export function daysBetween(from: Date, to: Date): number {
  return Math.floor((to.getTime() - from.getTime()) / DAY_MS);
}

/** `YYYY-MM-DD` → the last millisecond of that UTC day: an `--as-of` day counts whole. */
/**
 * The end of an `--as-of` day that is today or later. IAM shows keys as they are now, so an earlier day would count
 * ages of keys as they were not then (a key made since would be "negative days" old). `hint` says what to do instead.
 */
export function asOfFromToday(text: string, now: Date, hint: string): Date {
  const asOf = endOfUtcDay(text);
  if (asOf.getTime() < endOfUtcDay(now.toISOString().slice(0, 10)).getTime()) {
    throw new InvalidInputError(
      `--as-of ${text} is in the past: IAM shows keys as they are now, so ages can only be counted to today or a later day. ${hint}`,
    );
  }
  return asOf;
}

export function endOfUtcDay(text: string, flag = '--as-of'): Date {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  const [year, month, day] = [Number(match?.[1]), Number(match?.[2]), Number(match?.[3])];
  const date = new Date(Date.UTC(year, month - 1, day, 23, 59, 59, 999));
  if (!match || date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
    throw new InvalidInputError(`${flag} must be a calendar date like 2026-12-31 (got "${text}")`);
  }
  return date;
}
