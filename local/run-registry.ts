import { hostname } from 'node:os';
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  ResourceNotFoundException,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { RotationInProgressError, errorMessage } from '#shared/base/errors.ts';
import { LEDGER_KEY, LEDGER_TTL_ATTRIBUTE } from '#shared/notify/ledger.ts';

/**
 * Local runs have no Step Functions execution that `confirm` or `abort` could list, so the runner
 * records each run in the notification ledger table it already writes (in the account it runs
 * against: moto, or the caller's) under `local-run#<user>`: the execution name, the key being
 * rotated, its kind, and the host and process running it. The record is a lease, renewed while the
 * run lasts and deleted when it ends. One that a killed process left behind stops counting when its
 * lease runs out, or at once on the same host, where the process can be seen to be gone. A second
 * local run of the same user, from any process, is refused while the record is live, as the
 * deployed workflow refuses a second execution.
 */

/** The record of sent notifications in local runs (the stack defines its own table). */
export const LOCAL_LEDGER_TABLE = 'iam-key-rotator-notification-ledger';
export const LOCAL_RUN_PREFIX = 'local-run#';
/** How long a record counts without renewal: long enough to ride out a slow renewal, short enough that a killed run is soon forgotten. */
export const LOCAL_RUN_LEASE_MS = 60_000;

export interface LocalRun {
  readonly userName: string;
  /** The member account the run acts in; undefined for the caller's own account. */
  readonly accountId: string | undefined;
  readonly executionName: string;
  readonly oldAccessKeyId: string;
  readonly kind: string;
  readonly startedAt: string;
  readonly host: string;
  readonly pid: number;
}

export interface LocalRunLease {
  /** Stops renewing and deletes the record (only if it is still this run's). */
  release(): Promise<void>;
}

export interface LocalRunRegistry {
  /** Records a run; throws RotationInProgressError, recording nothing, while another live run of the user holds the record. */
  claim(run: Pick<LocalRun, 'userName' | 'accountId' | 'executionName' | 'oldAccessKeyId' | 'kind'>): Promise<LocalRunLease>;
  /** The user's live run, if one is recorded. */
  running(userName: string, accountId?: string): Promise<LocalRun | undefined>;
}

export interface RegistryOptions {
  readonly now?: () => Date;
  /** Default LOCAL_RUN_LEASE_MS; the record is renewed three times per lease. */
  readonly leaseMs?: number;
  readonly host?: string;
  readonly pid?: number;
  /** Whether a process on this host still exists. */
  readonly isAlive?: (pid: number) => boolean;
  /** Told when renewing or deleting the record failed: the run goes on, but confirm/abort may not see it. */
  readonly onProblem?: (text: string) => void;
}

