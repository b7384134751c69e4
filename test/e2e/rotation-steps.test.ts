import { beforeAll, describe, expect, test } from '@jest/globals';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createAndStoreStep } from '#functions/rotate-create-and-store.ts';
import { checkConsumersStep } from '#functions/rotate-check-consumers.ts';
import { checkObservationStep } from '#functions/rotate-check-observation.ts';
import { containStep } from '#functions/rotate-contain.ts';
import { deactivateStep } from '#functions/rotate-deactivate.ts';
import { deleteOldKeyStep } from '#functions/rotate-delete-old-key.ts';
import { makeSafeStep } from '#functions/rotate-make-safe.ts';
import { prepareStep } from '#functions/rotate-prepare.ts';
import { promoteStep } from '#functions/rotate-promote.ts';
import { rollbackStep } from '#functions/rotate-rollback.ts';
import { verifyStep } from '#functions/rotate-verify.ts';
import { localContext } from '#local/lambda-context.ts';
import { localDeps } from '#local/runner.ts';
import { loadConfig } from '#shared/config/settings.ts';
import type { DepsProvider, RotationDeps } from '#shared/rotation/deps.ts';
import type { Deactivated, NewKey, Promoted, Rotation } from '#shared/rotation/workflow-state.ts';
import { createKey, createUser, keysOf, quietLogger, seedSecret, storedKey, useKey } from '../helpers/rotation-fixtures.ts';

// Each step's handler, called the way Step Functions calls it, twice in a row: Lambda and the state
// machine both retry, so a second run with the same input must leave the same world behind.

const FAST = { healthCheckIntervalMs: 50, healthCheckDeadlineMs: 5_000, observationMs: 50, oldKeyQuietMs: 50 };
let deps: RotationDeps;

beforeAll(() => {
  deps = localDeps({ config: { ...loadConfig(process.env), topicArn: '' }, durations: FAST, logger: quietLogger });
});

type Factory = (
  deps: DepsProvider,
  logger: typeof quietLogger,
) => (event: unknown, context: ReturnType<typeof localContext>) => Promise<unknown>;
async function invoke<T>(factory: Factory, event: unknown, with_: RotationDeps = deps): Promise<T> {
  return (await factory(async () => with_, quietLogger)(event, localContext('test'))) as T;
}
async function twice<T>(factory: Factory, event: unknown): Promise<[T, T]> {
  return [await invoke<T>(factory, event), await invoke<T>(factory, event)];
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A SecretsManager client that fails the first PutSecretValue, as if the Lambda died right after CreateAccessKey. */
function crashingOncePut(): SecretsManagerClient {
  const client = new SecretsManagerClient({});
  let crashed = false;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'PutSecretValueCommand' && !crashed) {
        crashed = true;
        throw new Error('Lambda timed out between CreateAccessKey and PutSecretValue');
      }
      return next(args);
    },
    { step: 'initialize', name: 'crashOnce' },
  );
  return client;
}

async function upTo<K extends 'created' | 'promoted' | 'deactivated'>(userName: string, until: K) {
  const old = await createUser(userName);
  await seedSecret(userName, old);
  const rotation = await invoke<Rotation>(prepareStep, { userName, accessKeyId: old.accessKeyId });
  const newKey = await invoke<NewKey>(createAndStoreStep, { rotation });
  if (until === 'created') return { old, rotation, newKey };
  await invoke(verifyStep, { rotation, newKey });
  const promoted = await invoke<Promoted>(promoteStep, { rotation, newKey });
  if (until === 'promoted') return { old, rotation, newKey, promoted };
  const deactivated = await invoke<Deactivated>(deactivateStep, { rotation, newKey, promoted });
  return { old, rotation, newKey, promoted, deactivated };
}

