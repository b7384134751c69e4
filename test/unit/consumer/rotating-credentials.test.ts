import { describe, expect, test } from '@jest/globals';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import {
  afterFailure,
  afterRead,
  EMPTY_CACHE,
  fromRotatingSecret,
  nextStep,
  RotatingSecretUnavailableError,
  type CachePolicy,
  type RotatingSecretOptions,
} from '../../../consumer/rotating-credentials.ts';

const SECRET_ID = 'iam-key-rotator/app';
const keyJson = (id: string) => JSON.stringify({ AccessKeyId: id, SecretAccessKey: `secret-of-${id}` });
const POLICY: CachePolicy = { ttlMs: 10_000, ttlJitter: 0.1, minReadIntervalMs: 1_000, errorBackoffMs: 1_000, maxErrorBackoffMs: 8_000 };

/** A provider on a mocked Secrets Manager with a clock the test moves and no jitter unless asked. */
function harness(options: Partial<RotatingSecretOptions> = {}) {
  const secrets = mockClient(SecretsManagerClient);
  const clock = { now: 1_000_000 };
  const sleeps: number[] = [];
  const provider = fromRotatingSecret({
    secretId: SECRET_ID,
    ttlMs: 10_000,
    client: secrets as unknown as SecretsManagerClient,
    now: () => clock.now,
    random: () => 0.5,
    sleep: async (ms) => {
      const until = clock.now + ms;
      sleeps.push(ms);
      await Promise.resolve();
      clock.now = Math.max(clock.now, until);
    },
    ...options,
  });
  const reads = () => secrets.commandCalls(GetSecretValueCommand).length;
  return { secrets, clock, provider, reads, sleeps };
}

