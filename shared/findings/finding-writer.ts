import type { Logger } from '@aws-lambda-powertools/logger';
import { errorMessage, errorName } from '../base/errors.ts';
import type { AwsSecurityFinding, SecurityHubApi } from '../aws/security-hub.ts';
import { asffProblems, GENERATOR_ID } from './key-findings.ts';

/** BatchImportFindings takes at most 100 findings a request (Security Hub API reference). */
export const IMPORT_BATCH = 100;

export interface FindingsOutcome {
  readonly written: number;
  readonly failed: number;
  readonly calls: number;
  /** Why the last failure happened, for the log and the scan summary; absent when every finding was written. */
  readonly error?: string;
}

/**
 * Imports findings in batches of 100, one request after another (Security Hub allows 10 a second,
 * bursts of 30). Never throws: a finding that could not be written is written again at the next scan
 * or rotation event, and a rotation must never wait on Security Hub.
 */
export async function writeFindings(
  api: SecurityHubApi,
  findings: readonly AwsSecurityFinding[],
  logger: Logger,
): Promise<FindingsOutcome> {
  let written = 0;
  let failed = 0;
  let calls = 0;
  let error: string | undefined;
  const valid = findings.filter((finding) => {
    const problems = asffProblems(finding);
    if (problems.length === 0) return true;
    failed += 1;
    error = `InvalidInput: finding ${String(finding.Id)}: ${problems.join('; ')}`;
    return false;
  });
  for (let start = 0; start < valid.length; start += IMPORT_BATCH) {
    const batch = valid.slice(start, start + IMPORT_BATCH);
    calls += 1;
    try {
      const result = await api.batchImportFindings(batch);
      written += result.successCount;
      failed += result.failedCount;
      const [first] = result.failedFindings;
      if (first) error = `${first.errorCode}: ${first.errorMessage}`;
    } catch (cause) {
      failed += batch.length;
      error = `${errorName(cause)}: ${errorMessage(cause)}`;
    }
  }
  if (failed > 0) logger.warn('Security Hub findings not written; the next event writes them again', { written, failed, detail: error });
  return { written, failed, calls, ...(error === undefined ? {} : { error }) };
}

/** The rotator's findings in one account that are still active: what a scan may have to archive. */
export async function activeKeyFindings(
  api: SecurityHubApi,
  accountId: string,
): Promise<{ readonly findings: readonly AwsSecurityFinding[]; readonly calls: number }> {
  const filters = {
    GeneratorId: [{ Value: GENERATOR_ID, Comparison: 'EQUALS' }],
    AwsAccountId: [{ Value: accountId, Comparison: 'EQUALS' }],
    RecordState: [{ Value: 'ACTIVE', Comparison: 'EQUALS' }],
  };
  const findings: AwsSecurityFinding[] = [];
  let calls = 0;
  let nextToken: string | undefined;
  do {
    const page = await api.getFindings(filters, nextToken);
    calls += 1;
    // The filters again, here: what is archived must be only ours and still active (moto ignores filters).
    findings.push(
      ...page.findings.filter(
        (finding) => finding.GeneratorId === GENERATOR_ID && finding.AwsAccountId === accountId && finding.RecordState === 'ACTIVE',
      ),
    );
    nextToken = page.nextToken;
  } while (nextToken !== undefined);
  return { findings, calls };
}
