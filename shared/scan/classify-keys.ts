import { retireCommand, rotateCommand } from '../base/cli-commands.ts';
import { daysBetween } from '../base/clock.ts';
import type { UserSettings } from '../config/user-settings.ts';
import type { KeyStatus } from '../aws/iam.ts';

export const KEY_CLASSES = ['ok', 'warn', 'due', 'unused', 'exempt', 'inactive'] as const;
export type KeyClass = (typeof KEY_CLASSES)[number];
export type KeyAction = 'none' | 'notify' | 'rotate' | 'deactivate' | 'retire';

/** What the policy needs to know about one key; the same for a live read and a credential report row. */
export interface KeyTimes {
  readonly status: KeyStatus;
  readonly createdAt: Date;
  /** undefined when the key was never used (or IAM has no record of its use). */
  readonly lastUsedAt: Date | undefined;
}

export interface PolicyUser {
  readonly settings: UserSettings;
  /** Why the account config exempts this user (by IAM path or group), if it does. */
  readonly accountExemption: string | undefined;
  /** Why the user is protected (PROTECTED_USERS, PROTECTED_PATHS), if it is: the rotator never acts on it. Absent: not protected. */
  readonly protection?: string | undefined;
  /** The user's invalid rotation tags, one sentence: its due keys are not rotated until they are fixed (a typo must not drop a check). */
  readonly invalidTags?: string | undefined;
  /** Why the user is outside the rotator's scope (ROTATION_USER_PATH, ROTATION_USER_TAG_VALUE), if it is: reported, never attempted. */
  readonly outOfScope?: string | undefined;
}

export interface Verdict {
  readonly class: KeyClass;
  /** A sentence for people. For `due` it holds no day counts, so a rotation's input stays the same from day to day. */
  readonly reason: string;
  readonly action: KeyAction;
  readonly ageDays: number;
  /** null when the key was never used. */
  readonly lastUsedDaysAgo: number | null;
}

/**
 * Classifies one key. Boundaries, with ages in whole days elapsed (floored, so a key becomes
 * N days old exactly N×24h after its creation):
 *   - `due`    when ageDays ≥ maxAgeDays                       (defaults: day 90 and later)
 *   - `warn`   when ageDays ≥ maxAgeDays − warnDays             (defaults: days 76–89)
 *   - `unused` when lastUsedDaysAgo ≥ unusedAfterDays, or never used and ageDays ≥ unusedAfterDays
 *   - `ok`     otherwise                                         (defaults: days 0–75)
 * Precedence: `inactive` first (nothing to do with a disabled key); then `unused` over `due`
 * (a key nobody uses should be retired, not renewed); an exemption turns a key that would need
 * action into `exempt`, but leaves a key that needs nothing `ok`: `exempt` means "held back",
 * which is what a report reader needs to see, and it lets the scanner skip the live read of exempt
 * users whose keys are young. An expired exemption is ignored and the reason says so.
 */
