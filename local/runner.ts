import { readFileSync } from 'node:fs';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { IAMClient } from '@aws-sdk/client-iam';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { STSClient } from '@aws-sdk/client-sts';
import { containStep } from '#functions/rotate-contain.ts';
import { createAndStoreStep } from '#functions/rotate-create-and-store.ts';
import { checkConsumersStep } from '#functions/rotate-check-consumers.ts';
import { checkObservationStep } from '#functions/rotate-check-observation.ts';
import { deactivateStep } from '#functions/rotate-deactivate.ts';
import { deleteOldKeyStep } from '#functions/rotate-delete-old-key.ts';
import { makeSafeStep } from '#functions/rotate-make-safe.ts';
import { notifyStep } from '#functions/notify.ts';
import { prepareStep } from '#functions/rotate-prepare.ts';
import { promoteStep } from '#functions/rotate-promote.ts';
import { rollbackStep } from '#functions/rotate-rollback.ts';
import { awaitConfirmationStep } from '#functions/rotate-await-confirmation.ts';
import { verifyStep } from '#functions/rotate-verify.ts';
import {
  dynamodb as defaultDynamodb,
  iam as defaultIam,
  secretsManager as defaultSecretsManager,
  sns as defaultSns,
  sts as defaultSts,
} from '#shared/aws/clients.ts';
import { securityHub } from '#shared/aws/security-hub.ts';
import { systemClock, type Clock } from '#shared/base/clock.ts';
import { loadConfig, type Config } from '#shared/config/settings.ts';
import {
  AccessKeyNotFoundError,
  HistoryBoundError,
  KeyNotActiveError,
  RotationInProgressError,
  RotatorError,
  errorMessage,
} from '#shared/base/errors.ts';
import { describeWaits, historyBoundExcess } from '#shared/config/history-budget.ts';
import { executionName } from '#shared/base/execution-name.ts';
import { ensureLedgerTable } from '#shared/notify/ledger.ts';
import { callerAccountId, createNotifier, ledgerFor } from '#shared/notify/notifier.ts';
import type { Logger } from '@aws-lambda-powertools/logger';
import { logger as defaultLogger } from '#shared/base/logger.ts';
import {
  awsLastUsedPrecision,
  FULL_PRECISION,
  HTTP_CHECK_TIMEOUT_MS,
  stsWith,
  type DepsProvider,
  type Durations,
  type RotationDeps,
  type StsCredentials,
} from '#shared/rotation/deps.ts';
import { dynamoTokenStore } from '#shared/rotation/confirmation-tokens.ts';
import { listUserKeys, readTags } from '#shared/aws/iam.ts';
import { inAccount } from '#shared/rotation/step-account.ts';
import { memberAccountClients, memberCredentials } from '#shared/aws/member-account.ts';
import { ASL_PATH, loadDefinition } from '#statemachines/definitions.ts';
import { STATES } from '#statemachines/rotate-key.ts';
import type { ConfirmChannel, RotationKind, Straggler } from '#shared/rotation/workflow-state.ts';
import { markersFor, type LastUsedPrecision } from '#shared/rotation/decisions.ts';
import { clearMarkers } from '#shared/rotation/markers.ts';
import { dynamoDecisionStore } from '#shared/rotation/decision-records.ts';
import { withLocalTrail } from './cloudtrail-recorder.ts';
import { cloudtrailFor } from '#shared/aws/clients/cloudtrail.ts';
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { logs } from '#shared/aws/clients/cloudwatch-logs.ts';
import type { KeyCallReader } from '#shared/aws/key-calls.ts';
import { inProcessKeyCallReader } from '#shared/consumers/reader.ts';
import { localContext, type LocalContext } from './lambda-context.ts';
import { recordLocalRun } from './run-history.ts';
import { secondsBetween, type RotationRecord } from '#shared/report/rotation-history.ts';
import { LOCAL_LEDGER_TABLE, localRunRegistry, type LocalRunLease } from './run-registry.ts';
import { requireLocalRunnerNode } from './runner-node.ts';

/**
 * The local runner: executes statemachines/rotate-key.asl.json with aws-local-stepfunctions, every
 * Task bound in-process to the real handler (same middy chain, same zod parsing, same core), against
 * AWS_ENDPOINT_URL (moto) or the account of the current credentials. Waits are compressed.
 */

