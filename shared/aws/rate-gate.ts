import { ConditionalCheckFailedException, UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { systemClock, type Clock } from '../base/clock.ts';
import { AwsTransientError, ConfigError, InvalidInputError, MissingPermissionError } from '../base/errors.ts';
import type { RateGate } from './key-calls.ts';

/**
 * Gates that ration a rate-limited API (LookupEvents: 2 requests a second per account and Region, for
 * every caller together). The SDK's retries absorb an occasional throttle; a gate keeps many readers
 * from meeting one at every call, which would spend their retries and time instead of the budget.
 */

export type Sleep = (ms: number) => Promise<void>;

export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

export interface GateTiming {
  readonly clock?: Clock;
  readonly sleep?: Sleep;
}

/**
 * One process: calls under one key are spaced 1/rate seconds apart, in the order they asked. Enough
 * for a single reader (the CLI, one Lambda); concurrent Lambdas share ledgerRateGate instead.
 */
export function intervalRateGate(ratePerSecond: number, timing: GateTiming = {}): RateGate {
  if (!(ratePerSecond > 0) || !Number.isFinite(ratePerSecond))
    throw new InvalidInputError(`A rate gate needs a positive number of calls a second, not ${ratePerSecond}.`);
  const clock = timing.clock ?? systemClock;
  const sleep = timing.sleep ?? realSleep;
  const interval = 1000 / ratePerSecond;
  const nextSlot = new Map<string, number>();
  return {
    acquire: async (key) => {
      const now = clock().getTime();
      // Taken before the wait, so calls that ask together queue up instead of all waking at once.
      const slot = Math.max(now, nextSlot.get(key) ?? now);
      nextSlot.set(key, slot + interval);
      if (slot > now) await sleep(slot - now);
    },
  };
}

/** The ledger table's key and TTL attribute: the same as shared/notify/ledger.ts (LEDGER_KEY, LEDGER_TTL_ATTRIBUTE), which shared/aws does not import. */
export const RATE_LEDGER_KEY = 'id';
export const RATE_LEDGER_TTL_ATTRIBUTE = 'expiresAt';
export const rateItemId = (key: string, epochSecond: number): string => `rate#${key}#${epochSecond}`;

export interface LedgerGateOptions extends GateTiming {
  /** How long one acquire may wait for a free slot before it gives up with AwsTransientError (a source reads that as throttled). */
  readonly maxWaitMs?: number;
  /** How long a second's item is kept: DynamoDB's TTL deletes it some time after (often days late, which does no harm). */
  readonly ttlSeconds?: number;
}

/**
 * Across processes (concurrent Lambdas): one item per key and second in the ledger table
 * (NOTIFICATION_LEDGER_TABLE), `rate#<key>#<epoch second>`, whose count a conditional UpdateItem adds
 * one to while it is below the rate. A full second sends the caller to the next one. Seconds are read
 * from each process's clock, so clocks a few milliseconds apart, and the edge of two seconds, can let
 * up to twice the rate through within one real second: the SDK's retries absorb that rare throttle.
 * Items are fenced from the rest of the ledger by their `rate#` prefix (the notification claims and
 * task tokens use other prefixes): a role needs dynamodb:UpdateItem on `rate#*` keys only.
 */
export function ledgerRateGate(
  dynamodb: DynamoDBClient,
  tableName: string,
  ratePerSecond: number,
  options: LedgerGateOptions = {},
): RateGate {
  if (!Number.isInteger(ratePerSecond) || ratePerSecond < 1)
    throw new InvalidInputError(`The ledger rate gate counts whole calls a second: it needs a rate of 1 or more, not ${ratePerSecond}.`);
  const clock = options.clock ?? systemClock;
  const sleep = options.sleep ?? realSleep;
  const maxWaitMs = options.maxWaitMs ?? 30_000;
  const ttlSeconds = options.ttlSeconds ?? 300;
  const claim = async (key: string, second: number): Promise<boolean> => {
    try {
      await dynamodb.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: { [RATE_LEDGER_KEY]: { S: rateItemId(key, second) } },
          UpdateExpression: 'SET #expiresAt = :expiresAt ADD #count :one',
          ConditionExpression: 'attribute_not_exists(#count) OR #count < :rate',
          ExpressionAttributeNames: { '#count': 'count', '#expiresAt': RATE_LEDGER_TTL_ATTRIBUTE },
          ExpressionAttributeValues: {
            ':one': { N: '1' },
            ':rate': { N: String(ratePerSecond) },
            ':expiresAt': { N: String(second + ttlSeconds) },
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw explained(error, tableName);
    }
  };
  return {
    acquire: async (key) => {
      const started = clock().getTime();
      // Counted as well as timed, so a clock that stands still (a test's) cannot keep the loop going.
      const attempts = Math.ceil(maxWaitMs / 1000) + 1;
      for (let attempt = 1; attempt <= attempts; attempt += 1) {
        const second = Math.floor(clock().getTime() / 1000);
        if (await claim(key, second)) return;
        const next = (second + 1) * 1000;
        if (attempt === attempts || next - started > maxWaitMs) break;
        await sleep(next - clock().getTime());
      }
      throw new AwsTransientError(
        `No ${key} slot came free in ${Math.round(maxWaitMs / 1000)} s: other readers take the whole rate of ${ratePerSecond} a second; read again later.`,
      );
    },
  };
}

function explained(error: unknown, tableName: string): unknown {
  const name = error instanceof Error ? error.name : '';
  if (name === 'ResourceNotFoundException')
    return new ConfigError(`The rate gate's ledger table ${tableName} does not exist: check NOTIFICATION_LEDGER_TABLE.`, { cause: error });
  if (name === 'AccessDeniedException')
    return new MissingPermissionError(`The rate gate needs dynamodb:UpdateItem on the ledger table ${tableName} for items rate#*.`, {
      cause: error,
    });
  return error;
}
