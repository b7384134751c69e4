import { afterEach, describe, expect, test } from '@jest/globals';
import { DeleteAccessKeyCommand } from '@aws-sdk/client-iam';
import { SimulatedConsumer } from '#local/consumer.ts';
import { runRotation, type RunRotationOptions, type StateRecord } from '#local/runner.ts';
import {
  capturingLogger,
  createKey,
  createUser,
  iam,
  keysOf,
  notificationsFor,
  secretsManager,
  seedSecret,
  storedKey,
  type TestKey,
  quietLogger,
} from '../helpers/rotation-fixtures.ts';
import { cli } from '../helpers/cli.ts';

// The real ASL, the real handlers, in-process, against moto; waits compressed to milliseconds.
// An observation period of one interval means one observation check on the happy path.
const FAST = { healthCheckIntervalMs: 100, healthCheckDeadlineMs: 3_000, observationMs: 100, oldKeyQuietMs: 100 };

const consumers: SimulatedConsumer[] = [];
afterEach(async () => {
  await Promise.all(consumers.splice(0).map((consumer) => consumer.stop()));
});

function consumerOf(userName: string, followsRotation: boolean): SimulatedConsumer {
  const consumer = new SimulatedConsumer({
    userName,
    secretId: `iam-key-rotator/${userName}`,
    secretsManager,
    followsRotation,
    intervalMs: 25,
  });
  consumers.push(consumer);
  consumer.start();
  return consumer;
}

/** The happy path with one gate check and one observation check: 18 state transitions. */
const HAPPY_PATH = [
  'IsCompromise',
  'Prepare',
  'NotifyStarted',
  'CreateAndStore',
  'Verify',
  'Promote',
  'NotifyReady',
  'WaitForConsumers',
  'CheckConsumers',
  'ConsumersHealthy',
  'Deactivate',
  'NotifyDeactivated',
  'WaitObserving',
  'CheckObservation',
  'ObservationVerdict',
  'DeleteOldKey',
  'NotifyCompleted',
  'Succeeded',
];

const names = (states: readonly StateRecord[]): string[] => states.map((state) => state.name);