export const LOCAL_TOPIC_NAME = 'iam-key-rotator-notifications';
export { LOCAL_LEDGER_TABLE };

/** Compressed waits for local runs; each can be overridden (`--health-check-interval` and friends). An observation
 * period of one interval means one observation check: the happy path takes 18 state transitions. */
export const LOCAL_DURATIONS: Durations = {
  healthCheckIntervalMs: 1_000,
  healthCheckDeadlineMs: 10_000,
  observationMs: 1_000,
  oldKeyQuietMs: 2_000,
};

/**
 * The waits a local run starts from. The quiet period decides that no consumer still uses the key
 * about to be cut (retire, old-key-idle), so it is compressed only against an emulator
 * (AWS_ENDPOINT_URL); in a real account it is OLD_KEY_QUIET_PERIOD, as deployed, unless the person
 * names another (`--quiet-period`).
 */
export function localDefaults(config: Pick<Config, 'oldKeyQuietMs'>, env: NodeJS.ProcessEnv = process.env): Durations {
  return env.AWS_ENDPOINT_URL ? LOCAL_DURATIONS : { ...LOCAL_DURATIONS, oldKeyQuietMs: config.oldKeyQuietMs };
}

/**
 * A local run's waits: the local defaults with the caller's overrides, held to the execution history
 * bound as the deployed settings are. The local runner mirrors AWS, where a rotation whose polls
 * reach 25,000 history events fails without MakeSafe; aws-local-stepfunctions has no such limit, so
 * without this a compressed run would pass where the same waits fail deployed.
 */
export function localDurations(given: Partial<Durations> = {}, defaults: Durations = LOCAL_DURATIONS): Durations {
  const durations: Durations = { ...defaults, ...given };
  const excess = historyBoundExcess(durations, 'healthCheckIntervalMs (--health-check-interval)');
  if (excess !== undefined) {
    throw new HistoryBoundError(
      excess.events,
      excess.bound,
      excess.smallestIntervalMs,
      `The local run's waits, ${describeWaits(durations)}, ${excess.detail} Nothing was started.`,
    );
  }
  return durations;
}

/** Every Lambda of the workflow, by its function key in serverless.yml (the name in `Fn::GetAtt`). */
const STEPS: Readonly<Record<string, (deps: DepsProvider, logger: Logger) => (event: unknown, context: LocalContext) => Promise<unknown>>> =
  {
    rotateContain: containStep,
    rotatePrepare: prepareStep,
    rotateCreateAndStore: createAndStoreStep,
    rotateVerify: verifyStep,
    rotatePromote: promoteStep,
    rotateCheckConsumers: checkConsumersStep,
    // Bound like every Task, but not reached by local runs: their Prepare says confirmVia "tag", so the
    // manual check is read from the rotation:confirm tag by CheckConsumers (no task-token callbacks here).
    rotateAwaitConfirmation: awaitConfirmationStep,
    rotateDeactivate: deactivateStep,
    rotateCheckObservation: checkObservationStep,
    rotateRollback: rollbackStep,
    rotateDeleteOldKey: deleteOldKeyStep,
    rotateMakeSafe: makeSafeStep,
    notify: notifyStep,
  };

export type RotationStatus = 'Succeeded' | 'RolledBack' | 'NeedsAttention' | 'Failed';

export interface StateRecord {
  readonly name: string;
  readonly type: string;
  readonly enteredAt: string;
  /** `ok`, `retried <Error>`, `caught <Error>`, `failed <Error>`, a check's status (`waiting`, `healthy`...), or `→ Next` for a Choice. */
  outcome: string;
}

export interface RotationReport {
  readonly status: RotationStatus;
  readonly userName: string;
  /** Null only when the user has no key to rotate. */
  readonly oldAccessKeyId: string | null;
  readonly newAccessKeyId: string | null;
  readonly error?: { readonly name: string; readonly message: string };
  /** Where notifications went; null when the run could not start. */
  readonly topicArn: string | null;
  /** The execution name notifications were recorded under; null when the run could not start. */
  readonly executionName: string | null;
  readonly durationMs: number;
  readonly states: readonly StateRecord[];
  /** RolledBack: the key AWSCURRENT holds after the rollback (the new key when no version ever held the old one). */
  readonly currentKeyId?: string | null;
  /** The consumers the last gate check saw still on the old key (CloudTrail). */
  readonly stillOnOldKey?: readonly Straggler[];
  /** The user's secret, once Prepare named it. */
  readonly secretName?: string;
}

