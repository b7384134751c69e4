import type { Logger } from '@aws-lambda-powertools/logger';
import { errorMessage, errorName } from '../base/errors.ts';
import type { AwsSecurityFinding, SecurityHubApi } from '../aws/security-hub.ts';
import type { ScanResult, ScannedKey } from './scanner.ts';
import { activeKeyFindings, writeFindings, type FindingsOutcome } from '../findings/finding-writer.ts';
import { findingId, keyFinding, type KeyFindingFact, type KeyFindingState } from '../findings/key-findings.ts';

export interface ScanFindingsContext {
  readonly accountId: string;
  readonly region: string;
  readonly partition?: string;
}

export interface ScanFindingsOutcome extends FindingsOutcome {
  /** Findings archived because their key is now ok, Inactive or gone. */
  readonly archived: number;
}

/** A contained leak stays in front of the security team until a person closes it: a scan never archives or rewrites it. */
const LEFT_TO_PEOPLE = new Set<string>(['compromised']);

function stateOf(key: ScannedKey, result: ScanResult): KeyFindingState | undefined {
  switch (key.class) {
    case 'warn':
      return 'due-soon';
    case 'unused':
      return 'unused';
    case 'exempt':
      return 'exempt';
    case 'due': {
      // Past its window: rotating, or waiting for the next run's cap, it is on its way; ended without
      // success, or in a dry run, nothing will rotate it until a person acts.
      const skipped = result.rotationsSkipped.find((item) => item.accessKeyId === key.accessKeyId);
      if (skipped?.restartWith !== undefined || result.dryRun) return 'overdue';
      return 'due';
    }
    default:
      return undefined;
  }
}

function remedyOf(key: ScannedKey, state: KeyFindingState, result: ScanResult): string {
  const restart = result.rotationsSkipped.find((item) => item.accessKeyId === key.accessKeyId)?.restartWith;
  switch (state) {
    case 'due-soon':
      return `The rotation starts on ${key.dueOn}. Make sure every consumer reads the key from secret ${key.secretName} (AWSCURRENT).`;
    case 'unused':
      return `Retire the key rather than rotate it: nothing has used it for ${key.lastUsedDaysAgo ?? 'many'} days. aws iam delete-access-key --user-name ${key.userName} --access-key-id ${key.accessKeyId}`;
    case 'exempt':
      return `Exempt${key.exemptUntil ? ` until ${key.exemptUntil}` : ''}: ${key.reason}. Review the exemption; the key rotates once it ends.`;
    case 'overdue':
      return restart
        ? `See why the last rotation ended (iam-key-rotator status ${key.userName}), then: ${restart}`
        : `Rotate it: iam-key-rotator rotate ${key.userName} --key ${key.accessKeyId}`;
    default:
      return `The rotator is rotating it (iam-key-rotator status ${key.userName}).`;
  }
}

const productField = (finding: AwsSecurityFinding, name: string): string | undefined =>
  (finding.ProductFields as Record<string, string> | undefined)?.[`iam-key-rotator/${name}`];

/**
 * The scan's findings: one per key that needs attention, and the archive of every active finding
 * whose key the scan now knows is fine (ok or Inactive), or gone. A user the scan did not read live
 * keeps its findings as they are: a due key left for a later run is still due (`coverage.deferred`);
 * one whose keys the report shows all ok or Inactive has nothing left to flag (`coverage.settled`).
 * Calls: one GetFindings page per 100 active findings and one BatchImportFindings per 100 written,
 * so at most about two per 100 keys that need attention. Never throws.
 */
export async function syncScanFindings(
  api: SecurityHubApi,
  result: ScanResult,
  context: ScanFindingsContext,
  logger: Logger,
): Promise<ScanFindingsOutcome> {
  const now = new Date(result.asOf);
  const fact = (key: ScannedKey, state: KeyFindingState, remedy: string, detail: string): KeyFindingFact => ({
    state,
    accountId: context.accountId,
    region: context.region,
    ...(context.partition ? { partition: context.partition } : {}),
    userName: key.userName,
    accessKeyId: key.accessKeyId,
    owner: key.owner,
    keyCreatedAt: key.createdAt,
    keyStatus: key.status,
    detail,
    exemptUntil: key.exemptUntil,
    executionArn: result.rotationsStarted.find((started) => started.accessKeyId === key.accessKeyId)?.executionArn ?? null,
    remedy,
  });

  let active: readonly AwsSecurityFinding[] = [];
  let getCalls = 0;
  try {
    const read = await activeKeyFindings(api, context.accountId);
    active = read.findings;
    getCalls = read.calls;
  } catch (error) {
    // Without the list nothing is archived this time; the findings below are still written.
    logger.warn('active Security Hub findings could not be read; none archived this scan', {
      detail: `${errorName(error)}: ${errorMessage(error)}`,
    });
  }
  const activeById = new Map(active.map((finding) => [String(finding.Id), finding]));

  const findings: AwsSecurityFinding[] = [];
  const flagged = new Set<string>();
  for (const key of [...result.keys, ...(result.deferredKeys ?? [])]) {
    const id = findingId(context.accountId, key.userName, key.accessKeyId);
    const current = activeById.get(id);
    if (current !== undefined && LEFT_TO_PEOPLE.has(productField(current, 'State') ?? '')) {
      flagged.add(id);
      continue;
    }
    const state = stateOf(key, result);
    if (state === undefined) continue;
    flagged.add(id);
    findings.push(keyFinding(fact(key, state, remedyOf(key, state, result), key.reason), now));
  }

  const everyKey = [...result.keys, ...(result.deferredKeys ?? [])];
  const readLive = new Map(everyKey.map((key) => [findingId(context.accountId, key.userName, key.accessKeyId), key]));
  const usersReadLive = new Set([
    ...everyKey.map((key) => key.userName),
    ...(result.deferredKeys === null ? [] : result.coverage.deferred),
  ]);
  const settled = new Set(result.coverage.settled);
  let archived = 0;
  for (const [id, finding] of activeById) {
    if (flagged.has(id) || LEFT_TO_PEOPLE.has(productField(finding, 'State') ?? '')) continue;
    const userName = productField(finding, 'UserName');
    const accessKeyId = productField(finding, 'AccessKeyId');
    if (userName === undefined || accessKeyId === undefined) continue;
    const live = readLive.get(id);
    const fine = live !== undefined || settled.has(userName);
    const gone = live === undefined && usersReadLive.has(userName);
    if (!fine && !gone) continue;
    archived += 1;
    const why = gone ? 'The key no longer exists.' : 'The key is within its rotation window, or Inactive.';
    findings.push(
      keyFinding(
        {
          state: 'resolved',
          accountId: context.accountId,
          region: context.region,
          ...(context.partition ? { partition: context.partition } : {}),
          userName,
          accessKeyId,
          owner: productField(finding, 'Owner') ?? null,
          keyCreatedAt: typeof finding.CreatedAt === 'string' ? finding.CreatedAt : null,
          detail: why,
          remedy: 'Nothing to do.',
        },
        now,
      ),
    );
  }
  const written = await writeFindings(api, findings, logger);
  return { ...written, calls: written.calls + getCalls, archived };
}
