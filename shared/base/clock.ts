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
