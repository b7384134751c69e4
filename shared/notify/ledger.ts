import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DeleteItemCommand,
  PutItemCommand,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';

/**
 * The record of notifications already sent, in DynamoDB: one item per (key, event, threshold) for
 * the scan's warnings and per (execution, event) for the workflow's messages. A conditional PutItem
 * claims an id before the message is published, so a second daily scan, or a notify step that Step
 * Functions retries, finds the claim and sends nothing. Items carry an `expiresAt` (epoch seconds)
 * that DynamoDB's TTL removes; since TTL deletes lazily (often days late), the claim's condition
 * also treats an expired item as absent.
 */

export const LEDGER_KEY = 'id';
export const LEDGER_TTL_ATTRIBUTE = 'expiresAt';

/** What a claim records: enough to answer "who was told what, when" without the message itself. */
export interface LedgerEntry {
  readonly id: string;
  readonly event: string;
  readonly userName: string;
  readonly owner: string;
  readonly subject: string;
  readonly claimedAt: Date;
  readonly expiresAt: Date;
}

export interface NotificationLedger {
  /** True when this call claimed the id (send the message); false when it was already claimed. */
  claim(entry: LedgerEntry): Promise<boolean>;
  /** Forgets a claim whose message could not be published, so the next attempt sends it. */
  release(id: string): Promise<void>;
}

export function dynamoLedger(dynamodb: DynamoDBClient, tableName: string): NotificationLedger {
  return {
    claim: async (entry) => {
      try {
        await dynamodb.send(
          new PutItemCommand({
            TableName: tableName,
            Item: {
              [LEDGER_KEY]: { S: entry.id },
              event: { S: entry.event },
              userName: { S: entry.userName },
              owner: { S: entry.owner },
              subject: { S: entry.subject },
              claimedAt: { S: entry.claimedAt.toISOString() },
              [LEDGER_TTL_ATTRIBUTE]: { N: String(epochSeconds(entry.expiresAt)) },
            },
            ConditionExpression: `attribute_not_exists(#id) OR #expiresAt < :now`,
            ExpressionAttributeNames: { '#id': LEDGER_KEY, '#expiresAt': LEDGER_TTL_ATTRIBUTE },
            ExpressionAttributeValues: { ':now': { N: String(epochSeconds(entry.claimedAt)) } },
          }),
        );
        return true;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return false;
        throw error;
      }
    },
    release: async (id) => {
      await dynamodb.send(new DeleteItemCommand({ TableName: tableName, Key: { [LEDGER_KEY]: { S: id } } }));
    },
  };
}

/**
 * Creates the ledger table if it does not exist, with TTL on `expiresAt` (local runs against moto
 * or an account without the stack; the deployed stack defines the same table in serverless.yml).
 * Returns true when it created the table.
 */
export async function ensureLedgerTable(dynamodb: DynamoDBClient, tableName: string): Promise<boolean> {
  try {
    await dynamodb.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: LEDGER_KEY, AttributeType: 'S' }],
        KeySchema: [{ AttributeName: LEDGER_KEY, KeyType: 'HASH' }],
      }),
    );
  } catch (error) {
    if (error instanceof ResourceInUseException) return false;
    throw error;
  }
  await waitUntilTableExists({ client: dynamodb, maxWaitTime: 60 }, { TableName: tableName });
  await dynamodb.send(
    new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: { AttributeName: LEDGER_TTL_ATTRIBUTE, Enabled: true } }),
  );
  return true;
}

function epochSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}
