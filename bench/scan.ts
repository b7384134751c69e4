// IAM calls and wall time of a scan against moto at growing account sizes: ours with nothing due,
// ours with everything due, and a naive per-user scan (ListUsers, then ListUserTags, ListAccessKeys
// and GetAccessKeyLastUsed per user and key, as the best-known sample solution does).
// Run alone: npm run bench:scan (BENCH_SCAN_SIZES=100,1000 to choose sizes).
import {
  GetAccessKeyLastUsedCommand,
  IAMClient,
  paginateListAccessKeys,
  paginateListUserTags,
  paginateListUsers,
} from '@aws-sdk/client-iam';
import { paginateListExecutions, SFNClient, StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { pathToFileURL } from 'node:url';
import { DAY_MS, fixedClock } from '#shared/base/clock.ts';
import { mapWithConcurrency } from '#shared/base/concurrency.ts';
import { loadConfig } from '#shared/config/settings.ts';
import { scanAccount } from '#shared/scan/scanner.ts';
import { runScheduledScan } from '#shared/scan/scheduled-scan.ts';
import { securityHub } from '#shared/aws/security-hub.ts';
import { silentLogger } from '#shared/base/logger.ts';
import type { Notifier } from '#shared/notify/notifier.ts';
import { startMoto } from '#local/moto.ts';
import { countCalls, type CallCounter } from '../test/helpers/call-counter.ts';
import { createPassStateMachine, seedUsers } from '../test/helpers/iam-seed.ts';

const CONCURRENCY = 8;

export interface ScanMeasurement {
  readonly label: string;
  readonly iamCalls: number;
  readonly sfnCalls: number;
  readonly seconds: number;
  readonly byCommand: Readonly<Record<string, number>>;
  readonly detail: string;
}

export interface ScanSizeResult {
  readonly users: number;
  readonly seedSeconds: number;
  readonly runs: readonly ScanMeasurement[];
  /** Naive calls ÷ our calls with everything due: the goal is ≥ 100 at 10,000 users with nothing due. */
  readonly callRatioNoneDue: number;
  readonly callRatioAllDue: number;
}

/** The per-user scan we compare against: every user, every key, every tag, every last-used. */
async function naiveScan(iam: IAMClient): Promise<number> {
  const users: string[] = [];
  for await (const page of paginateListUsers({ client: iam }, {}))
    for (const user of page.Users ?? []) if (user.UserName) users.push(user.UserName);
  const keysPerUser = await mapWithConcurrency(users, CONCURRENCY, async (userName) => {
    for await (const page of paginateListUserTags({ client: iam }, { UserName: userName })) void page.Tags;
    let keys = 0;
    for await (const page of paginateListAccessKeys({ client: iam }, { UserName: userName })) {
      for (const key of page.AccessKeyMetadata ?? []) {
        await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: key.AccessKeyId }));
        keys += 1;
      }
    }
    return keys;
  });
  return keysPerUser.reduce((sum, count) => sum + count, 0);
}

async function measure(
  label: string,
  counters: { iam: CallCounter; sfn: CallCounter },
  run: () => Promise<string>,
): Promise<ScanMeasurement> {
  counters.iam.reset();
  counters.sfn.reset();
  const started = performance.now();
  const detail = await run();
  const seconds = (performance.now() - started) / 1000;
  return {
    label,
    iamCalls: counters.iam.total(),
    sfnCalls: counters.sfn.total(),
    seconds,
    byCommand: { ...counters.iam.byCommand },
    detail,
  };
}

/** A fresh moto_server with IAM and Step Functions clients for it, for one measurement; stopped however `run` ends. */
export async function onFreshMoto<T>(run: (clients: { iam: IAMClient; sfn: SFNClient; endpoint: string }) => Promise<T>): Promise<T> {
  const moto = await startMoto();
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: moto.endpoint,
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_REGION: 'us-east-1',
  });
  const iam = new IAMClient({ endpoint: moto.endpoint });
  const sfn = new SFNClient({ endpoint: moto.endpoint });
  try {
    return await run({ iam, sfn, endpoint: moto.endpoint });
  } finally {
    iam.destroy();
    sfn.destroy();
    await moto.stop();
  }
}

