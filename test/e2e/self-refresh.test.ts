import { afterEach, describe, expect, test } from '@jest/globals';
import { GetResourcePolicyCommand } from '@aws-sdk/client-secrets-manager';
import { SimulatedConsumer } from '#local/consumer.ts';
import { runRotation } from '#local/runner.ts';
import { loadConfig } from '#shared/config/settings.ts';
import { selfRefreshPolicy } from '#shared/rotation/self-refresh-policy.ts';
import { createUser, keysOf, quietLogger, secretsManager, seedSecret } from '../helpers/rotation-fixtures.ts';

// Self-refresh (SELF_REFRESH_USERS): a consumer handed the user's key once reads the user's secret
// with that key, so it fetches the next key before the old one is cut. moto lets any key read any
// secret; the consumers here go through local/secret-policy-check.ts, which refuses a read unless the
// secret's resource policy admits that user from that address, as AWS does for a user whose identity
// policies grant no secretsmanager:GetSecretValue.

const FAST = { healthCheckIntervalMs: 150, healthCheckDeadlineMs: 5_000, observationMs: 150, oldKeyQuietMs: 150 };
const ACCOUNT = '123456789012';
const consumers: SimulatedConsumer[] = [];
afterEach(async () => {
  await Promise.all(consumers.splice(0).map((consumer) => consumer.stop()));
});

function selfRefreshing(
  userName: string,
  initialKey: { accessKeyId: string; secretAccessKey: string },
  sourceIp: string,
): SimulatedConsumer {
  const consumer = new SimulatedConsumer({
    userName,
    name: `${userName}-${sourceIp}`,
    secretId: `iam-key-rotator/${userName}`,
    secretsManager,
    followsRotation: true,
    intervalMs: 25,
    sourceIp,
    selfRefresh: {
      userArn: `arn:aws:iam::${ACCOUNT}:user/${userName}`,
      initialKey: { AccessKeyId: initialKey.accessKeyId, SecretAccessKey: initialKey.secretAccessKey },
    },
  });
  consumers.push(consumer);
  consumer.start();
  return consumer;
}

describe('self-refresh against moto, with the secret’s resource policy enforced locally', () => {
  test('a listed user’s consumer inside its fence fetches the new key with the old one; one outside the fence is refused and keeps the old key', async () => {
    // Prepare
    const old = await createUser('self-app', { 'rotation:owner': 'team@example.com' });
    await seedSecret('self-app', old);
    const inside = selfRefreshing('self-app', old, '192.0.2.10');
    const outside = selfRefreshing('self-app', old, '198.51.100.9');
    const config = loadConfig({ ...process.env, SELF_REFRESH_USERS: 'self-app:192.0.2.0/24', HEALTH_CHECKS: 'new-key-used' });

    // Act
    const report = await runRotation(
      { userName: 'self-app', reason: 'self-refresh test' },
      { logger: quietLogger, durations: FAST, config },
    );
    const [insideStats, outsideStats] = [await inside.stop(), await outside.stop()];

    // Assess
    expect(report.status).toBe('Succeeded');
    const newKeyId = report.newAccessKeyId ?? '';
    expect(await keysOf('self-app')).toEqual({ [newKeyId]: 'Active' });
    const policy = (await secretsManager.send(new GetResourcePolicyCommand({ SecretId: 'iam-key-rotator/self-app' }))).ResourcePolicy;
    expect(JSON.parse(policy ?? '{}')).toEqual(
      selfRefreshPolicy(`arn:aws:iam::${ACCOUNT}:user/self-app`, { sourceCidrs: ['192.0.2.0/24'], sourceVpces: [] }),
    );
    expect(insideStats.failures).toBe(0);
    expect(insideStats.keysUsed).toEqual([old.accessKeyId, newKeyId]);
    // Outside the fence every read is refused: it never learns the new key, and holds only the deleted one.
    expect(outsideStats.secretReadsRefused).toBeGreaterThan(0);
    expect(outsideStats.keysUsed).toEqual([old.accessKeyId]);
  }, 30_000);

  test('a user SELF_REFRESH_USERS does not list gets no policy: its key cannot read its secret', async () => {
    // Prepare
    const old = await createUser('plain-app', { 'rotation:owner': 'team@example.com' });
    await seedSecret('plain-app', old);
    const consumer = selfRefreshing('plain-app', old, '192.0.2.11');
    const config = loadConfig({ ...process.env, SELF_REFRESH_USERS: 'self-app', HEALTH_CHECKS: 'new-key-used' });

    // Act: the gate waits for the new key in use, which this consumer can never fetch; the deadline ends it.
    const report = await runRotation(
      { userName: 'plain-app', reason: 'self-refresh test' },
      { logger: quietLogger, durations: { ...FAST, healthCheckDeadlineMs: 1_500 }, config },
    );
    const stats = await consumer.stop();

    // Assess: nothing was cut, the consumer still works on the old key.
    expect(report.status).not.toBe('Succeeded');
    expect((await keysOf('plain-app'))[old.accessKeyId]).toBe('Active');
    expect(
      (await secretsManager.send(new GetResourcePolicyCommand({ SecretId: 'iam-key-rotator/plain-app' }))).ResourcePolicy,
    ).toBeUndefined();
    expect(stats.secretReadsRefused).toBeGreaterThan(0);
    expect(stats.keysUsed).toEqual([old.accessKeyId]);
    expect(stats.failures).toBe(0);
  }, 30_000);
});