export function classifyKey(key: KeyTimes, user: PolicyUser, now: Date): Verdict {
  const { settings } = user;
  const ageDays = Math.max(0, daysBetween(key.createdAt, now));
  const lastUsedDaysAgo = key.lastUsedAt === undefined ? null : Math.max(0, daysBetween(key.lastUsedAt, now));
  const verdict = (cls: KeyClass, reason: string, action: KeyAction): Verdict => ({ class: cls, reason, action, ageDays, lastUsedDaysAgo });

  if (key.status !== 'Active') return verdict('inactive', 'key is Inactive', 'none');

  const warnFrom = settings.maxAgeDays - settings.warnDays;
  let base: Verdict;
  if (lastUsedDaysAgo !== null && lastUsedDaysAgo >= settings.unusedAfterDays) {
    base = verdict(
      'unused',
      `not used for ${lastUsedDaysAgo} days (unused after ${settings.unusedAfterDays}): retire it rather than renew it`,
      settings.unusedAction,
    );
  } else if (lastUsedDaysAgo === null && ageDays >= settings.unusedAfterDays) {
    base = verdict(
      'unused',
      `never used in ${ageDays} days (unused after ${settings.unusedAfterDays}): retire it rather than renew it`,
      settings.unusedAction,
    );
  } else if (ageDays >= settings.maxAgeDays) {
    base = verdict('due', `reached the rotation age of ${settings.maxAgeDays} days`, 'rotate');
  } else if (ageDays >= warnFrom) {
    const left = settings.maxAgeDays - ageDays;
    base = verdict('warn', `rotation due in ${left} day${left === 1 ? '' : 's'} (rotation age ${settings.maxAgeDays} days)`, 'notify');
  } else {
    // A key that needs nothing stays ok, but says what would hold it back when due (scan --all shows it).
    const held = heldBack(user, now);
    return verdict(
      'ok',
      `within its rotation window (${ageDays} of ${settings.maxAgeDays} days)${held ? `; when due: ${held}` : ''}`,
      'none',
    );
  }

  // Protection wins over every exemption: no action at all, whatever the key's age or use.
  if (user.protection !== undefined) {
    return verdict(
      'exempt',
      `protected: ${user.protection}; the rotator never acts on it; otherwise ${base.class}: ${base.reason}`,
      'none',
    );
  }
  if (user.outOfScope !== undefined) {
    return verdict(
      'exempt',
      `out of scope: ${user.outOfScope}; the rotator does not act on it; otherwise ${base.class}: ${base.reason}`,
      'none',
    );
  }
  if (user.accountExemption !== undefined) {
    return verdict('exempt', `exempt: ${user.accountExemption}; otherwise ${base.class}: ${base.reason}`, 'none');
  }
  const exemption = settings.exemption;
  if (exemption !== undefined) {
    if (exemption.until === undefined || exemption.until.getTime() >= now.getTime()) {
      const until = exemption.until === undefined ? '' : ` until ${isoDay(exemption.until)}`;
      return verdict('exempt', `exempt by tag${until} (${exemption.reason}); otherwise ${base.class}: ${base.reason}`, 'none');
    }
    base = { ...base, reason: `${base.reason}; its exemption expired on ${isoDay(exemption.until)}` };
  }
  if (user.invalidTags !== undefined && base.action === 'rotate') {
    return { ...base, reason: `${base.reason}; not rotated until its tags are fixed: ${user.invalidTags}`, action: 'none' };
  }
  return base;
}

/** What would hold the user's keys back when due: protection, scope, or an exemption that has not expired. */
function heldBack(user: PolicyUser, now: Date): string | undefined {
  if (user.protection !== undefined) return `protected (${user.protection})`;
  if (user.outOfScope !== undefined) return `out of scope (${user.outOfScope})`;
  if (user.accountExemption !== undefined) return `exempt (${user.accountExemption})`;
  const exemption = user.settings.exemption;
  if (exemption === undefined || (exemption.until !== undefined && exemption.until.getTime() < now.getTime())) return undefined;
  return `exempt by tag${exemption.until === undefined ? '' : ` until ${isoDay(exemption.until)}`} (${exemption.reason})`;
}

// Decided in config, where every path (start, Prepare, Contain) reads it too.
export { accountExemption } from '../config/exemptions.ts';

export interface KeyRef {
  readonly userName: string;
  readonly accessKeyId: string;
  readonly createdAt: Date;
  readonly class: KeyClass;
  readonly action: KeyAction;
}

export interface RotationCandidate extends KeyRef {
  /** The deterministic execution name this key's scheduled rotation would have. */
  readonly executionName: string;
}

export interface Skipped<T> {
  readonly candidate: T;
  readonly reason: string;
  /** For a scheduled rotation that ended without success: the command that starts it again. */
  readonly restartWith?: string;
}

export const CAP_REACHED = 'cap reached; next run';

/**
 * Which workflow a selection starts: scheduled rotations of due keys, or (UNUSED_KEY_ACTION=retire)
 * retirements of unused keys. `busyUsers`: users a workflow already starts for in this run, whose
 * other keys wait.
 */
export interface ScanWorkflow {
  readonly kind: 'scheduled' | 'retire';
  readonly busyUsers: ReadonlySet<string>;
}

/**
 * Picks the `due` keys to start, oldest first, up to `cap`. Keys that already have an execution of
 * that name (running, or ended without removing the key) never count against the cap, so a backlog
 * drains at `cap` new rotations per run while earlier ones are still in their health gate.
 */