export interface RunRotationInput {
  readonly userName: string;
  /** The key to replace; default: the user's oldest Active key. */
  readonly accessKeyId?: string;
  readonly kind?: RotationKind;
  readonly requestedBy?: string;
  readonly reason?: string;
  /** The member account that holds the user (organization-wide rotation): the steps act there through its member role. */
  readonly accountId?: string;
  readonly accountName?: string;
  /** Rotate an exempt user anyway, for this reason (recorded in the execution input and the notices). */
  readonly exemptionOverride?: string;
  /** A retirement: also schedule the user's secret for deletion once the key is deleted. */
  readonly deleteSecret?: boolean;
}

export interface RunRotationOptions {
  readonly config?: Config;
  readonly clock?: Clock;
  /** Waits, compressed for local runs; defaults to localDefaults. They win over user tags. */
  readonly durations?: Partial<Durations>;
  /** Called as each state finishes (and once more for a Choice when its branch is known). */
  readonly onState?: (state: StateRecord) => void;
  /** Every state's input and output as the workflow passed them (for audits and tests; they never hold a secret). */
  readonly onStateData?: (data: { readonly name: string; readonly input: unknown; readonly output: unknown }) => void;
  /** Told about side effects worth a line, e.g. the creation of the local notification topic. */
  readonly onNotice?: (text: string) => void;
  /** Notification topic; default: the configured one, else `iam-key-rotator-notifications`, created if missing. */
  readonly topicArn?: string;
  /** The execution's name (`$$.Execution.Name`); default: the deterministic name of this rotation plus the start time, unique per run. */
  readonly executionName?: string;
  readonly clients?: {
    readonly iam?: IAMClient;
    readonly secretsManager?: SecretsManagerClient;
    readonly sns?: SNSClient;
    readonly dynamodb?: DynamoDBClient;
    readonly sts?: STSClient;
    /** Reads the local CloudTrail stand-in's log group (default: a client from the environment). */
    readonly logs?: CloudWatchLogsClient;
  };
  /** Default: full precision and no lag against an emulator (AWS_ENDPOINT_URL set); against AWS, 15-minute spans and LAST_USED_LAG. */
  readonly lastUsedPrecision?: LastUsedPrecision;
  readonly fetch?: typeof fetch;
  /** The handlers' Powertools logger (default: the Lambdas' own, JSON lines on stdout). */
  readonly logger?: Logger;
  /** Stops the execution where it is, as StopExecution does in AWS: no Catch, no MakeSafe; the report says Failed (ExecutionAbortedError). */
  readonly signal?: AbortSignal;
  /** Verify's STS client for the new key (default: one attempt; the state machine retries). Tests inject faults here. */
  readonly stsWith?: (credentials: StsCredentials) => STSClient;
  /**
   * How people are heard. `tag` (the default): local runs are confirmed and aborted by the rotation:confirm
   * and rotation:abort tags, since this interpreter has no task-token callbacks. `task-token` runs the
   * steps as deployed: tags carry no decision, only the ledger table's records do; AwaitConfirmation
   * then returns at once here, so the caller plays the waiting task with `wrapTask` (tests).
   */
  readonly confirmVia?: ConfirmChannel;
  /** Wraps each Task's handler, e.g. to deliver a step twice or to tag the AWS calls it makes (tests). */
  readonly wrapTask?: (stateName: string, run: (payload: unknown) => Promise<unknown>) => (payload: unknown) => Promise<unknown>;
}

const REGION_FALLBACK = 'us-east-1';

const machines = new Map<string, { readonly definition: StateMachineDefinition; readonly machine: StateMachine }>();

/**
 * Validating the ASL (ajv) costs about 100 ms; a run's handlers are passed to `run()`, so one
 * validated machine serves every run of the same definition in this process (the soak runs 200).
 */
function validatedMachine(): { readonly definition: StateMachineDefinition; readonly machine: StateMachine } {
  const cacheKey = `${process.env.AWS_REGION ?? REGION_FALLBACK}\n${readFileSync(ASL_PATH, 'utf8')}`;
  let entry = machines.get(cacheKey);
  if (!entry) {
    const definition = localTimeoutPaths(loadDefinition());
    entry = { definition, machine: new StateMachine(definition, { validationOptions: { checkArn: true, checkPaths: true } }) };
    machines.set(cacheKey, entry);
  }
  return entry;
}

