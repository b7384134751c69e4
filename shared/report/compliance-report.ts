import { DAY_MS } from '../base/clock.ts';
import type { KeyClass } from '../scan/classify-keys.ts';
import type { ScannedKey, TagProblem, UserProblem } from '../scan/scanner.ts';
import { ROTATION_OUTCOMES, type RotationOutcome, type RotationRecord } from './rotation-history.ts';

/**
 * Where a key stands for an auditor. `compliant`: inside its rotation window (including due soon).
 * `due`: past its window and being rotated. `overdue`: past its window and nothing is rotating it.
 * `unused`: to retire rather than rotate. `exempt`: held back by an exemption. `inactive`: cannot sign requests.
 */
export const COMPLIANCE_STATES = ['compliant', 'due', 'overdue', 'unused', 'exempt', 'inactive'] as const;
export type ComplianceState = (typeof COMPLIANCE_STATES)[number];

/** The last rotation that touched a key: the one that created it, or one that is replacing it. */
export interface KeyRotation {
  readonly executionName: string;
  readonly startedAt: string;
  readonly outcome: RotationOutcome;
  readonly gateWaitSeconds: number | null;
}

export interface ReportKey {
  readonly accountId: string;
  readonly accountName: string | null;
  readonly userName: string;
  readonly accessKeyId: string;
  readonly status: string;
  readonly class: KeyClass;
  readonly compliance: ComplianceState;
  readonly ageDays: number;
  readonly maxAgeDays: number;
  readonly dueOn: string;
  readonly createdAt: string;
  readonly lastUsedAt: string | null;
  readonly owner: string | null;
  readonly exemptUntil: string | null;
  readonly reason: string;
  readonly lastRotation: KeyRotation | null;
}

/** One account's scan, as the report takes it. */
export interface AccountKeys {
  readonly accountId: string;
  readonly accountName: string | null;
  readonly keys: readonly ScannedKey[];
  readonly userErrors: readonly UserProblem[];
  readonly tagProblems: readonly TagProblem[];
  /** Set when the account could not be read at all (an organization report goes on with the others). */
  readonly error: string | null;
}

export type ComplianceSummary = Readonly<Record<ComplianceState | 'keys' | 'dueSoon', number>>;

export interface WeekOutcomes {
  /** The Monday (UTC) that starts the ISO week. */
  readonly week: string;
  readonly outcome: RotationOutcome;
  readonly count: number;
}

export interface AccountSummary {
  readonly accountId: string;
  readonly accountName: string | null;
  readonly summary: ComplianceSummary;
  readonly error: string | null;
  readonly problems: number;
}

export interface ComplianceReport {
  readonly generatedAt: string;
  /** The instant key ages are counted to: generatedAt, or the end of an --as-of day. */
  readonly asOf: string;
  /** The account default window (ROTATION_MAX_AGE_DAYS); a user's tag may shorten it, each key carries its own. */
  readonly defaultMaxAgeDays: number;
  readonly summary: ComplianceSummary;
  readonly accounts: readonly AccountSummary[];
  readonly keys: readonly ReportKey[];
  readonly history: {
    /** Where the rotations were read: the deployed state machine, the local runs' records, or nowhere. */
    readonly source: 'step-functions' | 'local-runs' | 'none';
    readonly since: string;
    readonly note: string | null;
    readonly rotations: readonly RotationRecord[];
    readonly perWeek: readonly WeekOutcomes[];
  };
  readonly userErrors: readonly (UserProblem & { readonly accountId: string })[];
  readonly tagProblems: readonly (TagProblem & { readonly accountId: string })[];
}

export interface ReportInput {
  readonly generatedAt: Date;
  readonly asOf?: Date;
  readonly defaultMaxAgeDays: number;
  readonly accounts: readonly AccountKeys[];
  readonly history: Pick<ComplianceReport['history'], 'source' | 'since' | 'note'> & { readonly rotations: readonly RotationRecord[] };
}

/** Rotations belong to an account by their input's accountId; the stack's own account starts them without one. */
function accountOfRecord(record: RotationRecord, ownAccountId: string): string {
  return record.accountId ?? ownAccountId;
}

function complianceOf(key: ScannedKey, rotating: boolean): ComplianceState {
  switch (key.class) {
    case 'ok':
    case 'warn':
      return 'compliant';
    case 'due':
      return rotating ? 'due' : 'overdue';
    case 'unused':
      return 'unused';
    case 'exempt':
      return 'exempt';
    case 'inactive':
      return 'inactive';
  }
}

function emptySummary(): Record<ComplianceState | 'keys' | 'dueSoon', number> {
  return { keys: 0, compliant: 0, dueSoon: 0, due: 0, overdue: 0, unused: 0, exempt: 0, inactive: 0 };
}

