// Containment speed of the compromise fast path: the real ASL run by the local runner against its own
// moto, 10 times. For each run: the time from the trigger (runRotation called) to "leaked key Inactive
// and session-deny policy attached" (the later of the two IAM calls returning), and the number of
// state transitions up to and including the one that contains. Run alone: npm run bench:containment;
// `npm run bench` calls benchContainment() and puts its figures in bench/results.md.
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient } from '@aws-sdk/client-iam';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { STSClient } from '@aws-sdk/client-sts';
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
    // Explicit endpoints for every client: `npm run bench` runs other benches in this process, each with
    // its own moto, and the runner's default clients keep the endpoint of the first.
    const endpoint = moto.endpoint;
    const secretsManager = new SecretsManagerClient({ endpoint });
    const others = { sns: new SNSClient({ endpoint }), dynamodb: new DynamoDBClient({ endpoint }), sts: new STSClient({ endpoint }) };
    const logger = silentLogger();

    // The runner's IAM client, instrumented: when did the two containing calls return?
    const iam = new IAMClient({ endpoint });
    const returned = new Map<string, number>();
    iam.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        if (context.commandName === 'UpdateAccessKeyCommand' || context.commandName === 'PutUserPolicyCommand') {
          if (!returned.has(context.commandName)) returned.set(context.commandName, performance.now());
        }
        return result;
      },
      { step: 'initialize', name: 'containmentTimer' },
    );

    const times: number[] = [];
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
      returned.clear();
      const trigger = performance.now();
      const report = await runRotation(
        { userName, accessKeyId, kind: 'compromise', requestedBy: 'bench', reason: 'bench' },
        {
          logger,
          clients: { iam, secretsManager, ...others },
          stsWith: (credentials) => new STSClient({ endpoint, credentials, maxAttempts: 1 }),
          durations: { healthCheckIntervalMs: 50, healthCheckDeadlineMs: 100, observationMs: 50, oldKeyQuietMs: 50 },
        },
      );
      const deactivated = returned.get('UpdateAccessKeyCommand');
      const denied = returned.get('PutUserPolicyCommand');
      if (report.status !== 'Succeeded' || deactivated === undefined || denied === undefined) {
        throw new Error(`run ${run} did not contain the key: ${report.status} ${report.error?.name ?? ''} ${report.error?.message ?? ''}`);
      }
      times.push(Math.max(deactivated, denied) - trigger);
      const contain = report.states.findIndex((state) => state.name === STATES.Contain);
      transitions.push(contain + 1);
      statesToContain = report.states.slice(0, contain + 1).map((state) => state.name);
    }
    const medianMs = Number(median(times).toFixed(1));
    return {
      runs,
      timesMs: times.map((ms) => Number(ms.toFixed(1))),
      medianMs,
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
  const rows = result.timesMs.map((ms, run) => `| ${run + 1} | ${ms.toFixed(1)} |`);
  return [
    `Compromise fast path, local runner against moto, ${result.runs} runs (the first includes validating the ASL once per process).`,
    '',
    '| run | trigger → contained (ms) |',
    '|---:|---:|',
    ...rows,
    '',
    `Median trigger → old key Inactive and sessions denied (session-deny policy attached): **${result.medianMs} ms**.`,
    `State transitions up to containment: ${result.transitionsToContain} (${result.statesToContain.join(' → ')}); Contain is the first Task after the routing.`,
    `Goal: under ${result.goalMs} ms locally → ${result.goalMet ? 'met' : 'NOT met'}.`,
  ].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(containmentTable(await benchContainment()));
}
