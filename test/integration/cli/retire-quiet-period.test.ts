import { afterEach, describe, expect, test } from '@jest/globals';
import { keysOf, createUser, seedSecret } from '../../helpers/rotation-fixtures.ts';
import { TrailedConsumers } from '../../helpers/trailed-consumers.ts';
import { cli } from '../../helpers/cli.ts';

// `retire --local` cuts a key only once no consumer has used it for the quiet period, and that period
// is the one the person names (--quiet-period), not a fixed compressed one. CloudTrail's delivery delay
// is shortened to nothing here so the quiet period alone decides.

const consumers = new TrailedConsumers();
afterEach(() => consumers.stopAll());

const saved = process.env.CLOUDTRAIL_DELIVERY_DELAY;
afterEach(() => {
  if (saved === undefined) delete process.env.CLOUDTRAIL_DELIVERY_DELAY;
  else process.env.CLOUDTRAIL_DELIVERY_DELAY = saved;
});

/** A user whose key a consumer called with until 1.5 s ago, and no longer does. */
async function keyUsedMomentsAgo(userName: string): Promise<string> {
  const key = await createUser(userName, { 'rotation:owner': 'team@example.com' });
  await seedSecret(userName, key);
  const { trail } = consumers.recorder();
  const job = consumers.start(userName, trail, 'nightly-job', '203.0.113.77', false);
  await consumers.warmUp();
  await job.stop();
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  return key.accessKeyId;
}

describe('retire --local --quiet-period', () => {
  test('a key used within the quiet period asked for is not cut: NeedsAttention (exit 3), the key Active, the consumer named', async () => {
    // Prepare
    process.env.CLOUDTRAIL_DELIVERY_DELAY = '1ms';
    const key = await keyUsedMomentsAgo('quiet-long');

    // Act
    const run = await cli(
      'retire',
      'quiet-long',
      '--local',
      '--quiet-period',
      '10m',
      '--health-check-interval',
      '300ms',
      '--health-check-deadline',
      '2s',
    );

    // Assess
    expect(run.code).toBe(3);
    expect(await keysOf('quiet-long')).toEqual({ [key]: 'Active' });
    expect(run.out).toContain('still using the key: 203.0.113.77');
  }, 60_000);

  test('the same story with a quiet period shorter than the silence: the key is retired (exit 0)', async () => {
    // Prepare
    process.env.CLOUDTRAIL_DELIVERY_DELAY = '1ms';
    await keyUsedMomentsAgo('quiet-short');

    // Act
    const run = await cli(
      'retire',
      'quiet-short',
      '--local',
      '--quiet-period',
      '1s',
      '--health-check-interval',
      '300ms',
      '--observation',
      '300ms',
    );

    // Assess
    expect(run.code).toBe(0);
    expect(await keysOf('quiet-short')).toEqual({});
  }, 60_000);

  test('is a flag of local runs: a deployed start is refused (exit 2) with nothing started', async () => {
    // Act
    const run = await cli('retire', 'anyone', '--quiet-period', '1h', '--stage', 'nosuch');

    // Assess
    expect(run.code).toBe(2);
    expect(run.err).toContain('--quiet-period apply to --local runs');
  });
});
