import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { loadConfig } from '#shared/config/settings.ts';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TagUserCommand } from '@aws-sdk/client-iam';
import { main } from '../../cli/main.ts';
import { runRotation, type StateRecord } from '#local/runner.ts';
import { createUser, iam, keysOf, quietLogger, seedSecret, storedKey } from '../helpers/rotation-fixtures.ts';

const FAST = { healthCheckIntervalMs: 100, healthCheckDeadlineMs: 3_000, observationMs: 1_000, oldKeyQuietMs: 100 };

// A consumer's health endpoint whose answer the test controls.
let server: Server;
let healthStatus = 200;
let healthUrl = '';
beforeAll(async () => {
  server = createServer((_request, response) => {
    response.statusCode = healthStatus;
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  healthUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/health`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe('consumer health checks other than new-key-used', () => {
  test('http: a health URL tag outside the allowed origins is ignored and the account checks apply', async () => {
    // Prepare: the user points its own gate at an endpoint it controls (always 200).
    const old = await createUser('webapp-own-url', { 'rotation:health-checks': 'http', 'rotation:health-check-urls': healthUrl });
    await seedSecret('webapp-own-url', old);
    healthStatus = 200;

    // Act
    const report = await runRotation({ userName: 'webapp-own-url' }, { logger: quietLogger, durations: FAST });

    // Assess: with no URL allowed, the http check cannot run, so the default new-key-used gate holds (the new key is never used here).
    expect(report.status).toBe('NeedsAttention');
    expect(await keysOf('webapp-own-url')).toEqual({ [old.accessKeyId]: 'Active', [report.newAccessKeyId ?? '']: 'Active' });
  });

  test('http: healthy at the gate, failing during observation → RolledBack', async () => {
    // Prepare: the endpoint turns unhealthy once the old key is deactivated
    const old = await createUser('webapp', { 'rotation:health-checks': 'http', 'rotation:health-check-urls': healthUrl });
    await seedSecret('webapp', old);
    healthStatus = 200;
    const onState = (state: StateRecord): void => {
      if (state.name === 'NotifyDeactivated') healthStatus = 503;
    };

    // A tag may name health URLs only on origins the account allows.
    const config = loadConfig(process.env, { HEALTH_CHECK_URL_ORIGINS: new URL(healthUrl).origin });

    // Act
    const report = await runRotation({ userName: 'webapp' }, { logger: quietLogger, durations: FAST, onState, config });

    // Assess
    expect(report.status).toBe('RolledBack');
    expect(report.states.find((state) => state.name === 'CheckObservation')?.outcome).toBe('trouble');
    expect(await keysOf('webapp')).toEqual({ [old.accessKeyId]: 'Active', [report.newAccessKeyId ?? '']: 'Inactive' });
    expect((await storedKey('webapp')).accessKeyId).toBe(old.accessKeyId);
  });

  test('manual: the gate waits until a person tags the user rotation:confirm=<new key id>', async () => {
    // Prepare: a person confirms the new key after two checks
    const old = await createUser('careful', { 'rotation:health-checks': 'manual' });
    await seedSecret('careful', old);
    let confirmation: Promise<unknown> | undefined;
    let checks = 0;
    const onState = (state: StateRecord): void => {
      if (state.name !== 'CheckConsumers' || ++checks !== 2) return;
      // After two unconfirmed checks, a person confirms the new key (read from the secret, as they would).
      confirmation = storedKey('careful').then((current) =>
        iam.send(new TagUserCommand({ UserName: 'careful', Tags: [{ Key: 'rotation:confirm', Value: current.accessKeyId }] })),
      );
    };

    // Act
    const report = await runRotation({ userName: 'careful' }, { logger: quietLogger, durations: { ...FAST, observationMs: 100 }, onState });
    await confirmation;

    // Assess
    expect(report.status).toBe('Succeeded');
    expect(
      report.states
        .filter((state) => state.name === 'CheckConsumers')
        .map((state) => state.outcome)
        .slice(0, 2),
    ).toEqual(['waiting', 'waiting']);
    expect(await keysOf('careful')).toEqual({ [report.newAccessKeyId ?? '']: 'Active' });
  });
});

describe('iam-key-rotator rotate --local', () => {
  const run = async (...args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(['node', 'iam-key-rotator', ...args], { out: (text) => out.push(text), err: (text) => err.push(text) });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };

  test('--json prints exactly one JSON object on stdout; progress goes to stderr; exit 1 for NeedsAttention', async () => {
    // Prepare: no consumer, so the new key is never used
    const old = await createUser('cli-user');
    await seedSecret('cli-user', old);

    // Act
    const result = await run(
      'rotate',
      'cli-user',
      '--local',
      '--json',
      '--health-check-interval',
      '50ms',
      '--health-check-deadline',
      '200ms',
    );

    // Assess: NeedsAttention ended safely and needs a person: exit 3.
    expect(result.code).toBe(3);
    const report = JSON.parse(result.out) as {
      status: string;
      oldAccessKeyId: string;
      states: { name: string; enteredAt: string; outcome: string }[];
    };
    expect(report).toMatchObject({ status: 'NeedsAttention', oldAccessKeyId: old.accessKeyId });
    expect(report.states[1]).toEqual({ name: 'Prepare', type: 'Task', enteredAt: expect.any(String), outcome: 'ok' });
    expect(result.err).toContain('CheckConsumers');
  });

  test('exit 0 and a summary for a succeeded rotation', async () => {
    // Prepare
    const old = await createUser('cli-confirmed', { 'rotation:health-checks': 'old-key-idle' });
    await seedSecret('cli-confirmed', old);

    // Act
    const result = await run(
      'rotate',
      'cli-confirmed',
      '--local',
      '--key',
      old.accessKeyId,
      '--health-check-interval',
      '50ms',
      '--observation',
      '50ms',
    );

    // Assess
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/Prepare\s+ok/);
    expect(result.out).toContain('Succeeded: cli-confirmed');
  });

  test.each([
    [['rotate', 'u', '--local', '--observation', 'soon'], '--observation must be a positive duration'],
    [['rotate', 'u', '--local', '--key', 'nope'], '--key must be an access key id'],
    [['rotate', 'u', '--stack', 'no-such-stack'], 'CloudFormation stack no-such-stack was not found'],
    [['rotate', 'u', '--compromised'], '--compromised needs --key'],
  ])('bad usage %j exits 2 with a message', async (args, message) => {
    // Act
    const result = await run(...args);

    // Assess
    expect(result.code).toBe(2);
    expect(result.err).toContain(message);
  });
});
