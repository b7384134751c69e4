import { describe, expect, test } from '@jest/globals';
import { cli } from '../helpers/cli.ts';
import { runRotation, type StateRecord } from '#local/runner.ts';
import { createUser, keysOf, quietLogger, seedSecret, storedKey } from '../helpers/rotation-fixtures.ts';

const FAST = { healthCheckIntervalMs: 100, healthCheckDeadlineMs: 5_000, observationMs: 600, oldKeyQuietMs: 100 };

/** Runs a manual-gate rotation and calls the CLI once, when the named state first finishes. */
async function rotateAndAct(userName: string, when: string, args: string[]) {
  let action: Promise<{ code: number; out: string; err: string }> | undefined;
  const onState = (state: StateRecord): void => {
    if (state.name === when && action === undefined) action = cli(...args);
  };
  const report = await runRotation({ userName }, { logger: quietLogger, durations: FAST, onState });
  const result = await action;
  if (!result) throw new Error(`${when} never ran`);
  return { report, result };
}

describe('confirm and abort, the same for local runs and deployed stacks (IAM user tags)', () => {
  test('confirm at the gate: the rotation moves on and succeeds', async () => {
    const old = await createUser('gate-confirm', { 'rotation:health-checks': 'manual' });
    await seedSecret('gate-confirm', old);

    const { report, result } = await rotateAndAct('gate-confirm', 'CheckConsumers', ['confirm', 'gate-confirm']);

    expect(result.code).toBe(0);
    expect(result.out).toContain(`Confirmed: tagged gate-confirm rotation:confirm=${report.newAccessKeyId ?? ''}`);
    expect(report.status).toBe('Succeeded');
    expect(await keysOf('gate-confirm')).toEqual({ [report.newAccessKeyId ?? '']: 'Active' });
  });

  test('abort at the gate: rolled back, the old key stays Active and AWSCURRENT', async () => {
    const old = await createUser('gate-abort', { 'rotation:health-checks': 'manual' });
    await seedSecret('gate-abort', old);

    const { report, result } = await rotateAndAct('gate-abort', 'CheckConsumers', ['abort', 'gate-abort']);

    expect(result.out).toContain('stays Active and AWSCURRENT goes back to it');
    expect(report.status).toBe('RolledBack');
    expect(await keysOf('gate-abort')).toEqual({ [old.accessKeyId]: 'Active', [report.newAccessKeyId ?? '']: 'Inactive' });
    expect((await storedKey('gate-abort')).accessKeyId).toBe(old.accessKeyId);
  });

  test('abort during observation: the old key is reactivated and AWSCURRENT again', async () => {
    const old = await createUser('observe-abort', { 'rotation:health-checks': 'old-key-idle' });
    await seedSecret('observe-abort', old);

    const { report, result } = await rotateAndAct('observe-abort', 'NotifyDeactivated', ['abort', 'observe-abort']);

    expect(result.out).toContain('is reactivated and AWSCURRENT again');
    expect(report.status).toBe('RolledBack');
    expect(await keysOf('observe-abort')).toEqual({ [old.accessKeyId]: 'Active', [report.newAccessKeyId ?? '']: 'Inactive' });
    expect((await storedKey('observe-abort')).accessKeyId).toBe(old.accessKeyId);
  });

  test('confirm during observation changes nothing: the gate has passed, the rotation finishes as planned', async () => {
    const old = await createUser('observe-confirm', { 'rotation:health-checks': 'old-key-idle' });
    await seedSecret('observe-confirm', old);

    const { report, result } = await rotateAndAct('observe-confirm', 'NotifyDeactivated', ['confirm', 'observe-confirm']);

    expect(result.code).toBe(0);
    expect(result.out).toContain('Nothing to confirm');
    expect(report.status).toBe('Succeeded');
  });

  test('with no rotation in progress, confirm exits 1 and changes nothing', async () => {
    const only = await createUser('idle-user');
    await seedSecret('idle-user', only);

    const result = await cli('abort', 'idle-user');

    expect(result.code).toBe(1);
    expect(result.err).toContain('NoRotationInProgressError');
    expect(await keysOf('idle-user')).toEqual({ [only.accessKeyId]: 'Active' });
  });
});