/** Why a user's second due key waits: its other key is rotating, or starts in this run. */
export const ONE_PER_USER =
  'another key of this user is rotating or starts in this run; one rotation per user at a time, so this key waits for a later scan';

export function selectRotations<T extends RotationCandidate>(
  candidates: readonly T[],
  cap: number,
  existing: ReadonlyMap<string, string> = new Map(),
  accountId?: string,
  workflow: ScanWorkflow = { kind: 'scheduled', busyUsers: new Set() },
): { readonly selected: readonly T[]; readonly skipped: readonly Skipped<T>[] } {
  const retiring = workflow.kind === 'retire';
  const due = candidates
    .filter((candidate) =>
      retiring ? candidate.class === 'unused' && candidate.action === 'retire' : candidate.class === 'due' && candidate.action === 'rotate',
    )
    .sort(oldestFirst);
  const keysInRotation = runningKeyIds(existing);
  const selected: T[] = [];
  const skipped: Skipped<T>[] = [];
  // One rotation per user at a time: two would fight over the two-key limit and the user's secret.
  const busyUsers = new Set([
    ...workflow.busyUsers,
    ...due
      .filter((candidate) => existing.get(candidate.executionName) === 'RUNNING' || keysInRotation.has(candidate.accessKeyId))
      .map((candidate) => candidate.userName),
  ]);
  for (const candidate of due) {
    const status = existing.get(candidate.executionName);
    if (status === 'RUNNING') skipped.push({ candidate, reason: `rotation already running (execution ${candidate.executionName})` });
    else if (status === undefined && keysInRotation.has(candidate.accessKeyId)) {
      skipped.push({ candidate, reason: 'another rotation of this key (manual or compromise) is running; the next scan looks again' });
    } else if (status !== undefined) {
      const restartWith = (retiring ? retireCommand : rotateCommand)(candidate.userName, candidate.accessKeyId, accountId);
      skipped.push({
        candidate,
        reason:
          `a ${retiring ? 'retirement' : 'scheduled rotation'} of this key already ended ${status} (execution ${candidate.executionName}); the scan does not start it again. ` +
          `See why with \`iam-key-rotator status ${candidate.userName}\`, then start it again: \`${restartWith}\``,
        restartWith,
      });
    } else if (busyUsers.has(candidate.userName)) {
      skipped.push({ candidate, reason: ONE_PER_USER });
    } else if (selected.length < cap) {
      selected.push(candidate);
      busyUsers.add(candidate.userName);
    } else skipped.push({ candidate, reason: CAP_REACHED });
  }
  return { selected, skipped };
}

/**
 * Key ids of running executions, read from their names (`<user>-<key id>-<kind>-<hash>`: the last
 * three parts never hold a dash, while a user name may).
 */
export function runningKeyIds(executions: ReadonlyMap<string, string>): ReadonlySet<string> {
  const keys = new Set<string>();
  for (const [name, status] of executions) {
    if (status !== 'RUNNING') continue;
    const key = name.split('-').at(-3);
    if (key) keys.add(key);
  }
  return keys;
}

/**
 * Picks the `unused` keys whose action is `deactivate`, oldest first, up to `cap`: a config change
 * (say, a shorter unused window) never disables hundreds of keys in one run.
 */
export function selectDeactivations<T extends KeyRef>(
  candidates: readonly T[],
  cap: number,
): { readonly selected: readonly T[]; readonly skipped: readonly Skipped<T>[] } {
  const unused = candidates.filter((candidate) => candidate.class === 'unused' && candidate.action === 'deactivate').sort(oldestFirst);
  return {
    selected: unused.slice(0, cap),
    skipped: unused.slice(cap).map((candidate) => ({ candidate, reason: CAP_REACHED })),
  };
}

/** Oldest key first; ties broken by user and key id so every run picks the same keys. */
export function oldestFirst(a: { readonly createdAt: Date; readonly userName: string; readonly accessKeyId: string }, b: typeof a): number {
  return (
    a.createdAt.getTime() - b.createdAt.getTime() || a.userName.localeCompare(b.userName) || a.accessKeyId.localeCompare(b.accessKeyId)
  );
}

function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}
