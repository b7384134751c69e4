import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { CloudFormationClient, CreateStackCommand } from '@aws-sdk/client-cloudformation';
import { STACK_SETTINGS } from '../../../cli/stack.ts';
import {
  DescribeExecutionCommand,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { main } from '../../../cli/main.ts';
import { InvalidInputError, KeyOfAnotherUserError, RotationInProgressError, UserNotFoundError } from '#shared/base/errors.ts';
import { executionName } from '#shared/base/execution-name.ts';
import { loadConfig } from '#shared/config/settings.ts';
import { handleTrigger, SUPERSEDED_ERROR, type StartDeps } from '#shared/start/start-rotation.ts';
import { createPassStateMachine } from '../../helpers/iam-seed.ts';
import { createKey, createUser, iam, keysOf, quietLogger } from '../../helpers/rotation-fixtures.ts';
import { repoPath } from '../../helpers/paths.ts';
import { viaRule } from '../../helpers/rule-delivery.ts';

const sfn = new SFNClient({});
const health = JSON.parse(readFileSync(repoPath('test/fixtures/health-credentials-exposed.json'), 'utf8')) as {
  detail: Record<string, unknown>;
};
// As the stack's rule delivers it (serverless.yml's inputTransformer).
const healthFor = (accessKeyId: string) =>
  viaRule({ ...health, detail: { ...health.detail, affectedEntities: [{ entityValue: accessKeyId }] } });

let deps: StartDeps;
beforeAll(async () => {
  // moto records executions without running them: what start-rotation starts and stops is visible as is.
  deps = { iam, sfn, stateMachineArn: await createPassStateMachine(sfn, 'iam-key-rotator-test-rotate-key'), logger: quietLogger };
});

async function executions(): Promise<{ name: string; status: string; input: Record<string, unknown> }[]> {
  const list = await sfn.send(new ListExecutionsCommand({ stateMachineArn: deps.stateMachineArn }));
  return Promise.all(
    (list.executions ?? []).map(async (item) => {
      const described = await sfn.send(new DescribeExecutionCommand({ executionArn: item.executionArn }));
      return {
        name: described.name ?? '',
        status: described.status ?? '',
        input: JSON.parse(described.input ?? '{}') as Record<string, unknown>,
      };
    }),
  );
}

describe('start-rotation against moto', () => {
  test('a Health event starts one compromise rotation of the exposed key, found by its owner; a duplicate event starts nothing more', async () => {
    // Prepare
    const leaked = await createUser('exposed');

    // Act: the event, then the same event again.
    const [first] = await handleTrigger(healthFor(leaked.accessKeyId), deps);
    const [second] = await handleTrigger(healthFor(leaked.accessKeyId), deps);

    // Assess
    const name = executionName('exposed', leaked.accessKeyId, 'compromise');
    expect(first).toMatchObject({ status: 'started', userName: 'exposed', kind: 'compromise', executionName: name });
    expect(second).toMatchObject({ status: 'already-started', executionName: name });
    const started = (await executions()).filter((execution) => execution.input.userName === 'exposed');
    expect(started).toHaveLength(1);
    expect(started[0]?.input).toEqual({
      userName: 'exposed',
      accessKeyId: leaked.accessKeyId,
      kind: 'compromise',
      requestedBy: 'aws.health:arn:aws:health:us-east-1::event/AWS_RISK_CREDENTIALS_EXPOSED_XXXXXXXXXXXXXXXXX',
      reason: `AWS Health AWS_RISK_CREDENTIALS_EXPOSED: access key ${leaked.accessKeyId} was found in public`,
    });
  });

  test("a GuardDuty finding under the deployment's GUARDDUTY_MIN_SEVERITY is ignored: the key stays Active and nothing starts", async () => {
    // Prepare: a High (8) finding about the user's key, with the floor raised to 9.
    const user = await createUser('guardduty-below-floor');
    const finding = JSON.parse(readFileSync(repoPath('test/fixtures/guardduty-iamuser-finding.json'), 'utf8')) as {
      detail: Record<string, unknown>;
    };
    const event = viaRule({
      ...finding,
      detail: {
        ...finding.detail,
        resource: {
          resourceType: 'AccessKey',
          accessKeyDetails: { accessKeyId: user.accessKeyId, userName: 'guardduty-below-floor', userType: 'IAMUser' },
        },
      },
    });
    const config = loadConfig({ GUARDDUTY_MIN_SEVERITY: '9' });

    // Act
    const outcomes = await handleTrigger(event, { ...deps, config });

    // Assess
    expect(outcomes).toEqual([{ status: 'ignored', reason: expect.stringContaining('below GUARDDUTY_MIN_SEVERITY (9)') as unknown }]);
    expect((await executions()).filter((execution) => execution.input.userName === 'guardduty-below-floor')).toEqual([]);
    expect(await keysOf('guardduty-below-floor')).toEqual({ [user.accessKeyId]: 'Active' });
  });

  test('a Health event invoked directly, not delivered by the rule, is refused: the key stays Active and nothing starts', async () => {
    // Prepare
    const target = await createUser('forged-health');
    const forged = { ...health, detail: { ...health.detail, affectedEntities: [{ entityValue: target.accessKeyId }] } };

    // Act
    const refused = await handleTrigger(forged, deps).catch((error: unknown) => error);

    // Assess
    expect(refused).toMatchObject({ name: 'UnverifiedEventSourceError' });
    expect((await executions()).filter((execution) => execution.input.userName === 'forged-health')).toEqual([]);
    expect(await keysOf('forged-health')).toEqual({ [target.accessKeyId]: 'Active' });
  });

  test('a malformed Health event is rejected and nothing starts or changes', async () => {
    // Prepare
    const key = await createUser('malformed');
    const before = (await executions()).length;

    // Act & Assess
    await expect(handleTrigger(viaRule({ ...health, detail: { ...health.detail, affectedEntities: [] } }), deps)).rejects.toBeInstanceOf(
      InvalidInputError,
    );

    expect((await executions()).length).toBe(before);
    expect(await keysOf('malformed')).toEqual({ [key.accessKeyId]: 'Active' });
  });

  test("another user's key, an unknown user and an unknown key are refused with typed errors", async () => {
    // Prepare
    await createUser('alice');
    const bobs = await createUser('bob');
    const before = (await executions()).length;

    // Act & Assess: four requests refused one after another, then nothing started or changed.
    await expect(handleTrigger({ userName: 'alice', accessKeyId: bobs.accessKeyId, kind: 'compromise' }, deps)).rejects.toThrow(
      KeyOfAnotherUserError,
    );
    await expect(handleTrigger({ userName: 'alice', accessKeyId: bobs.accessKeyId }, deps)).rejects.toThrow(
      `belongs to IAM user bob, not alice`,
    );
    await expect(handleTrigger({ userName: 'nobody-here' }, deps)).rejects.toBeInstanceOf(UserNotFoundError);
    await expect(handleTrigger(healthFor('AKIAIOSFODNN7EXAMPLE'), deps)).rejects.toThrow(
      'No IAM user in this account has access key AKIAIOSFODNN7EXAMPLE',
    );

    expect((await executions()).length).toBe(before);
    expect(await keysOf('bob')).toEqual({ [bobs.accessKeyId]: 'Active' });
  });

  test('a manual rotation asked for again: while it runs the request finds it; once it has ended (say NeedsAttention) the next attempt starts', async () => {
    // Prepare
    const key = await createUser('again');
    const request = { userName: 'again', accessKeyId: key.accessKeyId, kind: 'manual' as const };
    const [first] = await handleTrigger(request, deps);
    const [repeated] = await handleTrigger(request, deps);
    if (first?.status !== 'started') throw new Error('the first manual rotation did not start');
    await sfn.send(new StopExecutionCommand({ executionArn: first.executionArn }));

    // Act
    const [again] = await handleTrigger(request, deps);
    const [againRepeated] = await handleTrigger(request, deps);

    // Assess
    expect(first.executionName).toBe(executionName('again', key.accessKeyId, 'manual'));
    expect(repeated).toMatchObject({ status: 'already-started', executionName: first.executionName });
    expect(again).toMatchObject({ status: 'started', executionName: executionName('again', key.accessKeyId, 'manual', 2) });
    expect(againRepeated).toMatchObject({ status: 'already-started', executionName: executionName('again', key.accessKeyId, 'manual', 2) });
    const mine = (await executions()).filter((execution) => execution.input.userName === 'again');
    expect(mine.map((execution) => execution.status).sort()).toEqual(['ABORTED', 'RUNNING']);
    // The new attempt says which run it follows and how that one ended, in its result and in its input.
    expect(again).toMatchObject({ previousAttempt: { executionName: first.executionName, status: 'ABORTED' } });
    expect(mine.find((execution) => execution.status === 'RUNNING')?.input).toMatchObject({
      previousAttempt: { executionName: first.executionName, status: 'ABORTED' },
    });
    expect(mine.find((execution) => execution.status === 'ABORTED')?.input).not.toHaveProperty('previousAttempt');
  });

  test('a compromise rotation that ended without success is contained again at the next trigger, as a new attempt; while that runs, nothing more', async () => {
    // Prepare: a compromise rotation of the key, started and stopped (ABORTED: it may not have contained the key).
    const key = await createUser('contained-once');
    const request = { userName: 'contained-once', accessKeyId: key.accessKeyId, kind: 'compromise' as const };
    const [first] = await handleTrigger(request, deps);
    if (first?.status !== 'started') throw new Error('the compromise rotation did not start');
    await sfn.send(new StopExecutionCommand({ executionArn: first.executionArn }));

    // Act
    const [second] = await handleTrigger(request, deps);
    const [third] = await handleTrigger(request, deps);

    // Assess
    expect(second).toMatchObject({
      status: 'started',
      executionName: executionName('contained-once', key.accessKeyId, 'compromise', 2),
      previousAttempt: { executionName: first.executionName, status: 'ABORTED' },
    });
    expect(third).toMatchObject({
      status: 'already-started',
      executionName: executionName('contained-once', key.accessKeyId, 'compromise', 2),
    });
  });

  test('a compromise rotation stops the running scheduled rotation of the key first, then starts', async () => {
    // Prepare: a running scheduled rotation of the key.
    const key = await createUser('superseded');
    const scheduledName = executionName('superseded', key.accessKeyId, 'scheduled');
    const scheduled = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: deps.stateMachineArn,
        name: scheduledName,
        input: JSON.stringify({ userName: 'superseded', accessKeyId: key.accessKeyId, kind: 'scheduled' }),
      }),
    );

    // Act
    const [outcome] = await handleTrigger(
      { userName: 'superseded', accessKeyId: key.accessKeyId, kind: 'compromise', reason: 'pasted in a chat' },
      deps,
    );

    // Assess
    expect(outcome).toMatchObject({ status: 'started', stopped: [scheduled.executionArn] });
    const stopped = await sfn.send(new DescribeExecutionCommand({ executionArn: scheduled.executionArn }));
    expect(stopped.status).toBe('ABORTED');
    expect(SUPERSEDED_ERROR).toBe('SupersededByCompromise');
  });

  test("a GuardDuty finding about a user's temporary credentials starts containment of its sessions and stops no rotation of its keys", async () => {
    // Prepare: a running scheduled rotation of the user's key, and a finding about a session of the user (an ASIA key id).
    const key = await createUser('session-finding');
    const scheduled = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: deps.stateMachineArn,
        name: executionName('session-finding', key.accessKeyId, 'scheduled'),
        input: JSON.stringify({ userName: 'session-finding', accessKeyId: key.accessKeyId, kind: 'scheduled' }),
      }),
    );
    const finding = JSON.parse(readFileSync(repoPath('test/fixtures/guardduty-iamuser-finding.json'), 'utf8')) as {
      detail: Record<string, unknown>;
    };
    const session = 'ASIAQEXAMPLESESSION9';
    const event = viaRule({
      ...finding,
      detail: {
        ...finding.detail,
        resource: {
          resourceType: 'AccessKey',
          accessKeyDetails: { accessKeyId: session, userName: 'session-finding', userType: 'IAMUser' },
        },
      },
    });

    // Act
    const [outcome] = await handleTrigger(event, deps);

    // Assess
    expect(outcome).toMatchObject({
      status: 'started',
      userName: 'session-finding',
      accessKeyId: session,
      kind: 'compromise',
      stopped: [],
    });
    expect((await sfn.send(new DescribeExecutionCommand({ executionArn: scheduled.executionArn }))).status).toBe('RUNNING');
    expect(await keysOf('session-finding')).toEqual({ [key.accessKeyId]: 'Active' });
  });

  test('an ASIA key id named for a scheduled or manual rotation is refused: only containment acts on sessions', async () => {
    // Prepare
    await createUser('session-manual');

    // Act
    const refused = handleTrigger({ userName: 'session-manual', accessKeyId: 'ASIAQEXAMPLESESSION8', kind: 'manual' }, deps);

    // Assess
    await expect(refused).rejects.toMatchObject({
      name: 'KeyNotActiveError',
      message: expect.stringContaining('--compromised') as unknown,
    });
  });

  test('a manual rotation is refused while a scheduled rotation of the same user runs, and nothing starts', async () => {
    // Prepare: a running scheduled rotation of the user.
    const key = await createUser('one-at-a-time');
    await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: deps.stateMachineArn,
        name: executionName('one-at-a-time', key.accessKeyId, 'scheduled'),
        input: JSON.stringify({ userName: 'one-at-a-time', accessKeyId: key.accessKeyId, kind: 'scheduled' }),
      }),
    );
    const before = (await executions()).length;

    // Act
    const attempt = handleTrigger({ userName: 'one-at-a-time', accessKeyId: key.accessKeyId, kind: 'manual', reason: 'now please' }, deps);

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(RotationInProgressError);
    await expect(attempt).rejects.toThrow(/already has a running rotation.*iam-key-rotator abort one-at-a-time/s);
    expect((await executions()).length).toBe(before);
  });

  test('a manual rotation asked for while a compromise rotation of the key runs is refused, not pointed at the manual run it stopped', async () => {
    // Prepare: a manual rotation, then a compromise rotation of the same key, which stops it.
    const key = await createUser('manual-then-leak');
    const manual = { userName: 'manual-then-leak', accessKeyId: key.accessKeyId, kind: 'manual' as const };
    const [first] = await handleTrigger(manual, deps);
    const [leak] = await handleTrigger({ ...manual, kind: 'compromise' as const }, deps);
    if (first?.status !== 'started' || leak?.status !== 'started') throw new Error('the rotations did not start');
    const before = (await executions()).length;

    // Act
    const again = handleTrigger(manual, deps);

    // Assess
    expect(leak.stopped).toEqual([first.executionArn]);
    await expect(again).rejects.toBeInstanceOf(RotationInProgressError);
    await expect(again).rejects.toThrow(/already has a running rotation.*compromise/s);
    expect((await executions()).length).toBe(before);
  });
});

