import { silentLogger } from '#shared/base/logger.ts';
import { loadConfig } from '#shared/config/settings.ts';
import type { Notifier } from '#shared/notify/notifier.ts';
import { storeAccountList, type AccountRef } from '#shared/org/list-accounts.ts';
import { reportOrgScan } from '#shared/org/scan-report.ts';
import { memoryOrgScanStore } from '#shared/org/scan-store.ts';
import { CAUSE_LIMIT, type AccountScanOutcome } from '#shared/scan/account-scan.ts';
import { executeOrgScan, type OrgScanRun } from './org-runner.ts';

/**
 * The organization scan's real definition and cores (list-accounts' paging, the page steps, the
 * Report) at any number of simulated accounts, without AWS: the accounts' scans are stand-ins and
 * the pages live in memory. What it measures is the largest state, which depends only on what the
 * states hold, so it is the figure AWS would see (test/unit/statemachines/scan-organization-size.test.ts,
 * `npm run bench`).
 */

export interface SimulatedOrgScan {
  readonly accounts: number;
  /** Every `failEvery`-th account returns `failed` with the longest cause scan-keys keeps (default 1: all fail). */
  readonly failEvery?: number;
  /** Every `throwEvery`-th account's scan throws, so the Map's Catch records it (default: none). */
  readonly throwEvery?: number;
  readonly maxConcurrency?: number;
}

export interface SimulatedOrgScanRun {
  readonly run: OrgScanRun;
  /** The one notice the Report sent, as its `reason` (the list of failed accounts). */
  readonly notice: string | null;
  readonly seconds: number;
}

/** AWS allows account names of up to 50 characters: the simulated ones use all of them. */
const longName = (index: number): string => `workload-${String(index).padStart(6, '0')}-`.padEnd(50, 'x');
const accountId = (index: number): string => String(100_000_000_000 + index);
const LONG_CAUSE =
  `Cannot act in account 100000000000: arn:aws:iam::100000000000:role/iam-key-rotator-member was refused (AccessDenied: ${'x'.repeat(CAUSE_LIMIT)}`.slice(
    0,
    CAUSE_LIMIT,
  );

export async function simulateOrgScan(options: SimulatedOrgScan): Promise<SimulatedOrgScanRun> {
  const started = performance.now();
  const logger = silentLogger();
  const store = memoryOrgScanStore();
  const config = loadConfig({ OPERATIONS_OWNER: 'ops@example.com' });
  const selected: AccountRef[] = Array.from({ length: options.accounts }, (_, index) => ({
    accountId: accountId(index),
    accountName: longName(index),
  }));
  let notice: string | null = null;
  const notifier: Notifier = {
    send: async (request) => {
      notice = request.facts.reason ?? '';
      return { status: 'sent', messageId: 'simulated' };
    },
  };
  let scans = 0;
  const run = await executeOrgScan(
    {
      listAccounts: async (executionName) => ({
        list: await storeAccountList(
          { selected, skipped: [] },
          { store, executionName, maxConcurrency: options.maxConcurrency ?? 10, clock: () => new Date('2026-11-23T06:00:00Z') },
        ),
        selected,
      }),
      scanAccount: async (event): Promise<AccountScanOutcome> => {
        scans += 1;
        if (options.throwEvery !== undefined && scans % options.throwEvery === 0)
          throw Object.assign(new Error(LONG_CAUSE), { name: 'Lambda.Unknown' });
        const fails = scans % (options.failEvery ?? 1) === 0;
        return {
          accountId: event.accountId,
          status: fails ? 'failed' : 'scanned',
          usersSeen: fails ? 0 : 12,
          keysDue: fails ? 0 : 3,
          rotationsStarted: fails ? 0 : 3,
          problems: 0,
          error: fails ? 'MemberAccountAccessError' : null,
          cause: fails ? LONG_CAUSE : null,
        };
      },
      store,
      report: (event) => reportOrgScan(event, { notifier, config, logger, store }),
      logger,
    },
    { executionName: 'scan-2026-11-23T06-00' },
  );
  return { run, notice, seconds: (performance.now() - started) / 1000 };
}
