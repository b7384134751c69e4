import type { Tag } from '../aws/iam.ts';
import type { Config, HealthCheck, UnusedAction } from './settings.ts';
import { HEALTH_CHECKS, UNUSED_ACTIONS } from './settings.ts';
import { parseDuration } from '../base/duration.ts';
import { InvalidTagError } from '../base/errors.ts';

/**
 * Per-user overrides, read from IAM user tags. IAM tag values may only hold letters, digits,
 * spaces and `_ . : / = + - @`, so lists are space-separated.
 */
export const TAGS = {
  owner: 'rotation:owner',
  maxAgeDays: 'rotation:max-age-days',
  warnDays: 'rotation:warn-days',
  unusedAfterDays: 'rotation:unused-after-days',
  unusedAction: 'rotation:unused-action',
  exempt: 'rotation:exempt',
  exemptUntil: 'rotation:exempt-until',
  secretName: 'rotation:secret-name',
  healthChecks: 'rotation:health-checks',
  healthCheckUrls: 'rotation:health-check-urls',
  healthCheckInterval: 'rotation:health-check-interval',
  healthCheckDeadline: 'rotation:health-check-deadline',
  observation: 'rotation:observation',
} as const;

/** Tags read for the owner, in order, after `rotation:owner`. */
export const FALLBACK_OWNER_TAGS = ['owner', 'email'] as const;

export interface Exemption {
  readonly reason: string;
  /** Exempt through the end of this UTC day; undefined means no expiry. */
  readonly until: Date | undefined;
}

export interface UserSettings {
  readonly owner: string | undefined;
  readonly maxAgeDays: number;
  readonly warnDays: number;
  readonly unusedAfterDays: number;
  readonly unusedAction: UnusedAction;
  readonly exemption: Exemption | undefined;
  readonly secretName: string;
  readonly healthChecks: readonly HealthCheck[];
  readonly healthCheckUrls: readonly string[];
  readonly healthCheckIntervalMs: number;
  readonly healthCheckDeadlineMs: number;
  readonly observationMs: number;
}

export interface ResolvedSettings {
  readonly settings: UserSettings;
  /** One entry per tag that could not be used; its setting fell back to the account default. */
  readonly problems: readonly InvalidTagError[];
}

const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;

export function defaultSecretName(config: Pick<Config, 'secretNamePrefix'>, userName: string): string {
  return `${config.secretNamePrefix}${userName}`;
}

/**
 * Resolves one user's settings: account defaults from config, overridden by valid tags. An invalid
 * tag never throws: it is reported in `problems` and its setting keeps the default, so the scan of
 * this and every other user goes on.
 */
