// Containment speed of the compromise fast path: the real ASL run by the local runner against its own
// moto, 10 times. Before each run the leaked key assumes a role, recorded by the local CloudTrail
// stand-in, and revocation is on. For each run: the time from the trigger (runRotation called) to
// "leaked key Inactive and session-deny policy attached" (the later of the two IAM calls returning),
// to "role sessions denied" (the role's AWSRevokeOlderSessions written, after Contain read CloudTrail),
// and the number of state transitions up to and including the one that contains. Run alone: npm run bench:containment;
// `npm run bench` calls benchContainment() and puts its figures in bench/results.md.
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { CreateAccessKeyCommand, CreateRoleCommand, CreateUserCommand, IAMClient } from '@aws-sdk/client-iam';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { pathToFileURL } from 'node:url';
import { startBenchMoto } from './bench-moto.ts';
import { STATES } from '#statemachines/rotate-key.ts';
import { createSecretHolding } from '#shared/rotation/secret.ts';

export const CONTAINMENT_RUNS = 10;
/** The goal this bench reports against: contained within a second of the trigger, locally. */
export const CONTAINMENT_GOAL_MS = 1000;

export interface ContainmentResult {
  readonly runs: number;
  /** Per run: trigger (runRotation called) -> the later of UpdateAccessKey (Inactive) and PutUserPolicy (deny) returning. */
  readonly timesMs: readonly number[];
  readonly medianMs: number;
  /** Per run: trigger -> the PutRolePolicy that revokes the older sessions of the role the key assumed, returning. */
  readonly roleTimesMs: readonly number[];
  readonly roleMedianMs: number;
  /** States entered up to and including Contain, and their names (the same in every run). */
  readonly transitionsToContain: number;
  readonly statesToContain: readonly string[];
  readonly goalMs: number;
  readonly goalMet: boolean;
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
};