/** The Monday (UTC) of the ISO week that holds `iso`. */
export function weekOf(iso: string): string {
  const day = new Date(Date.parse(iso));
  const sinceMonday = (day.getUTCDay() + 6) % 7;
  return new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate()) - sinceMonday * DAY_MS).toISOString().slice(0, 10);
}

/** Rotations per ISO week and outcome, oldest week first, outcomes in ROTATION_OUTCOMES order; weeks without a rotation are left out. */
export function rotationsPerWeek(rotations: readonly RotationRecord[]): WeekOutcomes[] {
  const counts = new Map<string, number>();
  for (const record of rotations) {
    if (record.startedAt === '') continue;
    const slot = `${weekOf(record.startedAt)}\n${record.outcome}`;
    counts.set(slot, (counts.get(slot) ?? 0) + 1);
  }
  return [...counts]
    .map(([slot, count]) => {
      const [week = '', outcome = 'Failed'] = slot.split('\n');
      return { week, outcome: outcome as RotationOutcome, count };
    })
    .sort((a, b) => a.week.localeCompare(b.week) || ROTATION_OUTCOMES.indexOf(a.outcome) - ROTATION_OUTCOMES.indexOf(b.outcome));
}

/**
 * The report: every key of every account read, where it stands against its own window, and the
 * rotations that created or are replacing it. Pure: the CLI reads, this decides.
 */
export function buildComplianceReport(input: ReportInput): ComplianceReport {
  const ownAccountId = input.accounts[0]?.accountId ?? '';
  // The latest rotation per key, as the key it replaced and as the key it created, for this account.
  const latest = new Map<string, RotationRecord>();
  const running = new Set<string>();
  const remember = (accountId: string, keyId: string | null, record: RotationRecord): void => {
    if (keyId === null) return;
    const slot = `${accountId}/${keyId}`;
    const known = latest.get(slot);
    if (known === undefined || known.startedAt < record.startedAt) latest.set(slot, record);
  };
  for (const record of input.history.rotations) {
    const accountId = accountOfRecord(record, ownAccountId);
    remember(accountId, record.oldAccessKeyId, record);
    remember(accountId, record.newAccessKeyId, record);
    if (record.outcome === 'Running' && record.oldAccessKeyId !== null) running.add(`${accountId}/${record.oldAccessKeyId}`);
  }

  const total = emptySummary();
  const accounts: AccountSummary[] = [];
  const keys: ReportKey[] = [];
  for (const account of input.accounts) {
    const summary = emptySummary();
    for (const key of account.keys) {
      const slot = `${account.accountId}/${key.accessKeyId}`;
      const compliance = complianceOf(key, running.has(slot));
      const rotation = latest.get(slot);
      keys.push({
        accountId: account.accountId,
        accountName: account.accountName,
        userName: key.userName,
        accessKeyId: key.accessKeyId,
        status: key.status,
        class: key.class,
        compliance,
        ageDays: key.ageDays,
        maxAgeDays: key.maxAgeDays,
        dueOn: key.dueOn,
        createdAt: key.createdAt,
        lastUsedAt: key.lastUsedAt,
        owner: key.owner,
        exemptUntil: key.exemptUntil,
        reason: key.reason,
        lastRotation:
          rotation === undefined
            ? null
            : {
                executionName: rotation.executionName,
                startedAt: rotation.startedAt,
                outcome: rotation.outcome,
                gateWaitSeconds: rotation.gateWaitSeconds,
              },
      });
      for (const counts of [summary, total]) {
        counts.keys += 1;
        counts[compliance] += 1;
        if (key.class === 'warn') counts.dueSoon += 1;
      }
    }
    accounts.push({
      accountId: account.accountId,
      accountName: account.accountName,
      summary,
      error: account.error,
      problems: account.userErrors.length + account.tagProblems.length,
    });
  }
  keys.sort(
    (a, b) =>
      ATTENTION_ORDER.indexOf(a.compliance) - ATTENTION_ORDER.indexOf(b.compliance) ||
      a.accountId.localeCompare(b.accountId) ||
      a.userName.localeCompare(b.userName) ||
      a.accessKeyId.localeCompare(b.accessKeyId),
  );
  const rotations = [...input.history.rotations].sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  return {
    generatedAt: input.generatedAt.toISOString(),
    asOf: (input.asOf ?? input.generatedAt).toISOString(),
    defaultMaxAgeDays: input.defaultMaxAgeDays,
    summary: total,
    accounts,
    keys,
    history: { ...input.history, rotations, perWeek: rotationsPerWeek(rotations) },
    userErrors: input.accounts.flatMap((account) => account.userErrors.map((problem) => ({ ...problem, accountId: account.accountId }))),
    tagProblems: input.accounts.flatMap((account) => account.tagProblems.map((problem) => ({ ...problem, accountId: account.accountId }))),
  };
}

/** The table lists what needs a person first. */
const ATTENTION_ORDER: readonly ComplianceState[] = ['overdue', 'due', 'unused', 'exempt', 'compliant', 'inactive'];
