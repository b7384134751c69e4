import { GetItemCommand, PutItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DAY_MS } from '../base/clock.ts';
import { ConfigError } from '../base/errors.ts';
import { LEDGER_KEY, LEDGER_TTL_ATTRIBUTE } from '../notify/ledger.ts';

/**
 * A person's confirm or abort of a deployed rotation, as the rotator's own table records it.
 *
 * Deployed, a user's tags are not authority: AWS's "manage your own access keys" policy lets a user
 * tag itself, so a leaked key could tag rotation:confirm and pass its own gate, or rotation:abort and
 * undo its own replacement. What the rotator's operators control is the task token (SendTaskSuccess /
 * SendTaskFailure, confirmation-tokens.ts) and this table. `confirm` and `abort` write the decision
 * here under `confirm#<userName>` / `abort#<userName>`, with the new key's id (a decision about an
 * earlier rotation never acts on this one: key ids are never reused) and the execution's name; then
 * CheckConsumers (the gate, before a token exists), AwaitConfirmation (once, after storing its token,
 * so a decision made while the gate moved there is not lost) and CheckObservation (abort only: no task
 * waits during observation) read it. Local runs keep the tags (markers.ts): the local interpreter has
 * no task-token callbacks.
 */

export type DecisionAction = 'confirm' | 'abort';

export interface DecisionRecord {
  readonly action: DecisionAction;
  readonly userName: string;
  readonly newAccessKeyId: string;
  /** The running execution the decision was made for, for status and audit. */
  readonly executionName: string;
  readonly decidedAt: string;
}

export interface DecisionStore {
  put(record: DecisionRecord): Promise<void>;
  /** The user's latest decision of this kind, if any (its new key id says which rotation it speaks of). */
  get(action: DecisionAction, userName: string): Promise<DecisionRecord | undefined>;
}

/**
 * Kept for a year, the longest a Standard execution runs: the key id, not the expiry, decides which
 * rotation a record speaks of, so the TTL only tidies the table and must outlive any rotation.
 */
export const DECISION_KEEP_MS = 365 * DAY_MS;

export function decisionId(action: DecisionAction, userName: string): string {
  return `${action}#${userName}`;
}

/** Whether the store holds this decision for the rotation whose new key is `newAccessKeyId`. */
export async function decided(
  store: DecisionStore,
  action: DecisionAction,
  userName: string,
  newAccessKeyId: string,
): Promise<DecisionRecord | undefined> {
  const record = await store.get(action, userName);
  return record?.newAccessKeyId === newAccessKeyId ? record : undefined;
}

const text = (item: Record<string, AttributeValue>, name: string): string | undefined => {
  const value = item[name];
  return value && 'S' in value ? value.S : undefined;
};

/** The store in the ledger table. `tableName` is read when used, so a missing table fails with a clear message. */
export function dynamoDecisionStore(dynamodb: DynamoDBClient, tableName: () => string): DecisionStore {
  const table = (): string => {
    const name = tableName();
    if (!name)
      throw new ConfigError(
        'No ledger table is configured (NOTIFICATION_LEDGER_TABLE): a deployed rotation hears confirm and abort only through it.',
      );
    return name;
  };
  return {
    put: async (record) => {
      await dynamodb.send(
        new PutItemCommand({
          TableName: table(),
          Item: {
            [LEDGER_KEY]: { S: decisionId(record.action, record.userName) },
            event: { S: `decision-${record.action}` },
            userName: { S: record.userName },
            newAccessKeyId: { S: record.newAccessKeyId },
            executionName: { S: record.executionName },
            decidedAt: { S: record.decidedAt },
            [LEDGER_TTL_ATTRIBUTE]: { N: String(Math.floor((Date.parse(record.decidedAt) + DECISION_KEEP_MS) / 1000)) },
          },
        }),
      );
    },
    get: async (action, userName) => {
      const response = await dynamodb.send(
        new GetItemCommand({ TableName: table(), Key: { [LEDGER_KEY]: { S: decisionId(action, userName) } }, ConsistentRead: true }),
      );
      const item = response.Item;
      const newAccessKeyId = item ? text(item, 'newAccessKeyId') : undefined;
      if (!item || !newAccessKeyId) return undefined;
      return {
        action,
        userName,
        newAccessKeyId,
        executionName: text(item, 'executionName') ?? '',
        decidedAt: text(item, 'decidedAt') ?? '',
      };
    },
  };
}