describe('every rotation step is idempotent', () => {
  test('Prepare, CreateAndStore, Verify, Promote, CheckConsumers, Deactivate, CheckObservation and DeleteOldKey each run twice with the same outcome', async () => {
    // Prepare
    const old = await createUser('twice');
    await seedSecret('twice', old);
    const input = { userName: 'twice', accessKeyId: old.accessKeyId, kind: 'scheduled' };

    // Act & Assess: each step twice in turn, each pair checked before the next step runs.
    const [rotation, rotationAgain] = await twice<Rotation>(prepareStep, input);
    expect(rotationAgain).toEqual({ ...rotation, startedAt: expect.any(String) });

    const [newKey, newKeyAgain] = await twice<NewKey>(createAndStoreStep, { rotation });
    expect(newKeyAgain).toEqual({ ...newKey, reused: true });
    expect(await keysOf('twice')).toEqual({ [old.accessKeyId]: 'Active', [newKey.accessKeyId]: 'Active' });

    const [verified, verifiedAgain] = await twice<{ arn: string }>(verifyStep, { rotation, newKey });
    expect(verifiedAgain.arn).toBe(verified.arn);

    const [promoted] = await twice<Promoted>(promoteStep, { rotation, newKey });
    const afterPromote = await storedKey('twice');
    expect(afterPromote.accessKeyId).toBe(newKey.accessKeyId);
    expect(Object.values(afterPromote.stages).flat().sort()).toEqual(['AWSCURRENT', 'AWSPREVIOUS']);
    // Verify again after Promote (a redrive) still finds the key, now as AWSCURRENT.
    expect((await invoke<{ arn: string }>(verifyStep, { rotation, newKey })).arn).toBe(verified.arn);

    // Past the old key's quiet period (counted from Promote), so both checks can pass; the run's speed must not decide it.
    await sleep(FAST.oldKeyQuietMs + 20);
    await useKey(afterPromote);
    const gates = await twice<{ status: string }>(checkConsumersStep, { rotation, newKey, promoted });
    expect(gates.map((gate) => gate.status)).toEqual(['healthy', 'healthy']);

    const [deactivated] = await twice<Deactivated>(deactivateStep, { rotation, newKey, promoted });
    expect(await keysOf('twice')).toEqual({ [old.accessKeyId]: 'Inactive', [newKey.accessKeyId]: 'Active' });

    await sleep(FAST.observationMs + 10);
    const observations = await twice<{ status: string }>(checkObservationStep, { rotation, newKey, promoted, deactivated });
    expect(observations.map((observation) => observation.status)).toEqual(['over', 'over']);

    await twice(deleteOldKeyStep, { rotation, newKey, promoted, deactivated });
    expect(await keysOf('twice')).toEqual({ [newKey.accessKeyId]: 'Active' });
    expect(Object.values((await storedKey('twice')).stages).flat()).toEqual(['AWSCURRENT']);
  });

  test('Rollback twice: the old key Active and AWSCURRENT, the new key Inactive, both times', async () => {
    // Prepare: a rotation up to Deactivate, and an observation that found trouble.
    const { old, rotation, newKey, promoted, deactivated } = await upTo('undo', 'deactivated');
    const observation = { status: 'trouble', checkedAt: new Date().toISOString(), detail: 'health check failed' };

    // Act
    const [first, second] = await twice<{ currentKeyId: string; actions: string[] }>(rollbackStep, {
      rotation,
      newKey,
      promoted,
      deactivated,
      observation,
    });

    // Assess
    expect(first.actions).toEqual([
      `reactivated ${old.accessKeyId}`,
      expect.stringMatching(/^moved AWSCURRENT back/),
      `deactivated ${newKey.accessKeyId}`,
    ]);
    expect(second).toMatchObject({ currentKeyId: old.accessKeyId, actions: [] });
    expect(await keysOf('undo')).toEqual({ [old.accessKeyId]: 'Active', [newKey.accessKeyId]: 'Inactive' });
    expect((await storedKey('undo')).accessKeyId).toBe(old.accessKeyId);
  });

  test('MakeSafe twice after a failure before promotion: the unpromoted new key is deleted once, then nothing is left to do', async () => {
    // Prepare: a rotation up to CreateAndStore that failed before promotion.
    const { old, rotation, newKey } = await upTo('unsafe', 'created');
    const error = { Error: 'KeyVerificationError', Cause: 'test' };

    // Act
    const [first, second] = await twice<{ actions: string[] }>(makeSafeStep, { rotation, newKey, error });

    // Assess
    expect(first.actions).toEqual([`deleted ${newKey.accessKeyId}`, expect.stringMatching(/^removed AWSPENDING/)]);
    expect(second.actions).toEqual([]);
    expect(await keysOf('unsafe')).toEqual({ [old.accessKeyId]: 'Active' });
    expect((await storedKey('unsafe')).accessKeyId).toBe(old.accessKeyId);
  });

  test('MakeSafe after a failure past promotion keeps the promoted key Active and reactivates the old one: two working keys', async () => {
    // Prepare: a rotation up to Deactivate.
    const { old, rotation, newKey, promoted } = await upTo('late', 'deactivated');

    // Act
    const result = await invoke<{ actions: string[] }>(makeSafeStep, { rotation, newKey, promoted, error: { Error: 'States.Timeout' } });

    // Assess
    expect(result.actions).toEqual([`reactivated ${old.accessKeyId}`]);
    expect(await keysOf('late')).toEqual({ [old.accessKeyId]: 'Active', [newKey.accessKeyId]: 'Active' });
    expect((await storedKey('late')).accessKeyId).toBe(newKey.accessKeyId);
  });
});