export function localRunId(userName: string, accountId?: string): string {
  return `${LOCAL_RUN_PREFIX}${accountId ? `${accountId}/` : ''}${userName}`;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const NAMES = { '#id': LEDGER_KEY, '#expiresAt': LEDGER_TTL_ATTRIBUTE, '#executionName': 'executionName' };
const epochSeconds = (date: Date): number => Math.floor(date.getTime() / 1000);
const text = (item: Record<string, AttributeValue>, name: string): string | undefined => {
  const value = item[name];
  return value && 'S' in value ? value.S : undefined;
};
const number = (item: Record<string, AttributeValue>, name: string): number | undefined => {
  const value = item[name];
  return value && 'N' in value && value.N !== undefined ? Number(value.N) : undefined;
};

export function localRunRegistry(dynamodb: DynamoDBClient, tableName: string, options: RegistryOptions = {}): LocalRunRegistry {
  const now = options.now ?? (() => new Date());
  const host = options.host ?? hostname();
  const pid = options.pid ?? process.pid;
  const isAlive = options.isAlive ?? processAlive;
  const leaseMs = options.leaseMs ?? LOCAL_RUN_LEASE_MS;

  const read = async (id: string): Promise<(LocalRun & { expiresAt: number }) | undefined> => {
    let item: Record<string, AttributeValue> | undefined;
    try {
      item = (await dynamodb.send(new GetItemCommand({ TableName: tableName, Key: { [LEDGER_KEY]: { S: id } }, ConsistentRead: true })))
        .Item;
    } catch (error) {
      // No table: no local run has ever been recorded in this account.
      if (error instanceof ResourceNotFoundException) return undefined;
      throw error;
    }
    if (!item) return undefined;
    const accountId = text(item, 'accountId');
    return {
      userName: text(item, 'userName') ?? '',
      accountId: accountId === '' ? undefined : accountId,
      executionName: text(item, 'executionName') ?? '',
      oldAccessKeyId: text(item, 'oldAccessKeyId') ?? '',
      kind: text(item, 'kind') ?? '',
      startedAt: text(item, 'startedAt') ?? '',
      host: text(item, 'host') ?? '',
      pid: number(item, 'pid') ?? 0,
      expiresAt: number(item, LEDGER_TTL_ATTRIBUTE) ?? 0,
    };
  };

  // A record counts until its lease lapses; on this host, only while its process exists.
  const live = (run: LocalRun & { expiresAt: number }): boolean =>
    run.expiresAt >= epochSeconds(now()) && (run.host !== host || isAlive(run.pid));

  return {
    claim: async (run) => {
      const id = localRunId(run.userName, run.accountId);
      const startedAt = now().toISOString();
      const put = (condition: { expression: string; values: Record<string, AttributeValue> }) =>
        dynamodb.send(
          new PutItemCommand({
            TableName: tableName,
            Item: {
              [LEDGER_KEY]: { S: id },
              event: { S: 'local-run' },
              userName: { S: run.userName },
              accountId: { S: run.accountId ?? '' },
              executionName: { S: run.executionName },
              oldAccessKeyId: { S: run.oldAccessKeyId },
              kind: { S: run.kind },
              startedAt: { S: startedAt },
              host: { S: host },
              pid: { N: String(pid) },
              [LEDGER_TTL_ATTRIBUTE]: { N: String(epochSeconds(new Date(now().getTime() + leaseMs))) },
            },
            ConditionExpression: condition.expression,
            // DynamoDB refuses names an expression does not use.
            ExpressionAttributeNames: Object.fromEntries(
              Object.entries(NAMES).filter(([placeholder]) => condition.expression.includes(placeholder)),
            ),
            ExpressionAttributeValues: condition.values,
          }),
        );
      const busy = (holder: LocalRun): RotationInProgressError =>
        new RotationInProgressError(
          `User ${run.userName} is already being rotated by a local run (execution ${holder.executionName}, key ${holder.oldAccessKeyId}, ` +
            `started ${holder.startedAt} by process ${holder.pid} on ${holder.host}). Nothing was changed; wait for that run to end, then rotate again.`,
        );
      const free = {
        expression: 'attribute_not_exists(#id) OR #expiresAt < :now OR #executionName = :mine',
        values: { ':now': { N: String(epochSeconds(now())) }, ':mine': { S: run.executionName } },
      };
      try {
        await put(free);
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        const holder = await read(id);
        if (holder && live(holder)) throw busy(holder);
        // Left by a process that is gone: take it over, unless another run takes it first.
        try {
          await put(holder ? { expression: '#executionName = :stale', values: { ':stale': { S: holder.executionName } } } : free);
        } catch (retry) {
          if (!(retry instanceof ConditionalCheckFailedException)) throw retry;
          const winner = await read(id);
          throw busy(winner ?? { ...run, startedAt: '?', host: '?', pid: 0 });
        }
      }

      const mine = { expression: '#executionName = :mine', values: { ':mine': { S: run.executionName } } };
      const renewal = setInterval(() => {
        put(mine).catch((error: unknown) =>
          options.onProblem?.(
            `Could not renew the local run record ${id} in ${tableName} (${errorMessage(error)}): confirm and abort may not see this run.`,
          ),
        );
      }, leaseMs / 3);
      renewal.unref();
      return {
        release: async () => {
          clearInterval(renewal);
          try {
            await dynamodb.send(
              new DeleteItemCommand({
                TableName: tableName,
                Key: { [LEDGER_KEY]: { S: id } },
                ConditionExpression: '#executionName = :mine',
                ExpressionAttributeNames: { '#executionName': 'executionName' },
                ExpressionAttributeValues: { ':mine': { S: run.executionName } },
              }),
            );
          } catch (error) {
            if (error instanceof ConditionalCheckFailedException) return;
            options.onProblem?.(
              `Could not delete the local run record ${id} in ${tableName} (${errorMessage(error)}); it lapses by itself within ${Math.ceil(leaseMs / 1000)} s.`,
            );
          }
        },
      };
    },
    running: async (userName, accountId) => {
      const run = await read(localRunId(userName, accountId));
      if (!run || !live(run)) return undefined;
      const { expiresAt: _expiresAt, ...rest } = run;
      return rest;
    },
  };
}