describe('rotate-key workflow, run locally against moto', () => {
  test('happy path: the consumer moves to the new key, the old key is deleted, the owner hears each step, in 18 transitions', async () => {
    // Prepare: a consumer that follows the rotation
    const old = await createUser('happy', { 'rotation:owner': 'team-a@example.com' });
    await seedSecret('happy', old);
    consumerOf('happy', true);

    // Act
    const report = await runRotation({ userName: 'happy', reason: 'test' }, { logger: quietLogger, durations: FAST });

    // Assess
    expect(report).toMatchObject({ status: 'Succeeded', userName: 'happy', oldAccessKeyId: old.accessKeyId });
    expect(names(report.states)).toEqual(HAPPY_PATH);
    const newKeyId = report.newAccessKeyId ?? '';
    expect(await keysOf('happy')).toEqual({ [newKeyId]: 'Active' });
    const current = await storedKey('happy');
    expect(current.accessKeyId).toBe(newKeyId);
    // No label points at the deleted key's version any more.
    expect(Object.values(current.stages).flat().sort()).toEqual(['AWSCURRENT']);
    const sent = await notificationsFor('happy');
    expect(sent.map((notification) => notification.attributes.event)).toEqual([
      'rotation-started',
      'new-key-ready',
      'old-key-deactivated',
      'rotation-completed',
    ]);
    for (const notification of sent) {
      expect(notification.attributes).toMatchObject({ owner: 'team-a@example.com', userName: 'happy' });
      expect((notification.subject ?? '').length).toBeLessThan(100);
    }
  });

  test('consumer never moves: NeedsAttention at the deadline, both keys Active, the owner asked to act', async () => {
    // Prepare: a consumer that never moves to the new key
    const old = await createUser('stuck', { 'rotation:owner': 'team-b@example.com' });
    await seedSecret('stuck', old);
    consumerOf('stuck', false);

    // Act
    const report = await runRotation({ userName: 'stuck' }, { logger: quietLogger, durations: { ...FAST, healthCheckDeadlineMs: 500 } });

    // Assess
    expect(report.status).toBe('NeedsAttention');
    expect(report.states.at(-1)?.name).toBe('NeedsAttention');
    expect(report.states.filter((state) => state.name === 'CheckConsumers').map((state) => state.outcome)).toContain('overdue');
    expect(await keysOf('stuck')).toEqual({ [old.accessKeyId]: 'Active', [report.newAccessKeyId ?? '']: 'Active' });
    const sent = await notificationsFor('stuck');
    const actionNeeded = sent.find((notification) => notification.attributes.event === 'action-needed');
    expect(actionNeeded?.attributes).toMatchObject({ owner: 'team-b@example.com', severity: 'warning' });
    expect(actionNeeded?.message).toContain(old.accessKeyId);
  });

  test('trouble during observation (a person aborts): RolledBack, old key Active and AWSCURRENT again, new key kept Inactive', async () => {
    // Prepare: the owner aborts once the old key is deactivated. (A job left on the old key cannot be the trouble
    // here: AWS refuses and records nothing of a request signed with an Inactive key; consumers-moved.test.ts
    // shows how its silence is seen.)
    const old = await createUser('stray', { 'rotation:owner': 'team-c@example.com' });
    await seedSecret('stray', old);
    consumerOf('stray', true);
    let aborted: Promise<{ code: number }> | undefined;
    const onState = (state: StateRecord): void => {
      if (state.name === 'NotifyDeactivated' && aborted === undefined) aborted = cli('abort', 'stray');
    };

    // Act & Assess: a rotation the abort rolls back, then the next rotation, which succeeds
    const report = await runRotation(
      { userName: 'stray' },
      { logger: quietLogger, durations: { ...FAST, observationMs: 20_000 }, onState },
    );

    expect((await aborted)?.code).toBe(0);
    expect(report.status).toBe('RolledBack');
    expect(names(report.states).slice(-3)).toEqual(['Rollback', 'NotifyRolledBack', 'RolledBack']);
    expect(await keysOf('stray')).toEqual({ [old.accessKeyId]: 'Active', [report.newAccessKeyId ?? '']: 'Inactive' });
    expect((await storedKey('stray')).accessKeyId).toBe(old.accessKeyId);
    const rolledBack = (await notificationsFor('stray')).find((notification) => notification.attributes.event === 'rolled-back');
    expect(rolledBack?.message).toContain('aborted by a person');

    // The next rotation makes room by deleting the Inactive, unreferenced new key, and succeeds.
    const again = await runRotation({ userName: 'stray' }, { logger: quietLogger, durations: FAST });
    expect(again.status).toBe('Succeeded');
    expect(await keysOf('stray')).toEqual({ [again.newAccessKeyId ?? '']: 'Active' });
  });

  test('a user at the two-key limit with both keys Active: KeyLimitReachedError naming both keys, nothing deleted, owner notified', async () => {
    // Prepare: two Active keys
    const first = await createUser('full', { 'rotation:owner': 'team-d@example.com' });
    const second = await createKey('full');

    // Act
    const report = await runRotation({ userName: 'full', accessKeyId: first.accessKeyId }, { logger: quietLogger, durations: FAST });

    // Assess
    expect(report.status).toBe('Failed');
    expect(report.error?.name).toBe('KeyLimitReachedError');
    expect(report.error?.message).toContain(second.accessKeyId);
    expect(names(report.states)).toEqual(['IsCompromise', 'Prepare', 'MakeSafe', 'NotifyFailed', 'Failed']);
    expect(await keysOf('full')).toEqual({ [first.accessKeyId]: 'Active', [second.accessKeyId]: 'Active' });
    const failed = (await notificationsFor('full')).find((notification) => notification.attributes.event === 'rotation-failed');
    expect(failed?.attributes).toMatchObject({ owner: 'team-d@example.com', severity: 'warning' });
    expect(failed?.message).toContain(second.accessKeyId);
  });

  test('the old key is deleted by hand during the gate: Failed at Deactivate, the new key stays Active and AWSCURRENT', async () => {
    // Prepare: the old key is deleted once the owner is told the new key is ready
    const old = await createUser('handy');
    await seedSecret('handy', old);
    consumerOf('handy', true);
    let deletion: Promise<unknown> | undefined;
    const onState = (state: StateRecord): void => {
      if (state.name === 'NotifyReady')
        deletion = iam.send(new DeleteAccessKeyCommand({ UserName: 'handy', AccessKeyId: old.accessKeyId }));
    };

    // Act
    const report = await runRotation({ userName: 'handy' }, { logger: quietLogger, durations: FAST, onState });
    await deletion;

    // Assess
    expect(report.status).toBe('Failed');
    expect(report.error?.name).toBe('AccessKeyNotFoundError');
    expect(report.states.find((state) => state.name === 'Deactivate')?.outcome).toBe('caught AccessKeyNotFoundError');
    expect(await keysOf('handy')).toEqual({ [report.newAccessKeyId ?? '']: 'Active' });
    expect((await storedKey('handy')).accessKeyId).toBe(report.newAccessKeyId);
  });

  test('no secret value appears in any state input or output, log line, notification or the report', async () => {
    // Prepare: every state's data and every log line captured
    const old = await createUser('secretive', { 'rotation:owner': 'team-e@example.com' });
    await seedSecret('secretive', old);
    consumerOf('secretive', true);
    const data: unknown[] = [];
    const capture = capturingLogger();
    let report;

    // Act
    try {
      const options: RunRotationOptions = { durations: FAST, logger: capture.logger, onStateData: (state) => data.push(state) };
      report = await runRotation({ userName: 'secretive' }, options);
    } finally {
      capture.restore();
    }

    // Assess
    expect(report.status).toBe('Succeeded');
    const newKey: TestKey = await storedKey('secretive');
    const secrets = [old.secretAccessKey, newKey.secretAccessKey];
    expect(secrets.every((secret) => secret.length >= 20)).toBe(true);

    const logs = capture.lines.join('');
    expect(logs).toContain('new key promoted to AWSCURRENT');
    const haystacks = {
      states: JSON.stringify(data),
      logs,
      notifications: JSON.stringify(await notificationsFor('secretive')),
      report: JSON.stringify(report),
    };
    expect(data.length).toBe(report.states.length);
    for (const [where, text] of Object.entries(haystacks)) {
      for (const secret of secrets) expect({ where, leaked: text.includes(secret) }).toEqual({ where, leaked: false });
    }
  });
});
