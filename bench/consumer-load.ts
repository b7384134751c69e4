// Secret reads per minute of the Node credential provider under load, before and after issue 21: 100
// callers (10 service instances × 10 concurrent request loops, each instance with its own provider and
// its own source address) call STS once a second each, in three scenarios against a fresh moto_server:
//   - a rotation: runRotation (the real state machine) moves the key while they call; the local
//     CloudTrail stand-in refuses calls on a key that is not Active, as AWS does, and feeds the gate;
//   - an unreadable secret: GetSecretValue fails (the secret does not exist) for the whole run;
//   - a refused key: the secret's AWSCURRENT holds a deleted key, so every call is refused and retried;
//   - callers in step: no fault, but every caller calls at the same instants (one schedule drives them),
//     for twice as long: what the TTL jitter is for (the peak of re-reads within 100 ms).
// "before" is the provider of commit 3b3ec73 (bench/reference/rotating-credentials-before.ts), "after"
// today's consumer/rotating-credentials.ts with its defaults (the TTL shortened for both alike).
// Run: npm run bench:consumer-load (BENCH_CONSUMER_SECONDS=10 sets the length of the two fault scenarios;
// BENCH_CONSUMER_SCENARIOS='refused key,rotation' chooses scenarios).
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { CreateAccessKeyCommand, CreateUserCommand, DeleteAccessKeyCommand, IAMClient, TagUserCommand } from '@aws-sdk/client-iam';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentityProvider } from '@aws-sdk/types';
import { pathToFileURL } from 'node:url';
import { silentLogger } from '#shared/base/logger.ts';
import { createSecretHolding } from '#shared/rotation/secret.ts';
import { CloudTrailRecorder, LOCAL_CLOUDTRAIL_LOG_GROUP } from '#local/cloudtrail-recorder.ts';
import { runRotation } from '#local/runner.ts';
import { fromRotatingSecret } from '../consumer/rotating-credentials.ts';
import { fromRotatingSecret as fromRotatingSecretBefore } from './reference/rotating-credentials-before.ts';
import { onFreshMoto } from './scan.ts';

const INSTANCES = 10;
const CALLERS_PER_INSTANCE = 10;
const CALL_INTERVAL_MS = 1_000;
/** Five minutes compressed as the local runner compresses the rotation's waits. */
const TTL_MS = 3_000;
const ROTATION_DURATIONS = { healthCheckIntervalMs: 1_000, healthCheckDeadlineMs: 30_000, observationMs: 2_000, oldKeyQuietMs: 1_000 };

type Variant = 'before' | 'after';
type Scenario = 'rotation' | 'unreadable secret' | 'refused key' | 'callers in step';

export interface ConsumerLoadResult {
  readonly scenario: Scenario;
  readonly variant: Variant;
  readonly seconds: number;
  readonly reads: number;
  readonly readsPerMinute: number;
  /**
   * The most re-reads (each instance's first read left out: they all start together) that began within
   * 100 ms, over all instances: what the TTL jitter spreads.
   */
  readonly peakReadsPer100Ms: number;
  readonly calls: number;
  readonly failedCalls: number;
  readonly detail: string;
}

interface Instance {
  readonly sts: STSClient;
  readonly readTimes: number[];
  readonly destroy: () => void;
}

function instance(variant: Variant, secretId: string, index: number, recorder: CloudTrailRecorder): Instance {
  const readTimes: number[] = [];
  const secrets = new SecretsManagerClient({});
  secrets.middlewareStack.add(
    (next) => async (args) => {
      readTimes.push(performance.now());
      return next(args);
    },
    { step: 'initialize', name: 'benchCountReads' },
  );
  const credentials =
    variant === 'before'
      ? fromRotatingSecretBefore({ secretId, ttlMs: TTL_MS, client: secrets })
      : fromRotatingSecret({ secretId, ttlMs: TTL_MS, client: secrets });
  const sts = credentials.attach(new STSClient({ credentials: credentials as AwsCredentialIdentityProvider, maxAttempts: 1 }));
  recorder.attach(sts, { sourceIp: `198.51.100.${index + 10}` });
  return {
    sts,
    readTimes,
    destroy: () => {
      sts.destroy();
      secrets.destroy();
    },
  };
}

