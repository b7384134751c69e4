import { afterEach, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { ListUserTagsCommand } from '@aws-sdk/client-iam';
import { DescribeSecretCommand, PutSecretValueCommand, UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import { SFNClient, StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { executionName } from '#shared/base/execution-name.ts';
import { cli } from '../helpers/cli.ts';
import { createPassStateMachine } from '../helpers/iam-seed.ts';
import { runRotation, type StateRecord } from '#local/runner.ts';
import {
  createKey,
  createUser,
  iam,
  keysOf,
  quietLogger,
  secretsManager,
  seedSecret,
  storedKey,
  type TestKey,
} from '../helpers/rotation-fixtures.ts';

const FAST = { healthCheckIntervalMs: 100, healthCheckDeadlineMs: 5_000, observationMs: 600, oldKeyQuietMs: 100 };
// A whole rotation plus the process's first CLI call (its SDK clients load then): Jest's default 5 s is too tight on a busy machine.
const ROTATION_MS = 30_000;

/** Runs a manual-gate rotation and calls the CLI once, when the named state first finishes. */
async function rotateAndAct(userName: string, when: string, args: string[]) {
  let action: Promise<{ code: number; out: string; err: string }> | undefined;
  const onState = (state: StateRecord): void => {
    if (state.name === when && action === undefined) action = cli(...args);
  };
  const report = await runRotation({ userName }, { logger: quietLogger, durations: FAST, onState });
  const result = await action;
  if (!result) throw new Error(`${when} never ran`);
  return { report, result };
}

describe('confirm and abort, the same for local runs and deployed stacks (IAM user tags)', () => {
  test(
    'confirm at the gate: the rotation moves on and succeeds',
    async () => {
      const old = await createUser('gate-confirm', { 'rotation:health-checks': 'manual' });
      await seedSecret('gate-confirm', old);

      const { report, result } = await rotateAndAct('gate-confirm', 'CheckConsumers', ['confirm', 'gate-confirm']);

      expect(result.code).toBe(0);
      expect(result.out).toContain(`Confirmed: tagged gate-confirm rotation:confirm=${report.newAccessKeyId ?? ''}`);
      expect(report.status).toBe('Succeeded');
      expect(await keysOf('gate-confirm')).toEqual({ [report.newAccessKeyId ?? '']: 'Active' });
    },
    ROTATION_MS,
  );

  test(
    'abort at the gate: rolled back, the old key stays Active and AWSCURRENT',
    async () => {
      const old = await createUser('gate-abort', { 'rotation:health-checks': 'manual' });
      await seedSecret('gate-abort', old);

      const { report, result } = await rotateAndAct('gate-abort', 'CheckConsumers', ['abort', 'gate-abort']);

      expect(result.out).toContain('stays Active and AWSCURRENT goes back to it');
      expect(report.status).toBe('RolledBack');
      expect(await keysOf('gate-abort')).toEqual({ [old.accessKeyId]: 'Active', [report.newAccessKeyId ?? '']: 'Inactive' });
      expect((await storedKey('gate-abort')).accessKeyId).toBe(old.accessKeyId);
    },
    ROTATION_MS,
  );

  test(
    'abort during observation: the old key is reactivated and AWSCURRENT again',
    async () => {
      const old = await createUser('observe-abort', { 'rotation:health-checks': 'old-key-idle' });
      await seedSecret('observe-abort', old);

      const { report, result } = await rotateAndAct('observe-abort', 'NotifyDeactivated', ['abort', 'observe-abort']);

      expect(result.out).toContain('is reactivated and AWSCURRENT again');
      expect(report.status).toBe('RolledBack');
      expect(await keysOf('observe-abort')).toEqual({ [old.accessKeyId]: 'Active', [report.newAccessKeyId ?? '']: 'Inactive' });
      expect((await storedKey('observe-abort')).accessKeyId).toBe(old.accessKeyId);
    },
    ROTATION_MS,
  );

  test(
    'confirm during observation changes nothing: the gate has passed, the rotation finishes as planned',
    async () => {
      const old = await createUser('observe-confirm', { 'rotation:health-checks': 'old-key-idle' });
      await seedSecret('observe-confirm', old);

      const { report, result } = await rotateAndAct('observe-confirm', 'NotifyDeactivated', ['confirm', 'observe-confirm']);

      expect(result.code).toBe(0);
      expect(result.out).toContain('Nothing to confirm');
      expect(report.status).toBe('Succeeded');
    },
    ROTATION_MS,
  );

  test('with no rotation in progress, confirm exits 1 and changes nothing', async () => {
    const only = await createUser('idle-user');
    await seedSecret('idle-user', only);

    const result = await cli('abort', 'idle-user');

    expect(result.code).toBe(1);
    expect(result.err).toContain('NoRotationInProgressError');
    expect(await keysOf('idle-user')).toEqual({ [only.accessKeyId]: 'Active' });
  });
});

describe('deployed: a rotation is running when the state machine has a RUNNING execution for the user', () => {
  // moto keeps executions RUNNING (it does not execute them unless asked to): the workflow's place is set up by hand.
  const sfn = new SFNClient({});
  let stateMachineArn = '';
  const tagsOf = async (userName: string) => (await iam.send(new ListUserTagsCommand({ UserName: userName }))).Tags ?? [];

  beforeAll(async () => {
    stateMachineArn = await createPassStateMachine(sfn, 'confirm-abort-rotate-key');
  });
  beforeEach(() => {
    process.env.ROTATION_STATE_MACHINE_ARN = stateMachineArn;
  });
  afterEach(() => {
    delete process.env.ROTATION_STATE_MACHINE_ARN;
  });

  /** Both keys Active and the new one AWSCURRENT: a rotation at its gate, or one that ended NeedsAttention. */
  async function promoted(userName: string): Promise<{ old: TestKey; fresh: TestKey }> {
    const old = await createUser(userName, { 'rotation:health-checks': 'manual' });
    await seedSecret(userName, old);
    const fresh = await createKey(userName);
    const secretId = `iam-key-rotator/${userName}`;
    const put = await secretsManager.send(
      new PutSecretValueCommand({
        SecretId: secretId,
        SecretString: JSON.stringify({ AccessKeyId: fresh.accessKeyId, SecretAccessKey: fresh.secretAccessKey, UserName: userName }),
        VersionStages: ['AWSPENDING'],
      }),
    );
    const described = await secretsManager.send(new DescribeSecretCommand({ SecretId: secretId }));
    const current = Object.entries(described.VersionIdsToStages ?? {}).find(([, stages]) => stages.includes('AWSCURRENT'))?.[0];
    await secretsManager.send(
      new UpdateSecretVersionStageCommand({
        SecretId: secretId,
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: put.VersionId,
        RemoveFromVersionId: current,
      }),
    );
    await secretsManager.send(
      new UpdateSecretVersionStageCommand({ SecretId: secretId, VersionStage: 'AWSPENDING', RemoveFromVersionId: put.VersionId }),
    );
    return { old, fresh };
  }

  async function startedBy(userName: string, old: TestKey): Promise<string> {
    const started = await cli('rotate', userName, '--key', old.accessKeyId, '--json');
    expect(started.code).toBe(0);
    return (JSON.parse(started.out) as { executionArn: string }).executionArn;
  }

  test('its execution RUNNING: confirm tags the new key for that execution and exits 0', async () => {
    const { old, fresh } = await promoted('dep-running');
    const executionArn = await startedBy('dep-running', old);

    const result = await cli('confirm', 'dep-running');

    expect(result.code).toBe(0);
    expect(result.out).toContain(
      `Confirmed: tagged dep-running rotation:confirm=${fresh.accessKeyId} for execution ${executionArn.split(':').at(-1) ?? ''}`,
    );
    expect(await tagsOf('dep-running')).toContainEqual({ Key: 'rotation:confirm', Value: fresh.accessKeyId });
  });

  test.each(['confirm', 'abort'])(
    '%s once its execution has ended (another user of a similar name still running): exit 1, no tag, nothing changed',
    async (action) => {
      // Prepare
      const userName = `dep-ended-${action}`;
      const { old, fresh } = await promoted(userName);
      const executionArn = await startedBy(userName, old);
      await sfn.send(new StopExecutionCommand({ executionArn }));
      const similar = `${userName}-2`;
      await sfn.send(
        new StartExecutionCommand({
          stateMachineArn,
          name: executionName(similar, 'AKIAIOSFODNN7EXAMPLE', 'manual'),
          input: JSON.stringify({ userName: similar, accessKeyId: 'AKIAIOSFODNN7EXAMPLE', kind: 'manual' }),
        }),
      );

      const before = await tagsOf(userName);

      // Act
      const result = await cli(action, userName);

      // Assess
      expect(result.code).toBe(1);
      expect(result.err).toContain(`No rotation of ${userName} is running (looked in the running executions of ${stateMachineArn}`);
      expect(result.err).toContain(`iam-key-rotator rotate ${userName}`);
      expect(await tagsOf(userName)).toEqual(before);
      expect(before.map((tag) => tag.Key)).toEqual(['rotation:health-checks']);
      expect(await keysOf(userName)).toEqual({ [old.accessKeyId]: 'Active', [fresh.accessKeyId]: 'Active' });
      expect((await storedKey(userName)).accessKeyId).toBe(fresh.accessKeyId);
    },
  );
});
