import type { Tag } from '../aws/iam.ts';
import type { Config, HealthCheck, UnusedAction } from './settings.ts';
import { HEALTH_CHECKS, UNUSED_ACTIONS, urlOrigin } from './settings.ts';
import { formatDuration, parseDuration } from '../base/duration.ts';
import { DAY_MS } from '../base/clock.ts';
import { InvalidTagError } from '../base/errors.ts';
import { describeWaits, historyBoundExcess, type RotationWaits } from './history-budget.ts';

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

/**
 * The other `rotation:*` tags the rotator reads: the pilot's scope tag (ROTATION_USER_TAG_VALUE,
 * exemptions.ts) and the confirm and abort markers of local runs (rotation/decisions.ts).
 */
export const OTHER_ROTATION_TAGS = { managed: 'rotation:managed', confirm: 'rotation:confirm', abort: 'rotation:abort' } as const;

const KNOWN_ROTATION_TAGS: readonly string[] = [...Object.values(TAGS), ...Object.values(OTHER_ROTATION_TAGS)];

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

/** A tag that was applied and makes this user's rotation less strict than the account's default. */
export interface WeakenedOverride {
  readonly tag: string;
  /** The tag's value as set on the user. */
  readonly value: string;
  /** What the account would use without the tag. */
  readonly default: string;
}

export interface ResolvedSettings {
  readonly settings: UserSettings;
  /** One entry per tag that could not be used; its setting fell back to the account default. */
  readonly problems: readonly InvalidTagError[];
  /**
   * Every applied tag that weakens a default (a longer window, an exemption, fewer checks, a longer
   * deadline, a shorter observation): tags are data anyone who may tag the user can set, so each one
   * is shown in the scan summary and the owner's notices.
   */
  readonly weakened: readonly WeakenedOverride[];
}

const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;

export function defaultSecretName(config: Pick<Config, 'secretNamePrefix'>, userName: string): string {
  return `${config.secretNamePrefix}${userName}`;
}

/**
 * The problems that hold a user's rotations back (InvalidTagError.refuses): a misspelled check
 * (`rotation:health-checks`), observation or secret name, where the default could drop a check the
 * owner asked for, cut the observation short, or write the key to another secret than consumers read.
 * Every other problem (an age or window, a check the account does not let a tag remove, a health URL
 * outside HEALTH_CHECK_URL_ORIGINS) falls back to the account's stricter default: refusing there would
 * let anyone who may tag the user hold its rotation back, or point its gate elsewhere, with a bad value.
 */
export function refusingProblems(problems: readonly InvalidTagError[]): InvalidTagError[] {
  return problems.filter((problem) => problem.refuses);
}

/** A refusing problem's message without its "the default is used" tail: nothing is used, the rotation waits. */
export function withoutFallback(problem: InvalidTagError): string {
  return problem.message.replace(/; the (account )?default( \S+)? is used$/, '');
}

/** How a scan reports a problem: a refusing one says the rotation waits, as nothing falls back to a default. */
export function reportedProblem(problem: InvalidTagError): string {
  return problem.refuses
    ? `${withoutFallback(problem)}; rotations of ${problem.userName} are refused until the tag is fixed or removed`
    : problem.message;
}

/** The refusal of a rotation of a user whose check, observation or secret tags are invalid (refusingProblems). */
export function invalidTagsError(userName: string, problems: readonly InvalidTagError[]): InvalidTagError {
  const listed = problems.map(withoutFallback).join('; ');
  const only = problems.length === 1 ? problems[0]?.tagKey : undefined;
  const key = only ?? '<tag>';
  return new InvalidTagError(
    userName,
    problems[0]?.tagKey ?? '',
    `${listed}. The rotation of ${userName} was refused and nothing was changed: fix the tag${only === undefined ? 's' : ''} ` +
      `(aws iam tag-user --user-name ${userName} --tags Key=${key},Value=<value>) or remove ${only === undefined ? 'them' : 'it'} ` +
      `(aws iam untag-user --user-name ${userName} --tag-keys ${key}) to use the account defaults, then rotate again. A leaked key is contained regardless.`,
  );
}

