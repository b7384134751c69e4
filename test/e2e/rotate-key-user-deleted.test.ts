import { describe, expect, test } from '@jest/globals';
import { DeleteAccessKeyCommand, DeleteUserCommand } from '@aws-sdk/client-iam';
import { runRotation, type StateRecord } from '#local/runner.ts';
import { createUser, iam, keysOf, quietLogger, seedSecret } from '../helpers/rotation-fixtures.ts';

// A file of its own: after DeleteUser, moto 5.2.1's /moto-api/data.json answers HTTP 500, which
// would break every later test that reads the published notifications from it.
const FAST = { healthCheckIntervalMs: 300, healthCheckDeadlineMs: 3_000, observationMs: 100, oldKeyQuietMs: 100 };
const names = (states: readonly StateRecord[]): string[] => states.map((state) => state.name);

describe('rotate-key workflow when the user disappears', () => {
  test('the user is deleted during the health gate: Failed with UserNotFoundError, and MakeSafe does not crash', async () => {
    // Prepare: the user and its keys are deleted when the owner is told the new key is ready
    const old = await createUser('vanishing');
    await seedSecret('vanishing', old);
    let deletion: Promise<unknown> | undefined;
    const onState = (state: StateRecord): void => {
      if (state.name !== 'NotifyReady') return;
      deletion = (async () => {
        for (const keyId of Object.keys(await keysOf('vanishing')))
          await iam.send(new DeleteAccessKeyCommand({ UserName: 'vanishing', AccessKeyId: keyId }));
        await iam.send(new DeleteUserCommand({ UserName: 'vanishing' }));
      })();
    };

    // Act
    const report = await runRotation({ userName: 'vanishing' }, { logger: quietLogger, durations: FAST, onState });
    await deletion;

    // Assess
    expect(report.status).toBe('Failed');
    expect(report.error?.name).toBe('UserNotFoundError');
    expect(names(report.states).slice(-3)).toEqual(['MakeSafe', 'NotifyFailed', 'Failed']);
    expect(report.states.find((state) => state.name === 'MakeSafe')?.outcome).toBe('ok');
  });
});