/**
 * aws-local-stepfunctions 3 resolves a Task's TimeoutSecondsPath against its effective input (after
 * Parameters); AWS resolves it against the state input. For local runs the value is copied into the
 * Payload (`timeoutSeconds`, which the handlers' schemas drop) and the path pointed there.
 */
export function localTimeoutPaths(definition: StateMachineDefinition): StateMachineDefinition {
  // A JSON copy, not structuredClone: under Jest the latter builds objects of another realm, which the library does not treat as plain.
  const copy = JSON.parse(JSON.stringify(definition)) as StateMachineDefinition;
  for (const state of Object.values(copy.States)) {
    if (state.Type !== 'Task' || typeof state.TimeoutSecondsPath !== 'string') continue;
    const parameters = state.Parameters as { Payload?: Record<string, unknown> } | undefined;
    if (!parameters?.Payload || typeof parameters.Payload !== 'object') continue;
    parameters.Payload['timeoutSeconds.$'] = state.TimeoutSecondsPath;
    state.TimeoutSecondsPath = '$.Payload.timeoutSeconds';
  }
  return copy;
}

/** The oldest Active key of the user: the one a rotation without --key replaces. */
export async function oldestActiveKey(iam: IAMClient, userName: string): Promise<string> {
  const keys = await listUserKeys(iam, userName);
  const active = keys.filter((key) => key.status === 'Active').sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  const oldest = active[0];
  if (oldest) return oldest.accessKeyId;
  if (keys.length === 0) throw new AccessKeyNotFoundError(`User ${userName} has no access keys: there is nothing to rotate.`);
  throw new KeyNotActiveError(
    `User ${userName} has no Active access key (${keys.map((key) => key.accessKeyId).join(', ')} Inactive): there is nothing to rotate.`,
  );
}

/** The dependencies the runner gives every handler: compressed waits, injectable clients and clock. */
export function localDeps(options: RunRotationOptions & { readonly config: Config }): RotationDeps {
  const durations: Durations = { ...LOCAL_DURATIONS, ...options.durations };
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? defaultLogger;
  const ledger = ledgerFor(options.clients?.dynamodb ?? defaultDynamodb, options.config);
  const sts = options.clients?.sts ?? defaultSts;
  const accountId = callerAccountId(sts);
  return {
    ownAccountId: accountId,
    // Against moto, AssumeRole of arn:aws:iam::<id>:role/<any> returns credentials acting in account <id>.
    forAccount: memberAccountClients(memberCredentials(sts, options.config, clock), (credentials) => ({
      iam: new IAMClient({ credentials }),
      secretsManager: new SecretsManagerClient({ credentials }),
      ...(options.config.securityHubFindings
        ? { securityHub: securityHub({ region: process.env.AWS_REGION ?? 'us-east-1', credentials }) }
        : {}),
    })),
    iam: options.clients?.iam ?? defaultIam,
    secretsManager: options.clients?.secretsManager ?? defaultSecretsManager,
    notifier: createNotifier({ sns: options.clients?.sns ?? defaultSns, ledger, config: options.config, accountId, clock, logger }),
    stsWith: options.stsWith ?? stsWith,
    config: options.config,
    clock,
    logger,
    durations,
    lastUsedPrecision: options.lastUsedPrecision ?? (process.env.AWS_ENDPOINT_URL ? FULL_PRECISION : awsLastUsedPrecision(options.config)),
    fetch: options.fetch ?? globalThis.fetch,
    // A health URL must answer within one check interval (at most the Lambdas' 5 s).
    httpTimeoutMs: Math.min(HTTP_CHECK_TIMEOUT_MS, Math.max(200, durations.healthCheckIntervalMs)),
    // aws-local-stepfunctions has no task-token callbacks: local runs confirm through the rotation:confirm tag.
    confirmVia: options.confirmVia ?? 'tag',
    decisions: dynamoDecisionStore(options.clients?.dynamodb ?? defaultDynamodb, () => options.config.notificationLedgerTable),
    confirmationTokens: dynamoTokenStore(options.clients?.dynamodb ?? defaultDynamodb, () => options.config.notificationLedgerTable),
    ...localKeyCalls(options.config, durations, options.clients?.logs ?? logs),
    // SECURITY_HUB_FINDINGS: the caller's Security Hub (moto's locally), signed with the IAM client's credentials.
    ...(options.config.securityHubFindings
      ? {
          securityHub: {
            api: securityHub({
              region: process.env.AWS_REGION ?? 'us-east-1',
              credentials: (options.clients?.iam ?? defaultIam).config.credentials,
            }),
            accountId,
            region: process.env.AWS_REGION ?? 'us-east-1',
          },
        }
      : {}),
  };
}