/** One user's tag values, and the problems found reading them: an invalid tag is reported, never thrown. */
class TagReader {
  readonly problems: InvalidTagError[] = [];
  readonly weakened: WeakenedOverride[] = [];
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

  keys(): string[] {
    return [...this.values.keys()];
  }

  /** Records that the applied tag `key` weakens the account's `fallback`. */
  weakens(key: string, fallback: string): void {
    this.weakened.push({ tag: key, value: this.values.get(key) ?? '', default: fallback });
  }

  problem(key: string, message: string, refuses = false): undefined {
    this.problems.push(
      new InvalidTagError(this.userName, key, `User ${this.userName}: tag ${key}="${this.values.get(key) ?? ''}" ${message}`, refuses),
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
    // A misspelled observation would fall back to a default that may be shorter than the owner asked for.
    return (
      parseDuration(raw) ??
      this.problem(key, `must be a positive duration like 30m, 1h or 7d; the account default is used`, key === TAGS.observation)
    );
  }
}

/**
 * Resolves one user's settings: account defaults from config, overridden by valid tags. An invalid
 * tag never throws: it is reported in `problems` and its setting keeps the default, so the scan of
 * this and every other user goes on. A tag beyond an account ceiling (ROTATION_MAX_AGE_DAYS_CEILING,
 * EXEMPTION_MAX_DAYS, HEALTH_CHECK_URL_ORIGINS, ALLOW_TAG_CHECK_REMOVAL) is such a problem too.
 * `now` dates the exemption horizon; the callers that act on exemptions (the scan, Prepare) pass it,
 * and without it only an exemption with no expiry is refused.
 */
export function resolveUserSettings(userName: string, tags: readonly Tag[], config: Config, now?: Date): ResolvedSettings {
  const tagged = new TagReader(userName, tags);
  const owner = [tagged.get(TAGS.owner), ...FALLBACK_OWNER_TAGS.map((key) => tagged.get(key))].find(
    (value): value is string => value !== undefined && value !== '',
  );
  const settings: UserSettings = {
    owner,
    ...rotationWindow(tagged, config),
    unusedAfterDays: longerWeakens(tagged, TAGS.unusedAfterDays, tagged.wholeDays(TAGS.unusedAfterDays, 1), config.unusedAfterDays),
    unusedAction: unusedAction(tagged, config),
    exemption: exemption(tagged, config, now),
    secretName: secretName(tagged, config, userName),
    ...healthChecks(tagged, config),
    ...waits(tagged, config),
  };
  reportUnknownRotationTags(tagged);
  return { settings, problems: tagged.problems, weakened: tagged.weakened };
}

/**
 * A `rotation:*` tag the rotator does not read, such as a misspelled `rotation:max-age` or a
 * `Rotation:Owner` (tag keys are read as written): reported with the key it was likely meant to be,
 * so a typo does not leave the account default in force unseen. Nothing is refused: the default
 * that applies is the account's.
 */
function reportUnknownRotationTags(tagged: TagReader): void {
  for (const key of tagged.keys()) {
    if (!looksLikeRotationTag(key) || KNOWN_ROTATION_TAGS.includes(key)) continue;
    const meant = likelyMeant(key);
    tagged.problem(
      key,
      `is not a tag iam-key-rotator reads${meant === undefined ? '' : ` (did you mean ${meant}?)`}, so it changes nothing; the account default is used`,
    );
  }
}

/** `rotation:…`, or a prefix a couple of letters off it (`rotaton:exempt`). */
function looksLikeRotationTag(key: string): boolean {
  const [prefix, ...rest] = key.toLowerCase().split(':');
  return rest.length > 0 && prefix !== undefined && editDistance(prefix, 'rotation') <= 2;
}

/** The known tag a misspelled key most likely stands for: the same letters in another case, one it begins, or a few edits away. */
function likelyMeant(key: string): string | undefined {
  const lower = key.toLowerCase();
  const related = KNOWN_ROTATION_TAGS.find((known) => known === lower) ?? KNOWN_ROTATION_TAGS.find((known) => known.startsWith(lower));
  if (related !== undefined) return related;
  const nearest = KNOWN_ROTATION_TAGS.map((known) => ({ known, distance: editDistance(lower, known) })).sort(
    (a, b) => a.distance - b.distance,
  )[0];
  return nearest !== undefined && nearest.distance <= 3 ? nearest.known : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** A tagged value longer than the account's (a later rotation, a longer wait with both keys Active) weakens it. */
function longerWeakens(
  tagged: TagReader,
  key: string,
  value: number | undefined,
  fallback: number,
  show: (value: number) => string = String,
): number {
  if (value === undefined) return fallback;
  if (value > fallback) tagged.weakens(key, show(fallback));
  return value;
}

/**
 * The interval, deadline and observation from tags, checked together against the execution history
 * bound (history-budget.ts): each tag may be fine alone and the three too many polls together. Such
 * tags are reported like any invalid tag, on the first of them set, and the account's three waits
 * (checked together when the configuration loaded) are used instead, so no mix of tagged and account
 * values can pass the bound either. A longer deadline or a shorter observation weakens the account's.
 */
function waits(tagged: TagReader, config: Config): RotationWaits {
  const account: RotationWaits = {
    healthCheckIntervalMs: config.healthCheckIntervalMs,
    healthCheckDeadlineMs: config.healthCheckDeadlineMs,
    observationMs: config.observationMs,
  };
  const fromTags = {
    healthCheckIntervalMs: tagged.duration(TAGS.healthCheckInterval),
    healthCheckDeadlineMs: tagged.duration(TAGS.healthCheckDeadline),
    observationMs: tagged.duration(TAGS.observation),
  };
  const chosen: RotationWaits = {
    healthCheckIntervalMs: fromTags.healthCheckIntervalMs ?? account.healthCheckIntervalMs,
    healthCheckDeadlineMs: fromTags.healthCheckDeadlineMs ?? account.healthCheckDeadlineMs,
    observationMs: fromTags.observationMs ?? account.observationMs,
  };
  const keys = [
    [TAGS.healthCheckInterval, fromTags.healthCheckIntervalMs],
    [TAGS.healthCheckDeadline, fromTags.healthCheckDeadlineMs],
    [TAGS.observation, fromTags.observationMs],
  ] as const;
  const taggedKeys = keys.filter(([, value]) => value !== undefined).map(([key]) => key);
  const first = taggedKeys[0];
  const excess = first === undefined ? undefined : historyBoundExcess(chosen, TAGS.healthCheckInterval);
  if (first !== undefined && excess !== undefined) {
    tagged.problem(
      first,
      `gives ${describeWaits(chosen)} (tag${taggedKeys.length === 1 ? '' : 's'} ${taggedKeys.join(', ')} with the account's settings), which ${excess.detail} ` +
        `This user's ${taggedKeys.join(', ')} ${taggedKeys.length === 1 ? 'is' : 'are'} ignored and the account's waits are used: ${describeWaits(account)}.`,
    );
    return account;
  }
  if (chosen.healthCheckDeadlineMs > account.healthCheckDeadlineMs)
    tagged.weakens(TAGS.healthCheckDeadline, formatDuration(account.healthCheckDeadlineMs));
  // A shorter observation leaves less time to roll back before the old key is deleted.
  if (chosen.observationMs < account.observationMs) tagged.weakens(TAGS.observation, formatDuration(account.observationMs));
  return chosen;
}

function rotationWindow(tagged: TagReader, config: Config): Pick<UserSettings, 'maxAgeDays' | 'warnDays'> {
  let tagAge = tagged.wholeDays(TAGS.maxAgeDays, 1);
  if (tagAge !== undefined && tagAge > config.maxAgeDaysCeiling) {
    tagged.problem(
      TAGS.maxAgeDays,
      `is above the account's ceiling of ${config.maxAgeDaysCeiling} days (ROTATION_MAX_AGE_DAYS_CEILING); the account default is used`,
    );
    tagAge = undefined;
  }
  let maxAgeDays = longerWeakens(tagged, TAGS.maxAgeDays, tagAge, config.maxAgeDays);
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
  if ((UNUSED_ACTIONS as readonly string[]).includes(raw)) {
    if (raw === 'notify' && config.unusedAction !== 'notify') tagged.weakens(TAGS.unusedAction, config.unusedAction);
    return raw as UnusedAction;
  }
  tagged.problem(TAGS.unusedAction, `must be "notify", "deactivate" or "retire"; the account default is used`);
  return config.unusedAction;
}

function exemption(tagged: TagReader, config: Config, now: Date | undefined): Exemption | undefined {
  const raw = tagged.get(TAGS.exempt);
  if (raw === undefined || raw.toLowerCase() === 'false') return undefined;
  const reason = raw === '' || raw.toLowerCase() === 'true' ? 'no reason given' : raw;
  const rawUntil = tagged.get(TAGS.exemptUntil);
  if (rawUntil === undefined) {
    // A tag-only exemption must end: a user that tags itself exempt must not stop its rotation for good.
    tagged.problem(
      TAGS.exempt,
      `has no ${TAGS.exemptUntil} date: a tag exemption must end within ${config.exemptionMaxDays} days (EXEMPTION_MAX_DAYS); the exemption is ignored until it has one`,
    );
    return undefined;
  }
  const until = parseEndOfDay(rawUntil);
  if (until === undefined) {
    // An unreadable expiry must not turn into a permanent exemption: the exemption is ignored.
    tagged.problem(TAGS.exemptUntil, `must be a date like 2026-12-31; the exemption is ignored until it is fixed`);
    return undefined;
  }
  if (now !== undefined && until.getTime() > now.getTime() + (config.exemptionMaxDays + 1) * DAY_MS) {
    tagged.problem(
      TAGS.exemptUntil,
      `is more than ${config.exemptionMaxDays} days away (EXEMPTION_MAX_DAYS); the exemption is ignored until it ends sooner`,
    );
    return undefined;
  }
  tagged.weakens(TAGS.exempt, 'rotated when due');
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
    true,
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
        true,
      );
    } else {
      const tagChecks = [...new Set(items)] as HealthCheck[];
      const removed = config.healthChecks.filter((check) => !tagChecks.includes(check));
      if (removed.length > 0 && !config.allowTagCheckRemoval) {
        // Adding checks only makes the gate stricter; dropping the account's needs its consent.
        tagged.problem(
          TAGS.healthChecks,
          `leaves out the account's check${removed.length === 1 ? '' : 's'} ${removed.join(', ')}, which this account does not allow (ALLOW_TAG_CHECK_REMOVAL); they are kept`,
        );
        checks = [...config.healthChecks, ...tagChecks.filter((check) => !config.healthChecks.includes(check))];
      } else {
        if (removed.length > 0) tagged.weakens(TAGS.healthChecks, config.healthChecks.join(' '));
        checks = tagChecks;
      }
    }
  }

  let urls: readonly string[] = config.healthCheckUrls;
  const rawUrls = tagged.get(TAGS.healthCheckUrls);
  if (rawUrls !== undefined) {
    const items = rawUrls.split(/\s+/).filter(Boolean);
    // A health URL is fetched by the rotator: from a tag, only an origin the account allows, so a
    // user cannot point its own gate at an endpoint it controls (or at internal addresses).
    const allowed = new Set([
      ...config.healthCheckUrlOrigins,
      ...config.healthCheckUrls.map(urlOrigin).filter((origin): origin is string => origin !== undefined),
    ]);
    const outside = items.filter((url) => /^https?:\/\/\S+$/.test(url) && !allowed.has(urlOrigin(url) ?? ''));
    if (items.length === 0 || items.some((url) => !/^https?:\/\/\S+$/.test(url))) {
      tagged.problem(TAGS.healthCheckUrls, `must be http(s) URLs separated by spaces; the account default is used`);
    } else if (outside.length > 0) {
      tagged.problem(
        TAGS.healthCheckUrls,
        `names ${outside.join(', ')}, outside the origins this account allows (HEALTH_CHECK_URL_ORIGINS${allowed.size === 0 ? ', empty' : `: ${[...allowed].join(' ')}`}); the account default is used`,
      );
    } else {
      if (config.healthCheckUrls.some((url) => !items.includes(url)))
        tagged.weakens(TAGS.healthCheckUrls, config.healthCheckUrls.join(' '));
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
