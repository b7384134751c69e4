import type { IAMClient } from '@aws-sdk/client-iam';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendTaskFailureCommand, SendTaskSuccessCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { Clock } from '../base/clock.ts';
import type { Config } from '../config/settings.ts';
import { AlreadyConfirmedError, ConfigError, NoRotationInProgressError, RotationAbortedError } from '../base/errors.ts';
import { addMs } from './decisions.ts';
import type { RotationDeps } from './deps.ts';
import { personDecided } from './consumer-checks.ts';
import {
  refuseConfirmingRetirement,
  rotationPhase,
  setMarker,
  type MarkerAction,
  type MarkerResult,
  type RunningRotation,
} from './markers.ts';
import { decisionId, type DecisionStore } from './decision-records.ts';
import type { AwaitConfirmationInput } from './workflow-state.ts';
import { TOKEN_KEEP_AFTER_DEADLINE_MS, type ConfirmationTokenStore } from './confirmation-tokens.ts';

export interface AwaitConfirmationResult {
  readonly userName: string;
  readonly newAccessKeyId: string;
  readonly storedAt: string;
  /** False when a token of a later retry was already stored and kept. */
  readonly stored: boolean;
}

/**
 * AwaitConfirmation: stores the task token where the CLI finds it and returns at once; the task
 * completes when a person runs confirm or abort, or times out at the gate's deadline. A confirm or
 * abort recorded in the ledger table while the gate was moving here (the CLI records it before it
 * looks for a token) is acted on now, so neither can be lost between CheckConsumers and the stored
 * token. This step runs only deployed, so it never reads the user's tags: a user may tag itself.
 */
export async function awaitConfirmation(
  input: AwaitConfirmationInput,
  deps: Pick<RotationDeps, 'iam' | 'clock' | 'logger' | 'confirmationTokens' | 'decisions'>,
): Promise<AwaitConfirmationResult> {
  if (!deps.confirmationTokens)
    throw new ConfigError(
      'AwaitConfirmation has no store for its task token (the ledger table): a person could never confirm this rotation.',
    );
  const storedAt = deps.clock().toISOString();
  const stored = await deps.confirmationTokens.put({
    userName: input.userName,
    oldAccessKeyId: input.oldAccessKeyId,
    newAccessKeyId: input.newAccessKeyId,
    executionName: input.executionName,
    enteredAt: input.enteredAt,
    attempt: input.attempt,
    taskToken: input.taskToken,
    storedAt,
    expiresAt: new Date(addMs(input.gateDeadline, TOKEN_KEEP_AFTER_DEADLINE_MS)),
  });
  // Never the token itself: ids and times only.
  deps.logger.info('waiting for a person to confirm', {
    userName: input.userName,
    newAccessKeyId: input.newAccessKeyId,
    executionName: input.executionName,
    gateDeadline: input.gateDeadline,
    stored,
  });
  if (await personDecided('abort', input.userName, input.newAccessKeyId, true, deps)) {
    throw new RotationAbortedError(
      `A person aborted the rotation of ${input.userName} (iam-key-rotator abort, new key ${input.newAccessKeyId}): rolling back.`,
    );
  }
  if (await personDecided('confirm', input.userName, input.newAccessKeyId, true, deps)) {
    throw new AlreadyConfirmedError(
      `A person confirmed the rotation of ${input.userName} (iam-key-rotator confirm, new key ${input.newAccessKeyId}): deactivating the old key.`,
    );
  }
  return { userName: input.userName, newAccessKeyId: input.newAccessKeyId, storedAt, stored };
}

// ── The CLI's side: confirm and abort ───────────────────────────────────────────────────────────

/** SendTaskSuccess/Failure errors that mean the token no longer completes anything (the task ended). */
const STALE_TOKEN_ERRORS = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);

export interface DecisionResult extends MarkerResult {
  /** Where the decision was recorded: the ledger table (deployed; tags are not authority there) or a tag on the user (local runs). */
  readonly recordedIn: 'table' | 'tag';
  /** The running rotation the decision went to (an execution name, or a local run's). */
  readonly runningExecutionName: string;
  /** `sent`: the waiting task was completed now; `stale`: a stored token no longer completed anything (deleted); `none`: no token for this rotation. */
  readonly token: 'sent' | 'stale' | 'none';
  /** The execution whose task was completed (when `sent`). */
  readonly executionName?: string;
}

/**
 * Where running rotations are recorded: the deployed state machine's RUNNING executions, or, with no
 * state machine, the local runner's records. Keys and labels alone cannot tell: a rotation that
 * ended NeedsAttention leaves both keys Active and the new one AWSCURRENT, with nothing running.
 */
