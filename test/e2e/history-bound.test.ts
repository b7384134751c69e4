import { describe, expect, test } from '@jest/globals';
import { HistoryBoundError } from '#shared/base/errors.ts';
import { prepare } from '#shared/rotation/prepare.ts';
import { runRotation } from '#local/runner.ts';
import { cli } from '../helpers/cli.ts';
import { rotationDeps } from '../helpers/rotation-deps.ts';
import { capturingLogger, createUser, keysOf, quietLogger } from '../helpers/rotation-fixtures.ts';

// Waits whose polls could take an execution past Step Functions' 25,000 history events are refused
// before any key exists, wherever they are decided (shared/config/history-budget.ts): a user's tags,
// the local runner's durations, the CLI's flags. Settings and SSM are covered by the unit tests of
// shared/config/settings.ts.
describe('waits beyond the execution history bound (moto)', () => {
  test("a user's 5m interval tag is refused by Prepare before any key exists: the account's waits are used and the tag is logged", async () => {
    // Prepare: a user whose tag would poll every 5 minutes for the default 7d gate and 7d observation (109,292 events).
    const old = await createUser('poll-often', { 'rotation:health-check-interval': '5m' });
    const captured = capturingLogger();

    // Act: Prepare as deployed (no local durations).
    let rotation;
    try {
      rotation = await prepare(
        { userName: 'poll-often', accessKeyId: old.accessKeyId, kind: 'scheduled', requestedBy: 'test', reason: '' },
        rotationDeps({ logger: captured.logger }),
      );
    } finally {
      captured.restore();
    }

    // Assess: the account's 1h interval, 7d deadline and 7d observation; still only the old key; the refusal logged with its numbers.
    expect(rotation).toMatchObject({ waitSeconds: 3600, healthCheckDeadlineMs: 7 * 86_400_000, observationMs: 7 * 86_400_000 });
    expect(Object.keys(await keysOf('poll-often'))).toEqual([old.accessKeyId]);
    const warning = captured.lines.find((line) => line.includes('invalid tag ignored')) ?? '';
    expect(warning).toContain('rotation:health-check-interval');
    expect(warning).toContain('109,292 events');
    expect(warning).toContain('the smallest rotation:health-check-interval allowed is 1483s');
  });

  test('the local runner refuses waits beyond the bound before it reads or creates anything', async () => {
    // Prepare
    const old = await createUser('local-often');

    // Act
    const run = runRotation(
      { userName: 'local-often', accessKeyId: old.accessKeyId },
      { logger: quietLogger, durations: { healthCheckIntervalMs: 10, healthCheckDeadlineMs: 60_000, observationMs: 1_000 } },
    );

    // Assess
    await expect(run).rejects.toThrow(HistoryBoundError);
    await expect(run).rejects.toThrow(/the smallest healthCheckIntervalMs \(--health-check-interval\) allowed is 75ms/);
    expect(Object.keys(await keysOf('local-often'))).toEqual([old.accessKeyId]);
  });

  test('rotate --local with flags beyond the bound exits 2 naming the flags and the smallest interval, and creates no key', async () => {
    // Prepare
    const old = await createUser('flag-often');

    // Act
    const result = await cli('rotate', 'flag-often', '--local', '--health-check-interval', '1s', '--health-check-deadline', '1d');

    // Assess
    expect(result.code).toBe(2);
    expect(result.err).toContain('HistoryBoundError');
    expect(result.err).toContain('--health-check-interval 1s with --health-check-deadline 1d and --observation 1s (the local default)');
    expect(result.err).toContain('the smallest --health-check-interval allowed is 106s');
    expect(Object.keys(await keysOf('flag-often'))).toEqual([old.accessKeyId]);
  });
});
