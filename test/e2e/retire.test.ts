import { afterEach, describe, expect, test } from '@jest/globals';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TagUserCommand } from '@aws-sdk/client-iam';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { runRotation, type StateRecord } from '#local/runner.ts';
import { loadConfig } from '#shared/config/settings.ts';
import { ABORT_TAG } from '#shared/rotation/decisions.ts';
import { createUser, iam, keysOf, notificationsFor, quietLogger, secretsManager, seedSecret } from '../helpers/rotation-fixtures.ts';
import { TrailedConsumers } from '../helpers/trailed-consumers.ts';

// Retirement (kind retire) against moto with the local CloudTrail stand-in: no new key; the key is cut
// once no consumer has called with it for the quiet period, observed, then deleted. A consumer's calls
// are CloudTrail records; a call on a key that is not Active is refused with no record, as on AWS.

const FAST = { healthCheckIntervalMs: 150, healthCheckDeadlineMs: 30_000, observationMs: 300, oldKeyQuietMs: 1_000 };
const consumers = new TrailedConsumers();
afterEach(() => consumers.stopAll());

const emailOf = async (userName: string, event: string): Promise<string> => {
  const sent = (await notificationsFor(userName)).find((notification) => notification.attributes.event === event);
  return (JSON.parse(sent?.message ?? '{}') as { email?: string }).email ?? '';
};

