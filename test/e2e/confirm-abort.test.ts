import { afterEach, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ListUserTagsCommand, TagUserCommand } from '@aws-sdk/client-iam';
import { DescribeSecretCommand, PutSecretValueCommand, UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import { SFNClient, StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { executionName } from '#shared/base/execution-name.ts';
import { ensureLedgerTable } from '#shared/notify/ledger.ts';
import { dynamoDecisionStore } from '#shared/rotation/decision-records.ts';
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
import { versionIdFor } from '#shared/rotation/secret.ts';

const FAST = { healthCheckIntervalMs: 100, healthCheckDeadlineMs: 5_000, observationMs: 600, oldKeyQuietMs: 100 };
// A whole rotation plus the process's first CLI call (its SDK clients load then): Jest's default 5 s is too tight on a busy machine.
const ROTATION_MS = 30_000;

/** The user's tag keys, sorted. */
const tagKeysOf = async (userName: string): Promise<string[]> =>
  ((await iam.send(new ListUserTagsCommand({ UserName: userName }))).Tags ?? []).map((tag) => tag.Key ?? '').sort();

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

describe('local runs: confirm and abort through IAM user tags (the local interpreter has no task-token callbacks)', () => {
  test(
    'confirm at the gate: the rotation moves on and succeeds',
    async () => {
      // Prepare: a user whose gate waits for a person, and its secret.
      const old = await createUser('gate-confirm', { 'rotation:health-checks': 'manual' });
      await seedSecret('gate-confirm', old);

      // Act: rotate, and confirm once CheckConsumers has run.
      const { report, result } = await rotateAndAct('gate-confirm', 'CheckConsumers', ['confirm', 'gate-confirm']);

      // Assess
      expect(result.code).toBe(0);
      expect(result.out).toContain(`Confirmed: tagged gate-confirm rotation:confirm=${report.newAccessKeyId ?? ''}`);
      expect(report.status).toBe('Succeeded');
      expect(await keysOf('gate-confirm')).toEqual({ [report.newAccessKeyId ?? '']: 'Active' });
      // The confirm spoke only to this run: once it ended, the tag is gone.
      expect(await tagKeysOf('gate-confirm')).toEqual(['rotation:health-checks']);
    },
    ROTATION_MS,
  );

  test(
    'abort at the gate: rolled back, the old key stays Active and AWSCURRENT',
    async () => {
      // Prepare: a user whose gate waits for a person, and its secret.
      const old = await createUser('gate-abort', { 'rotation:health-checks': 'manual' });
      await seedSecret('gate-abort', old);

      // Act: rotate, and abort once CheckConsumers has run.
      const { report, result } = await rotateAndAct('gate-abort', 'CheckConsumers', ['abort', 'gate-abort']);

      // Assess
      expect(result.out).toContain('stays Active and AWSCURRENT goes back to it');
      expect(report.status).toBe('RolledBack');
      expect(await keysOf('gate-abort')).toEqual({ [old.accessKeyId]: 'Active', [report.newAccessKeyId ?? '']: 'Inactive' });
      expect(await tagKeysOf('gate-abort')).toEqual(['rotation:health-checks']);
      expect((await storedKey('gate-abort')).accessKeyId).toBe(old.accessKeyId);
    },
    ROTATION_MS,
  );

  test(
    'abort during observation: the old key is reactivated and AWSCURRENT again',
    async () => {
      // Prepare: a user whose gate is old-key-idle, and its secret.
      const old = await createUser('observe-abort', { 'rotation:health-checks': 'old-key-idle' });
      await seedSecret('observe-abort', old);

      // Act: rotate, and abort once the old key is deactivated.
      const { report, result } = await rotateAndAct('observe-abort', 'NotifyDeactivated', ['abort', 'observe-abort']);

      // Assess
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
      // Prepare: a user whose gate is old-key-idle, and its secret.
      const old = await createUser('observe-confirm', { 'rotation:health-checks': 'old-key-idle' });
      await seedSecret('observe-confirm', old);

      // Act: rotate, and confirm once the old key is deactivated.
      const { report, result } = await rotateAndAct('observe-confirm', 'NotifyDeactivated', ['confirm', 'observe-confirm']);

      // Assess
      expect(result.code).toBe(0);
      expect(result.out).toContain('Nothing to confirm');
      expect(report.status).toBe('Succeeded');
    },
    ROTATION_MS,
  );

  test.each(['confirm', 'abort'])('with no rotation in progress, %s exits 1 and changes nothing', async (command) => {
    // Prepare: a user with no rotation running.
    const userName = `idle-${command}`;
    const only = await createUser(userName);
    await seedSecret(userName, only);

    // Act
    const result = await cli(command, userName);

    // Assess
    expect(result.code).toBe(1);
    expect(result.err).toContain('NoRotationInProgressError');
    expect(await keysOf(userName)).toEqual({ [only.accessKeyId]: 'Active' });
  });

  test.each(['confirm', 'abort'])('%s of a user the account does not have is bad usage (exit 2) that names the user', async (command) => {
    // Act
    const result = await cli(command, `nosuch-${command}`);

    // Assess
    expect(result.code).toBe(2);
    expect(result.err).toContain(`No rotation of nosuch-${command} is running, and this account has no IAM user nosuch-${command}`);
  });
});

describe('deployed: a rotation is running when the state machine has a RUNNING execution for the user', () => {
  // moto keeps executions RUNNING (it does not execute them unless asked to): the workflow's place is set up by hand.
  const sfn = new SFNClient({});
  let stateMachineArn = '';
  const tagsOf = async (userName: string) => (await iam.send(new ListUserTagsCommand({ UserName: userName }))).Tags ?? [];

  const ledger = 'confirm-abort-running-ledger';

  beforeAll(async () => {
    stateMachineArn = await createPassStateMachine(sfn, 'confirm-abort-rotate-key');
    await ensureLedgerTable(new DynamoDBClient({}), ledger);
  });
  beforeEach(() => {
    process.env.ROTATION_STATE_MACHINE_ARN = stateMachineArn;
    process.env.NOTIFICATION_LEDGER_TABLE = ledger;
  });
  afterEach(() => {
    delete process.env.ROTATION_STATE_MACHINE_ARN;
    delete process.env.NOTIFICATION_LEDGER_TABLE;
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
        // As the rotation writes it: under the version id derived from the key id.
        ClientRequestToken: versionIdFor(fresh.accessKeyId),
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

  test('its execution RUNNING: confirm records the new key for that execution in the ledger table (no tag) and exits 0', async () => {
    // Prepare
    const { old, fresh } = await promoted('dep-running');
    const executionArn = await startedBy('dep-running', old);
    const executionName = executionArn.split(':').at(-1) ?? '';

    // Act
    const result = await cli('confirm', 'dep-running');

    // Assess
    expect(result.code).toBe(0);
    expect(result.out).toContain(
      `Confirmed: recorded confirm#dep-running (new key ${fresh.accessKeyId}) in the ledger table for execution ${executionName}`,
    );
    expect(await dynamoDecisionStore(new DynamoDBClient({}), () => ledger).get('confirm', 'dep-running')).toMatchObject({
      newAccessKeyId: fresh.accessKeyId,
      executionName,
    });
    expect((await tagsOf('dep-running')).map((tag) => tag.Key)).not.toContain('rotation:confirm');
  });

  test('without a ledger table, a deployed confirm is refused (tags are not a fallback) and nothing changes', async () => {
    // Prepare
    const { old } = await promoted('dep-no-table');
    await startedBy('dep-no-table', old);
    delete process.env.NOTIFICATION_LEDGER_TABLE;
    const before = await tagsOf('dep-no-table');

    // Act
    const result = await cli('confirm', 'dep-no-table');

    // Assess
    expect(result.code).not.toBe(0);
    expect(result.err).toContain('a deployed rotation hears confirm only through it, never through tags');
    expect(await tagsOf('dep-no-table')).toEqual(before);
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

describe('deployed (confirmVia task-token): tags are data, not authority; decisions come from the ledger table and the task token', () => {
  // A leaked key may tag its own user (AWS's "manage your own access keys" policy allows iam:TagUser on
  // oneself), so a deployed rotation must not let rotation:confirm or rotation:abort move it.
  const sfn = new SFNClient({});
  const dynamodb = new DynamoDBClient({});
  const TABLE = 'confirm-abort-deployed-ledger';
  let stateMachineArn = '';

  beforeAll(async () => {
    stateMachineArn = await createPassStateMachine(sfn, 'confirm-abort-deployed-rotate-key');
    await ensureLedgerTable(dynamodb, TABLE);
  });
  beforeEach(() => {
    process.env.NOTIFICATION_LEDGER_TABLE = TABLE;
  });
  afterEach(() => {
    delete process.env.NOTIFICATION_LEDGER_TABLE;
    delete process.env.ROTATION_STATE_MACHINE_ARN;
  });

  /** The user tags itself with a marker naming the new key, as a leaked key could. */
  async function selfTag(userName: string, tag: string): Promise<string> {
    const fresh = (await storedKey(userName)).accessKeyId;
    await iam.send(new TagUserCommand({ UserName: userName, Tags: [{ Key: tag, Value: fresh }] }));
    return fresh;
  }

  /** Runs a task-token rotation; `before` runs ahead of the named Task, and AwaitConfirmation's wait ends as AWS ends an unanswered one. */
  function deployedRun(userName: string, before: Record<string, () => Promise<unknown>>) {
    return runRotation(
      { userName },
      {
        logger: quietLogger,
        durations: FAST,
        confirmVia: 'task-token',
        wrapTask: (stateName, run) => async (payload) => {
          await before[stateName]?.();
          const output = await run(payload);
          // The local interpreter has no callbacks: nobody completes the token, so the task times out.
          if (stateName === 'AwaitConfirmation')
            throw Object.assign(new Error('no one completed the task token'), { name: 'States.Timeout' });
          return output;
        },
      },
    );
  }

  test(
    'a rotation:confirm tag the user sets on itself does not pass the manual gate: the wait runs out, NeedsAttention, the old key stays Active',
    async () => {
      // Prepare
      const old = await createUser('self-confirm', { 'rotation:health-checks': 'manual' });
      await seedSecret('self-confirm', old);
      let tagged = '';

      // Act
      const report = await deployedRun('self-confirm', {
        NotifyReady: async () => {
          tagged = await selfTag('self-confirm', 'rotation:confirm');
        },
      });

      // Assess
      expect(tagged).toBe(report.newAccessKeyId);
      expect(report.states.find((state) => state.name === 'CheckConsumers')?.outcome).toBe('awaiting-confirmation');
      expect(report.states.map((state) => state.name)).not.toContain('Deactivate');
      expect(report.status).toBe('NeedsAttention');
      expect(await keysOf('self-confirm')).toEqual({ [old.accessKeyId]: 'Active', [tagged]: 'Active' });
    },
    ROTATION_MS,
  );

  test(
    'a rotation:abort tag the user sets on itself during observation is ignored: the rotation completes and the old key is deleted',
    async () => {
      // Prepare
      const old = await createUser('self-abort', { 'rotation:health-checks': 'old-key-idle' });
      await seedSecret('self-abort', old);

      // Act
      const report = await deployedRun('self-abort', { CheckObservation: () => selfTag('self-abort', 'rotation:abort') });

      // Assess
      expect(report.status).toBe('Succeeded');
      expect(await keysOf('self-abort')).toEqual({ [report.newAccessKeyId ?? '']: 'Active' });
    },
    ROTATION_MS,
  );

  test(
    'abort during observation writes abort#<user> in the ledger table, no tag; CheckObservation reads it and rolls back',
    async () => {
      // Prepare: the execution moto keeps RUNNING says which rotation is running; the runner plays its steps.
      const old = await createUser('table-abort', { 'rotation:health-checks': 'old-key-idle' });
      await seedSecret('table-abort', old);
      process.env.ROTATION_STATE_MACHINE_ARN = stateMachineArn;
      const started = await cli('rotate', 'table-abort', '--key', old.accessKeyId, '--json');
      expect(started.code).toBe(0);
      let aborted: { code: number; out: string; err: string } | undefined;

      // Act
      const report = await deployedRun('table-abort', {
        CheckObservation: async () => {
          aborted ??= await cli('abort', 'table-abort');
        },
      });

      // Assess
      expect(aborted?.code).toBe(0);
      expect(aborted?.out).toContain(`recorded abort#table-abort (new key ${report.newAccessKeyId ?? ''}) in the ledger table`);
      expect(await dynamoDecisionStore(dynamodb, () => TABLE).get('abort', 'table-abort')).toMatchObject({
        newAccessKeyId: report.newAccessKeyId,
      });
      const tags = (await iam.send(new ListUserTagsCommand({ UserName: 'table-abort' }))).Tags ?? [];
      expect(tags.map((tag) => tag.Key)).not.toContain('rotation:abort');
      expect(report.status).toBe('RolledBack');
      expect(await keysOf('table-abort')).toEqual({ [old.accessKeyId]: 'Active', [report.newAccessKeyId ?? '']: 'Inactive' });
      expect((await storedKey('table-abort')).accessKeyId).toBe(old.accessKeyId);
    },
    ROTATION_MS,
  );
});
