import { beforeAll, describe, expect, test } from '@jest/globals';
import { AddUserToGroupCommand, CreateAccessKeyCommand, CreateGroupCommand, CreateUserCommand, TagUserCommand } from '@aws-sdk/client-iam';
import { DescribeExecutionCommand, ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { UserExemptError, UserProtectedError } from '#shared/base/errors.ts';
import { loadConfig } from '#shared/config/settings.ts';
import { handleTrigger, type StartDeps } from '#shared/start/start-rotation.ts';
import { createPassStateMachine } from '../../helpers/iam-seed.ts';
import { iam, keysOf, quietLogger } from '../../helpers/rotation-fixtures.ts';

/** start-rotation refuses protected users, and exempt ones without an explicit override, before anything starts. */

const sfn = new SFNClient({});
const NOW = new Date('2026-06-15T12:00:00Z');
let deps: StartDeps;
beforeAll(async () => {
  deps = {
    iam,
    sfn,
    stateMachineArn: await createPassStateMachine(sfn, 'iam-key-rotator-exempt-rotate-key'),
    logger: quietLogger,
    config: { ...loadConfig({}), protectedUsers: ['break-glass', 'sos'], protectedPaths: ['/ops/'], exemptGroups: ['no-rotate'] },
    clock: () => NOW,
  };
});

async function userWithKey(userName: string, path = '/', tags: Record<string, string> = {}): Promise<string> {
  await iam.send(new CreateUserCommand({ UserName: userName, Path: path }));
  const entries = Object.entries(tags);
  if (entries.length > 0) await iam.send(new TagUserCommand({ UserName: userName, Tags: entries.map(([Key, Value]) => ({ Key, Value })) }));
  return (await iam.send(new CreateAccessKeyCommand({ UserName: userName }))).AccessKey?.AccessKeyId ?? '';
}

async function inputsOf(userName: string): Promise<Record<string, unknown>[]> {
  const list = await sfn.send(new ListExecutionsCommand({ stateMachineArn: deps.stateMachineArn }));
  const inputs = await Promise.all(
    (list.executions ?? []).map(
      async (item) =>
        JSON.parse((await sfn.send(new DescribeExecutionCommand({ executionArn: item.executionArn }))).input ?? '{}') as Record<
          string,
          unknown
        >,
    ),
  );
  return inputs.filter((input) => input.userName === userName);
}

describe('start-rotation and exemptions, against moto', () => {
  test.each([
    ['a listed user, manual', 'break-glass', '/', 'manual'],
    ['a listed user, compromise', 'sos', '/', 'compromise'],
    ['a user under a protected path, compromise', 'ops-deployer', '/ops/ci/', 'compromise'],
  ])('%s: UserProtectedError, nothing started, the key untouched', async (_name, userName, path, kind) => {
    // Prepare
    const keyId = await userWithKey(userName, path);

    // Act & Assess
    await expect(handleTrigger({ userName, accessKeyId: keyId, kind, exemptionOverride: 'please' }, deps)).rejects.toThrow(
      UserProtectedError,
    );

    expect(await inputsOf(userName)).toEqual([]);
    expect(await keysOf(userName)).toEqual({ [keyId]: 'Active' });
  });

  test('an exempt user (EXEMPT_GROUPS) without an override: UserExemptError, nothing started', async () => {
    // Prepare: a user in the exempt group no-rotate
    const keyId = await userWithKey('grouped');
    await iam.send(new CreateGroupCommand({ GroupName: 'no-rotate' }));
    await iam.send(new AddUserToGroupCommand({ GroupName: 'no-rotate', UserName: 'grouped' }));

    // Act & Assess
    await expect(handleTrigger({ userName: 'grouped', accessKeyId: keyId }, deps)).rejects.toThrow(/member of exempt group no-rotate/);
    expect(await inputsOf('grouped')).toEqual([]);
  });

  test('an exempt user with an explicit override starts, and the override is in the execution input (no timestamp)', async () => {
    // Prepare: a user exempt by tag
    const keyId = await userWithKey('tagged-vendor', '/', { 'rotation:exempt': 'vendor' });

    // Act
    const [outcome] = await handleTrigger(
      { userName: 'tagged-vendor', accessKeyId: keyId, requestedBy: 'alice', exemptionOverride: 'vendor confirmed' },
      deps,
    );

    // Assess
    expect(outcome).toMatchObject({ status: 'started', userName: 'tagged-vendor' });
    expect(await inputsOf('tagged-vendor')).toEqual([
      {
        userName: 'tagged-vendor',
        accessKeyId: keyId,
        kind: 'manual',
        requestedBy: 'direct-invoke:alice',
        reason: '',
        exemptionOverride: 'vendor confirmed',
      },
    ]);
  });

  test('a compromise of an exempt user starts without an override: containment is the point', async () => {
    // Prepare: a user exempt by tag
    const keyId = await userWithKey('tagged-leak', '/', { 'rotation:exempt': 'vendor' });

    // Act
    const [outcome] = await handleTrigger({ userName: 'tagged-leak', accessKeyId: keyId, kind: 'compromise' }, deps);

    // Assess
    expect(outcome).toMatchObject({ status: 'started', kind: 'compromise' });
  });

  test('an expired tag exemption no longer holds', async () => {
    // Prepare: an exemption that ended before NOW
    const keyId = await userWithKey('expired-vendor', '/', { 'rotation:exempt': 'vendor', 'rotation:exempt-until': '2026-01-31' });

    // Act & Assess
    await expect(handleTrigger({ userName: 'expired-vendor', accessKeyId: keyId }, deps)).resolves.toEqual([
      expect.objectContaining({ status: 'started' }),
    ]);
  });

  test('a tag exemption ending beyond EXEMPTION_MAX_DAYS is ignored, as the rotation itself ignores it: the rotation starts', async () => {
    // Prepare: 90 days is the default bound; 2099 is far past it
    const keyId = await userWithKey('distant-vendor', '/', { 'rotation:exempt': 'vendor', 'rotation:exempt-until': '2099-01-01' });

    // Act & Assess
    await expect(handleTrigger({ userName: 'distant-vendor', accessKeyId: keyId }, deps)).resolves.toEqual([
      expect.objectContaining({ status: 'started' }),
    ]);
  });

  test('an empty override is malformed, not an override', async () => {
    // Prepare
    const keyId = await userWithKey('empty-override', '/', { 'rotation:exempt': 'vendor' });

    // Act & Assess
    await expect(handleTrigger({ userName: 'empty-override', accessKeyId: keyId, exemptionOverride: '' }, deps)).rejects.toThrow(
      /exemptionOverride/,
    );
    expect(await inputsOf('empty-override')).toEqual([]);
  });
});

test('UserExemptError is the typed error a caller can match', () => {
  // Act & Assess
  expect(new UserExemptError('x').name).toBe('UserExemptError');
});