/** Who calls with a key, for a local run: against moto the stand-in's records are readable at once, so the delivery delay is compressed like the other waits. */
function localKeyCalls(config: Config, durations: Durations, trailLogs: CloudWatchLogsClient): { readonly readKeyCalls?: KeyCallReader } {
  const delay = process.env.AWS_ENDPOINT_URL ? Math.min(durations.oldKeyQuietMs, config.cloudtrailDeliveryDelayMs) : undefined;
  const reader = inProcessKeyCallReader(config, { cloudtrailFor, logs: trailLogs }, process.env, delay);
  return reader ? { readKeyCalls: reader } : {};
}

/**
 * A local run's execution name: the name a deployed rotation of this key would have, with the start
 * time in place of its tail, so two local runs of the same key (say, after a rollback) are two
 * executions and each notifies its owner.
 */
export function localExecutionName(userName: string, accessKeyId: string, kind: string, startedAt: Date): string {
  const stamp = startedAt.getTime().toString(36);
  return `${executionName(userName, accessKeyId, kind).slice(0, 80 - stamp.length - 1)}-${stamp}`;
}

/** Creating a topic by name is idempotent in SNS: the same ARN comes back each time. */
async function localTopic(sns: SNSClient): Promise<string> {
  const response = await sns.send(new CreateTopicCommand({ Name: LOCAL_TOPIC_NAME }));
  if (!response.TopicArn) throw new Error(`SNS did not return an ARN for topic ${LOCAL_TOPIC_NAME}`);
  return response.TopicArn;
}

interface ExecutionOutput {
  readonly outcome?: { readonly status?: string };
  readonly newKey?: { readonly accessKeyId?: string };
  readonly rollback?: { readonly currentKeyId?: string | null };
  readonly gate?: { readonly stragglers?: readonly Straggler[]; readonly checkedAt?: string };
  readonly promoted?: { readonly promotedAt?: string };
  readonly rotation?: { readonly secretName?: string };
}

/**
 * Runs one rotation in-process and reports how it ended. A failed rotation, or a user with no key to
 * rotate, is a report with status Failed and the error's name; it throws only for a bad configuration
 * or an AWS failure before the workflow starts.
 */
export async function runRotation(input: RunRotationInput, options: RunRotationOptions = {}): Promise<RotationReport> {
  const started = Date.now();
  requireLocalRunnerNode();
  // One rotation per user at a time, as start-rotation enforces for the deployed workflow: two runs
  // of one user would fight over the two-key limit and the secret's labels. This set covers this
  // process; the run registry (rotateOnce) covers other processes.
  const userKey = `${input.accountId ?? ''}/${input.userName}`;
  if (usersInRotation.has(userKey)) {
    const error = new RotationInProgressError(
      `User ${input.userName} is already being rotated by this process. Nothing was changed; wait for that rotation to end, then rotate again.`,
    );
    return refusedBeforeStart(input.userName, error, started, { oldAccessKeyId: input.accessKeyId ?? null, topicArn: null });
  }
  usersInRotation.add(userKey);
  try {
    return await rotateOnce(input, options, started);
  } finally {
    usersInRotation.delete(userKey);
  }
}

const usersInRotation = new Set<string>();

