import { beforeAll, describe, expect, test } from '@jest/globals';
import { silentLogger } from '#shared/base/logger.ts';
import { MAX_ACCOUNTS_PER_PAGE, MAX_PAGES, memoryOrgScanStore, pageSize } from '#shared/org/scan-store.ts';
import { executeOrgScan, LOCAL_GATHERED_PATH, localGatheredResults, STATE_LIMIT_BYTES } from '#local/org-runner.ts';
import { simulateOrgScan, type SimulatedOrgScanRun } from '#local/org-scan-sizes.ts';
import { loadOrgScanDefinition } from '#statemachines/definitions.ts';

/**
 * The issue's measurement: at 1,000 accounts the old definition's ScanAccounts output was 191 KB with
 * every scan succeeding and 372–407 KB with failures and their causes (over Step Functions' 256 KiB).
 * Here the real definition runs in aws-local-stepfunctions with every account failing with the
 * longest cause scan-keys keeps (one in seven by a throw the Map's Catch records), 50-character
 * account names, and the runner's size check on every state's input and output, every Task's event
 * and result, and the Map's gathered results.
 */
const BOUND_BYTES = 32 * 1024;

describe('the organization scan’s largest state does not grow with the organization', () => {
  const runs = new Map<number, SimulatedOrgScanRun>();

  beforeAll(async () => {
    // Prepare & Act: 1,000 and 10,000 simulated accounts, every one failing.
    for (const accounts of [1_000, 10_000]) runs.set(accounts, await simulateOrgScan({ accounts, throwEvery: 7 }));
  }, 120_000);

  test.each([1_000, 10_000])('at %i accounts, all failing with long causes, every state stays under 32 KB', (accounts) => {
    // Assess
    const { run } = runs.get(accounts) ?? {};
    expect(run?.error).toBeUndefined();
    expect(run?.status).toBe('Succeeded');
    expect(run?.largestState.bytes).toBeLessThan(BOUND_BYTES);
    expect(run?.report).toMatchObject({ scanned: 0, failedCount: accounts, notification: 'sent' });
  });

  test('the largest state at 10,000 accounts is within 1 KB of the one at 1,000', () => {
    // Assess
    const small = runs.get(1_000)?.run.largestState.bytes ?? 0;
    const large = runs.get(10_000)?.run.largestState.bytes ?? Infinity;
    expect(Math.abs(large - small)).toBeLessThan(1024);
  });

  test('the notice names the first failed accounts with their fix and counts the rest by error', () => {
    // Assess
    const notice = runs.get(10_000)?.notice ?? '';
    expect(notice).toContain('100000000000 (workload-000000-');
    expect(notice).toContain('stack/member-role.yml');
    expect(notice).toMatch(/… and 9950 more accounts \(10000 failed in all: MemberAccountAccessError ×8572 .*Lambda\.Unknown ×1428/);
    // SNS takes messages up to 256 KB; the list is bounded whatever the number of failures.
    expect(Buffer.byteLength(notice)).toBeLessThan(32 * 1024);
  });

  test('every account is reported once, failed by its own error, scanned ones counted', async () => {
    // Act
    const { run } = await simulateOrgScan({ accounts: 120, failEvery: 3 });

    // Assess
    expect(run.results).toHaveLength(120);
    expect(new Set(run.results.map((result) => result.accountId)).size).toBe(120);
    expect(run.report).toMatchObject({ scanned: 80, failedCount: 40, rotationsStarted: 240 });
  });
});

describe('pages', () => {
  test.each([
    [0, 10, 1],
    [50, 10, 2],
    [1_000, 10, 25],
    [10_000, 10, 50],
    [10_000, 1000, 10],
    [200_000, 10, 200],
  ])('%i accounts at concurrency %i go %i to a page', (accounts, concurrency, size) => {
    // Act & Assess
    expect(pageSize(accounts, concurrency)).toBe(size);
  });

  test('an organization beyond MAX_PAGES full pages is refused with a typed error that says what to do', () => {
    // Act & Assess
    expect(() => pageSize(MAX_PAGES * MAX_ACCOUNTS_PER_PAGE + 1, 10)).toThrow(
      expect.objectContaining({ name: 'OrganizationTooLargeError', message: expect.stringContaining('ORG_INCLUDE_OUS') }),
    );
  });
});

describe('the local runner is as strict as Step Functions about size', () => {
  test('a Map’s discarded results are kept in the local state, where the size check sees them', () => {
    // Act
    const local = localGatheredResults(loadOrgScanDefinition());

    // Assess
    expect(loadOrgScanDefinition().States.ScanAccounts).toMatchObject({ ResultPath: null });
    expect(local.States.ScanAccounts).toMatchObject({ ResultPath: LOCAL_GATHERED_PATH });
  });

  test('a state over 256 KiB fails the run with States.DataLimitExceeded', async () => {
    // Prepare: a ListAccounts stand-in that puts 3,000 skipped accounts in the state, as the old one could.
    const store = memoryOrgScanStore();
    const skipped = Array.from({ length: 3_000 }, (_, index) => ({
      accountId: String(100_000_000_000 + index),
      accountName: 'x'.repeat(50),
      reason: 'not in an included OU',
    }));

    // Act
    const run = await executeOrgScan(
      {
        listAccounts: async () => ({
          list: { pages: [], pageCount: 0, accountCount: 0, skipped, skippedCount: skipped.length, maxConcurrency: 1, expiresAt: 0 },
          selected: [],
        }),
        scanAccount: () => Promise.reject(new Error('no account to scan')),
        store,
        report: () => Promise.reject(new Error('the run must stop before the Report')),
        logger: silentLogger(),
      },
      { executionName: 'scan-too-large' },
    );

    // Assess
    expect(run.status).toBe('Failed');
    expect(run.error).toMatchObject({ name: 'States.DataLimitExceeded' });
    expect(run.largestState.bytes).toBeGreaterThan(STATE_LIMIT_BYTES);
  });
});