describe('retire: a key taken out of service with no replacement', () => {
  test('waits while a consumer still calls with the key, and once it stops: deactivates, observes, deletes; no new key, the secret untouched', async () => {
    // Prepare: a job still calling with the key; it is switched off after the gate has seen it three times.
    const old = await createUser('retiring', { 'rotation:owner': 'team@example.com' });
    await seedSecret('retiring', old);
    const { trail, rotatorIam } = consumers.recorder();
    const job = consumers.start('retiring', trail, 'nightly-job', '203.0.113.40', false);
    await consumers.warmUp();
    const checks: StateRecord[] = [];
    let stopped: Promise<unknown> | undefined;
    const onState = (record: StateRecord): void => {
      if (record.name !== 'CheckQuiet') return;
      checks.push(record);
      if (checks.length === 3) stopped = job.stop();
    };

    // Act
    const report = await runRotation(
      { userName: 'retiring', kind: 'retire', reason: 'moved to a role' },
      { logger: quietLogger, durations: FAST, clients: { iam: rotatorIam }, onState },
    );
    await stopped;

    // Assess
    expect(report.status).toBe('Succeeded');
    expect(report.newAccessKeyId).toBeNull();
    expect(checks.slice(0, 3).map((check) => check.outcome)).toEqual(['waiting', 'waiting', 'waiting']);
    expect(checks.at(-1)?.outcome).toBe('healthy');
    expect(report.states.map((state) => state.name)).not.toContain('CreateAndStore');
    expect(await keysOf('retiring')).toEqual({});
    expect((await job.stop()).failures).toBe(0);
    const stored = await secretsManager.send(
      new GetSecretValueCommand({ SecretId: 'iam-key-rotator/retiring', VersionStage: 'AWSCURRENT' }),
    );
    expect(JSON.parse(stored.SecretString ?? '{}')).toMatchObject({ AccessKeyId: old.accessKeyId });
    expect((await notificationsFor('retiring')).map((sent) => sent.attributes.event)).toEqual([
      'rotation-started',
      'old-key-deactivated',
      'rotation-completed',
    ]);
    expect(await emailOf('retiring', 'rotation-completed')).toContain(`Key ${old.accessKeyId} was deleted.`);
    // The start notice came after a first check, naming the consumer still on the key.
    const started = await emailOf('retiring', 'rotation-started');
    expect(started).toContain('Still using the key (from CloudTrail):');
    expect(started).toContain('203.0.113.40');
  }, 60_000);

  test('a consumer that never stops: the deadline ends it NeedsAttention, the key Active, the notice naming the consumer', async () => {
    // Prepare
    const old = await createUser('still-used', { 'rotation:owner': 'team@example.com' });
    await seedSecret('still-used', old);
    const { trail, rotatorIam } = consumers.recorder();
    consumers.start('still-used', trail, 'billing', '198.51.100.41', false);
    await consumers.warmUp();

    // Act
    const report = await runRotation(
      { userName: 'still-used', kind: 'retire' },
      { logger: quietLogger, durations: { ...FAST, healthCheckDeadlineMs: 1_500 }, clients: { iam: rotatorIam } },
    );

    // Assess
    expect(report.status).toBe('NeedsAttention');
    expect(await keysOf('still-used')).toEqual({ [old.accessKeyId]: 'Active' });
    const email = await emailOf('still-used', 'action-needed');
    expect(email).toContain('Still using the key (from CloudTrail)');
    expect(email).toContain('198.51.100.41');
    expect(email).toContain(`iam-key-rotator retire still-used --key ${old.accessKeyId}`);
    expect(email).not.toMatch(/deactivate|delete/i);
  }, 60_000);

  test('an abort during the observation reactivates the key; nothing is deleted', async () => {
    // Prepare: an unused key is quiet at the first check; the abort comes once it is Inactive.
    const old = await createUser('retire-aborted', { 'rotation:owner': 'team@example.com' });
    let tagged: Promise<unknown> | undefined;
    const onState = (record: StateRecord): void => {
      if (record.name === 'NotifyDeactivated')
        tagged = iam.send(new TagUserCommand({ UserName: 'retire-aborted', Tags: [{ Key: ABORT_TAG, Value: old.accessKeyId }] }));
    };

    // Act
    const report = await runRotation(
      { userName: 'retire-aborted', kind: 'retire' },
      { logger: quietLogger, durations: { ...FAST, observationMs: 20_000 }, onState },
    );
    await tagged;

    // Assess
    expect(report.status).toBe('RolledBack');
    expect(await keysOf('retire-aborted')).toEqual({ [old.accessKeyId]: 'Active' });
    expect(await emailOf('retire-aborted', 'rolled-back')).toContain(`Key ${old.accessKeyId} is Active again`);
  }, 60_000);

  test('a health URL that fails once the key is Inactive rolls the retirement back: the key is Active again', async () => {
    // Prepare: the service behind the URL breaks when the key is cut (it was the silent consumer no record shows).
    let broken = false;
    const server = createServer((_request, response) => {
      response.writeHead(broken ? 503 : 200).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const old = await createUser('retire-http', {
      'rotation:owner': 'team@example.com',
      'rotation:health-checks': 'http',
      'rotation:health-check-urls': `${origin}/health`,
    });
    const onState = (record: StateRecord): void => {
      if (record.name === 'Deactivate') broken = true;
    };

    // Act
    const report = await runRotation(
      { userName: 'retire-http', kind: 'retire' },
      {
        logger: quietLogger,
        durations: { ...FAST, observationMs: 20_000 },
        config: loadConfig({ ...process.env, HEALTH_CHECK_URL_ORIGINS: origin }),
        onState,
      },
    ).finally(() => server.close());

    // Assess
    expect(report.status).toBe('RolledBack');
    expect(await keysOf('retire-http')).toEqual({ [old.accessKeyId]: 'Active' });
    expect(await emailOf('retire-http', 'rolled-back')).toContain('HTTP 503');
  }, 60_000);

  test('--delete-secret: refused before anything changes while the user’s other key is Active; scheduled for deletion when the key was the last', async () => {
    // Prepare
    const first = await createUser('two-keys', { 'rotation:owner': 'team@example.com' });
    await seedSecret('two-keys', first);
    const lone = await createUser('last-key', { 'rotation:owner': 'team@example.com' });
    await seedSecret('last-key', lone);
    const { CreateAccessKeyCommand } = await import('@aws-sdk/client-iam');
    await iam.send(new CreateAccessKeyCommand({ UserName: 'two-keys' }));

    // Act
    const refused = await runRotation(
      { userName: 'two-keys', accessKeyId: first.accessKeyId, kind: 'retire', deleteSecret: true },
      { logger: quietLogger, durations: FAST },
    );
    const retired = await runRotation(
      { userName: 'last-key', kind: 'retire', deleteSecret: true },
      { logger: quietLogger, durations: FAST },
    );

    // Assess
    expect(refused).toMatchObject({ status: 'Failed', error: { name: 'InvalidInputError' } });
    expect(refused.error?.message).toContain('is Active');
    expect((await keysOf('two-keys'))[first.accessKeyId]).toBe('Active');
    expect(retired.status).toBe('Succeeded');
    await expect(secretsManager.send(new GetSecretValueCommand({ SecretId: 'iam-key-rotator/last-key' }))).rejects.toMatchObject({
      name: 'InvalidRequestException',
    });
    expect(await emailOf('last-key', 'rotation-completed')).toContain('scheduled for deletion and can be restored for 30 days');
  }, 60_000);
});
