// Counts the IAM calls and wall time of a scan of 1,000 users against moto: ours with nothing due,
// ours with everything due, and a naive per-user scan. Run: npm run bench:scan
import { GetAccessKeyLastUsedCommand, IAMClient, paginateListAccessKeys, paginateListUserTags, paginateListUsers } from '@aws-sdk/client-iam';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DAY_MS, fixedClock } from '#shared/clock.ts';
import { mapWithConcurrency } from '#shared/concurrency.ts';
import { loadConfig } from '#shared/config.ts';
import { scanAccount } from '#shared/scanner.ts';
import { startMoto } from '#local/moto.ts';
import { countCalls, type CallCounter } from '../test/helpers/call-counter.ts';
import { createPassStateMachine, seedUsers } from '../test/helpers/iam-seed.ts';

const USERS = Number(process.env.BENCH_USERS ?? 1000);
const CONCURRENCY = 8;

/** The per-user scan the issue compares against: every user, every key, every tag, every last-used. */
async function naiveScan(iam: IAMClient): Promise<number> {
  const users: string[] = [];
  for await (const page of paginateListUsers({ client: iam }, {})) for (const user of page.Users ?? []) if (user.UserName) users.push(user.UserName);
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

async function measure(label: string, counters: { iam: CallCounter; sfn: CallCounter }, run: () => Promise<string>) {
  counters.iam.reset();
  counters.sfn.reset();
  const started = performance.now();
  const detail = await run();
  const seconds = (performance.now() - started) / 1000;
  return { label, iamCalls: counters.iam.total(), sfnCalls: counters.sfn.total(), seconds, byCommand: { ...counters.iam.byCommand }, detail };
}

const moto = await startMoto();
try {
  Object.assign(process.env, { AWS_ENDPOINT_URL: moto.endpoint, AWS_ACCESS_KEY_ID: 'bench', AWS_SECRET_ACCESS_KEY: 'bench', AWS_REGION: 'us-east-1' });
  const iam = new IAMClient({});
  const sfn = new SFNClient({});
  const counters = { iam: countCalls(iam), sfn: countCalls(sfn) };

  const seedStart = performance.now();
  await seedUsers(iam, USERS, { concurrency: 32 });
  const stateMachineArn = await createPassStateMachine(sfn);
  console.error(`seeded ${USERS} users with one key each in ${((performance.now() - seedStart) / 1000).toFixed(1)}s`);

  // Keys were made just now and cannot be backdated: "all due" looks 100 days ahead, with the unused
  // threshold past that so the never-used keys read as due rather than unused.
  const config = loadConfig({ ROTATION_STATE_MACHINE_ARN: stateMachineArn, UNUSED_AFTER_DAYS: '365' });
  const scan = (daysAhead: number) => async () => {
    const result = await scanAccount({ iam, sfn, config, clock: fixedClock(new Date(Date.now() + daysAhead * DAY_MS)), dryRun: false, concurrency: CONCURRENCY });
    return `due ${result.counts.due}, ok ${result.counts.ok}, read live ${result.usersReadLive}, started ${result.rotationsStarted.length}`;
  };
  const results = [
    await measure('ours, none due', counters, scan(0)),
    await measure('ours, all due', counters, scan(100)),
    await measure('naive per-user', counters, async () => `keys ${await naiveScan(iam)}`),
  ];

  console.log(`\nIAM calls for a scan of ${USERS} users (moto ${moto.endpoint}, ${CONCURRENCY} users read at a time)\n`);
  console.log('| scan | IAM calls | SFN calls | wall time | result |');
  console.log('|---|---:|---:|---:|---|');
  for (const result of results) {
    console.log(`| ${result.label} | ${result.iamCalls} | ${result.sfnCalls} | ${result.seconds.toFixed(2)} s | ${result.detail} |`);
  }
  console.log('\nIAM calls by command:');
  for (const result of results) console.log(`  ${result.label}: ${JSON.stringify(result.byCommand)}`);
} finally {
  await moto.stop();
}
