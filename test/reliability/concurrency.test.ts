import { afterEach, describe, expect, test } from '@jest/globals';
import { IAMClient } from '@aws-sdk/client-iam';
import { ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SimulatedConsumer } from '#local/consumer.ts';
import { DAY_MS, fixedClock } from '#shared/base/clock.ts';
import { loadConfig } from '#shared/config/settings.ts';
import type { Durations } from '#shared/rotation/deps.ts';
import { scanAccount } from '#shared/scan/scanner.ts';
import { FaultInjector } from '../helpers/faults.ts';
import { endStateViolations, KeySampler, liveKeys, secretVersions } from '../helpers/invariants.ts';
import { createPassStateMachine, seedUsers } from '../helpers/iam-seed.ts';
import { LeakScanner } from '../helpers/leak-scan.ts';
import { faultedClients, recordedRun, startConsumer } from '../helpers/recorded-run.ts';
import { createKey, createUser, seedSecret } from '../helpers/rotation-fixtures.ts';

// Two things at once on the same account or key: one proceeds, the other waits or stops with a
// typed error that says why; the rotation's invariants hold afterwards.

const FAST: Partial<Durations> = { healthCheckIntervalMs: 50, healthCheckDeadlineMs: 4_000, observationMs: 50, oldKeyQuietMs: 50 };
const consumerSecrets = new SecretsManagerClient({});
const consumers: SimulatedConsumer[] = [];
afterEach(async () => {
  await Promise.all(consumers.splice(0).map((consumer) => consumer.stop()));
});

describe('concurrent scans and rotations', () => {
  test('two scans at once start exactly one rotation per due key and report no error', async () => {
    // Prepare
    const iam = new IAMClient({});
    const sfn = new SFNClient({});
    const stateMachineArn = await createPassStateMachine(sfn);
    await seedUsers(iam, 12, { prefix: 'scan2' });
    const options = {
      iam,
      sfn,
      config: loadConfig({ ROTATION_STATE_MACHINE_ARN: stateMachineArn, UNUSED_AFTER_DAYS: '365' }),
      clock: fixedClock(new Date(Date.now() + 100 * DAY_MS)),
      dryRun: false,
    };

    // Act
    const [first, second] = await Promise.all([scanAccount(options), scanAccount(options)]);

    // Assess
    const executions = (await sfn.send(new ListExecutionsCommand({ stateMachineArn }))).executions ?? [];
    expect(executions).toHaveLength(12);
    expect(new Set(executions.map((execution) => execution.name)).size).toBe(12);
    for (const result of [first, second]) {
      expect(result.userErrors).toEqual([]);
      expect(result.counts.due).toBe(12);
      // Each due key is either started (the same idempotent execution) or skipped with a reason naming it.
      expect(result.rotationsStarted.length + result.rotationsSkipped.length).toBe(12);
      for (const skipped of result.rotationsSkipped) expect(skipped.reason).toMatch(/already|running|exists/);
    }
  });

  test('a scheduled and a manual rotation of the same key at once: one rotation wins, the other converges on it or stops with a typed error, and nothing breaks', async () => {
    // Prepare
    const seed = await createUser('both-kinds', { 'rotation:owner': 'both@example.com' });
    await seedSecret('both-kinds', seed);
    consumers.push(startConsumer('both-kinds', consumerSecrets));
    const leak = new LeakScanner();
    leak.addSecret(seed.secretAccessKey, seed.accessKeyId);
    const sampler = new KeySampler();
    const injector = new FaultInjector();
    const run = (kind: 'scheduled' | 'manual') =>
      recordedRun(
        { userName: 'both-kinds', accessKeyId: seed.accessKeyId, kind, requestedBy: kind, reason: 'concurrency' },
        { leak, sampler, clients: faultedClients(injector, leak), durations: FAST, trackNotifications: false },
      );

    // Act
    const runs = await Promise.all([run('scheduled'), run('manual')]);

    // Assess
    const statuses = runs.map((record) => record.report.status);
    expect(statuses.sort()).toEqual(['Failed', 'Succeeded']);
    expect(runs.map((record) => record.report.error?.name).filter(Boolean)).toEqual(['RotationInProgressError']);
    for (const record of runs) {
      if (record.report.status !== 'Succeeded') expect(record.report.error?.name).toMatch(/Error$/);
      if (record.report.error) expect(record.report.error.message.length).toBeGreaterThan(40);
    }
    expect(await sampler.violations()).toEqual([]);
    expect(
      await endStateViolations({
        userName: 'both-kinds',
        originalKeyId: seed.accessKeyId,
        compromise: false,
        runs: [],
        calls: injector.calls,
      }),
    ).toEqual([]);
    expect(await leak.findings()).toEqual([]);
  });

  test('rotations of both Active keys of one user at once: one stops with RotationInProgressError, the other with KeyLimitReachedError, and the keys and secret are unchanged', async () => {
    // Prepare
    const first = await createUser('two-keys', { 'rotation:owner': 'two@example.com' });
    const second = await createKey('two-keys');
    await seedSecret('two-keys', first);
    const keysBefore = await liveKeys('two-keys');
    const secretBefore = await secretVersions('iam-key-rotator/two-keys');
    const leak = new LeakScanner();
    const sampler = new KeySampler();
    const injector = new FaultInjector();
    const run = (accessKeyId: string) =>
      recordedRun(
        { userName: 'two-keys', accessKeyId, kind: 'manual', requestedBy: 'test', reason: 'concurrency' },
        { leak, sampler, clients: faultedClients(injector, leak), durations: FAST, trackNotifications: false },
      );

    // Act
    const runs = await Promise.all([run(first.accessKeyId), run(second.accessKeyId)]);

    // Assess
    expect(runs.map((record) => record.report.status)).toEqual(['Failed', 'Failed']);
    expect(runs.map((record) => record.report.error?.name).sort()).toEqual(['KeyLimitReachedError', 'RotationInProgressError']);
    const limited = runs.find((record) => record.report.error?.name === 'KeyLimitReachedError');
    expect(limited?.report.error?.message).toContain(first.accessKeyId);
    expect(limited?.report.error?.message).toContain(second.accessKeyId);
    expect(await liveKeys('two-keys')).toEqual(keysBefore);
    expect(await secretVersions('iam-key-rotator/two-keys')).toEqual(secretBefore);
    const writes = injector.calls.filter(
      (call) =>
        call.state !== undefined &&
        /^(CreateAccessKey|DeleteAccessKey|UpdateAccessKey|PutSecretValue|UpdateSecretVersionStage)/.test(call.command),
    );
    expect(writes).toEqual([]);
  });
});
