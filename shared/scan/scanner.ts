import { UpdateAccessKeyCommand, type IAMClient } from '@aws-sdk/client-iam';
import { StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { DAY_MS, type Clock } from '../base/clock.ts';
import { mapWithConcurrency } from '../base/concurrency.ts';
import type { Config } from '../config/settings.ts';
import { fetchCredentialReport, type ReportKey, type ReportWaitOptions } from '../aws/credential-report.ts';
import { ConfigError, errorMessage, errorName } from '../base/errors.ts';
import { executionName } from '../base/execution-name.ts';
import { keyLastUsed, listUserKeys, readAccountUsers, readUserFacts, type AccessKey, type KeyStatus, type UserFacts } from '../aws/iam.ts';
import {
  KEY_CLASSES,
  accountExemption,
  classifyKey,
  runningKeyIds,
  selectDeactivations,
  selectRotations,
  type KeyAction,
  type KeyClass,
  type PolicyUser,
} from './classify-keys.ts';
import { refusingProblems, reportedProblem, resolveUserSettings, withoutFallback } from '../config/user-settings.ts';
import { outOfScope, protection } from '../config/exemptions.ts';
import { RotationExecutions } from './rotation-executions.ts';

export const SCHEDULED_KIND = 'scheduled';
/** UNUSED_KEY_ACTION=retire: the workflow the scan starts for an unused key. */
export const RETIRE_KIND = 'retire';

/** The state machine input of a scheduled rotation or retirement. No timestamps: the same key always gives the same input. */
export interface ScheduledRotationInput {
  readonly userName: string;
  readonly accessKeyId: string;
  readonly kind: typeof SCHEDULED_KIND | typeof RETIRE_KIND;
  readonly requestedBy: 'scanner';
  readonly reason: string;
  /** Organization scans: the member account the rotation acts in (through its member role); absent for the rotator's own account. */
  readonly accountId?: string;
  readonly accountName?: string;
}

/** The member account a scan reads and acts in; absent for the rotator's own account. */
export interface ScanAccountTarget {
  readonly accountId: string;
  readonly accountName: string;
}

export interface ScanOptions {
  readonly iam: IAMClient;
  readonly sfn: SFNClient;
  readonly config: Config;
  readonly clock: Clock;
  /** Read and classify only: start no rotation, deactivate no key. */
  readonly dryRun: boolean;
  /** Read just these users live (no credential report). */
  readonly users?: readonly string[] | undefined;
  /** Read every user's keys live, one ListAccessKeys per user, instead of only those the report flags. */
  readonly all?: boolean | undefined;
  /** Short notes on long steps, for a person waiting at a terminal. */
  readonly progress?: ((message: string) => void) | undefined;
  readonly reportWait?: Omit<ReportWaitOptions, 'timeoutMs'> | undefined;
  /** Users read live at the same time. */
  readonly concurrency?: number | undefined;
  /**
   * Organization scans: the member account that `iam` is signed for. Rotations started for its keys
   * carry it in their input, so the workflow acts there through the member role.
   */
  readonly account?: ScanAccountTarget | undefined;
  /**
   * Also read the keys of the due users the cap left for later runs (one ListAccessKeys each), into
   * `deferredKeys`: Security Hub findings name each key, which the credential report does not.
   */
  readonly readDeferredKeys?: boolean | undefined;
}

export interface ScannedKey {
  readonly userName: string;
  readonly accessKeyId: string;
  readonly status: KeyStatus;
  readonly createdAt: string;
  readonly lastUsedAt: string | null;
  readonly ageDays: number;
  readonly lastUsedDaysAgo: number | null;
  readonly class: KeyClass;
  readonly reason: string;
  readonly action: KeyAction;
  readonly owner: string | null;
  /** The user's rotation window: the age in days at which the key is due. */
  readonly maxAgeDays: number;
  /** The UTC day the key reaches its user's rotation age. */
  readonly dueOn: string;
  /** The secret that holds (or will hold) the user's key. */
  readonly secretName: string;
  /**
   * The last UTC day of the user's dated `rotation:exempt` tag exemption, when that tag is what
   * holds the key back (an account exemption by path or group outlasts any tag, so then null).
   */
  readonly exemptUntil: string | null;
  /** The user's applied tags that weaken a default, for the owner's notices (absent: none). */
  readonly weakened?: readonly { readonly tag: string; readonly value: string; readonly default: string }[];
}

export interface KeyOutcome {
  readonly userName: string;
  readonly accessKeyId: string;
}

export interface StartedRotation extends KeyOutcome {
  readonly executionName: string;
  readonly executionArn: string;
  /** `retire`: a retirement of an unused key (UNUSED_KEY_ACTION=retire); absent: a scheduled rotation. */
  readonly kind?: typeof RETIRE_KIND;
}

export interface SkippedAction extends KeyOutcome {
  readonly reason: string;
  /** The error's name when the action was tried and failed; absent when it was skipped by design. */
  readonly error?: string;
  /** A scheduled rotation that ended without success, which the scan does not start again: the command that does. */
  readonly restartWith?: string;
}

export interface UserProblem {
  readonly userName: string;
  readonly error: string;
  readonly message: string;
}

export interface TagProblem {
  readonly userName: string;
  readonly tag: string;
  readonly message: string;
}

/** An applied tag that loosens an account default for this user (see WeakenedOverride). */
export interface WeakenedTag {
  readonly userName: string;
  readonly tag: string;
  readonly value: string;
  readonly default: string;
}

export type ScanMode = 'report' | 'users' | 'all';

export interface ScanResult {
  readonly asOf: string;
  readonly mode: ScanMode;
  readonly dryRun: boolean;
  readonly reportGeneratedAt: string | null;
  readonly usersSeen: number;
  readonly usersReadLive: number;
  /**
   * Keys the report shows due whose users were not read live: this run's cap on starts was already
   * filled by older due keys, so reading them would buy nothing; later runs take them, oldest first.
   */
  readonly dueNotReadLive: number;
  /** Keys read live: every key of the users that may need action (all users with `all`). */
  readonly keys: readonly ScannedKey[];
  /** Every key seen, by class: the live reads plus the report rows that needed no live read. */
  readonly counts: Readonly<Record<KeyClass, number>>;
  readonly rotationsStarted: readonly StartedRotation[];
  readonly rotationsSkipped: readonly SkippedAction[];
  readonly keysDeactivated: readonly KeyOutcome[];
  readonly deactivationsSkipped: readonly SkippedAction[];
  /**
   * Who the scan covered, by user: counted from the report alone because every key is ok or Inactive
   * (`settled`), or due and left for a later run without a live read (`deferred`); users read live
   * have their keys in `keys`. Empty for named-user scans. What a finding's stale key is checked against.
   */
  readonly coverage: { readonly settled: readonly string[]; readonly deferred: readonly string[] };
  /** With `readDeferredKeys`: the keys of the `deferred` users, read live but not acted on (counts and actions leave them out); null without. */
  readonly deferredKeys: readonly ScannedKey[] | null;
  /** Step Functions reads this scan made to find which due keys may start (RotationExecutions). */
  readonly stepFunctionsCalls: { readonly listExecutions: number; readonly describeExecution: number };
  readonly tagProblems: readonly TagProblem[];
  /** Every applied tag that weakens a default, with its value: tags are data anyone who may tag the user can set. */
  readonly weakened: readonly WeakenedTag[];
  readonly userErrors: readonly UserProblem[];
}

interface Subject {
  readonly facts: UserFacts;
  readonly policy: PolicyUser;
  readonly owner: string | undefined;
  readonly weakened: readonly { readonly tag: string; readonly value: string; readonly default: string }[];
  /** The user's report rows, used to skip GetAccessKeyLastUsed where the report already settles it. */
  readonly reportKeys: readonly ReportKey[];
}

const DEFAULT_CONCURRENCY = 8;
/** The report gives times to the second; a live CreateDate matches its slot within this. */
const REPORT_MATCH_MS = 1000;

/**
 * Scans the account and acts on what the policy says, within the per-run cap.
 *
 * Default mode, cost O(users / 1000 + keys needing action): the credential report gives every
 * key's age and last use; GetAccountAuthorizationDetails gives every user's path, groups and tags
 * in pages of up to 1,000 users. With both, each report row is classified under that user's own
 * settings, so a tag that shortens a user's window is honoured from its first day. Only users with
 * a key that is not `ok` (or a row that could not be read) are read live (ListAccessKeys, and
 * GetAccessKeyLastUsed when the report's last use is missing or would make the key `unused`);
 * the others are counted from the report. Users whose only action is a due key are read oldest
 * first and only until the run's cap of starts is filled (the rest are `dueNotReadLive`). Limits: the report may be up to four hours old, so a
 * key created or re-activated within those hours is only seen on a later run; last use can only
 * be more recent than the report says, so it never hides a due key.
 */
export async function scanAccount(options: ScanOptions): Promise<ScanResult> {
  const { config, dryRun } = options;
  if (!dryRun && config.stateMachineArn === '') {
    throw new ConfigError(
      'ROTATION_STATE_MACHINE_ARN is not set, so no rotation can be started. Set it to the rotation state machine ARN ' +
        '(the stack output RotateKeyStateMachineArn), or scan as a dry run.',
    );
  }
  const run = new ScanRun(options);
  const mode: ScanMode = options.users !== undefined && options.users.length > 0 ? 'users' : options.all ? 'all' : 'report';
  const plan = mode === 'users' ? await run.planNamedUsers([...new Set(options.users)]) : await run.planFromReport(mode);

  if (plan.toRead.length > 0) run.progress(`reading the keys of ${plan.toRead.length} user${plan.toRead.length === 1 ? '' : 's'}…`);
  const keys = await run.readKeysOf(plan.toRead);
  const executions = new RotationExecutions(options.sfn, config.stateMachineArn, run.concurrency);
  if (keys.some((key) => key.class === 'due' || key.action === 'retire') || plan.dueOnly.length > 0) await executions.loadRunning();
  const deferredRead = await run.readDueOldestFirst(plan.dueOnly, keys, executions);
  for (const key of keys) run.counts[key.class] += 1;

  const deferredKeys = options.readDeferredKeys ? await run.readKeysOf(deferredRead.deferredSubjects) : null;
  const rotations = await startRotations(options, keys, executions);
  const deactivations = await deactivateUnused(options, keys);
  return {
    asOf: run.now.toISOString(),
    mode,
    dryRun,
    reportGeneratedAt: plan.reportGeneratedAt?.toISOString() ?? null,
    usersSeen: plan.usersSeen,
    usersReadLive: plan.toRead.length + deferredRead.usersRead,
    dueNotReadLive: deferredRead.dueNotReadLive,
    keys,
    counts: run.counts,
    rotationsStarted: rotations.started,
    rotationsSkipped: rotations.skipped,
    keysDeactivated: deactivations.done,
    deactivationsSkipped: deactivations.skipped,
    stepFunctionsCalls: { ...executions.calls },
    coverage: { settled: run.settled, deferred: deferredRead.deferredSubjects.map((user) => user.facts.userName) },
    deferredKeys,
    tagProblems: run.tagProblems,
    weakened: run.weakened,
    userErrors: run.userErrors,
  };
}

/** Whom a scan reads live: now, or (due keys only) oldest first until the cap of starts is filled. */
interface ReadPlan {
  readonly usersSeen: number;
  readonly reportGeneratedAt: Date | undefined;
  readonly toRead: readonly Subject[];
  readonly dueOnly: DeferredUser[];
}

/** One scan's running totals and the reads that feed them; a user that cannot be read is reported and the scan goes on. */
class ScanRun {
  readonly now: Date;
  readonly counts = Object.fromEntries(KEY_CLASSES.map((cls) => [cls, 0])) as Record<KeyClass, number>;
  readonly tagProblems: TagProblem[] = [];
  readonly weakened: WeakenedTag[] = [];
  readonly userErrors: UserProblem[] = [];
  /** Users counted from the report alone: every key ok or Inactive. */
  readonly settled: string[] = [];
  readonly progress: (message: string) => void;
  readonly concurrency: number;

  constructor(private readonly options: ScanOptions) {
    this.now = options.clock();
    this.progress = options.progress ?? ((): void => undefined);
    this.concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  }

  private subject(facts: UserFacts, reportKeys: readonly ReportKey[]): Subject {
    const { config } = this.options;
    const { settings, problems, weakened } = resolveUserSettings(facts.userName, facts.tags, config, this.now);
    for (const problem of problems)
      this.tagProblems.push({ userName: problem.userName, tag: problem.tagKey, message: reportedProblem(problem) });
    for (const override of weakened) this.weakened.push({ userName: facts.userName, ...override });
    const refusing = refusingProblems(problems);
    return {
      facts,
      reportKeys,
      owner: settings.owner,
      weakened,
      policy: {
        settings,
        accountExemption: accountExemption(config, facts.path, facts.groups),
        protection: protection(config, facts.userName, facts.path),
        outOfScope: outOfScope(config, facts.path, facts.tags),
        ...(refusing.length === 0 ? {} : { invalidTags: refusing.map(withoutFallback).join('; ') }),
      },
    };
  }

  private userError(userName: string, error: unknown): void {
    this.userErrors.push({ userName, error: errorName(error), message: errorMessage(error) });
  }

  async planNamedUsers(names: readonly string[]): Promise<ReadPlan> {
    const { iam, config } = this.options;
    this.progress(`reading ${names.length} user${names.length === 1 ? '' : 's'}…`);
    const read = await mapWithConcurrency(names, this.concurrency, async (name) => {
      try {
        return this.subject(await readUserFacts(iam, name, config.exemptGroups.length > 0), []);
      } catch (error) {
        this.userError(name, error);
        return undefined;
      }
    });
    return {
      usersSeen: names.length,
      reportGeneratedAt: undefined,
      toRead: read.filter((entry): entry is Subject => entry !== undefined),
      dueOnly: [],
    };
  }

  async planFromReport(mode: 'report' | 'all'): Promise<ReadPlan> {
    const { iam, config } = this.options;
    this.progress('generating the IAM credential report…');
    const report = await fetchCredentialReport(iam, { timeoutMs: config.credentialReportTimeoutMs, ...this.options.reportWait });
    this.progress(`reading the paths, groups and tags of ${report.users.length} user${report.users.length === 1 ? '' : 's'}…`);
    const account = await readAccountUsers(iam);
    const reportRows = new Map(report.users.map((row) => [row.userName, row]));
    const toRead: Subject[] = [];
    const dueOnly: DeferredUser[] = [];
    for (const facts of account.values()) {
      const row = reportRows.get(facts.userName);
      // A user missing from the report was created after it and has only new keys; `all` reads it anyway.
      if (row === undefined && mode === 'report') continue;
      const user = this.subject(facts, row?.keys ?? []);
      const verdicts = (row?.keys ?? []).map((key) =>
        classifyKey(
          { status: key.active ? 'Active' : 'Inactive', createdAt: key.createdAt, lastUsedAt: key.lastUsedAt },
          user.policy,
          this.now,
        ),
      );
      if (
        mode === 'all' ||
        row?.unreadable !== undefined ||
        verdicts.some((verdict) => !['ok', 'inactive', 'due'].includes(verdict.class))
      ) {
        toRead.push(user);
      } else if (verdicts.some((verdict) => verdict.class === 'due')) {
        const oldestDue = Math.min(
          ...(row?.keys ?? []).filter((_, index) => verdicts[index]?.class === 'due').map((key) => key.createdAt.getTime()),
        );
        dueOnly.push({ user, oldestDue, classes: verdicts.map((verdict) => verdict.class) });
      } else {
        for (const verdict of verdicts) this.counts[verdict.class] += 1;
        this.settled.push(facts.userName);
      }
    }
    // Users in the report but gone from IAM were deleted since; they have no keys left to act on.
    return { usersSeen: mode === 'all' ? account.size : report.users.length, reportGeneratedAt: report.generatedAt, toRead, dueOnly };
  }

  async readKeysOf(users: readonly Subject[]): Promise<ScannedKey[]> {
    const perUser = await mapWithConcurrency(users, this.concurrency, async (user) => {
      try {
        return await readUserKeys(this.options.iam, user, this.now);
      } catch (error) {
        this.userError(user.facts.userName, error);
        return [];
      }
    });
    return perUser.flat();
  }

  /**
   * Users whose only action is a due key are read live oldest first, and only until this run's cap
   * of starts is filled: at 10,000 due users a run starting 25 reads about 25 users, not 10,000.
   * Adds what it reads to `keys`; the users left are counted from the report.
   */
  async readDueOldestFirst(
    dueOnly: DeferredUser[],
    keys: ScannedKey[],
    executions: RotationExecutions,
  ): Promise<{ usersRead: number; dueNotReadLive: number; deferredSubjects: Subject[] }> {
    const cap = this.options.config.maxStartsPerRun;
    dueOnly.sort((a, b) => a.oldestDue - b.oldestDue || a.user.facts.userName.localeCompare(b.user.facts.userName));
    let next = 0;
    const startable = async (): Promise<number> => {
      const candidates = workflowCandidates(keys, SCHEDULED_KIND);
      await executions.resolve(candidates, cap);
      return selectRotations(candidates, cap, executions.statuses).selected.length;
    };
    while (next < dueOnly.length && (await startable()) < cap) {
      const batch = dueOnly.slice(next, next + this.concurrency).map((deferred) => deferred.user);
      next += batch.length;
      if (next === batch.length) this.progress(`reading the keys of the users with the oldest due keys…`);
      keys.push(...(await this.readKeysOf(batch)));
    }
    let dueNotReadLive = 0;
    const deferredSubjects: Subject[] = [];
    for (const deferred of dueOnly.slice(next)) {
      for (const cls of deferred.classes) this.counts[cls] += 1;
      dueNotReadLive += deferred.classes.filter((cls) => cls === 'due').length;
      deferredSubjects.push(deferred.user);
    }
    return { usersRead: next, dueNotReadLive, deferredSubjects };
  }
}

async function readUserKeys(iam: IAMClient, user: Subject, now: Date): Promise<ScannedKey[]> {
  const live = await listUserKeys(iam, user.facts.userName);
  const exemptUntil = user.policy.accountExemption === undefined ? user.policy.settings.exemption?.until : undefined;
  return Promise.all(
    live.map(async (key) => {
      const lastUsedAt = await lastUse(iam, key, user, now);
      const verdict = classifyKey({ status: key.status, createdAt: key.createdAt, lastUsedAt }, user.policy, now);
      return {
        userName: user.facts.userName,
        accessKeyId: key.accessKeyId,
        status: key.status,
        createdAt: key.createdAt.toISOString(),
        lastUsedAt: lastUsedAt?.toISOString() ?? null,
        ageDays: verdict.ageDays,
        lastUsedDaysAgo: verdict.lastUsedDaysAgo,
        class: verdict.class,
        reason: verdict.reason,
        action: verdict.action,
        owner: user.owner ?? null,
        maxAgeDays: user.policy.settings.maxAgeDays,
        dueOn: isoDay(new Date(key.createdAt.getTime() + user.policy.settings.maxAgeDays * DAY_MS)),
        secretName: user.policy.settings.secretName,
        exemptUntil: exemptUntil === undefined ? null : isoDay(exemptUntil),
        ...(user.weakened.length > 0 ? { weakened: user.weakened } : {}),
      };
    }),
  );
}

/**
 * The report's last use when it settles the verdict: a live read can only show a more recent use,
 * which can turn `unused` into something else but never the reverse. So GetAccessKeyLastUsed is
 * called only for keys the report does not cover or would call unused.
 */
async function lastUse(iam: IAMClient, key: AccessKey, user: Subject, now: Date): Promise<Date | undefined> {
  const matches = user.reportKeys.filter((slot) => Math.abs(slot.createdAt.getTime() - key.createdAt.getTime()) < REPORT_MATCH_MS);
  const slot = matches.length === 1 ? matches[0] : undefined;
  if (slot !== undefined && slot.active === (key.status === 'Active')) {
    const fromReport = classifyKey({ status: key.status, createdAt: key.createdAt, lastUsedAt: slot.lastUsedAt }, user.policy, now);
    if (fromReport.class !== 'unused') return slot.lastUsedAt;
  }
  return keyLastUsed(iam, key.accessKeyId, 'throw');
}

interface DeferredUser {
  readonly user: Subject;
  /** Creation time of the user's oldest due key, from the report: the order the cap is filled in. */
  readonly oldestDue: number;
  /** The report's verdict on each of the user's keys, counted if the user is not read live. */
  readonly classes: readonly KeyClass[];
}

function workflowCandidates(keys: readonly ScannedKey[], kind: typeof SCHEDULED_KIND | typeof RETIRE_KIND) {
  return keys
    .filter((key) =>
      kind === RETIRE_KIND ? key.class === 'unused' && key.action === 'retire' : key.class === 'due' && key.action === 'rotate',
    )
    .map((key) => ({
      ...key,
      createdAt: new Date(key.createdAt),
      executionName: executionName(key.userName, key.accessKeyId, kind),
    }));
}

/**
 * The workflows this scan starts, within one cap: scheduled rotations of due keys first, then
 * (UNUSED_KEY_ACTION=retire) retirements of unused keys with what the cap has left. One workflow per
 * user: a user whose rotation starts in this run has its unused key retired by a later scan.
 */
async function startRotations(
  options: ScanOptions,
  keys: readonly ScannedKey[],
  executions: RotationExecutions,
): Promise<{ started: StartedRotation[]; skipped: SkippedAction[] }> {
  const rotations = await startWorkflows(options, keys, executions, SCHEDULED_KIND, options.config.maxStartsPerRun, new Set());
  if (options.config.unusedAction !== 'retire') return rotations;
  const busy = new Set(rotations.started.map((started) => started.userName));
  const running = runningKeyIds(executions.statuses);
  for (const key of keys) if (running.has(key.accessKeyId)) busy.add(key.userName);
  const left = Math.max(0, options.config.maxStartsPerRun - rotations.started.length);
  const retirements = await startWorkflows(options, keys, executions, RETIRE_KIND, left, busy);
  return { started: [...rotations.started, ...retirements.started], skipped: [...rotations.skipped, ...retirements.skipped] };
}

async function startWorkflows(
  options: ScanOptions,
  keys: readonly ScannedKey[],
  executions: RotationExecutions,
  kind: typeof SCHEDULED_KIND | typeof RETIRE_KIND,
  cap: number,
  busyUsers: ReadonlySet<string>,
): Promise<{ started: StartedRotation[]; skipped: SkippedAction[] }> {
  const { sfn, config, dryRun } = options;
  const candidates = workflowCandidates(keys, kind);
  const started: StartedRotation[] = [];
  const skipped: SkippedAction[] = [];
  if (candidates.length === 0) return { started, skipped };
  if (config.stateMachineArn === '') {
    for (const key of candidates) skipped.push({ ...outcome(key), reason: 'dry run; no state machine configured' });
    return { started, skipped };
  }

  await executions.resolve(candidates, cap);
  const plan = selectRotations(candidates, cap, executions.statuses, options.account?.accountId, { kind, busyUsers });
  for (const { candidate, reason, restartWith } of plan.skipped)
    skipped.push({ ...outcome(candidate), reason, ...(restartWith === undefined ? {} : { restartWith }) });
  for (const candidate of plan.selected) {
    if (dryRun) {
      skipped.push({ ...outcome(candidate), reason: heldReason(config) });
      continue;
    }
    const input: ScheduledRotationInput = {
      userName: candidate.userName,
      accessKeyId: candidate.accessKeyId,
      kind,
      requestedBy: 'scanner',
      reason: candidate.reason,
      ...(options.account === undefined ? {} : { accountId: options.account.accountId, accountName: options.account.accountName }),
    };
    try {
      const response = await sfn.send(
        new StartExecutionCommand({ stateMachineArn: config.stateMachineArn, name: candidate.executionName, input: JSON.stringify(input) }),
      );
      started.push({
        ...outcome(candidate),
        executionName: candidate.executionName,
        executionArn: response.executionArn ?? '',
        ...(kind === RETIRE_KIND ? { kind } : {}),
      });
    } catch (error) {
      skipped.push({
        ...outcome(candidate),
        reason:
          errorName(error) === 'ExecutionAlreadyExists'
            ? `execution ${candidate.executionName} already exists with another input (started by someone else between listing and starting)`
            : `could not start the ${kind === RETIRE_KIND ? 'retirement' : 'rotation'}: ${errorMessage(error)}`,
        error: errorName(error),
      });
    }
  }
  return { started, skipped };
}

async function deactivateUnused(
  options: ScanOptions,
  keys: readonly ScannedKey[],
): Promise<{ done: KeyOutcome[]; skipped: SkippedAction[] }> {
  const { iam, config, dryRun } = options;
  const plan = selectDeactivations(
    keys.map((key) => ({ ...key, createdAt: new Date(key.createdAt) })),
    config.maxStartsPerRun,
  );
  const done: KeyOutcome[] = [];
  const skipped: SkippedAction[] = plan.skipped.map(({ candidate, reason }) => ({ ...outcome(candidate), reason }));
  for (const key of plan.selected) {
    if (dryRun) {
      skipped.push({ ...outcome(key), reason: heldReason(config) });
      continue;
    }
    try {
      // Reversible (UpdateAccessKey Active), and the key has gone unused past the user's threshold.
      await iam.send(new UpdateAccessKeyCommand({ UserName: key.userName, AccessKeyId: key.accessKeyId, Status: 'Inactive' }));
      done.push(outcome(key));
    } catch (error) {
      skipped.push({ ...outcome(key), reason: `could not deactivate the key: ${errorMessage(error)}`, error: errorName(error) });
    }
  }
  return { done, skipped };
}

/** Why a planned action was not taken: a dry run, or the deployment's report-only mode (a pilot's first step). */
export const REPORT_ONLY_REASON = 'report-only (ROTATION_MODE=report-only): reported, not acted on';
function heldReason(config: Pick<Config, 'rotationMode'>): string {
  return config.rotationMode === 'report-only' ? REPORT_ONLY_REASON : 'dry run';
}

function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

function outcome(key: KeyOutcome): KeyOutcome {
  return { userName: key.userName, accessKeyId: key.accessKeyId };
}
