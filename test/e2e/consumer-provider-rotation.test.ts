import { describe, expect, test } from '@jest/globals';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { fromRotatingSecret } from '../../consumer/rotating-credentials.ts';
import { runRotation } from '#local/runner.ts';
import { createUser, keysOf, quietLogger, secretsManager, seedSecret } from '../helpers/rotation-fixtures.ts';

const FAST = { healthCheckIntervalMs: 150, healthCheckDeadlineMs: 5_000, observationMs: 150, oldKeyQuietMs: 150 };

describe('a Node service using fromRotatingSecret', () => {
  test('keeps calling AWS through a full local rotation with no failed call and ends on the new key', async () => {
    // Prepare: a service that reads its key through the provider and calls STS in a loop.
    const old = await createUser('provider-app', { 'rotation:owner': 'team@example.com' });
    await seedSecret('provider-app', old);
    const credentials = fromRotatingSecret({ secretId: 'iam-key-rotator/provider-app', ttlMs: 50, client: secretsManager });
    const sts = credentials.attach(new STSClient({ credentials, maxAttempts: 1 }));
    const keysSeen = new Set<string>();
    let calls = 0;
    let failures = 0;
    let running = true;
    const service = (async () => {
      while (running) {
        try {
          await sts.send(new GetCallerIdentityCommand({}));
          calls += 1;
          keysSeen.add((await credentials()).accessKeyId);
        } catch {
          failures += 1;
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();

    // Act: rotate while the service runs. The gate passes only once the service uses the new key.
    const report = await runRotation({ userName: 'provider-app', reason: 'provider test' }, { logger: quietLogger, durations: FAST });
    running = false;
    await service;

    // Assess
    expect(report.status).toBe('Succeeded');
    expect(failures).toBe(0);
    expect(calls).toBeGreaterThan(5);
    expect([...keysSeen]).toEqual([old.accessKeyId, report.newAccessKeyId]);
    expect((await credentials()).accessKeyId).toBe(report.newAccessKeyId);
    expect(await keysOf('provider-app')).toEqual({ [report.newAccessKeyId ?? '']: 'Active' });
  }, 30_000);
});