async function rotateOnce(input: RunRotationInput, options: RunRotationOptions, started: number): Promise<RotationReport> {
  // Before anything is read or created: waits that could pass the history bound are a bad configuration.
  const baseConfig = withLocalTrail(options.config ?? loadConfig(process.env));
  const durations = localDurations(options.durations, localDefaults(baseConfig));
  const sns = options.clients?.sns ?? defaultSns;
  let accessKeyId = input.accessKeyId;
  if (accessKeyId === undefined) {
    try {
      // The user's keys are read in the account that holds it, as every step will.
      const { iam } = await inAccount(localDeps({ ...options, config: baseConfig }), input.accountId);
      accessKeyId = await oldestActiveKey(iam, input.userName);
    } catch (error) {
      // No key to rotate is an outcome of the run, reported like any other failure.
      if (!(error instanceof RotatorError)) throw error;
      return refusedBeforeStart(input.userName, error, started, { oldAccessKeyId: null, topicArn: null });
    }
  }

  let topicArn = options.topicArn ?? baseConfig.topicArn;
  if (!topicArn) {
    topicArn = await localTopic(sns);
    options.onNotice?.(`No notification topic configured: using SNS topic ${LOCAL_TOPIC_NAME} (${topicArn}), created if it did not exist.`);
  }
  let ledgerTable = baseConfig.notificationLedgerTable;
  if (!ledgerTable) {
    ledgerTable = LOCAL_LEDGER_TABLE;
    if (await ensureLedgerTable(options.clients?.dynamodb ?? defaultDynamodb, ledgerTable)) {
      options.onNotice?.(`No notification ledger configured: created DynamoDB table ${ledgerTable} to record sent notifications.`);
    }
  }
  const kind = input.kind ?? 'manual';
  const name = options.executionName ?? localExecutionName(input.userName, accessKeyId, kind, new Date(started));
  const deps = localDeps({ ...options, durations, config: { ...baseConfig, topicArn, notificationLedgerTable: ledgerTable } });

  // What `confirm` and `abort` read to know this run is going on (a deployed run is an execution they can list).
  const registry = localRunRegistry(options.clients?.dynamodb ?? defaultDynamodb, ledgerTable, {
    onProblem: (text) => options.onNotice?.(text),
  });
  let lease: LocalRunLease;
  try {
    lease = await registry.claim({
      userName: input.userName,
      accountId: input.accountId,
      executionName: name,
      oldAccessKeyId: accessKeyId,
      kind,
    });
  } catch (error) {
    if (!(error instanceof RotationInProgressError)) throw error;
    return refusedBeforeStart(input.userName, error, started, { oldAccessKeyId: accessKeyId, topicArn });
  }
  try {
    return await execute(input, options, { started, accessKeyId, kind, name, topicArn, durations, deps, ledgerTable });
  } finally {
    await lease.release();
  }
}

/** A run refused before any state ran: reported as a failed run, with nothing changed. */
function refusedBeforeStart(
  userName: string,
  error: Error,
  started: number,
  known: Pick<RotationReport, 'oldAccessKeyId' | 'topicArn'>,
): RotationReport {
  return {
    status: 'Failed',
    userName,
    ...known,
    newAccessKeyId: null,
    error: { name: error.name, message: error.message },
    executionName: null,
    durationMs: Date.now() - started,
    states: [],
  };
}

interface PreparedRun {
  readonly started: number;
  readonly accessKeyId: string;
  readonly kind: RotationKind;
  readonly name: string;
  readonly topicArn: string;
  readonly durations: Durations;
  readonly deps: RotationDeps;
  /** Where the ended run is recorded for the compliance report (local/run-history.ts). */
  readonly ledgerTable: string;
}