describe('CLI against a deployed stack (moto)', () => {
  const run = async (args: string[], env: Record<string, string> = {}) => {
    const saved = { ...process.env };
    Object.assign(process.env, env);
    const out: string[] = [];
    const err: string[] = [];
    try {
      const code = await main(['node', 'iam-key-rotator', ...args], { out: (text) => out.push(text), err: (text) => err.push(text) });
      return { code, out: out.join('\n'), err: err.join('\n') };
    } finally {
      process.env = saved;
    }
  };

  beforeAll(async () => {
    // A stand-in for the deployed stack: only its outputs matter to the CLI.
    await new CloudFormationClient({}).send(
      new CreateStackCommand({
        StackName: 'iam-key-rotator-test',
        TemplateBody: JSON.stringify({
          Resources: { Topic: { Type: 'AWS::SNS::Topic', Properties: { TopicName: 'iam-key-rotator-test-notifications' } } },
          Outputs: {
            RotateKeyStateMachineArn: { Value: deps.stateMachineArn },
            NotificationTopicArn: { Value: { Ref: 'Topic' } },
            // The stack-only settings as a default deployment outputs them (serverless.yml).
            StackSettings: {
              Value: JSON.stringify({
                ...Object.fromEntries(STACK_SETTINGS.map((setting) => [setting, ''])),
                SECRET_NAME_PREFIX: 'iam-key-rotator/',
                MEMBER_ROLE_NAME: 'iam-key-rotator-member',
              }),
            },
          },
        }),
      }),
    );
  });

  test('rotate <user> starts an execution found from the stack outputs and says how to follow it', async () => {
    // Prepare
    const key = await createUser('cli-deployed');

    // Act
    const result = await run(['rotate', 'cli-deployed', '--stage', 'test', '--reason', 'owner left']);

    // Assess
    expect(result.code).toBe(0);
    expect(result.out).toContain(`Started manual rotation of ${key.accessKeyId} (user cli-deployed)`);
    expect(result.out).toContain(
      `Execution: ${deps.stateMachineArn.replace(':stateMachine:', ':execution:')}:${executionName('cli-deployed', key.accessKeyId, 'manual')}`,
    );
    expect(result.out).toContain('Follow it: iam-key-rotator status cli-deployed --stage test');
  });

  test('rotate --compromised --key (ROTATION_STATE_MACHINE_ARN) starts the fast path once; --json the second time says already-started', async () => {
    // Prepare
    const key = await createUser('cli-leak');
    const env = { ROTATION_STATE_MACHINE_ARN: deps.stateMachineArn };

    // Act: the same compromise rotation asked for twice.
    const first = await run(['rotate', 'cli-leak', '--compromised', '--key', key.accessKeyId], env);
    const second = await run(['rotate', 'cli-leak', '--compromised', '--key', key.accessKeyId, '--json'], env);

    // Assess
    expect(first.code).toBe(0);
    expect(first.out).toContain('Started compromise rotation');
    expect(JSON.parse(second.out)).toMatchObject({ status: 'already-started', kind: 'compromise', userName: 'cli-leak' });
  });

  test('rotate with a key of another user exits 1 and starts nothing', async () => {
    // Prepare
    await createUser('cli-carol');
    const daves = await createUser('cli-dave');
    const before = (await executions()).length;

    // Act
    const result = await run(['rotate', 'cli-carol', '--key', daves.accessKeyId, '--stack', 'iam-key-rotator-test']);

    // Assess
    expect(result.code).toBe(1);
    expect(result.err).toContain('KeyOfAnotherUserError');
    expect((await executions()).length).toBe(before);
  });

  test('status lists running and stopped rotations with their timeline; --json for one user', async () => {
    // Prepare: a user with two keys, one rotation started by the CLI.
    const key = await createUser('cli-status');
    await createKey('cli-status');
    await run(['rotate', 'cli-status', '--key', key.accessKeyId, '--stage', 'test']);

    // Act
    const table = await run(['status', '--stage', 'test']);
    const json = await run(['status', 'cli-status', '--json', '--stage', 'test']);

    // Assess
    expect(table.code).toBe(0);
    expect(table.out).toMatch(/cli-status .*manual .*RUNNING/s);
    expect(table.out).toContain('ABORTED');
    const lines = JSON.parse(json.out) as {
      userName: string;
      status: string;
      kind: string;
      timeline: unknown[];
      currentStep: string | null;
    }[];
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ userName: 'cli-status', status: 'RUNNING', kind: 'manual' });
    // moto answers GetExecutionHistory with a canned history; AWS returns the real states.
    expect(lines[0]?.timeline.length).toBeGreaterThan(0);
  });
});

describe('status of a succeeded execution (moto executing a trivial state machine)', () => {
  const endpoint = process.env.AWS_ENDPOINT_URL ?? '';
  const setExecution = (on: boolean) =>
    fetch(`${endpoint}/moto-api/config`, { method: 'POST', body: JSON.stringify({ stepfunctions: { execute_state_machine: on } }) });
  beforeAll(async () => {
    await setExecution(true);
  });
  afterAll(async () => {
    await setExecution(false);
  });

  test('a finished execution shows SUCCEEDED and its last state', async () => {
    // Prepare: an execution of a trivial state machine, which moto runs to the end.
    const arn = await createPassStateMachine(sfn, 'executed');
    await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: arn,
        name: 'done',
        input: JSON.stringify({ userName: 'finished', accessKeyId: 'AKIAIOSFODNN7EXAMPLE', kind: 'manual' }),
      }),
    );
    const { rotationStatus } = await import('../../../cli/status.ts');

    // Act
    const lines = await rotationStatus(sfn, arn, 'finished', 10);

    // Assess
    expect(lines).toEqual([
      expect.objectContaining({ status: 'SUCCEEDED', userName: 'finished', kind: 'manual', stoppedAt: expect.any(String) }),
    ]);
  });
});