export interface RotationRecords {
  /** Where they were looked for, for messages (e.g. `state machine arn:…`). */
  readonly where: string;
  /** What a person can do when none is running. */
  readonly hint: string;
  running(userName: string): Promise<readonly RunningRotation[]>;
}

export interface DecisionClients {
  readonly iam: IAMClient;
  readonly secretsManager: SecretsManagerClient;
  readonly sfn: SFNClient;
  /** Undefined for local runs (no task tokens): tags only. */
  readonly tokens: ConfirmationTokenStore | undefined;
  /** Deployed: where the decision is recorded for the workflow's checks (the ledger table). Undefined for local runs, which read tags. */
  readonly decisions: DecisionStore | undefined;
  readonly rotations: RotationRecords;
}

/**
 * confirm / abort, for a rotation that is running (decided from its execution, never from keys and
 * labels): the decision is recorded first (deployed, in the ledger table; locally, as a tag), where
 * CheckConsumers and CheckObservation read it and AwaitConfirmation reads it once after storing its
 * token, so a decision made while the gate moves there is not lost; then the stored task token of
 * this rotation, if any, completes the waiting task at once. With no rotation running,
 * NoRotationInProgressError, and nothing is changed.
 */
export async function decide(
  action: MarkerAction,
  userName: string,
  clients: DecisionClients,
  config: Config,
  clock: Clock,
): Promise<DecisionResult> {
  const [running] = await clients.rotations.running(userName);
  if (!running) {
    throw new NoRotationInProgressError(
      `No rotation of ${userName} is running (looked in ${clients.rotations.where}), so there is nothing to ${action}. Nothing was changed. ${clients.rotations.hint}`,
    );
  }
  const marker = clients.decisions
    ? { ...(await recordDecision(action, userName, running, clients, clients.decisions, config, clock)), recordedIn: 'table' as const }
    : { ...(await setMarker(action, userName, running, clients, config)), recordedIn: 'tag' as const };
  const result = { ...marker, runningExecutionName: running.executionName };
  if (!result.tagged || !clients.tokens) return { ...result, token: 'none' };
  const stored = await clients.tokens.get(userName, clock());
  if (!stored || stored.newAccessKeyId !== result.newAccessKeyId) return { ...result, token: 'none' };
  try {
    if (action === 'confirm') {
      const output = { status: 'confirmed', decidedAt: clock().toISOString(), newAccessKeyId: result.newAccessKeyId };
      await clients.sfn.send(new SendTaskSuccessCommand({ taskToken: stored.taskToken, output: JSON.stringify(output) }));
    } else {
      await clients.sfn.send(
        new SendTaskFailureCommand({
          taskToken: stored.taskToken,
          // The name the state machine's Catch matches: AwaitConfirmation goes to ConfirmationAborted.
          error: 'RotationAbortedError' satisfies RotationAbortedError['name'],
          cause: `Aborted by a person (iam-key-rotator abort ${userName}) at ${clock().toISOString()}; new key ${result.newAccessKeyId}.`,
        }),
      );
    }
  } catch (error) {
    if (!(error instanceof Error) || !STALE_TOKEN_ERRORS.has(error.name)) throw error;
    await clients.tokens.remove(userName, stored.taskToken);
    return { ...result, token: 'stale' };
  }
  await clients.tokens.remove(userName, stored.taskToken);
  return { ...result, token: 'sent', executionName: stored.executionName };
}

/**
 * Deployed: the decision goes to the ledger table, never to a tag (a user may tag itself, so tags do
 * not confirm or abort a deployed rotation). Like the tag, a confirm during observation changes nothing.
 */
async function recordDecision(
  action: MarkerAction,
  userName: string,
  running: RunningRotation,
  clients: Pick<DecisionClients, 'iam' | 'secretsManager'>,
  decisions: DecisionStore,
  config: Config,
  clock: Clock,
): Promise<MarkerResult> {
  const rotation = await rotationPhase(userName, running, clients, config);
  refuseConfirmingRetirement(action, userName, rotation);
  const tag = decisionId(action, userName);
  if (action === 'confirm' && rotation.phase === 'observation') return { userName, ...rotation, tagged: false, tag };
  await decisions.put({
    action,
    userName,
    newAccessKeyId: rotation.newAccessKeyId,
    executionName: running.executionName,
    decidedAt: clock().toISOString(),
  });
  return { userName, ...rotation, tagged: true, tag };
}
