import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { IAMClient, ListAccessKeysCommand, ListUsersCommand, ListUserTagsCommand } from '@aws-sdk/client-iam';
import { DescribeSecretCommand, ListSecretsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { main } from '../../cli/main.ts';
import type { Output } from '../../local/terminal.ts';
import { createAndStoreStep } from '#functions/rotate-create-and-store.ts';
import { notifyStep } from '#functions/notify.ts';
import { prepareStep } from '#functions/rotate-prepare.ts';
import { promoteStep } from '#functions/rotate-promote.ts';
import { verifyStep } from '#functions/rotate-verify.ts';
import { localContext } from '#local/lambda-context.ts';
import { localDeps } from '#local/runner.ts';
import { loadConfig, parseSsmOverrides } from '#shared/config/settings.ts';
import type { DepsProvider, RotationDeps } from '#shared/rotation/deps.ts';
import type { NewKey, Rotation } from '#shared/rotation/workflow-state.ts';
import { validateSchedule } from '#shared/config/schedule.ts';
import { resolveUserSettings } from '#shared/config/user-settings.ts';
import { LeakScanner } from '../helpers/leak-scan.ts';
import { createUser, quietLogger, seedSecret, storedKey, type TestKey } from '../helpers/rotation-fixtures.ts';

// Hostile and malformed input, across step handlers, CLI arguments, user tags and configuration.
// Each case must be refused with a typed error (a name the ASL or the CLI can act on, a message
// that says what to do), and the account must be exactly as it was before: users, keys, tags and
// secret versions are snapshotted before and after every case.

const iam = new IAMClient({});
const secrets = new SecretsManagerClient({});
const leak = new LeakScanner();
let deps: RotationDeps;
let alice: TestKey;
let bob: TestKey;
/** A 64-character user name, IAM's maximum. */
const LONGEST = `u${'x'.repeat(62)}z`;
let longest: TestKey;
let cases = 0;

async function snapshot(): Promise<string> {
  const users = (await iam.send(new ListUsersCommand({}))).Users ?? [];
  const facts = await Promise.all(
    users.map(async (user) => {
      const userName = user.UserName ?? '';
      const keys = (await iam.send(new ListAccessKeysCommand({ UserName: userName }))).AccessKeyMetadata ?? [];
      const tags = (await iam.send(new ListUserTagsCommand({ UserName: userName }))).Tags ?? [];
      return { userName, keys: keys.map((key) => `${key.AccessKeyId ?? ''}:${key.Status ?? ''}`).sort(), tags };
    }),
  );
  const secretList = (await secrets.send(new ListSecretsCommand({}))).SecretList ?? [];
  const stages = await Promise.all(
    secretList.map(async (secret) => ({
      name: secret.Name,
      stages: (await secrets.send(new DescribeSecretCommand({ SecretId: secret.Name }))).VersionIdsToStages,
    })),
  );
  return JSON.stringify({ facts: facts.sort((a, b) => a.userName.localeCompare(b.userName)), stages });
}

/** Runs a hostile case: it must throw an error named `name` whose message matches `message`, changing nothing in the account. */
async function refused(run: () => Promise<unknown> | unknown, name: string, message: RegExp): Promise<void> {
  cases += 1;
  const before = await snapshot();
  let caught: unknown;
  try {
    await run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(Error);
  expect((caught as Error).name).toBe(name);
  expect((caught as Error).message).toMatch(message);
  leak.capture('error messages', (caught as Error).message);
  expect(await snapshot()).toBe(before);
}

type Factory = (
  deps: DepsProvider,
  logger: typeof quietLogger,
) => (event: unknown, context: ReturnType<typeof localContext>) => Promise<unknown>;
const invoke = (factory: Factory, event: unknown): Promise<unknown> =>
  factory(async () => deps, quietLogger)(event, localContext('hostile'));

function capture(): Output & { text: () => string } {
  const lines: string[] = [];
  return { out: (text) => lines.push(text), err: (text) => lines.push(text), text: () => lines.join('\n') };
}

/** A CLI call that must exit 2 (bad usage) with a message, changing nothing. */
async function usage(argv: readonly string[], message: RegExp): Promise<void> {
  cases += 1;
  const before = await snapshot();
  const output = capture();

  const code = await main(['node', 'iam-key-rotator', ...argv], output);

  leak.capture('CLI output', output.text());
  expect(code).toBe(2);
  expect(output.text()).toMatch(message);
  expect(await snapshot()).toBe(before);
}

beforeAll(async () => {
  deps = localDeps({ config: { ...loadConfig(process.env), topicArn: '' }, logger: quietLogger });
  alice = await createUser('alice', { 'rotation:owner': 'alice@example.com' });
  bob = await createUser('bob');
  longest = await createUser(LONGEST);
  await seedSecret('alice', alice);
  await seedSecret('bob', bob);
  for (const key of [alice, bob, longest]) leak.addSecret(key.secretAccessKey, key.accessKeyId);
});

afterAll(() => {
  console.log(`Hostile input: ${cases} cases refused with a typed error, the account unchanged after each.`);
});

async function aliceRotation(): Promise<Rotation> {
  return (await invoke(prepareStep, { userName: 'alice', accessKeyId: alice.accessKeyId })) as Rotation;
}

describe('step handlers refuse malformed and hostile state', () => {
  test.each<[string, unknown, RegExp]>([
    ['a user name of the wrong type', { userName: 42, accessKeyId: 'AKIAIOSFODNN7EXAMPLE' }, /userName/],
    [
      'a 100,000-character user name',
      { userName: 'a'.repeat(100_000), accessKeyId: 'AKIAIOSFODNN7EXAMPLE' },
      /userName: must be an IAM user name/,
    ],
    ['a 65-character user name, one past IAM’s maximum', { userName: `${LONGEST}x`, accessKeyId: 'AKIAIOSFODNN7EXAMPLE' }, /userName/],
    ['a unicode user name', { userName: 'ユーザー名', accessKeyId: 'AKIAIOSFODNN7EXAMPLE' }, /userName/],
    [
      'a user ARN of another account in place of a user name',
      { userName: 'arn:aws:iam::999999999999:user/alice', accessKeyId: 'AKIAIOSFODNN7EXAMPLE' },
      /userName/,
    ],
    ['a path-like user name', { userName: '../../root', accessKeyId: 'AKIAIOSFODNN7EXAMPLE' }, /userName/],
    ['a malformed access key id', { userName: 'alice', accessKeyId: 'akia; DROP TABLE' }, /accessKeyId/],
    ['an unknown kind', { userName: 'alice', accessKeyId: 'AKIAIOSFODNN7EXAMPLE', kind: 'rogue' }, /kind/],
    [
      'a reason longer than 1,024 characters',
      { userName: 'alice', accessKeyId: 'AKIAIOSFODNN7EXAMPLE', reason: 'r'.repeat(5_000) },
      /reason/,
    ],
    ['null', null, /received malformed input/],
    ['an array', [{ userName: 'alice' }], /received malformed input/],
  ])('Prepare refuses %s with an InvalidInputError naming the field', async (_case, event, message) => {
    // Act & Assess: refused() runs the step, then checks the error and the unchanged account
    await refused(() => invoke(prepareStep, event), 'InvalidInputError', message);
  });

  test('Prepare refuses another user’s key id with an AccessKeyNotFoundError that says how to list the user’s keys', async () => {
    // Act & Assess
    await refused(
      () => invoke(prepareStep, { userName: 'alice', accessKeyId: bob.accessKeyId }),
      'AccessKeyNotFoundError',
      /not a key of IAM user alice.*list-access-keys/s,
    );
  });

  test('Prepare refuses a user that does not exist with a UserNotFoundError', async () => {
    // Act & Assess
    await refused(
      () => invoke(prepareStep, { userName: 'nobody', accessKeyId: alice.accessKeyId }),
      'UserNotFoundError',
      /nobody does not exist/,
    );
  });

  test('Prepare accepts a 64-character user name, IAM’s maximum, and changes nothing while preparing', async () => {
    // Prepare
    const before = await snapshot();

    // Act
    const rotation = (await invoke(prepareStep, { userName: LONGEST, accessKeyId: longest.accessKeyId })) as Rotation;

    // Assess
    expect(rotation).toMatchObject({ userName: LONGEST, secretName: `iam-key-rotator/${LONGEST}` });
    expect(await snapshot()).toBe(before);
  });

  test('Prepare refuses negative and zero waits in the state it hands on: Promote rejects them as malformed', async () => {
    // Prepare
    const rotation = await aliceRotation();
    const newKey: NewKey = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', versionId: 'v', createdAt: new Date().toISOString(), reused: false };

    // Act & Assess
    await refused(() => invoke(promoteStep, { rotation: { ...rotation, waitSeconds: -5 }, newKey }), 'InvalidInputError', /waitSeconds/);
    await refused(() => invoke(promoteStep, { rotation: { ...rotation, observationMs: 0 }, newKey }), 'InvalidInputError', /observationMs/);
  });

  test('CreateAndStore refuses a path trick in the state’s secret name with an InvalidInputError, creating no secret and no key', async () => {
    // Prepare
    const rotation = await aliceRotation();

    // Act & Assess
    await refused(
      () => invoke(createAndStoreStep, { rotation: { ...rotation, secretName: 'iam-key-rotator/alice/../bob' } }),
      'InvalidInputError',
      /secretName: must not hold/,
    );
  });

  test('CreateAndStore refuses to write into another user’s secret (the state names bob’s secret for alice) with a SecretNotBoundError', async () => {
    // Prepare
    const rotation = await aliceRotation();

    // Act & Assess
    await refused(
      () => invoke(createAndStoreStep, { rotation: { ...rotation, secretName: 'iam-key-rotator/bob' } }),
      'SecretNotBoundError',
      /Secret iam-key-rotator\/bob is not bound to IAM user alice.*did not create it for alice/,
    );
  });

  test('Verify refuses a new key the secret does not hold (another user’s key id) with a SecretStateError', async () => {
    // Prepare
    const rotation = await aliceRotation();
    const newKey: NewKey = { accessKeyId: bob.accessKeyId, versionId: 'v', createdAt: new Date().toISOString(), reused: false };

    // Act & Assess
    await refused(() => invoke(verifyStep, { rotation, newKey }), 'SecretStateError', /no longer holds the new key/);
  });

  test('Notify refuses an execution name longer than Step Functions allows and an unknown event', async () => {
    // Act & Assess
    await refused(
      () => invoke(notifyStep, { event: 'rotation-started', executionName: 'e'.repeat(200), state: {} }),
      'InvalidInputError',
      /executionName/,
    );
    await refused(() => invoke(notifyStep, { event: 'free-money', executionName: 'e', state: {} }), 'InvalidInputError', /event/);
  });
});

describe('the CLI refuses bad arguments with exit code 2 and changes nothing', () => {
  test.each<[string, string[], RegExp]>([
    ['a missing user', ['rotate'], /missing required argument/],
    ['a malformed --key', ['rotate', 'alice', '--local', '--key', 'akia-lowercase'], /--key must be an access key id/],
    ['a negative --observation', ['rotate', 'alice', '--local', '--observation', '-5s'], /--observation must be a positive duration/],
    [
      'a zero --health-check-interval',
      ['rotate', 'alice', '--local', '--health-check-interval', '0s'],
      /--health-check-interval must be a positive duration/,
    ],
    [
      'a --health-check-deadline that is not a duration',
      ['rotate', 'alice', '--local', '--health-check-deadline', 'forever'],
      /--health-check-deadline must be a positive duration/,
    ],
    ['an impossible --as-of date', ['scan', '--as-of', '2026-02-30'], /--as-of must be a calendar date/],
    ['an unknown option', ['rotate', 'alice', '--local', '--yolo'], /unknown option/],
    ['an unknown command', ['rm-rf'], /unknown command/],
  ])('%s', async (_case, argv, message) => {
    // Act & Assess
    await usage(argv, message);
  });
});

describe('user tags: an unusable tag is reported as an InvalidTagError and falls back to the default', () => {
  const config = loadConfig({});
  test.each<[string, string, string, RegExp]>([
    ['a secret name that climbs out of its prefix', 'rotation:secret-name', '../../prod/admin', /not a valid secret name/],
    ['a secret name with a "." part', 'rotation:secret-name', 'iam-key-rotator/./bob', /not a valid secret name/],
    ['a negative observation period', 'rotation:observation', '-5d', /positive duration/],
    ['a zero health-check interval', 'rotation:health-check-interval', '0s', /positive duration/],
    ['a rotation age in words', 'rotation:max-age-days', 'ninety', /whole number of days/],
    ['an exemption expiring on a day that does not exist', 'rotation:exempt-until', '2026-02-30', /must be a date/],
    ['a health URL that is not http(s)', 'rotation:health-check-urls', 'file:///etc/passwd', /http\(s\) URLs/],
    ['a 10,000-character health-check list', 'rotation:health-checks', 'x'.repeat(10_000), /must list checks/],
  ])('%s', (_case, key, value, message) => {
    // Prepare
    cases += 1;
    const tags = [{ Key: key, Value: value }, ...(key === 'rotation:exempt-until' ? [{ Key: 'rotation:exempt', Value: 'migration' }] : [])];

    // Act
    const { settings, problems } = resolveUserSettings('alice', tags, config);

    // Assess
    expect(problems.map((problem) => problem.name)).toEqual(['InvalidTagError']);
    expect(problems[0]?.message).toMatch(message);
    expect(settings.secretName).toBe('iam-key-rotator/alice');
    expect(settings.exemption).toBeUndefined();
  });

  test('an exemption that expired yesterday no longer holds the key back', () => {
    // Prepare
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);

    // Act
    const { settings, problems } = resolveUserSettings(
      'alice',
      [
        { Key: 'rotation:exempt', Value: 'migration' },
        { Key: 'rotation:exempt-until', Value: yesterday },
      ],
      config,
    );

    // Assess
    expect(problems).toEqual([]);
    expect(settings.exemption?.until?.getTime()).toBeLessThan(Date.now());
  });
});

describe('configuration and the scan schedule: a bad value fails with a ConfigError before any key is touched', () => {
  test.each<[string, Record<string, string>, RegExp]>([
    ['a negative rotation age', { ROTATION_MAX_AGE_DAYS: '-1' }, /ROTATION_MAX_AGE_DAYS/],
    ['a zero health-check interval', { HEALTH_CHECK_INTERVAL: '0s' }, /HEALTH_CHECK_INTERVAL must be a positive duration/],
    ['a negative observation period', { OBSERVATION_PERIOD: '-7d' }, /OBSERVATION_PERIOD must be a positive duration/],
    ['a rotation cap in words', { MAX_ROTATIONS_PER_RUN: 'lots' }, /MAX_ROTATIONS_PER_RUN/],
    ['an unknown notification event', { NOTIFY_EVENTS: 'everything' }, /NOTIFY_EVENTS/],
    ['a one-megabyte rotation age', { ROTATION_MAX_AGE_DAYS: '9'.repeat(1_000_000) }, /ROTATION_MAX_AGE_DAYS/],
    ['a secret name prefix that climbs out with ".."', { SECRET_NAME_PREFIX: '../other-team/' }, /SECRET_NAME_PREFIX/],
  ])('%s', async (_case, env, message) => {
    // Act & Assess
    await refused(() => loadConfig(env), 'ConfigError', message);
  });

  test('an SSM parameter with values of the wrong type', async () => {
    // Act & Assess
    await refused(
      () => parseSsmOverrides('/iam-key-rotator/config', '{"ROTATION_MAX_AGE_DAYS": [90]}'),
      'ConfigError',
      /string or number values/,
    );
  });

  test.each([['rate(0 days)'], ['rate(1 fortnight)'], ['cron(* * *)'], ['daily at noon']])(
    'a malformed scan schedule %s',
    async (expression) => {
      // Act & Assess
      await refused(() => validateSchedule(expression), 'ConfigError', /scanSchedule/);
    },
  );
});

describe('the leak scan over this file', () => {
  test('a local rotation through the CLI prints no secret, and no error message or CLI output of this file holds one', async () => {
    // Prepare
    const output = capture();

    // Act
    const code = await main(
      [
        'node',
        'iam-key-rotator',
        'rotate',
        'bob',
        '--local',
        '--json',
        '--health-check-interval',
        '50ms',
        '--observation',
        '50ms',
        '--health-check-deadline',
        '300ms',
      ],
      output,
    );

    // Assess: the leak scan learns the new key and reads the CLI output
    const current = await storedKey('bob');
    leak.addSecret(current.secretAccessKey, current.accessKeyId);
    leak.capture('CLI output', output.text());

    // Succeeded (0), or ended safely waiting for a person (3) when the short gate gave up first.
    expect([0, 3]).toContain(code);
    expect(output.text()).toContain('"userName": "bob"');
    expect(await leak.findings()).toEqual([]);
  });
});
