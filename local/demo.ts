import Table from 'cli-table3';
import type { Output } from '../cli/output.ts';
import { colors } from '../cli/output.ts';
import { DAY_MS } from '#shared/clock.ts';
import { startMoto, type MotoServer } from './moto.ts';
import { DEMO_ENVIRONMENT, DEMO_SCAN_DAYS_AHEAD, DEMO_USERS, seedDemoAccount } from './demo-account.ts';
import { publishedNotifications } from './moto-inspect.ts';

const REGION = 'us-east-1';

/**
 * `npm start`: the whole product on a laptop in under a minute. A local AWS (moto) is started,
 * seeded with a small account, and scanned the way the scheduled Lambda scans; the demo then
 * prints what it found and cleans up. Nothing here can reach a real AWS account: the endpoint and
 * credentials are forced to the local moto before any client exists.
 */
export async function runDemo(output: Output): Promise<number> {
  const started = Date.now();
  const step = (text: string): void => output.out(`${colors.cyan('▸')} ${text}`);

  step('starting a local AWS (moto_server) on a free loopback port…');
  const moto = await startMoto();
  try {
    isolateFromRealAws(moto);
    return await runAgainst(moto, output, step, started);
  } finally {
    await moto.stop();
    step(`stopped moto_server; nothing was left running (${((Date.now() - started) / 1000).toFixed(1)}s in all)`);
  }
}

function isolateFromRealAws(moto: MotoServer): void {
  process.env.AWS_ENDPOINT_URL = moto.endpoint;
  process.env.AWS_ACCESS_KEY_ID = 'demo';
  process.env.AWS_SECRET_ACCESS_KEY = 'demo';
  process.env.AWS_REGION = REGION;
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
  Object.assign(process.env, DEMO_ENVIRONMENT);
}

async function runAgainst(moto: MotoServer, output: Output, step: (text: string) => void, started: number): Promise<number> {
  // Loaded only now, so the SDK clients they create see the local endpoint.
  const { iam, secretsManager, sfn } = await import('#shared/clients.ts');
  const { loadConfig } = await import('#shared/config.ts');
  const { defaultSecretName } = await import('#shared/tags.ts');
  const { scanAccount } = await import('#shared/scanner.ts');
  const config = loadConfig(process.env);

  step(`seeding a demo account: ${DEMO_USERS.length} IAM users under /demo/, their keys, and a secret per user holding its key`);
  await seedDemoAccount({ iam, secretsManager }, (userName) => defaultSecretName(config, userName));
  for (const user of DEMO_USERS) output.out(`    ${user.userName.padEnd(16)} ${colors.dim(user.story)}`);

  const asOf = new Date(Date.now() + DEMO_SCAN_DAYS_AHEAD * DAY_MS);
  step(`scanning as of ${asOf.toISOString().slice(0, 10)} (${DEMO_SCAN_DAYS_AHEAD} days from now: moto cannot backdate keys, so the demo moves the clock)`);
  const scan = await scanAccount({
    iam,
    sfn,
    config,
    clock: () => asOf,
    dryRun: true,
    progress: (message) => output.out(colors.dim(`    ${message}`)),
  });
  const verdicts = new Map(scan.keys.map((key) => [key.accessKeyId, key]));
  const table = new Table({ head: ['user', 'key', 'class', 'why'], style: { head: [], border: [] }, wordWrap: true, colWidths: [18, 22, 9, 60] });
  for (const key of scan.keys) table.push([key.userName, key.accessKeyId, key.class, key.reason]);
  output.out(table.toString());
  output.out(
    `    ${scan.usersSeen} users, ${scan.usersReadLive} read live; ` +
      Object.entries(scan.counts)
        .map(([cls, count]) => `${count} ${cls}`)
        .join(', '),
  );

  const notifications = await publishedNotifications(moto.endpoint);
  step(`${notifications.length} notifications published`);
  void verdicts;
  step(colors.green(`demo finished in ${((Date.now() - started) / 1000).toFixed(1)}s`));
  return 0;
}