export function resolveUserSettings(userName: string, tags: readonly Tag[], config: Config): ResolvedSettings {
  const values = new Map<string, string>();
  for (const tag of tags) if (tag.Key !== undefined) values.set(tag.Key, (tag.Value ?? '').trim());
  const problems: InvalidTagError[] = [];
  const problem = (key: string, message: string): undefined => {
    problems.push(new InvalidTagError(userName, key, `User ${userName}: tag ${key}="${values.get(key) ?? ''}" ${message}`));
    return undefined;
  };

  const wholeDays = (key: string, min: number): number | undefined => {
    const raw = values.get(key);
    if (raw === undefined) return undefined;
    if (!/^\d{1,4}$/.test(raw)) return problem(key, `must be a whole number of days (e.g. 60); the account default is used`);
    const value = Number(raw);
    if (value < min || value > 3650) return problem(key, `must be between ${min} and 3650 days; the account default is used`);
    return value;
  };
  const durationTag = (key: string): number | undefined => {
    const raw = values.get(key);
    if (raw === undefined) return undefined;
    return parseDuration(raw) ?? problem(key, `must be a positive duration like 30m, 1h or 7d; the account default is used`);
  };

  let maxAgeDays = wholeDays(TAGS.maxAgeDays, 1) ?? config.maxAgeDays;
  let warnDays = wholeDays(TAGS.warnDays, 0) ?? config.warnDays;
  if (warnDays >= maxAgeDays) {
    if (values.has(TAGS.warnDays)) {
      problem(TAGS.warnDays, `must be smaller than the rotation age (${maxAgeDays} days); the account default is used`);
      warnDays = Math.min(config.warnDays, maxAgeDays - 1);
    } else {
      warnDays = maxAgeDays - 1;
    }
  }
  if (warnDays < 0) warnDays = 0;
  if (maxAgeDays < 1) maxAgeDays = config.maxAgeDays;
  const unusedAfterDays = wholeDays(TAGS.unusedAfterDays, 1) ?? config.unusedAfterDays;

  let unusedAction: UnusedAction = config.unusedAction;
  const rawUnusedAction = values.get(TAGS.unusedAction);
  if (rawUnusedAction !== undefined) {
    if ((UNUSED_ACTIONS as readonly string[]).includes(rawUnusedAction)) unusedAction = rawUnusedAction as UnusedAction;
    else problem(TAGS.unusedAction, `must be "notify" or "deactivate"; the account default is used`);
  }

  let exemption: Exemption | undefined;
  const rawExempt = values.get(TAGS.exempt);
  if (rawExempt !== undefined && rawExempt.toLowerCase() !== 'false') {
    const reason = rawExempt === '' || rawExempt.toLowerCase() === 'true' ? 'no reason given' : rawExempt;
    let until: Date | undefined;
    const rawUntil = values.get(TAGS.exemptUntil);
    if (rawUntil !== undefined) {
      until = parseEndOfDay(rawUntil);
      if (until === undefined) {
        // An unreadable expiry must not turn into a permanent exemption: the exemption is ignored.
        problem(TAGS.exemptUntil, `must be a date like 2026-12-31; the exemption is ignored until it is fixed`);
      }
    }
    if (rawUntil === undefined || until !== undefined) exemption = { reason, until };
  }

  let secretName = defaultSecretName(config, userName);
  const rawSecret = values.get(TAGS.secretName);
  if (rawSecret !== undefined) {
    if (SECRET_NAME.test(rawSecret) && !rawSecret.split('/').some((part) => part === '..' || part === '.')) secretName = rawSecret;
    else problem(TAGS.secretName, `is not a valid secret name (letters, digits and /_+=.@- only, no "." or ".." parts); the default ${secretName} is used`);
  }

  let healthChecks: readonly HealthCheck[] = config.healthChecks;
  const rawChecks = values.get(TAGS.healthChecks);
  if (rawChecks !== undefined) {
    const items = rawChecks.split(/[\s+/]+/).filter(Boolean);
    const unknown = items.filter((item) => !(HEALTH_CHECKS as readonly string[]).includes(item));
    if (items.length === 0 || unknown.length > 0) {
      problem(TAGS.healthChecks, `must list checks among ${HEALTH_CHECKS.join(', ')} separated by spaces; the account default is used`);
    } else {
      healthChecks = [...new Set(items)] as HealthCheck[];
    }
  }

  let healthCheckUrls: readonly string[] = config.healthCheckUrls;
  const rawUrls = values.get(TAGS.healthCheckUrls);
  if (rawUrls !== undefined) {
    const urls = rawUrls.split(/\s+/).filter(Boolean);
    if (urls.length === 0 || urls.some((url) => !/^https?:\/\/\S+$/.test(url))) {
      problem(TAGS.healthCheckUrls, `must be http(s) URLs separated by spaces; the account default is used`);
    } else {
      healthCheckUrls = urls;
    }
  }
  if (healthChecks.includes('http') && healthCheckUrls.length === 0) {
    problem(TAGS.healthChecks, `asks for the "http" check but no health URLs are configured; the account default checks are used`);
    healthChecks = config.healthChecks.includes('http') ? ['new-key-used'] : config.healthChecks;
  }

  const owner = [values.get(TAGS.owner), ...FALLBACK_OWNER_TAGS.map((key) => values.get(key))].find(
    (value): value is string => value !== undefined && value !== '',
  );

  return {
    settings: {
      owner,
      maxAgeDays,
      warnDays,
      unusedAfterDays,
      unusedAction,
      exemption,
      secretName,
      healthChecks,
      healthCheckUrls,
      healthCheckIntervalMs: durationTag(TAGS.healthCheckInterval) ?? config.healthCheckIntervalMs,
      healthCheckDeadlineMs: durationTag(TAGS.healthCheckDeadline) ?? config.healthCheckDeadlineMs,
      observationMs: durationTag(TAGS.observation) ?? config.observationMs,
    },
    problems,
  };
}

/** `2026-12-31` → the last millisecond of that UTC day; undefined when not a real calendar date. */
function parseEndOfDay(text: string): Date | undefined {
  const match = DATE_ONLY.exec(text);
  if (!match) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day, 23, 59, 59, 999));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return undefined;
  return date;
}
