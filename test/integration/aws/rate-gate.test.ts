import { beforeAll, describe, expect, test } from '@jest/globals';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { ledgerRateGate, rateItemId } from '#shared/aws/rate-gate.ts';
import { ensureLedgerTable } from '#shared/notify/ledger.ts';

// The ledger gate against moto's DynamoDB, in the ledger table as the stack defines it (key `id`,
// TTL `expiresAt`). Time is a shared fake clock that only the gates' sleeps move, so the seconds a
// test claims are known and the test takes no real seconds.
const TABLE = 'iam-key-rotator-rate-test-ledger';
const START = Date.parse('2026-11-21T12:00:00.100Z');
const SECOND = Math.floor(START / 1000);

/** A clock shared by several gates (several Lambdas): a sleep moves it to the moment the sleeper wakes. */
function sharedTime() {
  let now = START;
  return {
    clock: () => new Date(now),
    sleep: async (ms: number) => {
      const wake = now + ms;
      await new Promise((resolve) => setImmediate(resolve));
      now = Math.max(now, wake);
    },
  };
}

async function countsOf(key: string): Promise<Map<number, { count: number; expiresAt: number }>> {
  const scan = await new DynamoDBClient({}).send(new ScanCommand({ TableName: TABLE }));
  const counts = new Map<number, { count: number; expiresAt: number }>();
  for (const item of scan.Items ?? []) {
    const id = item.id?.S ?? '';
    if (!id.startsWith(`rate#${key}#`)) continue;
    counts.set(Number(id.split('#').at(-1)), { count: Number(item.count?.N), expiresAt: Number(item.expiresAt?.N) });
  }
  return counts;
}

beforeAll(async () => {
  // Prepare
  await ensureLedgerTable(new DynamoDBClient({}), TABLE);
});

describe('ledgerRateGate against moto DynamoDB', () => {
  test('five calls at 2 a second: two in each second, the fifth in the third, each second’s item with its TTL', async () => {
    // Prepare
    const time = sharedTime();
    const gate = ledgerRateGate(new DynamoDBClient({}), TABLE, 2, time);

    // Act
    for (let call = 0; call < 5; call += 1) await gate.acquire('lookup-events:us-east-1');

    // Assess
    const counts = await countsOf('lookup-events:us-east-1');
    expect([...counts.entries()].sort(([a], [b]) => a - b)).toEqual([
      [SECOND, { count: 2, expiresAt: SECOND + 300 }],
      [SECOND + 1, { count: 2, expiresAt: SECOND + 301 }],
      [SECOND + 2, { count: 1, expiresAt: SECOND + 302 }],
    ]);
    expect(time.clock().getTime()).toBe((SECOND + 2) * 1000);
  });

  test('three Lambdas asking in turn never take more than the rate of any second between them', async () => {
    // Prepare: each its own client and gate, one clock
    const time = sharedTime();
    const gates = [0, 1, 2].map(() => ledgerRateGate(new DynamoDBClient({}), TABLE, 2, time));

    // Act: four calls each, in turn. DynamoDB applies a conditional update to an item atomically; moto's
    // server does not (two updates sent at the same instant can both read the old count and one is lost),
    // so calls sent at the same instant would test moto's locking, not the gate's.
    for (let round = 0; round < 4; round += 1) for (const gate of gates) await gate.acquire('lookup-events:eu-west-1');

    // Assess
    const counts = await countsOf('lookup-events:eu-west-1');
    const perSecond = [...counts.values()].map((entry) => entry.count);
    expect(perSecond.reduce((sum, count) => sum + count, 0)).toBe(12);
    expect(Math.max(...perSecond)).toBeLessThanOrEqual(2);
  });

  test('keys count apart: another key’s full second does not hold this one', async () => {
    // Prepare
    const time = sharedTime();
    const gate = ledgerRateGate(new DynamoDBClient({}), TABLE, 1, time);
    await gate.acquire('filter-log-events');

    // Act
    await gate.acquire('lookup-events:ap-south-1');

    // Assess
    expect(time.clock().getTime()).toBe(START);
    expect((await countsOf('lookup-events:ap-south-1')).get(SECOND)?.count).toBe(1);
    expect(rateItemId('lookup-events:ap-south-1', SECOND)).toBe(`rate#lookup-events:ap-south-1#${SECOND}`);
  });
});
