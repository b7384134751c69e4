// The organization scan: 50 member accounts against moto through the real ASL (wall time, AWS calls
// per account, the largest state), and the largest state computed at 1,000 and 10,000 simulated
// accounts (local/org-scan-sizes.ts), all failing with long causes. Run alone: npm run bench:org-scan
import { IAMClient } from '@aws-sdk/client-iam';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { STSClient } from '@aws-sdk/client-sts';
import { pathToFileURL } from 'node:url';
import { startBenchMoto } from './bench-moto.ts';
import { countCalls, type CallCounter } from '../test/helpers/call-counter.ts';
import { createPassStateMachine } from '../test/helpers/iam-seed.ts';
import { refuseAssumeRoleInto, seedOrganization } from '../test/helpers/org-seed.ts';

const MANAGEMENT = '123456789012';

export interface OrgScanBench {
  readonly members: number;
  readonly withoutRole: number;
  readonly wallSeconds: number;
  /** Selected accounts: the members and the rotator's own. */
  readonly accounts: number;
  readonly awsCalls: number;
  readonly callsPerAccount: number;
  readonly callsByService: Readonly<Record<string, number>>;
  readonly lambdaInvocationsPerAccount: number;
  readonly largestState: { readonly state: string; readonly bytes: number };
  readonly computed: readonly {
    readonly accounts: number;
    readonly largestStateBytes: number;
    readonly state: string;
    readonly seconds: number;
  }[];
}

export async function benchOrgScan(members = 50, withoutRole = 10): Promise<OrgScanBench> {
  const moto = await startBenchMoto();
  try {
    const { runOrganizationScan } = await import('#local/org-runner.ts');
    const { simulateOrgScan } = await import('#local/org-scan-sizes.ts');
    const { silentLogger } = await import('#shared/base/logger.ts');
    const { DAY_MS, fixedClock, systemClock } = await import('#shared/base/clock.ts');
    const { loadConfig } = await import('#shared/config/settings.ts');
    const { ensureLedgerTable } = await import('#shared/notify/ledger.ts');
    const { memberAccountClients, memberCredentials } = await import('#shared/aws/member-account.ts');
    const { iamWith } = await import('#shared/aws/clients/iam.ts');
    const { pageSize } = await import('#shared/org/scan-store.ts');

    const organizations = new OrganizationsClient({});
    const sts = new STSClient({});
    const sfn = new SFNClient({});
    const sns = new SNSClient({});
    const dynamodb = new DynamoDBClient({});
    const iam = new IAMClient({});
    const org = await seedOrganization({ organizations, sts, managementAccountId: MANAGEMENT }, members, withoutRole);
    refuseAssumeRoleInto(sts, org.withoutRole, `arn:aws:iam::${MANAGEMENT}:user/bench`);
    const stateMachineArn = await createPassStateMachine(sfn);
    await ensureLedgerTable(dynamodb, 'bench-org-ledger');
    const config = loadConfig({
      SCAN_SCOPE: 'organization',
      ROTATION_STATE_MACHINE_ARN: stateMachineArn,
      NOTIFICATION_LEDGER_TABLE: 'bench-org-ledger',
      UNUSED_AFTER_DAYS: '365',
    });

    // Counted from here: the scan's own calls, in the management account and (through the member role) in each member.
    const counters: [string, CallCounter][] = [
      ['organizations', countCalls(organizations)],
      ['sts', countCalls(sts)],
      ['sfn', countCalls(sfn)],
      ['sns', countCalls(sns)],
      ['dynamodb', countCalls(dynamodb)],
      ['iam', countCalls(iam)],
    ];
    const memberIam = memberAccountClients(memberCredentials(sts, config, systemClock), (credentials) => {
      const client = iamWith(credentials);
      counters.push(['iam', countCalls(client)]);
      return client;
    });
    const started = performance.now();
    const run = await runOrganizationScan({
      config,
      clock: fixedClock(new Date(Date.now() + 100 * DAY_MS)),
      clients: { iam, sfn, sns, dynamodb, sts, organizations },
      memberIam,
      ownAccountId: MANAGEMENT,
      logger: silentLogger(),
      executionName: 'bench-org-scan',
    });
    const wallSeconds = (performance.now() - started) / 1000;
    if (run.status !== 'Succeeded') throw new Error(`the benchmarked organization scan failed: ${run.error?.name}: ${run.error?.message}`);
    const callsByService: Record<string, number> = {};
    for (const [service, counter] of counters) callsByService[service] = (callsByService[service] ?? 0) + counter.total();
    const awsCalls = Object.values(callsByService).reduce((sum, calls) => sum + calls, 0);
    const accounts = run.accounts.length;
    const pages = Math.ceil(accounts / pageSize(accounts, config.orgMaxConcurrentAccounts));
    const computed = [];
    for (const size of [1_000, 10_000]) {
      const simulated = await simulateOrgScan({ accounts: size, throwEvery: 7 });
      computed.push({
        accounts: size,
        largestStateBytes: simulated.run.largestState.bytes,
        state: simulated.run.largestState.state,
        seconds: simulated.seconds,
      });
    }
    return {
      members,
      withoutRole,
      wallSeconds,
      accounts,
      awsCalls,
      callsPerAccount: awsCalls / accounts,
      callsByService,
      // ListAccounts and Report once, ReadPage and RecordPage once per page, scan-keys once per account.
      lambdaInvocationsPerAccount: (2 + 2 * pages + accounts) / accounts,
      largestState: run.largestState,
      computed,
    };
  } finally {
    await moto.stop();
  }
}

export function orgScanTable(result: OrgScanBench): string {
  const kb = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KB (${bytes} bytes)`;
  return [
    '| measure | value |',
    '|---|---:|',
    `| organization scan against moto: member accounts (without the member role) | ${result.members} (${result.withoutRole}) + the rotator's own |`,
    `| wall time | ${result.wallSeconds.toFixed(2)} s |`,
    `| AWS calls per account | ${result.callsPerAccount.toFixed(1)} (${result.awsCalls} in all: ${Object.entries(result.callsByService)
      .map(([service, calls]) => `${service} ${calls}`)
      .join(', ')}) |`,
    `| Lambda invocations per account | ${result.lambdaInvocationsPerAccount.toFixed(2)} |`,
    `| largest state, ${result.accounts} accounts against moto | ${kb(result.largestState.bytes)}, ${result.largestState.state} |`,
    ...result.computed.map(
      (entry) =>
        `| largest state computed at ${entry.accounts.toLocaleString('en-US')} accounts, all failing with long causes | ${kb(entry.largestStateBytes)}, ${entry.state} (${entry.seconds.toFixed(1)} s) |`,
    ),
  ].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(orgScanTable(await benchOrgScan()));
}
