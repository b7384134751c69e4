import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import * as node from '../../../consumer/rotating-credentials.ts';
import * as script from '../../../consumer/credential-process.mjs';
import { repoPath } from '../../helpers/paths.ts';

// The Node provider and the credential_process script decide alike, from one table that the Python
// helper's tests read too (test/fixtures/consumer-decisions.json).
interface TableState {
  readonly key: boolean;
  readonly freshUntil: number;
  readonly refused: boolean;
  readonly lastReadAt: number | null;
  readonly failures: number;
  readonly retryAt: number;
}

const table = JSON.parse(readFileSync(repoPath('test/fixtures/consumer-decisions.json'), 'utf8')) as {
  readonly policy: node.CachePolicy;
  readonly nextStep: readonly { name: string; state: TableState; now: number; expected: string }[];
  readonly backoff: readonly { name: string; failuresBefore: number; random: number; expectedWait: number }[];
  readonly ttl: readonly { name: string; random: number; expectedFreshFor: number }[];
};
const KEY = { AccessKeyId: 'AKIAEXAMPLE', SecretAccessKey: 'example' };

/** A state both modules take: the table's, with no last error. */
const stateOf = (row: TableState): node.CacheState & script.CacheState => ({
  ...(row.key ? { key: KEY } : {}),
  freshUntil: row.freshUntil,
  refused: row.refused,
  lastReadAt: row.lastReadAt ?? Number.NEGATIVE_INFINITY,
  failures: row.failures,
  retryAt: row.retryAt,
});

describe('the consumers decide alike', () => {
  test.each(table.nextStep)('$name at $now ms: $expected', ({ state, now, expected }) => {
    // Act & Assess
    expect(node.nextStep(stateOf(state), table.policy, now).kind).toBe(expected);
    expect(script.nextStep(stateOf(state), table.policy, now).kind).toBe(expected);
  });

  test.each(table.backoff)('backoff, $name: $expectedWait ms', ({ failuresBefore, random, expectedWait }) => {
    // Prepare
    const before = { ...script.EMPTY_CACHE, failures: failuresBefore };

    // Act
    const waits = [
      node.afterFailure(before, table.policy, 0, new Error('x'), random),
      script.afterFailure(before, table.policy, 0, new Error('x'), random),
    ];

    // Assess
    expect(waits.map((after) => after.retryAt)).toEqual([expectedWait, expectedWait]);
    expect(waits.map((after) => after.failures)).toEqual([failuresBefore + 1, failuresBefore + 1]);
  });

  test.each(table.ttl)('TTL, $name: fresh for $expectedFreshFor ms', ({ random, expectedFreshFor }) => {
    // Act & Assess
    expect(node.afterRead(KEY, table.policy, 0, random).freshUntil).toBeCloseTo(expectedFreshFor, 6);
    expect(script.afterRead(KEY, table.policy, 0, random).freshUntil).toBeCloseTo(expectedFreshFor, 6);
  });

  test('the script keeps only the name and message of a failed read, never the error object', () => {
    // Act
    const after = script.afterFailure(
      script.EMPTY_CACHE,
      table.policy,
      0,
      Object.assign(new Error('denied'), { name: 'AccessDeniedException' }),
      0.5,
    );

    // Assess
    expect(after.lastError).toEqual({ name: 'AccessDeniedException', message: 'denied' });
  });
});