export async function benchContainment(runs = CONTAINMENT_RUNS): Promise<ContainmentResult> {
  const moto = await startBenchMoto();
  try {
    const { runRotation } = await import('#local/runner.ts');
    const { silentLogger } = await import('#shared/base/logger.ts');
    const { loadConfig } = await import('#shared/config/settings.ts');
    const { CloudTrailRecorder, LOCAL_CLOUDTRAIL_LOG_GROUP } = await import('#local/cloudtrail-recorder.ts');
    // Explicit endpoints for every client: `npm run bench` runs other benches in this process, each with
    // its own moto, and the runner's default clients keep the endpoint of the first.
    const endpoint = moto.endpoint;
    const secretsManager = new SecretsManagerClient({ endpoint });
    const logs = new CloudWatchLogsClient({ endpoint });
    const others = { sns: new SNSClient({ endpoint }), dynamodb: new DynamoDBClient({ endpoint }), sts: new STSClient({ endpoint }), logs };
    const config = { ...loadConfig(process.env), compromiseRevokeRoleSessions: ['all'], cloudtrailLogGroup: LOCAL_CLOUDTRAIL_LOG_GROUP };
    const logger = silentLogger();

    // The runner's IAM client, instrumented: when did the two containing calls return?
    const iam = new IAMClient({ endpoint });
    const returned = new Map<string, number>();
    iam.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        const command = context.commandName ?? '';
        if (['UpdateAccessKeyCommand', 'PutUserPolicyCommand', 'PutRolePolicyCommand'].includes(command) && !returned.has(command))
          returned.set(command, performance.now());
        return result;
      },
      { step: 'initialize', name: 'containmentTimer' },
    );

    const times: number[] = [];
    const roleTimes: number[] = [];
    const trail = new CloudTrailRecorder({ iam, logs, logGroupName: LOCAL_CLOUDTRAIL_LOG_GROUP });
    const trust = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: '*' }, Action: 'sts:AssumeRole' }],
    });
    const transitions: number[] = [];
    let statesToContain: string[] = [];
    for (let run = 0; run < runs; run += 1) {
      const userName = `leaked-${run}`;
      await iam.send(new CreateUserCommand({ UserName: userName }));
      const key = await iam.send(new CreateAccessKeyCommand({ UserName: userName }));
      const accessKeyId = key.AccessKey?.AccessKeyId ?? '';
      await createSecretHolding(secretsManager, `iam-key-rotator/${userName}`, {
        AccessKeyId: accessKeyId,
        SecretAccessKey: key.AccessKey?.SecretAccessKey ?? '',
        UserName: userName,
        CreatedAt: new Date().toISOString(),
      });
      // What an attacker does first with a leaked key: open a role session, which the user's deny does not reach.
      const role = await iam.send(new CreateRoleCommand({ RoleName: `bench-target-${run}`, AssumeRolePolicyDocument: trust }));
      const attacker = new STSClient({
        endpoint,
        credentials: { accessKeyId, secretAccessKey: key.AccessKey?.SecretAccessKey ?? '' },
        maxAttempts: 1,
      });
      trail.attach(attacker, { sourceIp: '203.0.113.66', userAgent: 'attacker-tool/0.1' });
      await attacker.send(new AssumeRoleCommand({ RoleArn: role.Role?.Arn ?? '', RoleSessionName: 'persist' }));
      attacker.destroy();
      await trail.flush();
      returned.clear();
      const trigger = performance.now();
      const report = await runRotation(
        { userName, accessKeyId, kind: 'compromise', requestedBy: 'bench', reason: 'bench' },
        {
          logger,
          config,
          clients: { iam, secretsManager, ...others },
          stsWith: (credentials) => new STSClient({ endpoint, credentials, maxAttempts: 1 }),
          durations: { healthCheckIntervalMs: 50, healthCheckDeadlineMs: 100, observationMs: 50, oldKeyQuietMs: 50 },
        },
      );
      const deactivated = returned.get('UpdateAccessKeyCommand');
      const denied = returned.get('PutUserPolicyCommand');
      const roleDenied = returned.get('PutRolePolicyCommand');
      if (report.status !== 'Succeeded' || deactivated === undefined || denied === undefined || roleDenied === undefined) {
        throw new Error(
          `run ${run} did not contain the key and the role's sessions: ${report.status} ${report.error?.name ?? ''} ${report.error?.message ?? ''}`,
        );
      }
      times.push(Math.max(deactivated, denied) - trigger);
      roleTimes.push(roleDenied - trigger);
      const contain = report.states.findIndex((state) => state.name === STATES.Contain);
      transitions.push(contain + 1);
      statesToContain = report.states.slice(0, contain + 1).map((state) => state.name);
    }
    const medianMs = Number(median(times).toFixed(1));
    return {
      runs,
      timesMs: times.map((ms) => Number(ms.toFixed(1))),
      medianMs,
      roleTimesMs: roleTimes.map((ms) => Number(ms.toFixed(1))),
      roleMedianMs: Number(median(roleTimes).toFixed(1)),
      transitionsToContain: median(transitions),
      statesToContain,
      goalMs: CONTAINMENT_GOAL_MS,
      goalMet: medianMs < CONTAINMENT_GOAL_MS,
    };
  } finally {
    await moto.stop();
  }
}

export function containmentTable(result: ContainmentResult): string {
  const rows = result.timesMs.map((ms, run) => `| ${run + 1} | ${ms.toFixed(1)} | ${(result.roleTimesMs[run] ?? 0).toFixed(1)} |`);
  return [
    `Compromise fast path, local runner against moto, ${result.runs} runs (the first includes validating the ASL once per process). Before each run the leaked key assumed a role (recorded by the local CloudTrail stand-in); COMPROMISE_REVOKE_ROLE_SESSIONS=all.`,
    '',
    '| run | trigger → key Inactive, user sessions denied (ms) | trigger → role sessions denied (ms) |',
    '|---:|---:|---:|',
    ...rows,
    '',
    `Median trigger → old key Inactive and sessions denied (session-deny policy attached): **${result.medianMs} ms**.`,
    `Median trigger → the assumed role's older sessions denied (AWSRevokeOlderSessions written, after reading CloudTrail): **${result.roleMedianMs} ms**. On AWS add event history's pace (2 LookupEvents a second per account and region; a 90-day read of a busy key takes its 20-call budget, about 10 s).`,
    `State transitions up to containment: ${result.transitionsToContain} (${result.statesToContain.join(' → ')}); Contain is the first Task after the routing.`,
    `Goal: under ${result.goalMs} ms locally → ${result.goalMet ? 'met' : 'NOT met'}.`,
  ].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(containmentTable(await benchContainment()));
}