describe('a crash between CreateAccessKey and PutSecretValue', () => {
  test('the retry deletes the orphan before creating a key: never three keys, no orphan left', async () => {
    // Prepare
    const old = await createUser('crashy');
    await seedSecret('crashy', old);
    const rotation = await invoke<Rotation>(prepareStep, { userName: 'crashy', accessKeyId: old.accessKeyId });
    const crashing = { ...deps, secretsManager: crashingOncePut() };

    // Act & Assess: CreateAndStore crashes after CreateAccessKey and leaves an orphan; then the retry.
    await expect(invoke(createAndStoreStep, { rotation }, crashing)).rejects.toThrow('between CreateAccessKey and PutSecretValue');
    const afterCrash = await keysOf('crashy');
    const orphan = Object.keys(afterCrash).find((id) => id !== old.accessKeyId) ?? '';
    expect(Object.keys(afterCrash)).toHaveLength(2);

    const newKey = await invoke<NewKey>(createAndStoreStep, { rotation }, crashing);

    expect(newKey.accessKeyId).not.toBe(orphan);
    expect(await keysOf('crashy')).toEqual({ [old.accessKeyId]: 'Active', [newKey.accessKeyId]: 'Active' });
    expect((await storedKey('crashy', 'AWSPENDING')).accessKeyId).toBe(newKey.accessKeyId);
  });

  test('MakeSafe after the crash deletes the orphan and leaves the old key alone', async () => {
    // Prepare: a rotation whose CreateAndStore crashed after CreateAccessKey, leaving an orphan.
    const old = await createUser('crashed');
    await seedSecret('crashed', old);
    const rotation = await invoke<Rotation>(prepareStep, { userName: 'crashed', accessKeyId: old.accessKeyId });
    await expect(invoke(createAndStoreStep, { rotation }, { ...deps, secretsManager: crashingOncePut() })).rejects.toThrow();

    // Act
    const result = await invoke<{ actions: string[] }>(makeSafeStep, { rotation, error: { Error: 'Error', Cause: 'crash' } });

    // Assess
    expect(result.actions).toHaveLength(1);
    expect(await keysOf('crashed')).toEqual({ [old.accessKeyId]: 'Active' });
  });

  test('MakeSafe deletes the orphan this rotation left but keeps an unused Active key older than the rotation, and names it', async () => {
    // Prepare: a leaked key next to an Active key that nobody used and no secret holds, created before the rotation.
    const leaked = await createUser('bystander');
    await seedSecret('bystander', leaked);
    const bystander = await createKey('bystander');
    const request = { userName: 'bystander', accessKeyId: leaked.accessKeyId, kind: 'compromise' };

    // Act & Assess: Contain, then Prepare (the leaked key makes room), then CreateAndStore crashes after CreateAccessKey; then MakeSafe.
    const contained = await invoke<{ plan: string; detail: string }>(containStep, {
      request,
      executionStartedAt: new Date().toISOString(),
    });
    expect(contained.plan).toBe('delete-compromised');
    expect(contained.detail).toContain(`${bystander.accessKeyId} is Active and was never used`);
    const rotation = await invoke<Rotation>(prepareStep, request);
    await expect(invoke(createAndStoreStep, { rotation }, { ...deps, secretsManager: crashingOncePut() })).rejects.toThrow();
    const orphan = Object.keys(await keysOf('bystander')).find((id) => id !== bystander.accessKeyId) ?? '';
    expect(await keysOf('bystander')).toEqual({ [bystander.accessKeyId]: 'Active', [orphan]: 'Active' });

    const result = await invoke<{ actions: string[]; detail: string }>(makeSafeStep, {
      rotation,
      error: { Error: 'Error', Cause: 'crash' },
    });

    expect(result.actions).toEqual([`deleted ${orphan}`]);
    expect(result.detail).toContain(`kept ${bystander.accessKeyId}`);
    expect(await keysOf('bystander')).toEqual({ [bystander.accessKeyId]: 'Active' });
  });

  test('a used key that no secret holds is never taken for an orphan: CreateAndStore stops and deletes nothing', async () => {
    // Prepare: a prepared rotation, and a second key, used, that no secret holds.
    const old = await createUser('intruder');
    await seedSecret('intruder', old);
    const rotation = await invoke<Rotation>(prepareStep, { userName: 'intruder', accessKeyId: old.accessKeyId });
    const someone = await createKey('intruder');
    await useKey(someone);

    // Act & Assess
    await expect(invoke(createAndStoreStep, { rotation })).rejects.toMatchObject({ name: 'KeyLimitReachedError' });
    expect(await keysOf('intruder')).toEqual({ [old.accessKeyId]: 'Active', [someone.accessKeyId]: 'Active' });
  });
});
