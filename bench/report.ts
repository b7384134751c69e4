// The compliance report at 10,000 users against moto: how long reading every key and 1,000 rotations
// takes (and in how many calls), how long building and drawing it takes, and how big each output is.
// Run alone: npm run bench:report (BENCH_REPORT_USERS=1000 for a quicker run).
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { pathToFileURL } from 'node:url';
import { DAY_MS, fixedClock } from '#shared/base/clock.ts';
import { mapWithConcurrency } from '#shared/base/concurrency.ts';
import { executionName } from '#shared/base/execution-name.ts';
import { loadConfig } from '#shared/config/settings.ts';
import { buildComplianceReport } from '#shared/report/compliance-report.ts';
import { reportCsv } from '#shared/report/report-csv.ts';
import { reportHtml } from '#shared/report/report-html.ts';
import { readRotationHistory } from '#shared/report/rotation-history.ts';
import { scanAccount } from '#shared/scan/scanner.ts';
import { countCalls } from '../test/helpers/call-counter.ts';
import { createPassStateMachine, seedUsers } from '../test/helpers/iam-seed.ts';
import { onFreshMoto } from './scan.ts';

export interface ReportBench {
  readonly users: number;
  readonly rotations: number;
  readonly seedSeconds: number;
  readonly keys: { readonly seconds: number; readonly iamCalls: number; readonly byCommand: Readonly<Record<string, number>> };
  readonly history: { readonly seconds: number; readonly listExecutions: number; readonly describeExecution: number };
  readonly buildMs: number;
  readonly htmlMs: number;
  readonly bytes: { readonly html: number; readonly csv: number; readonly json: number };
}

const seconds = (since: number): number => (performance.now() - since) / 1000;

export async function benchReport(users = 10_000, rotations = 1_000, log: (text: string) => void = console.error): Promise<ReportBench> {
  return onFreshMoto(async ({ iam, sfn }) => {
    const seedStart = performance.now();
    const names = await seedUsers(iam, users, { concurrency: 32 });
    const stateMachineArn = await createPassStateMachine(sfn);
    // Rotations as the scanner starts them (moto leaves a Pass machine's executions RUNNING).
    await mapWithConcurrency(names.slice(0, rotations), 16, (userName, index) =>
      sfn.send(
        new StartExecutionCommand({
          stateMachineArn,
          name: executionName(userName, `AKIABENCH${String(index).padStart(11, '0')}`, 'scheduled'),
          input: JSON.stringify({ userName, accessKeyId: `AKIABENCH${String(index).padStart(11, '0')}`, kind: 'scheduled' }),
        }),
      ),
    );
    const seedSeconds = seconds(seedStart);
    log(`report bench: seeded ${users} users and ${rotations} executions in ${seedSeconds.toFixed(1)}s`);

    const config = loadConfig({ ROTATION_STATE_MACHINE_ARN: stateMachineArn, UNUSED_AFTER_DAYS: '365' });
    const iamCalls = countCalls(iam);
    const now = new Date();
    const keysStart = performance.now();
    const scan = await scanAccount({
      iam,
      sfn: new SFNClient({}),
      config,
      clock: fixedClock(new Date(now.getTime() + 100 * DAY_MS)),
      dryRun: true,
      all: true,
    });
    const keys = { seconds: seconds(keysStart), iamCalls: iamCalls.total(), byCommand: { ...iamCalls.byCommand } };
    log(`report bench: read ${scan.keys.length} keys in ${keys.seconds.toFixed(1)}s`);

    const historyStart = performance.now();
    const history = await readRotationHistory(sfn, stateMachineArn, { since: new Date(now.getTime() - 90 * DAY_MS) });
    const historyStats = { seconds: seconds(historyStart), ...history.calls };

    const buildStart = performance.now();
    const report = buildComplianceReport({
      generatedAt: now,
      asOf: new Date(now.getTime() + 100 * DAY_MS),
      defaultMaxAgeDays: config.maxAgeDays,
      accounts: [
        {
          accountId: '123456789012',
          accountName: null,
          keys: scan.keys,
          userErrors: scan.userErrors,
          tagProblems: scan.tagProblems,
          error: null,
        },
      ],
      history: { source: 'step-functions', since: history.since, note: null, rotations: history.records },
    });
    const buildMs = performance.now() - buildStart;
    const htmlStart = performance.now();
    const html = await reportHtml(report, 'bench');
    const htmlMs = performance.now() - htmlStart;
    return {
      users,
      rotations,
      seedSeconds,
      keys,
      history: historyStats,
      buildMs,
      htmlMs,
      bytes: { html: Buffer.byteLength(html), csv: Buffer.byteLength(reportCsv(report)), json: Buffer.byteLength(JSON.stringify(report)) },
    };
  });
}

export function reportBenchTable(result: ReportBench): string {
  const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(2)} MB`;
  return [
    `| users | rotations read | read keys | IAM calls | read history | SFN calls | build | draw HTML | HTML | CSV | JSON |`,
    `|---|---|---|---|---|---|---|---|---|---|---|`,
    `| ${result.users.toLocaleString('en-US')} | ${result.rotations.toLocaleString('en-US')} | ${result.keys.seconds.toFixed(1)} s | ${result.keys.iamCalls.toLocaleString('en-US')} | ${result.history.seconds.toFixed(1)} s | ${result.history.listExecutions} List + ${result.history.describeExecution} Describe | ${result.buildMs.toFixed(0)} ms | ${result.htmlMs.toFixed(0)} ms | ${mb(result.bytes.html)} | ${mb(result.bytes.csv)} | ${mb(result.bytes.json)} |`,
    '',
    `IAM calls by command: ${Object.entries(result.keys.byCommand)
      .map(([command, count]) => `${command.replace(/Command$/, '')} ${count}`)
      .join(', ')}.`,
  ].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const users = Number(process.env.BENCH_REPORT_USERS ?? '10000');
  const result = await benchReport(users, Math.min(1_000, users));
  console.log(reportBenchTable(result));
}
