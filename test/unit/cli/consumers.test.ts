import { describe, expect, test } from '@jest/globals';
import { newSecretReaders } from '../../../cli/consumers.ts';
import { consumersOf } from '#shared/consumers/inventory.ts';
import type { KeyCall } from '#shared/aws/key-calls.ts';

const FROM = new Date('2026-11-01T00:00:00Z');
const call = (at: string, sourceIp: string, eventSource: string, eventName: string, errorCode?: string): KeyCall =>
  ({
    at: new Date(at),
    accessKeyId: 'AKIAOLD',
    eventSource,
    eventName,
    sourceIp,
    userAgent: 'aws-cli/2.15.30 Python/3.11.8 Linux/6.1 exe/x86_64',
    ...(errorCode === undefined ? {} : { errorCode }),
  }) as KeyCall;

describe('new secret readers: consumers that read a secret with the key and appeared after the window began', () => {
  test('a newcomer reading the secret is flagged; a reader from the first day, a newcomer calling other things, and a refused read are not', () => {
    // Prepare
    const calls = [
      call('2026-11-01T02:00:00Z', '198.51.100.1', 'secretsmanager.amazonaws.com', 'GetSecretValue'),
      call('2026-11-20T02:00:00Z', '198.51.100.1', 'secretsmanager.amazonaws.com', 'GetSecretValue'),
      call('2026-11-12T09:00:00Z', '203.0.113.66', 'secretsmanager.amazonaws.com', 'GetSecretValue'),
      call('2026-11-13T09:00:00Z', '203.0.113.70', 'sts.amazonaws.com', 'GetCallerIdentity'),
      call('2026-11-14T09:00:00Z', '203.0.113.71', 'secretsmanager.amazonaws.com', 'GetSecretValue', 'AccessDeniedException'),
    ];

    // Act
    const consumers = consumersOf(calls);
    const flagged = newSecretReaders(consumers, FROM);

    // Assess
    expect(
      consumers
        .filter((consumer) => consumer.readsSecret)
        .map((consumer) => consumer.source)
        .sort(),
    ).toEqual(['198.51.100.1', '203.0.113.66']);
    expect(flagged).toEqual([consumers.find((consumer) => consumer.source === '203.0.113.66')?.key]);
  });
});
