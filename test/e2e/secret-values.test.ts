import { afterEach, describe, expect, test } from '@jest/globals';
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SimulatedConsumer } from '#local/consumer.ts';
import { runRotation, type RunRotationOptions } from '#local/runner.ts';
import { cli } from '../helpers/cli.ts';
import {
  createUser,
  keysOf,
  quietLogger,
  secretsManager,
  seedHandWrittenSecret,
  seedSecret,
  storedKey,
} from '../helpers/rotation-fixtures.ts';

// Only Verify reads a secret value: every other step, and confirm/abort, tell which key a version
// holds from its version id (the rotator writes versionIdFor(key id)). A secret written by hand has a
// random version id, so a rotation refuses it until `adopt-secret` has re-stored it.
const FAST = { healthCheckIntervalMs: 100, healthCheckDeadlineMs: 3_000, observationMs: 100, oldKeyQuietMs: 100 };

const consumers: SimulatedConsumer[] = [];
afterEach(async () => {
  await Promise.all(consumers.splice(0).map((consumer) => consumer.stop()));
});

function consumerOf(userName: string): SimulatedConsumer {
  const consumer = new SimulatedConsumer({
    userName,
    secretId: `iam-key-rotator/${userName}`,
    secretsManager,
    followsRotation: true,
    intervalMs: 25,
  });
  consumers.push(consumer);
  consumer.start();
  return consumer;
}

/** A Secrets Manager client for the run that records which state each GetSecretValue was sent from. */
function valueReadsByState(): { options: Pick<RunRotationOptions, 'clients' | 'wrapTask'>; readers: () => string[] } {
  const client = new SecretsManagerClient({});
  const readers: string[] = [];
  let running: string | undefined;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'GetSecretValueCommand') readers.push(running ?? 'outside a state');
      return next(args);
    },
    { step: 'initialize', name: 'value-reads-by-state' },
  );
  return {
    options: {
      clients: { secretsManager: client },
      wrapTask: (stateName, run) => async (payload) => {
        running = stateName;
        try {
          return await run(payload);
        } finally {
          running = undefined;
        }
      },
    },
    readers: () => [...new Set(readers)],
  };
}

async function stagesOf(userName: string): Promise<Record<string, string[]>> {
  return (await secretsManager.send(new DescribeSecretCommand({ SecretId: `iam-key-rotator/${userName}` }))).VersionIdsToStages ?? {};
}

describe('only Verify reads a secret value', () => {
  test('a whole rotation: the one state that sends GetSecretValue is Verify', async () => {
    // Prepare
    const old = await createUser('values-happy', { 'rotation:owner': 'team@example.com' });
    await seedSecret('values-happy', old);
    consumerOf('values-happy');
    const reads = valueReadsByState();

    // Act
    const report = await runRotation({ userName: 'values-happy' }, { logger: quietLogger, durations: FAST, ...reads.options });

    // Assess
    expect(report.status).toBe('Succeeded');
    expect(reads.readers()).toEqual(['Verify']);
  });

  test('a compromise: Contain, Prepare and the rest of the fast path read no value; Verify does', async () => {
    // Prepare
    const leaked = await createUser('values-leak', { 'rotation:owner': 'team@example.com' });
    await seedSecret('values-leak', leaked);
    consumerOf('values-leak');
    const reads = valueReadsByState();

    // Act
    const report = await runRotation(
      { userName: 'values-leak', accessKeyId: leaked.accessKeyId, kind: 'compromise', requestedBy: 'test', reason: 'posted in a chat' },
      { logger: quietLogger, durations: FAST, ...reads.options },
    );

    // Assess
    expect(report.status).toBe('Succeeded');
    expect(reads.readers()).toEqual(['Verify']);
  });
});

describe('a secret written by hand', () => {
  test('is refused before anything changes, and adopt-secret lets the next rotation finish with the same consumers', async () => {
    // Prepare: the operator stored the user's only key in its secret by hand, and a consumer reads it there.
    const old = await createUser('hand-written', { 'rotation:owner': 'team@example.com' });
    await seedHandWrittenSecret('hand-written', old);
    const stagesBefore = await stagesOf('hand-written');
    consumerOf('hand-written');

    // Act & Assess: the rotation is refused, adopt-secret re-stores the value, the next rotation succeeds.
    const refused = await runRotation({ userName: 'hand-written' }, { logger: quietLogger, durations: FAST });
    expect(refused.status).toBe('Failed');
    expect(refused.error?.name).toBe('SecretStateError');
    expect(refused.error?.message).toContain('iam-key-rotator adopt-secret hand-written');
    expect(await keysOf('hand-written')).toEqual({ [old.accessKeyId]: 'Active' });
    expect(await stagesOf('hand-written')).toEqual(stagesBefore);

    const adopted = await cli('adopt-secret', 'hand-written');
    expect(adopted.code).toBe(0);
    expect(adopted.out).toContain(`holding key ${old.accessKeyId}`);
    expect(adopted.out).not.toContain(old.secretAccessKey);
    expect(await storedKey('hand-written')).toMatchObject({ accessKeyId: old.accessKeyId, secretAccessKey: old.secretAccessKey });
    expect((await cli('adopt-secret', 'hand-written')).out).toContain('Nothing to adopt');

    const report = await runRotation({ userName: 'hand-written' }, { logger: quietLogger, durations: FAST });
    expect(report.status).toBe('Succeeded');
    expect(await keysOf('hand-written')).toEqual({ [report.newAccessKeyId ?? '']: 'Active' });
    const stats = await consumers[0]?.stop();
    expect(stats).toMatchObject({ failures: 0 });
  });

  test('adopt-secret refuses a secret that holds no key of the user, changing nothing', async () => {
    // Prepare: the secret holds a key of another user.
    await createUser('hand-written-owner');
    const foreign = await createUser('someone-else');
    await seedHandWrittenSecret('hand-written-owner', foreign);
    const stagesBefore = await stagesOf('hand-written-owner');

    // Act
    const result = await cli('adopt-secret', 'hand-written-owner');

    // Assess
    expect(result.code).toBe(1);
    expect(result.err).toContain(`holds access key ${foreign.accessKeyId}, which is not a key of hand-written-owner`);
    expect(result.err).not.toContain(foreign.secretAccessKey);
    expect(await stagesOf('hand-written-owner')).toEqual(stagesBefore);
  });
});