async function execute(input: RunRotationInput, options: RunRotationOptions, run: PreparedRun): Promise<RotationReport> {
  const { started, accessKeyId, kind, name, topicArn, durations, deps } = run;
  const { definition, machine } = validatedMachine();
  const execution = machine.run(
    {
      userName: input.userName,
      accessKeyId,
      kind,
      requestedBy: input.requestedBy ?? 'local runner',
      reason: input.reason ?? '',
      ...(input.accountId === undefined ? {} : { accountId: input.accountId }),
      ...(input.accountName === undefined ? {} : { accountName: input.accountName }),
      ...(input.exemptionOverride === undefined ? {} : { exemptionOverride: input.exemptionOverride }),
      ...(input.deleteSecret === undefined ? {} : { deleteSecret: input.deleteSecret }),
    },
    {
      context: {
        Execution: { Name: name },
        // aws-local-stepfunctions fills in no $$.State or $$.Task: a task-token run (tests playing a deployed
        // rotation) reaches AwaitConfirmation, whose Parameters read them, so give them fixed stand-ins.
        ...(options.confirmVia === 'task-token'
          ? { State: { EnteredTime: new Date(started).toISOString(), RetryCount: 0 }, Task: { Token: `local-run-no-callback-${name}` } }
          : {}),
      },
      overrides: {
        ...localTasks(definition, deps, options),
        waitTimeOverrides: {
          [STATES.WaitForConsumers]: durations.healthCheckIntervalMs,
          [STATES.WaitForQuiet]: durations.healthCheckIntervalMs,
          [STATES.WaitObserving]: durations.healthCheckIntervalMs,
        },
      },
    },
  );
  options.signal?.addEventListener('abort', () => execution.abort(), { once: true });

  const recorder = new StateRecorder(options);
  const recording = recorder.follow(execution.eventLogs);
  let status: RotationStatus;
  let error: RotationReport['error'];
  let newAccessKeyId: string | null = null;
  let ended: ExecutionOutput = {};
  try {
    const output = (await execution.result) as ExecutionOutput;
    ended = output;
    const outcome = output.outcome?.status;
    status = outcome === 'Succeeded' || outcome === 'RolledBack' || outcome === 'NeedsAttention' ? outcome : 'Failed';
    if (status === 'Failed')
      error = { name: 'UnknownOutcome', message: `The workflow ended without an outcome status (${String(outcome)}).` };
    newAccessKeyId = output.newKey?.accessKeyId ?? null;
  } catch (failure) {
    status = 'Failed';
    const cause = failure instanceof Error && failure.cause instanceof Error ? failure.cause : failure;
    error = cause instanceof Error ? { name: cause.name, message: cause.message } : { name: 'Error', message: String(cause) };
  }
  await recording;
  recorder.reportTheRest();
  await recordEnded(options, run, input, {
    outcome: options.signal?.aborted ? 'Aborted' : status,
    newAccessKeyId: newAccessKeyId ?? recorder.newAccessKeyId,
    gateWaitSeconds: secondsBetween(ended.promoted?.promotedAt, ended.gate?.checkedAt),
  });
  await clearRunMarkers(deps, input, [accessKeyId, newAccessKeyId ?? recorder.newAccessKeyId], options);
  return {
    status,
    userName: input.userName,
    oldAccessKeyId: accessKeyId,
    newAccessKeyId: newAccessKeyId ?? recorder.newAccessKeyId,
    ...(error ? { error } : {}),
    topicArn,
    executionName: name,
    durationMs: Date.now() - started,
    states: recorder.states,
    ...(ended.rollback ? { currentKeyId: ended.rollback.currentKeyId ?? null } : {}),
    ...(ended.gate?.stragglers && ended.gate.stragglers.length > 0 ? { stillOnOldKey: ended.gate.stragglers } : {}),
    ...(ended.rotation?.secretName ? { secretName: ended.rotation.secretName } : {}),
  };
}

/**
 * The rotation:confirm and rotation:abort tags a person set for this run's keys spoke only to it: once
 * it has ended they are removed, so the user's tags hold no stale decision. A failure to remove them is
 * told and never fails the run (the next run that takes such a key over clears them first anyway).
 */
async function clearRunMarkers(
  deps: RotationDeps,
  input: RunRotationInput,
  keyIds: readonly (string | null)[],
  options: RunRotationOptions,
): Promise<void> {
  try {
    const { iam } = await inAccount(deps, input.accountId);
    const tags = await readTags(iam, input.userName);
    const stale = [...new Set(keyIds.flatMap((keyId) => (keyId === null ? [] : markersFor(tags, keyId))))];
    await clearMarkers(iam, input.userName, stale);
  } catch (error) {
    options.onNotice?.(
      `Could not remove the confirm/abort tags of ${input.userName} after the run (${errorMessage(error)}): remove them by hand.`,
    );
  }
}

/** The ended run, for the compliance report; a failure to record it is told and never fails the run. */
async function recordEnded(
  options: RunRotationOptions,
  run: PreparedRun,
  input: RunRotationInput,
  ending: Pick<RotationRecord, 'outcome' | 'newAccessKeyId' | 'gateWaitSeconds'>,
): Promise<void> {
  try {
    await recordLocalRun(
      options.clients?.dynamodb ?? defaultDynamodb,
      run.ledgerTable,
      {
        executionName: run.name,
        accountId: input.accountId ?? null,
        userName: input.userName,
        oldAccessKeyId: run.accessKeyId,
        kind: run.kind,
        startedAt: new Date(run.started).toISOString(),
        stoppedAt: new Date().toISOString(),
        ...ending,
      },
      new Date(),
    );
  } catch (error) {
    options.onNotice?.(`The run's record for the compliance report could not be written to ${run.ledgerTable}: ${errorMessage(error)}`);
  }
}

