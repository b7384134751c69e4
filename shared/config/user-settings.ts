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

/** One user's tag values, and the problems found reading them: an invalid tag is reported, never thrown. */
class TagReader {
  readonly problems: InvalidTagError[] = [];
  private readonly values = new Map<string, string>();

  constructor(
    private readonly userName: string,
    tags: readonly Tag[],
  ) {
    for (const tag of tags) if (tag.Key !== undefined) this.values.set(tag.Key, (tag.Value ?? '').trim());
  }

  get(key: string): string | undefined {
    return this.values.get(key);
  }

  has(key: string): boolean {
    return this.values.has(key);
  }

  problem(key: string, message: string): undefined {
    this.problems.push(
      new InvalidTagError(this.userName, key, `User ${this.userName}: tag ${key}="${this.values.get(key) ?? ''}" ${message}`),
    );
    return undefined;
  }

  wholeDays(key: string, min: number): number | undefined {
    const raw = this.get(key);
    if (raw === undefined) return undefined;
    if (!/^\d{1,4}$/.test(raw)) return this.problem(key, `must be a whole number of days (e.g. 60); the account default is used`);
    const value = Number(raw);
    if (value < min || value > 3650) return this.problem(key, `must be between ${min} and 3650 days; the account default is used`);
    return value;
  }

  duration(key: string): number | undefined {
    const raw = this.get(key);
    if (raw === undefined) return undefined;
    return parseDuration(raw) ?? this.problem(key, `must be a positive duration like 30m, 1h or 7d; the account default is used`);
  }
}

/**
 * Resolves one user's settings: account defaults from config, overridden by valid tags. An invalid
 * tag never throws: it is reported in `problems` and its setting keeps the default, so the scan of
 * this and every other user goes on.
 */
export function resolveUserSettings(userName: string, tags: readonly Tag[], config: Config): ResolvedSettings {
  const tagged = new TagReader(userName, tags);
  const owner = [tagged.get(TAGS.owner), ...FALLBACK_OWNER_TAGS.map((key) => tagged.get(key))].find(
    (value): value is string => value !== undefined && value !== '',
  );
  return {
    settings: {
      owner,
      ...rotationWindow(tagged, config),
      unusedAfterDays: tagged.wholeDays(TAGS.unusedAfterDays, 1) ?? config.unusedAfterDays,
      unusedAction: unusedAction(tagged, config),
      exemption: exemption(tagged),
      secretName: secretName(tagged, config, userName),
      ...healthChecks(tagged, config),
      healthCheckIntervalMs: tagged.duration(TAGS.healthCheckInterval) ?? config.healthCheckIntervalMs,
      healthCheckDeadlineMs: tagged.duration(TAGS.healthCheckDeadline) ?? config.healthCheckDeadlineMs,
      observationMs: tagged.duration(TAGS.observation) ?? config.observationMs,
    },
    problems: tagged.problems,
  };
}

function rotationWindow(tagged: TagReader, config: Config): Pick<UserSettings, 'maxAgeDays' | 'warnDays'> {
  let maxAgeDays = tagged.wholeDays(TAGS.maxAgeDays, 1) ?? config.maxAgeDays;
  let warnDays = tagged.wholeDays(TAGS.warnDays, 0) ?? config.warnDays;
  if (warnDays >= maxAgeDays) {
    if (tagged.has(TAGS.warnDays)) {
      tagged.problem(TAGS.warnDays, `must be smaller than the rotation age (${maxAgeDays} days); the account default is used`);
      warnDays = Math.min(config.warnDays, maxAgeDays - 1);
    } else {
      warnDays = maxAgeDays - 1;
    }
  }
  if (warnDays < 0) warnDays = 0;
  if (maxAgeDays < 1) maxAgeDays = config.maxAgeDays;
  return { maxAgeDays, warnDays };
}

function unusedAction(tagged: TagReader, config: Config): UnusedAction {
  const raw = tagged.get(TAGS.unusedAction);
  if (raw === undefined) return config.unusedAction;
  if ((UNUSED_ACTIONS as readonly string[]).includes(raw)) return raw as UnusedAction;
  tagged.problem(TAGS.unusedAction, `must be "notify" or "deactivate"; the account default is used`);
  return config.unusedAction;
}

function exemption(tagged: TagReader): Exemption | undefined {
  const raw = tagged.get(TAGS.exempt);
  if (raw === undefined || raw.toLowerCase() === 'false') return undefined;
  const reason = raw === '' || raw.toLowerCase() === 'true' ? 'no reason given' : raw;
  const rawUntil = tagged.get(TAGS.exemptUntil);
  if (rawUntil === undefined) return { reason, until: undefined };
  const until = parseEndOfDay(rawUntil);
  if (until === undefined) {
    // An unreadable expiry must not turn into a permanent exemption: the exemption is ignored.
    tagged.problem(TAGS.exemptUntil, `must be a date like 2026-12-31; the exemption is ignored until it is fixed`);
    return undefined;
  }
  return { reason, until };
}

function secretName(tagged: TagReader, config: Config, userName: string): string {
  const fallback = defaultSecretName(config, userName);
  const raw = tagged.get(TAGS.secretName);
  if (raw === undefined) return fallback;
  if (SECRET_NAME.test(raw) && !raw.split('/').some((part) => part === '..' || part === '.')) return raw;
  tagged.problem(
    TAGS.secretName,
    `is not a valid secret name (letters, digits and /_+=.@- only, no "." or ".." parts); the default ${fallback} is used`,
  );
  return fallback;
}

function healthChecks(tagged: TagReader, config: Config): Pick<UserSettings, 'healthChecks' | 'healthCheckUrls'> {
  let checks: readonly HealthCheck[] = config.healthChecks;
  const rawChecks = tagged.get(TAGS.healthChecks);
  if (rawChecks !== undefined) {
    const items = rawChecks.split(/[\s+/]+/).filter(Boolean);
    const unknown = items.filter((item) => !(HEALTH_CHECKS as readonly string[]).includes(item));
    if (items.length === 0 || unknown.length > 0) {
      tagged.problem(
        TAGS.healthChecks,
        `must list checks among ${HEALTH_CHECKS.join(', ')} separated by spaces; the account default is used`,
      );
    } else {
      checks = [...new Set(items)] as HealthCheck[];
    }
  }

  let urls: readonly string[] = config.healthCheckUrls;
  const rawUrls = tagged.get(TAGS.healthCheckUrls);
  if (rawUrls !== undefined) {
    const items = rawUrls.split(/\s+/).filter(Boolean);
    if (items.length === 0 || items.some((url) => !/^https?:\/\/\S+$/.test(url))) {
      tagged.problem(TAGS.healthCheckUrls, `must be http(s) URLs separated by spaces; the account default is used`);
    } else {
      urls = items;
    }
  }
  if (checks.includes('http') && urls.length === 0) {
    tagged.problem(TAGS.healthChecks, `asks for the "http" check but no health URLs are configured; the account default checks are used`);
    checks = config.healthChecks.includes('http') ? ['new-key-used'] : config.healthChecks;
  }
  return { healthChecks: checks, healthCheckUrls: urls };
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