/** Measures each size on a fresh moto_server, so one size's executions and users never skew the next. */
export async function benchScan(sizes: readonly number[], log: (text: string) => void = console.error): Promise<ScanSizeResult[]> {
  const results: ScanSizeResult[] = [];
  for (const users of sizes) {
    await onFreshMoto(async ({ iam, sfn }) => {
      const counters = { iam: countCalls(iam), sfn: countCalls(sfn) };
      const seedStart = performance.now();
      await seedUsers(iam, users, { concurrency: 32 });
      const stateMachineArn = await createPassStateMachine(sfn);
      const seedSeconds = (performance.now() - seedStart) / 1000;
      log(`scan bench: seeded ${users} users with one key each in ${seedSeconds.toFixed(1)}s`);

      // Keys were made just now and cannot be backdated: "all due" looks 100 days ahead, with the unused
      // threshold past that so the never-used keys read as due rather than unused.
      const config = loadConfig({ ROTATION_STATE_MACHINE_ARN: stateMachineArn, UNUSED_AFTER_DAYS: '365' });
      const scan = (daysAhead: number) => async () => {
        const result = await scanAccount({
          iam,
          sfn,
          config,
          clock: fixedClock(new Date(Date.now() + daysAhead * DAY_MS)),
          dryRun: false,
          concurrency: CONCURRENCY,
        });
        return `due ${result.counts.due}, ok ${result.counts.ok}, read live ${result.usersReadLive}, due left for later runs ${result.dueNotReadLive}, started ${result.rotationsStarted.length}`;
      };
      const runs = [
        await measure('ours, none due', counters, scan(0)),
        await measure('ours, all due', counters, scan(100)),
        await measure('naive per-user', counters, async () => `keys ${await naiveScan(iam)}`),
      ];
      const [noneDue, allDue, naive] = runs;
      results.push({
        users,
        seedSeconds,
        runs,
        callRatioNoneDue: (naive?.iamCalls ?? 0) / Math.max(1, noneDue?.iamCalls ?? 1),
        callRatioAllDue: (naive?.iamCalls ?? 0) / Math.max(1, allDue?.iamCalls ?? 1),
      });
      log(`scan bench: ${users} users measured`);
    });
  }
  return results;
}

export interface PastExecutionsResult {
  readonly pastExecutions: number;
  readonly dueKeys: number;
  /** The scan's Step Functions calls (RotationExecutions): running ones listed, due keys' names described. */
  readonly listExecutions: number;
  readonly describeExecution: number;
  readonly seconds: number;
  /** What listing every execution (the scan before) costs with that history: ListExecutions pages of 1,000. */
  readonly listEveryPages: number;
  readonly listEverySeconds: number;
}

/**
 * The scanner's Step Functions reads against the history Step Functions keeps (90 days of ended
 * executions): 10 due keys, scanned as a dry run (which reads as a real run does and starts nothing)
 * with no past executions, then beside `past` ended ones.
 */
export async function benchScanPastExecutions(
  pastCounts: readonly number[] = [0, 10_000],
  log: (text: string) => void = console.error,
): Promise<PastExecutionsResult[]> {
  const results: PastExecutionsResult[] = [];
  await onFreshMoto(async ({ iam, sfn }) => {
    const dueKeys = 10;
    await seedUsers(iam, dueKeys, { prefix: 'due' });
    const stateMachineArn = await createPassStateMachine(sfn);
    const config = loadConfig({ ROTATION_STATE_MACHINE_ARN: stateMachineArn, UNUSED_AFTER_DAYS: '365' });
    let seeded = 0;
    for (const past of [...pastCounts].sort((a, b) => a - b)) {
      const names = Array.from({ length: past - seeded }, (_, index) => `past-${seeded + index}`);
      await mapWithConcurrency(names, 32, async (name) => {
        const started = await sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: '{}' }));
        await sfn.send(new StopExecutionCommand({ executionArn: started.executionArn }));
      });
      seeded = past;
      log(`scan bench: ${past} ended executions in the history`);
      const started = performance.now();
      const result = await scanAccount({ iam, sfn, config, clock: fixedClock(new Date(Date.now() + 100 * DAY_MS)), dryRun: true });
      const seconds = (performance.now() - started) / 1000;
      const listing = performance.now();
      let listEveryPages = 0;
      for await (const page of paginateListExecutions({ client: sfn, pageSize: 1000 }, { stateMachineArn }))
        listEveryPages += page.executions ? 1 : 0;
      const listEverySeconds = (performance.now() - listing) / 1000;
      results.push({
        pastExecutions: past,
        dueKeys: result.counts.due,
        ...result.stepFunctionsCalls,
        seconds,
        listEveryPages,
        listEverySeconds,
      });
    }
  });
  return results;
}

export interface SecurityHubScanResult {
  readonly dueKeys: number;
  readonly batchImportFindings: number;
  readonly getFindings: number;
  readonly written: number;
  readonly seconds: number;
}

