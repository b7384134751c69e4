import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { DAY_MS } from '../base/clock.ts';
import { ConfigError } from '../base/errors.ts';
import { LEDGER_KEY, LEDGER_TTL_ATTRIBUTE } from '../notify/ledger.ts';

/**
 * The manual check's task token, deployed: AwaitConfirmation (`lambda:invoke.waitForTaskToken`)
 * stores it in the notification ledger table under `token#<userName>`, with the new key's id, the
 * execution's name and an expiry (DynamoDB TTL, and treated as absent once past). `confirm` and
 * `abort` read it, complete the task with SendTaskSuccess / SendTaskFailure(RotationAbortedError) and
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
    if (!name)
      throw new ConfigError(
        'No ledger table is configured (NOTIFICATION_LEDGER_TABLE): the manual confirmation has nowhere to store its task token.',
      );
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
            ExpressionAttributeNames: {
              '#id': LEDGER_KEY,
              '#expiresAt': LEDGER_TTL_ATTRIBUTE,
              '#enteredAt': 'enteredAt',
              '#attempt': 'attempt',
            },
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
      const response = await dynamodb.send(
        new GetItemCommand({ TableName: table(), Key: { [LEDGER_KEY]: { S: tokenId(userName) } }, ConsistentRead: true }),
      );
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
