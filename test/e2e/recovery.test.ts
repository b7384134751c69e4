import { afterEach, describe, expect, test } from '@jest/globals';
import { ListUserTagsCommand, TagUserCommand } from '@aws-sdk/client-iam';
import { SimulatedConsumer } from '#local/consumer.ts';
import { runRotation, type StateRecord } from '#local/runner.ts';
import { cli } from '../helpers/cli.ts';
import { liveKeys, secretVersions } from '../helpers/invariants.ts';
import {
  createUser,
  iam,
  keysOf,
  notificationsFor,
  quietLogger,
  secretsManager,
  storedKey,
  useKey,
  type TestKey,
} from '../helpers/rotation-fixtures.ts';

// Onboarding a key: its first rotation creates the secret, so no consumer can be reading it yet and
// the run ends NeedsAttention. The owner moves the consumer to the secret and rotates again; that run
// must take over the key AWSCURRENT holds, run the gate again and retire the original key.
const FAST = { healthCheckIntervalMs: 100, healthCheckDeadlineMs: 600, observationMs: 300, oldKeyQuietMs: 100 };
// Two rotations per test (the first one waits out its gate's deadline): more than Jest's default 5 s on a busy machine.
const TWO_RUNS_MS = 30_000;

/** A workload with the key pasted into its config: it calls AWS with that key and never reads the secret. */
class HardcodedConsumer {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  constructor(private readonly key: TestKey) {}
  start(): void {
    const tick = (): void => {
      this.running = useKey(this.key).catch(() => undefined);
      this.timer = setTimeout(tick, 25);
    };
    tick();
  }
  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

function hardcoded(key: TestKey): HardcodedConsumer {
  const consumer = new HardcodedConsumer(key);
  cleanups.push(() => consumer.stop());
  consumer.start();
  return consumer;
}

function onTheSecret(userName: string): SimulatedConsumer {
  const consumer = new SimulatedConsumer({
    userName,
    secretId: `iam-key-rotator/${userName}`,
    secretsManager,
    followsRotation: true,
    intervalMs: 25,
  });
  cleanups.push(() => consumer.stop());
  consumer.start();
  return consumer;
}

/** At every state: the user's keys, and the key AWSCURRENT holds with its status. */
function watcher(userName: string) {
  const samples: Promise<{ state: string; keys: string[]; current: string | undefined; currentStatus: string | undefined }>[] = [];
  const onState = (state: StateRecord): void => {
    samples.push(
      (async () => {
        const [keys, versions] = await Promise.all([liveKeys(userName), secretVersions(`iam-key-rotator/${userName}`)]);
        const current = versions.find((version) => version.stages.includes('AWSCURRENT'))?.accessKeyId;
        return {
          state: state.name,
          keys: keys.map((key) => key.accessKeyId),
          current,
          currentStatus: keys.find((key) => key.accessKeyId === current)?.status,
        };
      })(),
    );
  };
  return { onState, samples: () => Promise.all(samples) };
}

/** The first rotation of a key that no secret held yet, with a consumer that never reads the secret: NeedsAttention. */
async function onboardWithoutMoving(
  userName: string,
  tags: Record<string, string> = {},
): Promise<{ original: TestKey; adopted: string; consumer: HardcodedConsumer }> {
  const original = await createUser(userName, { 'rotation:owner': 'owner@example.com', ...tags });
  const consumer = hardcoded(original);
  const first = await runRotation({ userName }, { logger: quietLogger, durations: FAST });
  expect(first.status).toBe('NeedsAttention');
  const adopted = first.newAccessKeyId ?? '';
  expect(await keysOf(userName)).toEqual({ [original.accessKeyId]: 'Active', [adopted]: 'Active' });
  expect((await storedKey(userName)).accessKeyId).toBe(adopted);
  return { original, adopted, consumer };
}

describe('rotating again after NeedsAttention finishes the rotation', () => {
  test(
    'the consumer moved to the secret: the key AWSCURRENT holds is taken over, the gate passes, the original key is retired, nobody is locked out',
    async () => {
      // Prepare
      const { original, adopted, consumer } = await onboardWithoutMoving('app-one');
      await consumer.stop();
      const moved = onTheSecret('app-one');
      const watch = watcher('app-one');
      const before = (await notificationsFor('app-one')).length;

      // Act
      const report = await runRotation({ userName: 'app-one' }, { logger: quietLogger, durations: FAST, onState: watch.onState });

      // Assess
      expect(report).toMatchObject({ status: 'Succeeded', oldAccessKeyId: original.accessKeyId, newAccessKeyId: adopted });
      const states = report.states.map((state) => state.name);
      expect(states).toEqual(
        expect.arrayContaining([
          'CreateAndStore',
          'Verify',
          'Promote',
          'CheckConsumers',
          'Deactivate',
          'CheckObservation',
          'DeleteOldKey',
          'Succeeded',
        ]),
      );
      expect(report.states.filter((state) => state.name === 'CheckConsumers').at(-1)?.outcome).toBe('healthy');
      for (const sample of await watch.samples()) {
        // No third key was ever created, and AWSCURRENT always held the adopted key, Active.
        expect({ state: sample.state, extra: sample.keys.filter((id) => id !== original.accessKeyId && id !== adopted) }).toEqual({
          state: sample.state,
          extra: [],
        });
        expect({ state: sample.state, current: sample.current, status: sample.currentStatus }).toEqual({
          state: sample.state,
          current: adopted,
          status: 'Active',
        });
      }
      expect(await keysOf('app-one')).toEqual({ [adopted]: 'Active' });
      expect((await storedKey('app-one')).accessKeyId).toBe(adopted);
      const stats = await moved.stop();
      expect(stats).toMatchObject({ failures: 0, keysUsed: [adopted] });
      expect(stats.calls).toBeGreaterThan(0);
      const sent = (await notificationsFor('app-one')).slice(before);
      expect(sent.map((notification) => notification.attributes.event)).toEqual([
        'rotation-started',
        'new-key-ready',
        'old-key-deactivated',
        'rotation-completed',
      ]);
    },
    TWO_RUNS_MS,
  );

  test(
    'the consumer has not moved yet: the rotation takes over the same key and ends NeedsAttention again, both keys Active, no third key',
    async () => {
      // Prepare: a first rotation that ends NeedsAttention, the consumer still on the original key
      const { original, adopted } = await onboardWithoutMoving('app-two');

      // Act
      const report = await runRotation({ userName: 'app-two' }, { logger: quietLogger, durations: FAST });

      // Assess
      expect(report).toMatchObject({ status: 'NeedsAttention', newAccessKeyId: adopted });
      expect(await keysOf('app-two')).toEqual({ [original.accessKeyId]: 'Active', [adopted]: 'Active' });
      expect((await storedKey('app-two')).accessKeyId).toBe(adopted);
    },
    TWO_RUNS_MS,
  );

  test(
    'markers left on the user for the taken-over key neither abort nor confirm the new run: the gate waits for a person again',
    async () => {
      // Prepare: the consumer on the secret, old abort and confirm tags, a confirm at the first gate check
      const { adopted, consumer } = await onboardWithoutMoving('app-three', { 'rotation:health-checks': 'manual' });
      await consumer.stop();
      onTheSecret('app-three');
      // Left from the first run (or set by hand since): they speak about that run, not the next one.
      await iam.send(
        new TagUserCommand({
          UserName: 'app-three',
          Tags: [
            { Key: 'rotation:abort', Value: adopted },
            { Key: 'rotation:confirm', Value: adopted },
          ],
        }),
      );
      let confirmed: Promise<{ code: number; out: string; err: string }> | undefined;
      let firstCheck: string | undefined;
      const onState = (state: StateRecord): void => {
        if (state.name === 'CheckConsumers' && confirmed === undefined) {
          firstCheck = state.outcome;
          confirmed = cli('confirm', 'app-three');
        }
      };

      // Act
      const report = await runRotation(
        { userName: 'app-three' },
        { logger: quietLogger, durations: { ...FAST, healthCheckDeadlineMs: 5_000 }, onState },
      );

      // Assess
      expect(firstCheck).toBe('waiting');
      expect((await confirmed)?.code).toBe(0);
      expect(report).toMatchObject({ status: 'Succeeded', newAccessKeyId: adopted });
      expect(await keysOf('app-three')).toEqual({ [adopted]: 'Active' });
    },
    TWO_RUNS_MS,
  );

  test(
    'rotating the key AWSCURRENT holds instead is refused, and the advice removes only the original key, never the one consumers read',
    async () => {
      // Prepare
      const { original, adopted } = await onboardWithoutMoving('app-four');

      // Act: rotate the adopted key, not the original
      const report = await runRotation({ userName: 'app-four', accessKeyId: adopted }, { logger: quietLogger, durations: FAST });

      // Assess
      expect(report.status).toBe('Failed');
      expect(report.error?.name).toBe('KeyLimitReachedError');
      const message = report.error?.message ?? '';
      expect(message).toContain(`${original.accessKeyId} is the key to remove if nothing uses it any more`);
      expect(message).toContain(`iam-key-rotator rotate app-four --key ${original.accessKeyId}`);
      expect(message).not.toContain(`--access-key-id ${adopted} --status Inactive`);
      expect(message).not.toMatch(new RegExp(`delete-access-key[^\`]*${adopted}`));
      expect(await keysOf('app-four')).toEqual({ [original.accessKeyId]: 'Active', [adopted]: 'Active' });
      expect((await storedKey('app-four')).accessKeyId).toBe(adopted);
    },
    TWO_RUNS_MS,
  );
});

describe('after NeedsAttention nothing is running: confirm and abort say so, exit 1 and change nothing', () => {
  const tagsOf = async (userName: string) => (await iam.send(new ListUserTagsCommand({ UserName: userName }))).Tags ?? [];

  test.each(['confirm', 'abort'])(
    '%s',
    async (action) => {
      // Prepare
      const { original, adopted } = await onboardWithoutMoving(`ended-${action}`);
      const userName = `ended-${action}`;
      const before = await tagsOf(userName);

      // Act
      const result = await cli(action, userName);

      // Assess
      expect(result.code).toBe(1);
      expect(result.out).toBe('');
      expect(result.err).toContain('NoRotationInProgressError');
      expect(result.err).toContain(`No rotation of ${userName} is running`);
      expect(result.err).toContain('Nothing was changed');
      expect(result.err).toContain(`iam-key-rotator rotate ${userName} --local`);
      expect(await tagsOf(userName)).toEqual(before);
      expect(await keysOf(userName)).toEqual({ [original.accessKeyId]: 'Active', [adopted]: 'Active' });
      expect((await storedKey(userName)).accessKeyId).toBe(adopted);
    },
    TWO_RUNS_MS,
  );
});

describe('rotate --local that ends NeedsAttention', () => {
  test(
    'exits 3 and names the secret to move the consumers to, and warns off deleting the new key',
    async () => {
      // Prepare: a key no secret held yet, and a consumer that keeps its copy.
      const original = await createUser('cli-onboard', { 'rotation:owner': 'owner@example.com' });
      hardcoded(original);

      // Act
      const result = await cli('rotate', 'cli-onboard', '--local', '--health-check-interval', '100ms', '--health-check-deadline', '600ms');

      // Assess
      expect(result.code).toBe(3);
      expect(result.out).toContain('NeedsAttention: cli-onboard');
      expect(result.out).toContain('move the remaining consumers to the secret iam-key-rotator/cli-onboard, then rotate again');
      expect(result.out).toContain('Do not delete the new key');
    },
    TWO_RUNS_MS,
  );
});
