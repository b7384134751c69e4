import {
  PutItemCommand,
  ResourceNotFoundException,
  paginateScan,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { DAY_MS } from '#shared/base/clock.ts';
import { LEDGER_KEY, LEDGER_TTL_ATTRIBUTE } from '#shared/notify/ledger.ts';
import { ROTATION_OUTCOMES, type RotationHistory, type RotationOutcome, type RotationRecord } from '#shared/report/rotation-history.ts';

/**
 * Local runs leave no Step Functions execution, so the runner records each ended run in the ledger
 * table it already writes, under `local-history#<execution name>`: what the compliance report reads
 * where there is no deployed state machine. Kept 90 days, as Step Functions keeps an ended execution.
 */
export const LOCAL_HISTORY_PREFIX = 'local-history#';
const KEEP_MS = 90 * DAY_MS;

const put = (value: string | null): AttributeValue => ({ S: value ?? '' });
const read = (item: Record<string, AttributeValue>, name: string): string | null => {
  const value = item[name];
  return value && 'S' in value && value.S !== undefined && value.S !== '' ? value.S : null;
};

export async function recordLocalRun(dynamodb: DynamoDBClient, tableName: string, record: RotationRecord, now: Date): Promise<void> {
  await dynamodb.send(
    new PutItemCommand({
      TableName: tableName,
      Item: {
        [LEDGER_KEY]: { S: `${LOCAL_HISTORY_PREFIX}${record.executionName}` },
        event: { S: 'local-history' },
        executionName: { S: record.executionName },
        accountId: put(record.accountId),
        userName: put(record.userName),
        oldAccessKeyId: put(record.oldAccessKeyId),
        newAccessKeyId: put(record.newAccessKeyId),
        kind: put(record.kind),
        outcome: { S: record.outcome },
        startedAt: { S: record.startedAt },
        stoppedAt: put(record.stoppedAt),
        ...(record.gateWaitSeconds === null ? {} : { gateWaitSeconds: { N: String(record.gateWaitSeconds) } }),
        [LEDGER_TTL_ATTRIBUTE]: { N: String(Math.floor((now.getTime() + KEEP_MS) / 1000)) },
      },
    }),
  );
}

/** The local runs recorded since `since`: one Scan page per 1 MB of the ledger table. No table: no local run was ever recorded. */
export async function readLocalRunHistory(dynamodb: DynamoDBClient, tableName: string, since: Date): Promise<RotationHistory> {
  const records: RotationRecord[] = [];
  try {
    for await (const page of paginateScan(
      { client: dynamodb },
      {
        TableName: tableName,
        FilterExpression: 'begins_with(#id, :prefix) AND startedAt >= :since',
        ExpressionAttributeNames: { '#id': LEDGER_KEY },
        ExpressionAttributeValues: { ':prefix': { S: LOCAL_HISTORY_PREFIX }, ':since': { S: since.toISOString() } },
      },
    )) {
      for (const item of page.Items ?? []) {
        const outcome = read(item, 'outcome');
        const wait = item.gateWaitSeconds;
        records.push({
          executionName: read(item, 'executionName') ?? '',
          accountId: read(item, 'accountId'),
          userName: read(item, 'userName'),
          oldAccessKeyId: read(item, 'oldAccessKeyId'),
          newAccessKeyId: read(item, 'newAccessKeyId'),
          kind: read(item, 'kind'),
          outcome: ROTATION_OUTCOMES.includes(outcome as RotationOutcome) ? (outcome as RotationOutcome) : 'Failed',
          startedAt: read(item, 'startedAt') ?? '',
          stoppedAt: read(item, 'stoppedAt'),
          gateWaitSeconds: wait && 'N' in wait && wait.N !== undefined ? Number(wait.N) : null,
        });
      }
    }
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
  return { records, since: since.toISOString(), calls: { listExecutions: 0, describeExecution: 0 } };
}