/** Runs 100 callers until `work` resolves; returns what they did. */
async function load<T>(
  variant: Variant,
  secretId: string,
  recorder: CloudTrailRecorder,
  work: () => Promise<T>,
  inStep = false,
): Promise<{ result: T; seconds: number; reads: number[]; rereads: number[]; calls: number; failed: Map<string, number> }> {
  const instances = Array.from({ length: INSTANCES }, (_, index) => instance(variant, secretId, index, recorder));
  let running = true;
  let calls = 0;
  const failed = new Map<string, number>();
  const started = performance.now();
  const loops = instances.flatMap((made) =>
    Array.from({ length: CALLERS_PER_INSTANCE }, async () => {
      // Spread the first calls over an interval, as requests arrive at a service; or, in step, none.
      if (!inStep) await new Promise((resolve) => setTimeout(resolve, Math.random() * CALL_INTERVAL_MS));
      while (running) {
        const begun = performance.now();
        calls += 1;
        try {
          await made.sts.send(new GetCallerIdentityCommand({}));
        } catch (error) {
          const name = error instanceof Error ? error.name : 'unknown';
          failed.set(name, (failed.get(name) ?? 0) + 1);
        }
        // In step: every caller calls at the same whole intervals from the start (one schedule drives them all).
        const wait = inStep
          ? CALL_INTERVAL_MS - ((performance.now() - started) % CALL_INTERVAL_MS)
          : Math.max(0, CALL_INTERVAL_MS - (performance.now() - begun));
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }),
  );
  const result = await work();
  running = false;
  await Promise.all(loops);
  const seconds = (performance.now() - started) / 1000;
  const reads = instances.flatMap((made) => made.readTimes);
  const rereads = instances.flatMap((made) => made.readTimes.slice(1));
  for (const made of instances) made.destroy();
  return { result, seconds, reads, rereads, calls, failed };
}

function peakPer100Ms(times: readonly number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let peak = 0;
  let from = 0;
  for (let to = 0; to < sorted.length; to += 1) {
    while ((sorted[to] ?? 0) - (sorted[from] ?? 0) >= 100) from += 1;
    peak = Math.max(peak, to - from + 1);
  }
  return peak;
}

async function newUser(iam: IAMClient, userName: string): Promise<{ AccessKeyId: string; SecretAccessKey: string }> {
  await iam.send(new CreateUserCommand({ UserName: userName }));
  await iam.send(new TagUserCommand({ UserName: userName, Tags: [{ Key: 'rotation:owner', Value: 'team@example.com' }] }));
  const key = (await iam.send(new CreateAccessKeyCommand({ UserName: userName }))).AccessKey;
  if (!key?.AccessKeyId || !key.SecretAccessKey) throw new Error(`moto returned no access key for ${userName}`);
  return { AccessKeyId: key.AccessKeyId, SecretAccessKey: key.SecretAccessKey };
}

async function scenario(variant: Variant, which: Scenario, faultSeconds: number): Promise<ConsumerLoadResult> {
  {
    const rotatorIam = new IAMClient({});
    const secrets = new SecretsManagerClient({});
    const recorder = new CloudTrailRecorder({
      iam: rotatorIam,
      logs: new CloudWatchLogsClient({}),
      logGroupName: LOCAL_CLOUDTRAIL_LOG_GROUP,
    });
    recorder.watchKeyChanges(rotatorIam);
    const userName = `load-${which.replace(/ /g, '-')}-${variant}`;
    const key = await newUser(rotatorIam, userName);
    const holding = { ...key, UserName: userName, CreatedAt: new Date().toISOString() };
    const secretId = `iam-key-rotator/${userName}`;
    const sleep = () => new Promise<string>((resolve) => setTimeout(() => resolve(`${faultSeconds} s`), faultSeconds * 1000));
    let run: Awaited<ReturnType<typeof load<string>>>;
    if (which === 'rotation') {
      await createSecretHolding(secrets, secretId, holding);
      run = await load(variant, secretId, recorder, async () => {
        // Let every caller use the old key first, so the gate has consumers to wait for.
        await new Promise((resolve) => setTimeout(resolve, 2 * CALL_INTERVAL_MS));
        const report = await runRotation(
          { userName, reason: 'consumer load bench' },
          { logger: silentLogger(), durations: ROTATION_DURATIONS, clients: { iam: rotatorIam } },
        );
        return `rotation ${report.status} in ${(report.durationMs / 1000).toFixed(1)} s`;
      });
    } else if (which === 'unreadable secret') {
      run = await load(variant, 'iam-key-rotator/no-such-user', recorder, sleep);
    } else if (which === 'callers in step') {
      await createSecretHolding(secrets, secretId, holding);
      const longer = () => new Promise<string>((resolve) => setTimeout(() => resolve(`${2 * faultSeconds} s`), 2 * faultSeconds * 1000));
      run = await load(variant, secretId, recorder, longer, true);
    } else {
      await createSecretHolding(secrets, secretId, holding);
      await rotatorIam.send(new DeleteAccessKeyCommand({ UserName: userName, AccessKeyId: key.AccessKeyId }));
      run = await load(variant, secretId, recorder, sleep);
    }
    await recorder.flush();
    rotatorIam.destroy();
    secrets.destroy();
    const failedCalls = [...run.failed.values()].reduce((sum, count) => sum + count, 0);
    const errors = [...run.failed].map(([name, count]) => `${count} ${name}`).join(', ');
    return {
      scenario: which,
      variant,
      seconds: run.seconds,
      reads: run.reads.length,
      readsPerMinute: (run.reads.length / run.seconds) * 60,
      peakReadsPer100Ms: peakPer100Ms(run.rereads),
      calls: run.calls,
      failedCalls,
      detail: [run.result, errors].filter(Boolean).join('; '),
    };
  }
}

export async function benchConsumerLoad(log: (text: string) => void = console.error): Promise<ConsumerLoadResult[]> {
  const faultSeconds = Number(process.env.BENCH_CONSUMER_SECONDS ?? 10);
  const results: ConsumerLoadResult[] = [];
  // One moto_server for every scenario (each its own user): the runner's module-scope clients keep
  // the endpoint of their first request, so a second server would not be reached by a second rotation.
  await onFreshMoto(async () => {
    const chosen = process.env.BENCH_CONSUMER_SCENARIOS?.split(',');
    for (const which of ['rotation', 'unreadable secret', 'refused key', 'callers in step'] as const) {
      if (chosen && !chosen.includes(which)) continue;
      for (const variant of ['before', 'after'] as const) {
        const result = await scenario(variant, which, faultSeconds);
        log(`consumer load: ${which}, ${variant}: ${result.reads} reads in ${result.seconds.toFixed(1)} s`);
        results.push(result);
      }
    }
  });
  return results;
}

export function consumerLoadTable(results: readonly ConsumerLoadResult[]): string {
  const rows = results.map(
    (result) =>
      `| ${result.scenario} | ${result.variant} | ${result.seconds.toFixed(1)} s | ${result.reads} | ${Math.round(result.readsPerMinute)} | ` +
      `${result.peakReadsPer100Ms} | ${result.calls} | ${result.failedCalls} | ${result.detail} |`,
  );
  return [
    `${INSTANCES * CALLERS_PER_INSTANCE} callers (${INSTANCES} instances × ${CALLERS_PER_INSTANCE}), one STS call a second each, TTL ${TTL_MS / 1000} s.`,
    '',
    '| scenario | provider | run | secret reads | reads / min | peak re-reads in 100 ms | calls | failed calls | detail |',
    '|---|---|---:|---:|---:|---:|---:|---:|---|',
    ...rows,
  ].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const results = await benchConsumerLoad();
  console.log(consumerLoadTable(results));
}
