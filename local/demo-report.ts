import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DAY_MS } from '#shared/base/clock.ts';
import type { Config } from '#shared/config/settings.ts';
import type { RotationRecord } from '#shared/report/rotation-history.ts';
import type { ScannedKey } from '#shared/scan/scanner.ts';

export interface DemoReportFiles {
  readonly html: string;
  readonly csv: string;
  readonly json: string;
}

const shift = (iso: string, ms: number): string => new Date(Date.parse(iso) + ms).toISOString();

/**
 * The demo moves the scanner's clock forward because moto cannot backdate a key, so what its
 * rotations did happened, in the story, on the scan's day: their new keys are shown as created then
 * (not as old as the seeded ones), their runs as started then, and the keys' uses during the demo as
 * made then. Nothing else is changed.
 */
function onTheDemoDay(key: ScannedKey, rotationsFrom: Date, aheadMs: number): ScannedKey {
  const usedInTheDemo = key.lastUsedAt !== null && Date.parse(key.lastUsedAt) >= rotationsFrom.getTime();
  const lastUsedAt = key.lastUsedAt !== null && usedInTheDemo ? shift(key.lastUsedAt, aheadMs) : key.lastUsedAt;
  if (Date.parse(key.createdAt) < rotationsFrom.getTime()) return { ...key, lastUsedAt, ...(usedInTheDemo ? { lastUsedDaysAgo: 0 } : {}) };
  const createdAt = shift(key.createdAt, aheadMs);
  return {
    ...key,
    createdAt,
    lastUsedAt,
    ageDays: 0,
    lastUsedDaysAgo: key.lastUsedAt === null ? null : 0,
    dueOn: shift(createdAt, key.maxAgeDays * DAY_MS).slice(0, 10),
    ...(key.status === 'Active'
      ? { class: 'ok' as const, action: 'none' as const, reason: `created by the demo's rotation (0 of ${key.maxAgeDays} days)` }
      : {}),
  };
}

/** The compliance report of the demo account after its rotations, as `iam-key-rotator report` writes it, in `directory`. */
export async function writeDemoReport(options: {
  readonly config: Config;
  /** How far the demo moved the scanner's clock. */
  readonly daysAhead: number;
  /** When (real time) the demo's scan began: keys created since were created by its rotations. */
  readonly rotationsFrom: Date;
  readonly directory: string;
}): Promise<DemoReportFiles> {
  // Loaded only now, so the SDK clients they create see the local endpoint.
  const { iam, sfn, dynamodb, sts } = await import('#shared/aws/clients.ts');
  const { scanAccount } = await import('#shared/scan/scanner.ts');
  const { callerAccountId } = await import('#shared/notify/notifier.ts');
  const { buildComplianceReport } = await import('#shared/report/compliance-report.ts');
  const { reportCsv } = await import('#shared/report/report-csv.ts');
  const { reportHtml } = await import('#shared/report/report-html.ts');
  const { readLocalRunHistory } = await import('./run-history.ts');
  const { LOCAL_LEDGER_TABLE } = await import('./run-registry.ts');

  const aheadMs = options.daysAhead * DAY_MS;
  const asOf = new Date(Date.now() + aheadMs);
  const scan = await scanAccount({ iam, sfn, config: options.config, clock: () => asOf, dryRun: true, all: true });
  const table = options.config.notificationLedgerTable || LOCAL_LEDGER_TABLE;
  const history = await readLocalRunHistory(dynamodb, table, options.rotationsFrom);
  const rotations = history.records.map((record): RotationRecord => ({
    ...record,
    startedAt: shift(record.startedAt, aheadMs),
    stoppedAt: record.stoppedAt === null ? null : shift(record.stoppedAt, aheadMs),
  }));
  const accountId = await callerAccountId(sts)();
  const report = buildComplianceReport({
    generatedAt: asOf,
    defaultMaxAgeDays: options.config.maxAgeDays,
    accounts: [
      {
        accountId,
        accountName: 'demo',
        keys: scan.keys.map((key) => onTheDemoDay(key, options.rotationsFrom, aheadMs)),
        userErrors: scan.userErrors,
        tagProblems: scan.tagProblems,
        error: null,
      },
    ],
    history: {
      source: 'local-runs',
      since: shift(history.since, aheadMs),
      note: `The demo's account, as of its scan day ${asOf.toISOString().slice(0, 10)} (${options.daysAhead} days from now, as the demo's scan): keys made by its rotations count as made that day.`,
      rotations,
    },
  });
  mkdirSync(options.directory, { recursive: true });
  const files = {
    html: resolve(join(options.directory, 'compliance-report.html')),
    csv: resolve(join(options.directory, 'compliance-report.csv')),
    json: resolve(join(options.directory, 'compliance-report.json')),
  };
  writeFileSync(files.html, await reportHtml(report, 'Access key compliance: the demo account'));
  writeFileSync(files.csv, reportCsv(report));
  writeFileSync(files.json, `${JSON.stringify(report, null, 2)}\n`);
  return files;
}