/**
 * Security Hub calls of a scheduled scan with findings on (SECURITY_HUB_FINDINGS): `dueKeys` due keys,
 * scanned twice (the second scan reads the first one's findings back). Counts the requests the
 * signed client sends to moto's Security Hub.
 */
export async function benchSecurityHubScan(dueKeys = 1000, log: (text: string) => void = console.error): Promise<SecurityHubScanResult[]> {
  return onFreshMoto(async ({ iam, sfn, endpoint }) => {
    await seedUsers(iam, dueKeys, { concurrency: 32 });
    const stateMachineArn = await createPassStateMachine(sfn);
    const calls = { import: 0, get: 0 };
    const counting: typeof fetch = async (url, init) => {
      const path = new URL(String(url)).pathname;
      if (path.endsWith('/findings/import')) calls.import += 1;
      else if (path.endsWith('/findings')) calls.get += 1;
      return fetch(url, init);
    };
    const api = securityHub({ region: 'us-east-1', credentials: iam.config.credentials, endpoint, fetch: counting });
    const config = loadConfig({ ROTATION_STATE_MACHINE_ARN: stateMachineArn, UNUSED_AFTER_DAYS: '365', SECURITY_HUB_FINDINGS: 'true' });
    const results: SecurityHubScanResult[] = [];
    for (const run of [1, 2]) {
      calls.import = 0;
      calls.get = 0;
      const started = performance.now();
      const summary = await runScheduledScan({
        iam,
        sfn,
        config,
        clock: fixedClock(new Date(Date.now() + 100 * DAY_MS)),
        logger: silentLogger(),
        notifier: { send: async () => ({ status: 'no-topic' }) } satisfies Notifier,
        securityHub: { api, accountId: async () => '123456789012', region: 'us-east-1' },
      });
      results.push({
        dueKeys: summary.counts.due,
        batchImportFindings: calls.import,
        getFindings: calls.get,
        written: summary.securityHub?.written ?? 0,
        seconds: (performance.now() - started) / 1000,
      });
      log(`scan bench: Security Hub scan ${run} of ${dueKeys} due keys measured`);
    }
    return results;
  });
}

export function securityHubTable(results: readonly SecurityHubScanResult[]): string {
  const lines = [
    '| scan | due keys | findings written | BatchImportFindings | GetFindings | wall time |',
    '|---:|---:|---:|---:|---:|---:|',
  ];
  results.forEach((row, index) =>
    lines.push(
      `| ${index + 1} | ${row.dueKeys} | ${row.written} | ${row.batchImportFindings} | ${row.getFindings} | ${row.seconds.toFixed(2)} s |`,
    ),
  );
  return lines.join('\n');
}

export function pastExecutionsTable(results: readonly PastExecutionsResult[]): string {
  const lines = [
    '| past executions | due keys | ListExecutions (RUNNING) | DescribeExecution | scan wall time | listing every execution instead |',
    '|---:|---:|---:|---:|---:|---:|',
  ];
  for (const row of results)
    lines.push(
      `| ${row.pastExecutions} | ${row.dueKeys} | ${row.listExecutions} | ${row.describeExecution} | ${row.seconds.toFixed(2)} s | ${row.listEveryPages} ListExecutions pages, ${row.listEverySeconds.toFixed(2)} s |`,
    );
  return lines.join('\n');
}

export function scanTable(results: readonly ScanSizeResult[]): string {
  const lines = ['| users | scan | IAM calls | SFN calls | wall time | result |', '|---:|---|---:|---:|---:|---|'];
  for (const size of results) {
    for (const run of size.runs)
      lines.push(`| ${size.users} | ${run.label} | ${run.iamCalls} | ${run.sfnCalls} | ${run.seconds.toFixed(2)} s | ${run.detail} |`);
  }
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const sizes = (process.env.BENCH_SCAN_SIZES ?? '1000').split(',').map(Number);
  const results = await benchScan(sizes);
  console.log(`\n${scanTable(results)}\n`);
  const past = (process.env.BENCH_PAST_EXECUTIONS ?? '0,10000').split(',').map(Number);
  console.log(`\n${pastExecutionsTable(await benchScanPastExecutions(past))}\n`);
  console.log(`\n${securityHubTable(await benchSecurityHubScan(Number(process.env.BENCH_SECURITY_HUB_KEYS ?? '1000')))}\n`);
  for (const size of results) {
    console.log(
      `${size.users} users: naive/ours call ratio ${size.callRatioNoneDue.toFixed(0)}× with nothing due, ${size.callRatioAllDue.toFixed(1)}× with everything due`,
    );
    for (const run of size.runs) console.log(`  ${run.label}: ${JSON.stringify(run.byCommand)}`);
  }
}
