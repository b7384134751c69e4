import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendTaskFailureCommand, SendTaskSuccessCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { DAY_MS, type Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import { AlreadyConfirmedError, ConfigError, RotationAbortedError } from '../errors.ts';
import { LEDGER_KEY, LEDGER_TTL_ATTRIBUTE } from '../notification-ledger.ts';
import { ABORT_TAG, CONFIRM_TAG, addMs, markerSet } from './decisions.ts';
import type { RotationDeps } from './deps.ts';
import { readTags } from './keys.ts';
import { setMarker, type MarkerAction, type MarkerResult } from './markers.ts';
import type { AwaitConfirmationInput } from './state.ts';

/**
 * The manual check's task token, deployed: AwaitConfirmation (`lambda:invoke.waitForTaskToken`)
 * stores it in the notification ledger table under `token#<userName>`, with the new key's id, the
 * execution's name and an expiry (DynamoDB TTL, and treated as absent once past). `confirm` and
 * `abort` read it, complete the task with SendTaskSuccess / SendTaskFailure(RotationAborted) and
 * delete it. The token is a capability to move the rotation on: it is never logged, never returned
 * into the state, never printed. The table is encrypted at rest; only the AwaitConfirmation Lambda
 * writes it and only the CLI's caller reads it.
 */

export const TOKEN_ID_PREFIX = 'token#';
/** Kept a day past the gate's deadline (the task has timed out by then); TTL removes it. */
export const TOKEN_KEEP_AFTER_DEADLINE_MS = DAY_MS;

export interface StoredConfirmationToken {
  readonly userName: string;
  readonly oldAccessKeyId: string;
  readonly newAccessKeyId: string;
  readonly executionName: string;
  readonly enteredAt: string;
  readonly attempt: number;
  readonly taskToken: string;
  readonly storedAt: string;
  readonly expiresAt: Date;
}

export interface ConfirmationTokenStore {
  /** False when a token of a later entry or retry of the step is already stored (it is kept). */
  put(token: StoredConfirmationToken): Promise<boolean>;
  /** The user's stored token, unless expired. */
  get(userName: string, now: Date): Promise<StoredConfirmationToken | undefined>;
  /** Deletes the user's item if it still holds this token (a newer one stays). */
  remove(userName: string, taskToken: string): Promise<void>;
}

export function tokenId(userName: string): string {
  return `${TOKEN_ID_PREFIX}${userName}`;
}

const epochSeconds = (date: Date): number => Math.floor(date.getTime() / 1000);

function text(item: Record<string, AttributeValue>, name: string): string | undefined {
  const value = item[name];
  return value && 'S' in value ? value.S : undefined;
}

function number(item: Record<string, AttributeValue>, name: string): number | undefined {
  const value = item[name];
  return value && 'N' in value && value.N !== undefined ? Number(value.N) : undefined;
}

/** The store in the ledger table. `tableName` is read when used, so a missing table fails with a clear message. */
export function dynamoTokenStore(dynamodb: DynamoDBClient, tableName: () => string): ConfirmationTokenStore {
  const table = (): string => {
    const name = tableName();
    if (!name) throw new ConfigError('No ledger table is configured (NOTIFICATION_LEDGER_TABLE): the manual confirmation has nowhere to store its task token.');
    return name;
  };
  return {
    put: async (token) => {
      try {
        await dynamodb.send(
          new PutItemCommand({
            TableName: table(),
            Item: {
              [LEDGER_KEY]: { S: tokenId(token.userName) },
              event: { S: 'confirmation-token' },
              userName: { S: token.userName },
              oldAccessKeyId: { S: token.oldAccessKeyId },
              newAccessKeyId: { S: token.newAccessKeyId },
              executionName: { S: token.executionName },
              enteredAt: { S: token.enteredAt },
              attempt: { N: String(token.attempt) },
              taskToken: { S: token.taskToken },
              storedAt: { S: token.storedAt },
              [LEDGER_TTL_ATTRIBUTE]: { N: String(epochSeconds(token.expiresAt)) },
            },
            // A late, retried invocation must not replace the token of a later entry or attempt.
            ConditionExpression:
              'attribute_not_exists(#id) OR #expiresAt < :now OR #enteredAt < :enteredAt OR (#enteredAt = :enteredAt AND #attempt <= :attempt)',
            ExpressionAttributeNames: { '#id': LEDGER_KEY, '#expiresAt': LEDGER_TTL_ATTRIBUTE, '#enteredAt': 'enteredAt', '#attempt': 'attempt' },
            ExpressionAttributeValues: {
              ':now': { N: String(epochSeconds(new Date(token.storedAt))) },
              ':enteredAt': { S: token.enteredAt },
              ':attempt': { N: String(token.attempt) },
            },
          }),
        );
        return true;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return false;
        throw error;
      }
    },
    get: async (userName, now) => {
      const response = await dynamodb.send(new GetItemCommand({ TableName: table(), Key: { [LEDGER_KEY]: { S: tokenId(userName) } }, ConsistentRead: true }));
      const item = response.Item;
      if (!item) return undefined;
      const expiresAt = number(item, LEDGER_TTL_ATTRIBUTE);
      const taskToken = text(item, 'taskToken');
      const newAccessKeyId = text(item, 'newAccessKeyId');
      if (expiresAt === undefined || expiresAt < epochSeconds(now) || !taskToken || !newAccessKeyId) return undefined;
      return {
        userName,
        oldAccessKeyId: text(item, 'oldAccessKeyId') ?? '',
        newAccessKeyId,
        executionName: text(item, 'executionName') ?? '',
        enteredAt: text(item, 'enteredAt') ?? '',
        attempt: number(item, 'attempt') ?? 0,
        taskToken,
        storedAt: text(item, 'storedAt') ?? '',
        expiresAt: new Date(expiresAt * 1000),
      };
    },
    remove: async (userName, taskToken) => {
      try {
        await dynamodb.send(
          new DeleteItemCommand({
            TableName: table(),
            Key: { [LEDGER_KEY]: { S: tokenId(userName) } },
            ConditionExpression: '#taskToken = :taskToken',
            ExpressionAttributeNames: { '#taskToken': 'taskToken' },
            ExpressionAttributeValues: { ':taskToken': { S: taskToken } },
          }),
        );
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    },
  };
}

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
 * abort tag set while the gate was moving here (the CLI tags before it looks for a token) is acted
 * on now, so neither can be lost between CheckConsumers and the stored token.
 */
export async function awaitConfirmation(input: AwaitConfirmationInput, deps: Pick<RotationDeps, 'iam' | 'clock' | 'logger' | 'confirmationTokens'>): Promise<AwaitConfirmationResult> {
  if (!deps.confirmationTokens) throw new ConfigError('AwaitConfirmation has no store for its task token (the ledger table): a person could never confirm this rotation.');
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
  deps.logger.info('waiting for a person to confirm', { userName: input.userName, newAccessKeyId: input.newAccessKeyId, executionName: input.executionName, gateDeadline: input.gateDeadline, stored });
  const tags = await readTags(deps.iam, input.userName);
  if (markerSet(tags, ABORT_TAG, input.newAccessKeyId)) {
    throw new RotationAbortedError(`A person aborted the rotation of ${input.userName} (tag ${ABORT_TAG}=${input.newAccessKeyId}): rolling back.`);
  }
  if (markerSet(tags, CONFIRM_TAG, input.newAccessKeyId)) {
    throw new AlreadyConfirmedError(`A person confirmed the rotation of ${input.userName} (tag ${CONFIRM_TAG}=${input.newAccessKeyId}): deactivating the old key.`);
  }
  return { userName: input.userName, newAccessKeyId: input.newAccessKeyId, storedAt, stored };
}

// ── The CLI's side: confirm and abort ───────────────────────────────────────────────────────────

/** SendTaskSuccess/Failure errors that mean the token no longer completes anything (the task ended). */
const STALE_TOKEN_ERRORS = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);

export interface DecisionResult extends MarkerResult {
  /** `sent`: the waiting task was completed now; `stale`: a stored token no longer completed anything (deleted); `none`: no token for this rotation. */
  readonly token: 'sent' | 'stale' | 'none';
  /** The execution whose task was completed (when `sent`). */
  readonly executionName?: string;
}

export interface DecisionClients {
  readonly iam: IAMClient;
  readonly secretsManager: SecretsManagerClient;
  readonly sfn: SFNClient;
  /** Undefined when no ledger table could be found: tags only. */
  readonly tokens: ConfirmationTokenStore | undefined;
}

/**
 * confirm / abort: the tag first (CheckConsumers and CheckObservation read it; AwaitConfirmation reads
 * it once after storing its token, so a decision made while the gate moves there is not lost), then
 * the stored task token of this rotation, if any, completes the waiting task at once.
 */
export async function decide(action: MarkerAction, userName: string, clients: DecisionClients, config: Config, clock: Clock): Promise<DecisionResult> {
  const marker = await setMarker(action, userName, clients, config);
  if (!marker.tagged || !clients.tokens) return { ...marker, token: 'none' };
  const stored = await clients.tokens.get(userName, clock());
  if (!stored || stored.newAccessKeyId !== marker.newAccessKeyId) return { ...marker, token: 'none' };
  try {
    if (action === 'confirm') {
      const output = { status: 'confirmed', decidedAt: clock().toISOString(), newAccessKeyId: marker.newAccessKeyId };
      await clients.sfn.send(new SendTaskSuccessCommand({ taskToken: stored.taskToken, output: JSON.stringify(output) }));
    } else {
      await clients.sfn.send(
        new SendTaskFailureCommand({
          taskToken: stored.taskToken,
          error: 'RotationAborted',
          cause: `Aborted by a person (iam-key-rotator abort ${userName}) at ${clock().toISOString()}; new key ${marker.newAccessKeyId}.`,
        }),
      );
    }
  } catch (error) {
    if (!(error instanceof Error) || !STALE_TOKEN_ERRORS.has(error.name)) throw error;
    await clients.tokens.remove(userName, stored.taskToken);
    return { ...marker, token: 'stale' };
  }
  await clients.tokens.remove(userName, stored.taskToken);
  return { ...marker, token: 'sent', executionName: stored.executionName };
}
