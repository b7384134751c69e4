import { afterEach, describe, expect, test } from '@jest/globals';
import { runRotation } from '#local/runner.ts';
import { cli } from '../helpers/cli.ts';
import { SimulatedConsumer } from '#local/consumer.ts';
import { createUser, keysOf, notificationsFor, quietLogger, secretsManager, seedSecret } from '../helpers/rotation-fixtures.ts';
import { TrailedConsumers } from '../helpers/trailed-consumers.ts';
import { parse } from 'csv-parse/sync';

// The consumers-moved gate against the local CloudTrail stand-in: every call a simulated consumer
// makes is a CloudTrail record in a moto log group, and a call on a key that is not Active is refused
// with no record, as on AWS. The rotation reads that group (CLOUDTRAIL_LOG_GROUP; withLocalTrail).
const FAST = { healthCheckIntervalMs: 150, healthCheckDeadlineMs: 2_500, observationMs: 600, oldKeyQuietMs: 300 };
const TWO_CONSUMERS_MS = 30_000;

const consumers = new TrailedConsumers();
afterEach(() => consumers.stopAll());

describe('consumers-moved: one key, two consumers', () => {
  test(
    'one never moves: NeedsAttention, both keys Active, the straggler named in the report, action-needed and the consumers command',
    async () => {
      // Prepare
      const old = await createUser('two-consumers-stuck', { 'rotation:owner': 'team@example.com' });
      await seedSecret('two-consumers-stuck', old);
      const { trail, rotatorIam } = consumers.recorder();
      const dashboard = consumers.start('two-consumers-stuck', trail, 'dashboard', '198.51.100.7', true);
      const exporter = consumers.start('two-consumers-stuck', trail, 'nightly-export', '203.0.113.25', false);
      await consumers.warmUp();

      // Act
      const report = await runRotation(
        { userName: 'two-consumers-stuck' },
        { logger: quietLogger, durations: FAST, clients: { iam: rotatorIam } },
      );

      // Assess
      expect(report.status).toBe('NeedsAttention');
      const newKey = report.newAccessKeyId ?? '';
      expect(await keysOf('two-consumers-stuck')).toEqual({ [old.accessKeyId]: 'Active', [newKey]: 'Active' });
      expect(report.stillOnOldKey?.map((straggler) => straggler.source)).toEqual(['203.0.113.25']);
      const [dashboardStats, exporterStats] = [await dashboard.stop(), await exporter.stop()];
      expect(dashboardStats).toMatchObject({ failures: 0, keysUsed: [old.accessKeyId, newKey] });
      expect(exporterStats).toMatchObject({ failures: 0, keysUsed: [old.accessKeyId] });
      const actionNeeded = (await notificationsFor('two-consumers-stuck')).find((sent) => sent.attributes.event === 'action-needed');
      const email = (JSON.parse(actionNeeded?.message ?? '{}') as { email?: string }).email ?? '';
      expect(email).toContain('Still on the old key (from CloudTrail):\n- 203.0.113.25');
      expect(email).not.toContain('198.51.100.7 (');
      const ready = (await notificationsFor('two-consumers-stuck')).find((sent) => sent.attributes.event === 'new-key-ready');
      const readyEmail = (JSON.parse(ready?.message ?? '{}') as { email?: string }).email ?? '';
      expect(readyEmail).toContain('Seen on the old key before the new one was promoted (from CloudTrail):');
      expect(readyEmail).toContain('203.0.113.25');
      await trail.flush();
      const listed = await cli('consumers', 'two-consumers-stuck', '--json');
      expect(listed.code).toBe(0);
      const inventory = JSON.parse(listed.out) as { keys: { accessKeyId: string; consumers: { source: string }[] }[] };
      const onOld = inventory.keys.find((key) => key.accessKeyId === old.accessKeyId);
      expect(onOld?.consumers.map((seen) => seen.source).sort()).toEqual(['198.51.100.7', '203.0.113.25']);
      expect(inventory.keys.find((key) => key.accessKeyId === newKey)?.consumers.map((seen) => seen.source)).toEqual(['198.51.100.7']);
      const csv = await cli('consumers', 'two-consumers-stuck', '--output', 'csv');
      const rows = parse(csv.out, { columns: true }) as Array<Record<string, string>>;
      expect(rows.map((row) => [row.accessKeyId, row.source]).sort()).toEqual(
        [
          [old.accessKeyId, '198.51.100.7'],
          [old.accessKeyId, '203.0.113.25'],
          [newKey, '198.51.100.7'],
        ].sort(),
      );
    },
    TWO_CONSUMERS_MS,
  );

  test(
    'both move: Succeeded, the old key deleted, and nobody failed a call',
    async () => {
      // Prepare
      const old = await createUser('two-consumers-moving', { 'rotation:owner': 'team@example.com' });
      await seedSecret('two-consumers-moving', old);
      const { trail, rotatorIam } = consumers.recorder();
      const first = consumers.start('two-consumers-moving', trail, 'dashboard', '198.51.100.7', true);
      const second = consumers.start('two-consumers-moving', trail, 'nightly-export', '203.0.113.25', true);
      await consumers.warmUp();

      // Act
      const report = await runRotation(
        { userName: 'two-consumers-moving' },
        { logger: quietLogger, durations: FAST, clients: { iam: rotatorIam } },
      );

      // Assess
      expect(report.status).toBe('Succeeded');
      expect(await keysOf('two-consumers-moving')).toEqual({ [report.newAccessKeyId ?? '']: 'Active' });
      for (const stats of [await first.stop(), await second.stop()]) expect(stats).toMatchObject({ failures: 0 });
      const gate = report.states.filter((state) => state.name === 'CheckConsumers').at(-1);
      expect(gate?.outcome).toBe('healthy');
    },
    TWO_CONSUMERS_MS,
  );
  test(
    'a consumer that calls seldom, moved between a run that ended NeedsAttention and the next: the next run counts it moved and finishes',
    async () => {
      // Prepare: a weekly job, seen once on the old key; the first run waits for it in vain.
      const old = await createUser('seldom-mover', { 'rotation:owner': 'team@example.com' });
      await seedSecret('seldom-mover', old);
      const { trail, rotatorIam } = consumers.recorder();
      const weeklyJob = (followsRotation: boolean): SimulatedConsumer =>
        new SimulatedConsumer({
          userName: 'seldom-mover',
          name: 'weekly-report',
          sourceIp: '192.0.2.61',
          secretId: 'iam-key-rotator/seldom-mover',
          secretsManager,
          followsRotation,
          intervalMs: 60_000,
          recorder: trail,
        });
      const once = async (followsRotation: boolean): Promise<void> => {
        const job = weeklyJob(followsRotation);
        await job.callOnce();
        await job.stop();
        await trail.flush();
      };
      await once(false);
      const options = { logger: quietLogger, durations: { ...FAST, healthCheckDeadlineMs: 1_000 }, clients: { iam: rotatorIam } };
      const first = await runRotation({ userName: 'seldom-mover' }, options);
      expect(first.status).toBe('NeedsAttention');
      // The owner points the job at the secret; it runs once, with the new key, before the next rotation.
      await once(true);

      // Act
      const second = await runRotation({ userName: 'seldom-mover' }, { ...options, durations: FAST });

      // Assess
      expect(second).toMatchObject({ status: 'Succeeded', newAccessKeyId: first.newAccessKeyId });
      expect(await keysOf('seldom-mover')).toEqual({ [first.newAccessKeyId ?? '']: 'Active' });
    },
    TWO_CONSUMERS_MS,
  );
});