/** Every Task bound to its real handler, in process, with retries a few milliseconds apart (seconds in AWS). */
function localTasks(
  definition: StateMachineDefinition,
  deps: RotationDeps,
  options: RunRotationOptions,
): { taskResourceLocalHandlers: never; retryIntervalOverrides: Record<string, number> } {
  const provider: DepsProvider = async () => deps;
  const taskResourceLocalHandlers: Record<string, (input: unknown) => Promise<{ Payload: unknown }>> = {};
  const retryIntervalOverrides: Record<string, number> = {};
  for (const [stateName, state] of Object.entries(definition.States)) {
    if (state.Type !== 'Task') continue;
    const functionName =
      String((state.Parameters as { FunctionName?: unknown } | undefined)?.FunctionName ?? '')
        .split(':')
        .pop() ?? '';
    const step = STEPS[functionName];
    // A Task left unbound would call the real Lambda: refuse instead.
    if (!step)
      throw new Error(
        `State ${stateName} calls ${functionName}, which the local runner does not know; add it to STEPS in local/runner.ts.`,
      );
    const handler = step(provider, deps.logger);
    const invoke = (payload: unknown): Promise<unknown> => handler(payload, localContext(functionName));
    const run = options.wrapTask ? options.wrapTask(stateName, invoke) : invoke;
    taskResourceLocalHandlers[stateName] = async (parameters) => ({ Payload: await run((parameters as { Payload?: unknown }).Payload) });
    retryIntervalOverrides[stateName] = 10;
  }
  // The interpreter's handler type is its own generic; ours are checked above.
  return { taskResourceLocalHandlers: taskResourceLocalHandlers as never, retryIntervalOverrides };
}

/** The states an execution went through, each reported once with its outcome as soon as that is known. */
class StateRecorder {
  readonly states: StateRecord[] = [];
  newAccessKeyId: string | null = null;
  private readonly reported = new Set<StateRecord>();

  constructor(private readonly options: RunRotationOptions) {}

  private report(record: StateRecord): void {
    this.reported.add(record);
    this.options.onState?.(record);
  }

  reportTheRest(): void {
    for (const record of this.states) if (!this.reported.has(record)) this.report(record);
  }

  async follow(events: ReturnType<StateMachine['run']>['eventLogs']): Promise<void> {
    let lastError = 'error';
    for await (const event of events) {
      if (!('state' in event)) continue;
      const current = this.states.at(-1);
      switch (event.type) {
        case 'StateEntered': {
          // A Choice's outcome is the branch it took, known when the next state starts.
          if (current?.type === 'Choice') {
            current.outcome = `→ ${event.state.name}`;
            this.report(current);
          }
          this.states.push({
            name: event.state.name,
            type: event.state.type,
            enteredAt: new Date(event.timestamp).toISOString(),
            outcome: 'running',
          });
          break;
        }
        case 'StateExited': {
          this.options.onStateData?.({ name: event.state.name, input: event.state.input, output: event.state.output });
          const output = event.state.output as Record<string, { status?: unknown; accessKeyId?: unknown } | undefined> | undefined;
          const key = output?.newKey?.accessKeyId;
          if (typeof key === 'string') this.newAccessKeyId = key;
          if (current && current.type !== 'Choice' && !this.reported.has(current)) {
            const status =
              event.state.name === STATES.CheckConsumers ||
              event.state.name === STATES.CheckQuiet ||
              event.state.name === STATES.FirstQuietCheck
                ? output?.gate?.status
                : event.state.name === STATES.CheckObservation
                  ? output?.observation?.status
                  : undefined;
            current.outcome = typeof status === 'string' ? status : 'ok';
            this.report(current);
          }
          break;
        }
        case 'StateFailed':
          lastError = event.Error;
          if (current) current.outcome = `failed ${event.Error}`;
          if (current?.type === 'Fail') this.report(current);
          break;
        case 'StateRetried':
          if (current) current.outcome = `retried ${lastError}`;
          break;
        case 'StateCaught':
          if (current) {
            current.outcome = `caught ${lastError}`;
            this.report(current);
          }
          break;
      }
    }
  }
}