describe('fromRotatingSecret under load', () => {
  test('100 concurrent callers share one read, and every one gets the key', async () => {
    // Prepare
    const { secrets, provider, reads } = harness();
    secrets.on(GetSecretValueCommand).resolves({ SecretString: keyJson('AKIAONE') });

    // Act
    const identities = await Promise.all(Array.from({ length: 100 }, () => provider()));

    // Assess
    expect(reads()).toBe(1);
    expect(new Set(identities.map((identity) => identity.accessKeyId))).toEqual(new Set(['AKIAONE']));
    expect(secrets.commandCalls(GetSecretValueCommand)[0]?.args[0].input).toEqual({ SecretId: SECRET_ID, VersionStage: 'AWSCURRENT' });
  });

  test('a read slower than the TTL still serves the requests that waited for it (it failed them with "0 failed reads" before)', async () => {
    // Prepare: each read takes 15 s of the clock, longer than the 10 s TTL.
    const { secrets, clock, provider, reads } = harness();
    secrets.on(GetSecretValueCommand).callsFake(async () => {
      clock.now += 15_000;
      return { SecretString: keyJson('AKIASLOW') };
    });

    // Act
    const identities = await Promise.all([provider(), provider()]);

    // Assess
    expect(identities.map((identity) => identity.accessKeyId)).toEqual(['AKIASLOW', 'AKIASLOW']);
    expect(reads()).toBe(1);
  });

  test('the TTL is spread by the jitter: random 0 re-reads at 90% of it, random near 1 at 110%', async () => {
    // Prepare
    const low = harness({ random: () => 0 });
    const high = harness({ random: () => 0.999_999 });
    for (const { secrets } of [low, high]) secrets.on(GetSecretValueCommand).resolves({ SecretString: keyJson('AKIAONE') });
    await low.provider();
    await high.provider();

    // Act & Assess
    low.clock.now += 8_999;
    await low.provider();
    expect(low.reads()).toBe(1);
    low.clock.now += 1;
    await low.provider();
    expect(low.reads()).toBe(2);
    high.clock.now += 10_999;
    await high.provider();
    expect(high.reads()).toBe(1);
    high.clock.now += 1;
    await high.provider();
    expect(high.reads()).toBe(2);
  });

  test('requests refused within the minimum re-read interval wait for its end, then share one read', async () => {
    // Prepare
    const { secrets, clock, provider, reads, sleeps } = harness({ minReadIntervalMs: 1_000 });
    secrets
      .on(GetSecretValueCommand)
      .resolvesOnce({ SecretString: keyJson('AKIAOLD') })
      .resolves({ SecretString: keyJson('AKIANEW') });
    await provider();
    clock.now += 400;

    // Act
    for (let i = 0; i < 20; i += 1) provider.invalidate('AKIAOLD');
    const after = await Promise.all(Array.from({ length: 20 }, () => provider()));

    // Assess
    expect(reads()).toBe(2);
    expect(sleeps[0]).toBe(600);
    expect(new Set(after.map((identity) => identity.accessKeyId))).toEqual(new Set(['AKIANEW']));
  });

  test('a secret that keeps holding a refused key is read once per minimum interval, not once per request', async () => {
    // Prepare: every request is refused and retried once, as attach() does.
    const { secrets, clock, provider, reads } = harness({ minReadIntervalMs: 1_000 });
    secrets.on(GetSecretValueCommand).resolves({ SecretString: keyJson('AKIABAD') });
    await provider();

    const started = clock.now;

    // Act: 100 requests, 100 ms apart, each refused, retried with the key read again, and refused again.
    for (let i = 0; i < 100; i += 1) {
      clock.now += 100;
      provider.invalidate((await provider()).accessKeyId);
      provider.invalidate((await provider()).accessKeyId);
    }

    // Assess: never two reads within a second, whatever the request rate (the waits move the clock).
    const seconds = (clock.now - started) / 1_000;
    expect(reads() - 1).toBeLessThanOrEqual(Math.floor(seconds));
    expect(reads()).toBeGreaterThan(10);
  });

  test('a refusal of a key no longer cached does not throw the new key away', async () => {
    // Prepare: requests signed with the old key come back refused after the new key was read.
    const { secrets, clock, provider, reads } = harness({ minReadIntervalMs: 0 });
    secrets
      .on(GetSecretValueCommand)
      .resolvesOnce({ SecretString: keyJson('AKIAOLD') })
      .resolves({ SecretString: keyJson('AKIANEW') });
    await provider();
    provider.invalidate('AKIAOLD');
    await provider();
    clock.now += 10;

    // Act
    for (let i = 0; i < 50; i += 1) provider.invalidate('AKIAOLD');
    const identity = await provider();

    // Assess
    expect(identity.accessKeyId).toBe('AKIANEW');
    expect(reads()).toBe(2);
  });

  test('a failed read is cached: rethrown with its cause and no read until the backoff passes, which doubles to its cap', async () => {
    // Prepare
    const { secrets, clock, provider, reads } = harness({ ttlJitter: 0, errorBackoffMs: 1_000, maxErrorBackoffMs: 4_000 });
    const denied = Object.assign(new Error('User is not authorized to perform secretsmanager:GetSecretValue'), {
      name: 'AccessDeniedException',
    });
    secrets.on(GetSecretValueCommand).rejects(denied);
    const attempt = async () => {
      try {
        await provider();
        return undefined;
      } catch (error) {
        return error;
      }
    };

    // Act & Assess
    const first = await attempt();
    expect(first).toBeInstanceOf(RotatingSecretUnavailableError);
    expect(first).toMatchObject({ name: 'RotatingSecretUnavailableError', failures: 1, secretId: SECRET_ID });
    expect((first as Error).cause).toBe(denied);
    expect((first as Error).message).toContain('secretsmanager:GetSecretValue');
    const waits: number[] = [];
    let last = clock.now;
    while (waits.length < 4) {
      clock.now += 100;
      const error = await attempt();
      expect(error).toBeInstanceOf(RotatingSecretUnavailableError);
      if (reads() > waits.length + 1) {
        waits.push(clock.now - last);
        last = clock.now;
      }
    }
    expect(waits).toEqual([1_000, 2_000, 4_000, 4_000]);
  });

  test('the backoff is spread by the jitter too', () => {
    // Act
    const shortest = afterFailure(EMPTY_CACHE, POLICY, 0, new Error('x'), 0);
    const longest = afterFailure(afterFailure(EMPTY_CACHE, POLICY, 0, new Error('x'), 0.5), POLICY, 0, new Error('x'), 0.999_999);

    // Assess
    expect(shortest.retryAt).toBe(900);
    expect(longest.retryAt).toBeCloseTo(2_200, 0);
  });

  test('a key whose TTL ran out is still used while the secret cannot be read, and replaced once it can', async () => {
    // Prepare
    const { secrets, clock, provider, reads } = harness({ ttlJitter: 0 });
    secrets
      .on(GetSecretValueCommand)
      .resolvesOnce({ SecretString: keyJson('AKIAOLD') })
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }))
      .resolves({ SecretString: keyJson('AKIANEW') });
    await provider();

    // Act & Assess
    clock.now += 10_000;
    expect((await provider()).accessKeyId).toBe('AKIAOLD');
    expect((await provider()).accessKeyId).toBe('AKIAOLD');
    expect(reads()).toBe(2);
    clock.now += 1_000;
    expect((await provider()).accessKeyId).toBe('AKIANEW');
    expect(reads()).toBe(3);
  });

  test('a refused key is not used while reads fail: the caller gets the read error', async () => {
    // Prepare
    const { secrets, clock, provider } = harness({ minReadIntervalMs: 0 });
    secrets
      .on(GetSecretValueCommand)
      .resolvesOnce({ SecretString: keyJson('AKIAOLD') })
      .rejects(Object.assign(new Error('Secrets Manager can not find the specified secret.'), { name: 'ResourceNotFoundException' }));
    await provider();
    clock.now += 5;
    provider.invalidate('AKIAOLD');

    // Act & Assess
    await expect(provider()).rejects.toMatchObject({
      name: 'RotatingSecretUnavailableError',
      cause: { name: 'ResourceNotFoundException' },
    });
  });

  test('a secret that is not JSON fails with a message that does not quote it', async () => {
    // Prepare
    const { secrets, provider } = harness();
    secrets.on(GetSecretValueCommand).resolves({ SecretString: 'AKIAPLAIN:wJalrXUtnFEMI/K7MDENG' });

    // Act
    const error = await provider().then(
      () => new Error('expected the read to fail'),
      (thrown: unknown) => thrown as Error,
    );

    // Assess
    expect(error).toBeInstanceOf(RotatingSecretUnavailableError);
    expect(error.message).toContain('does not hold JSON');
    expect(`${error.message} ${String((error.cause as Error).message)}`).not.toContain('wJalrXUtnFEMI');
  });

  test('options that emulate the provider before backoff and the minimum interval read once per refusal and per failing request', async () => {
    // Prepare
    const { secrets, clock, provider, reads } = harness({ minReadIntervalMs: 0, errorBackoffMs: 0, ttlJitter: 0 });
    secrets.on(GetSecretValueCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));

    // Act
    for (let i = 0; i < 5; i += 1) {
      clock.now += 1;
      await provider().catch(() => undefined);
    }

    // Assess
    expect(reads()).toBe(5);
  });
});

