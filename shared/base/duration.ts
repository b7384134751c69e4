import ms from 'ms';

const DURATION = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/i;

/**
 * Parses a positive duration such as `500ms`, `30s`, `5m`, `1h`, `7d` into milliseconds.
 * Returns undefined for anything else (bare numbers, zero, negative, other units), so callers can
 * raise an error that names their own setting.
 */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text);
  if (!match) return undefined;
  const value = Number(match[1]);
  const unit = (match[2] ?? '').toLowerCase();
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[unit];
  if (factor === undefined || !(value > 0)) return undefined;
  const result = Math.round(value * factor);
  return result > 0 && Number.isSafeInteger(result) ? result : undefined;
}

/** Short human form, e.g. 3600000 → "1h". */
export function formatDuration(milliseconds: number): string {
  return ms(milliseconds);
}
