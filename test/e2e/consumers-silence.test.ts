import { afterEach, describe, expect, test } from '@jest/globals';
import { runRotation } from '#local/runner.ts';
import { createUser, keysOf, notificationsFor, quietLogger, seedSecret } from '../helpers/rotation-fixtures.ts';
import { TrailedConsumers } from '../helpers/trailed-consumers.ts';

// The observation's silence check against the local CloudTrail stand-in (in a file of its own, so it
// starts from a fresh account; see consumers-moved.test.ts for the gate): every call a simulated consumer
// makes is a CloudTrail record in a moto log group, and a call on a key that is not Active is refused
// with no record, as on AWS. The rotation reads that group (CLOUDTRAIL_LOG_GROUP; withLocalTrail).
const FAST = { healthCheckIntervalMs: 150, healthCheckDeadlineMs: 2_500, observationMs: 600, oldKeyQuietMs: 300 };
const SILENCE_OBSERVATION_MS = 60_000;

const consumers = new TrailedConsumers();
afterEach(() => consumers.stopAll());

describe('consumers-moved: a consumer the gate let through goes silent', () => {
  test(
    'a gate that does not ask CloudTrail lets the rotation through; the consumer cut off goes silent, and the observation rolls back naming it',
    async () => {
      // Prepare: the gate only asks whether the new key is used, which the dashboard alone answers.
      const old = await createUser('silent-consumer', { 'rotation:owner': 'team@example.com', 'rotation:health-checks': 'new-key-used' });
      await seedSecret('silent-consumer', old);
      const { trail, rotatorIam } = consumers.recorder();
      consumers.start('silent-consumer', trail, 'dashboard', '198.51.100.7', true);
      const exporter = consumers.start('silent-consumer', trail, 'nightly-export', '203.0.113.25', false);
      await consumers.warmUp();

      // Act: CloudTrail times calls to the second, so a consumer calling many times a second counts as calling every
      // second (every two or three on a loaded machine), and is silent after ten of its intervals. Trouble ends the
      // observation at once, so a long one costs nothing when the silence is seen and leaves room for a slow machine.
      const report = await runRotation(
        { userName: 'silent-consumer' },
        { logger: quietLogger, durations: { ...FAST, observationMs: SILENCE_OBSERVATION_MS }, clients: { iam: rotatorIam } },
      );

      // Assess
      expect(report.status).toBe('RolledBack');
      const rolledBack = (await notificationsFor('silent-consumer')).find((sent) => sent.attributes.event === 'rolled-back');
      const email = (JSON.parse(rolledBack?.message ?? '{}') as { email?: string }).email ?? '';
      expect(email).toContain('consumer 203.0.113.25 (');
      expect(email).toContain('has gone silent');
      expect((await keysOf('silent-consumer'))[old.accessKeyId]).toBe('Active');
      expect((await exporter.stop()).failures).toBeGreaterThan(0);
    },
    SILENCE_OBSERVATION_MS + 30_000,
  );
});
