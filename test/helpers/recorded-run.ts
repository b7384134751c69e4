import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IAMClient } from '@aws-sdk/client-iam';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { STSClient } from '@aws-sdk/client-sts';
import { SimulatedConsumer } from '#local/consumer.ts';
import { runRotation, type RunRotationInput, type RunRotationOptions, type StateRecord } from '#local/runner.ts';
import type { StsCredentials } from '#shared/rotation/deps.ts';
import { FaultInjector, type TaskWrapper } from './faults.ts';
import { KeySampler, notificationsSince, observeUntilOf, userNotifications, type RunRecord } from './invariants.ts';
import type { LeakScanner } from './leak-scan.ts';

/**
 * One local run of the real workflow, recorded for the reliability checks: its own SDK clients
 * (faults injected, secrets watched), every state's data to the leak scan, a key sample at every
 * state, the notifications it published and the end of its observation period.
 */

export interface RunClients {
  readonly clients: NonNullable<RunRotationOptions['clients']>;
  readonly stsWith: (credentials: StsCredentials) => STSClient;
}

/** Fresh clients for one run (or one cell), each carrying the fault injector; IAM also feeds the leak scan. */
export function faultedClients(injector: FaultInjector, leak: LeakScanner): RunClients {
  const clients = {
    iam: leak.watch(injector.attach(new IAMClient({}))),
    secretsManager: injector.attach(new SecretsManagerClient({})),
    sns: injector.attach(new SNSClient({})),
    dynamodb: injector.attach(new DynamoDBClient({})),
    sts: injector.attach(new STSClient({})),
  };
  return { clients, stsWith: (credentials) => injector.attach(new STSClient({ credentials, maxAttempts: 1 })) };
}

export interface RecordedRunOptions {
  readonly leak: LeakScanner;
  readonly sampler: KeySampler;
  readonly clients: RunClients;
  readonly durations: RunRotationOptions['durations'];
  readonly wrapper?: TaskWrapper;
  readonly onState?: (state: StateRecord) => void;
  readonly config?: RunRotationOptions['config'];
  /** Read what this run published (two reads of moto's data.json per run); the soak reads them once at the end instead. */
  readonly trackNotifications?: boolean;
}

export async function recordedRun(input: RunRotationInput, options: RecordedRunOptions): Promise<RunRecord> {
  const { leak, sampler } = options;
  const track = options.trackNotifications ?? true;
  const before = track ? (await userNotifications(input.userName)).length : 0;
  const observeUntil: string[] = [];
  const report = await runRotation(input, {
    // Passed as a variable: the runner's client list grows with the workflow (DynamoDB ledger, STS account id).
    clients: options.clients.clients,
    stsWith: options.clients.stsWith,
    durations: options.durations,
    ...(options.config ? { config: options.config } : {}),
    logger: leak.logger,
    ...(options.wrapper ? { wrapTask: options.wrapper.wrapTask } : {}),
    onNotice: (text) => leak.capture('runner notices', text),
    onState: (state) => {
      sampler.sample(input.userName);
      options.onState?.(state);
    },
    onStateData: (data) => {
      leak.onStateData(data);
      const until = observeUntilOf(data.output);
      if (until !== undefined && !observeUntil.includes(until)) observeUntil.push(until);
    },
  });
  leak.capture('runner reports', report);
  return { report, notifications: track ? await notificationsSince(input.userName, before) : [], observeUntil };
}

/** A background consumer of the user's secret: one that follows rotations (reads AWSCURRENT before every call), or one that keeps its first key. */
export function startConsumer(
  userName: string,
  secretsManager: SecretsManagerClient,
  followsRotation = true,
  intervalMs = 20,
): SimulatedConsumer {
  const consumer = new SimulatedConsumer({
    userName,
    secretId: `iam-key-rotator/${userName}`,
    secretsManager,
    followsRotation,
    intervalMs,
  });
  consumer.start();
  return consumer;
}

export { FaultInjector, KeySampler };