describe('nextStep', () => {
  const key = { AccessKeyId: 'AKIAONE', SecretAccessKey: 'secret' };
  const read = afterRead(key, POLICY, 0, 0.5);
  const failedOnce = afterFailure(EMPTY_CACHE, POLICY, 0, new Error('denied'), 0.5);
  const cases: { name: string; state: Parameters<typeof nextStep>[0]; now: number; expected: string }[] = [
    { name: 'nothing cached', state: EMPTY_CACHE, now: 0, expected: 'read' },
    { name: 'fresh key', state: read, now: 9_999, expected: 'use' },
    { name: 'TTL over', state: read, now: 10_000, expected: 'read' },
    { name: 'refused, inside the minimum interval', state: { ...read, refused: true }, now: 999, expected: 'wait' },
    { name: 'refused, after the minimum interval', state: { ...read, refused: true }, now: 1_000, expected: 'read' },
    { name: 'no key, backing off, ending within the minimum interval', state: failedOnce, now: 999, expected: 'wait' },
    {
      name: 'no key, backing off for longer than the minimum interval',
      state: afterFailure(afterFailure(failedOnce, POLICY, 1_000, new Error('x'), 0.5), POLICY, 3_000, new Error('x'), 0.5),
      now: 3_500,
      expected: 'fail',
    },
    { name: 'no key, backoff over', state: failedOnce, now: 1_000, expected: 'read' },
    {
      name: 'stale key, backing off',
      state: afterFailure({ ...read, freshUntil: 0 }, POLICY, 0, new Error('x'), 0.5),
      now: 500,
      expected: 'use',
    },
    {
      name: 'refused key, backing off, ending within the minimum interval',
      state: afterFailure({ ...read, refused: true }, POLICY, 1_000, new Error('x'), 0.5),
      now: 1_500,
      expected: 'wait',
    },
  ];
  test.each(cases)('$name at $now ms: $expected', ({ state, now, expected }) => {
    // Act & Assess
    expect(nextStep(state, POLICY, now).kind).toBe(expected);
  });
});
