import { describe, expect, test } from '@jest/globals';
import { StateMachine } from 'aws-local-stepfunctions';
import { localTimeoutPaths } from '#local/runner.ts';
import { loadDefinition } from '#statemachines/definitions.ts';

// The manual confirmation's routing in statemachines/rotate-key.asl.json, run with aws-local-stepfunctions:
// every Task is a stub that answers with the fields its ResultSelector picks, CheckConsumers says what
// the gate found, and AwaitConfirmation (no callbacks locally: its handler's return is the task's
// result) confirms, aborts, is confirmed by tag, or never answers until its timeout.

// localTimeoutPaths: aws-local-stepfunctions reads TimeoutSecondsPath after Parameters (see local/runner.ts).
const definition = localTimeoutPaths(loadDefinition('us-east-1', '123456789012'));
const TASK_TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAT0pQ-token-for-the-routing-test';

interface Gate {
  readonly status: string;
  readonly confirmTimeoutSeconds: number;
}

/** A Lambda result with every field any ResultSelector of the workflow reads, plus the state-specific ones. */
function payload(overrides: Record<string, unknown>): { Payload: Record<string, unknown> } {
  return {
    Payload: {
      userName: 'billing-export',
      userArn: 'arn:aws:iam::123456789012:user/billing-export',
      oldAccessKeyId: 'AKIAOLD0000000000000',
      kind: 'scheduled',
      requestedBy: 'test',
      reason: '',
      owner: null,
      secretName: 'iam-key-rotator/billing-export',
      startedAt: '2026-06-01T12:00:00.000Z',
      healthChecks: ['new-key-used', 'manual'],
      healthCheckUrls: [],
      waitSeconds: 1,
      healthCheckDeadlineMs: 60_000,
      observationMs: 1_000,
      oldKeyQuietMs: 1_000,
      removedKeyId: null,
      weakened: [],
      confirmVia: 'task-token',
      accountId: null,
      accountName: null,
      exemption: null,
      exemptionOverride: null,
      deleteSecret: null,
      accessKeyId: 'AKIANEW0000000000000',
      versionId: 'v2',
      createdAt: '2026-06-01T12:00:01.000Z',
      reused: false,
      arn: 'arn:aws:iam::123456789012:user/billing-export',
      verifiedAt: '2026-06-01T12:00:02.000Z',
      promotedAt: '2026-06-01T12:00:03.000Z',
      previousVersionId: 'v1',
      gateDeadline: '2026-06-01T12:01:03.000Z',
      consumersToMove: [],
      checkedAt: '2026-06-01T12:00:04.000Z',
      passing: ['new-key-used'],
      failing: ['manual'],
      detail: 'manual: waiting for a person to run iam-key-rotator confirm billing-export',
      stragglers: [],
      deactivatedAt: '2026-06-01T12:00:05.000Z',
      observeUntil: '2026-06-01T12:00:06.000Z',
      rolledBackAt: '2026-06-01T12:00:07.000Z',
      actions: [],
      currentKeyId: 'AKIAOLD0000000000000',
      deletedAt: '2026-06-01T12:00:08.000Z',
      keptInactive: false,
      secret: 'kept',
      messageId: 'm-1',
      ...overrides,
    },
  };
}

type Handler = (input: unknown) => Promise<unknown>;

interface RoutingRun {
  readonly visited: string[];
  readonly output: Record<string, unknown>;
  readonly awaitInputs: unknown[];
}

async function run(gate: Gate, awaitConfirmation: Handler): Promise<RoutingRun> {
  const visited: string[] = [];
  const awaitInputs: unknown[] = [];
  const handlers: Record<string, Handler> = {};
  for (const [name, state] of Object.entries(definition.States)) {
    if (state.Type !== 'Task') continue;
    handlers[name] = async () => payload({});
  }
  handlers.CheckConsumers = async () => payload({ ...gate });
  handlers.CheckObservation = async () => payload({ status: 'over', detail: 'no trouble during the observation period' });
  handlers.AwaitConfirmation = async (input) => {
    awaitInputs.push(input);
    return awaitConfirmation(input);
  };
  const machine = new StateMachine(definition, { validationOptions: { checkArn: true, checkPaths: true } });
  const execution = machine.run(
    { userName: 'billing-export', accessKeyId: 'AKIAOLD0000000000000', kind: 'scheduled', requestedBy: 'test', reason: '' },
    {
      // aws-local-stepfunctions has no $$.State or $$.Task of its own: given here, as AWS would.
      context: {
        Execution: { Name: 'routing-test' },
        State: { EnteredTime: '2026-06-01T12:00:04.500Z', RetryCount: 0 },
        Task: { Token: TASK_TOKEN },
      },
      overrides: {
        taskResourceLocalHandlers: handlers as never,
        waitTimeOverrides: { WaitForConsumers: 1, WaitObserving: 1 },
      },
    },
  );
  const recording = (async () => {
    for await (const event of execution.eventLogs) if (event.type === 'StateEntered' && 'state' in event) visited.push(event.state.name);
  })();
  const output = (await execution.result) as Record<string, unknown>;
  await recording;
  return { visited, output, awaitInputs };
}

const AWAITING: Gate = { status: 'awaiting-confirmation', confirmTimeoutSeconds: 1 };
const named = (name: string, message: string): Error => Object.assign(new Error(message), { name });

describe('the manual confirmation in the rotation workflow', () => {
  test('a gate that only waits for a person goes to AwaitConfirmation with the ids and the task token', async () => {
    // Prepare
    const confirmed = async (): Promise<unknown> => ({
      status: 'confirmed',
      decidedAt: '2026-06-01T12:00:30.000Z',
      newAccessKeyId: 'AKIANEW0000000000000',
    });

    // Act
    const { awaitInputs } = await run(AWAITING, confirmed);

    // Assess
    expect(awaitInputs).toEqual([
      {
        FunctionName: 'arn:aws:lambda:us-east-1:123456789012:function:rotateAwaitConfirmation',
        Payload: {
          userName: 'billing-export',
          oldAccessKeyId: 'AKIAOLD0000000000000',
          newAccessKeyId: 'AKIANEW0000000000000',
          gateDeadline: '2026-06-01T12:01:03.000Z',
          executionName: 'routing-test',
          enteredAt: '2026-06-01T12:00:04.500Z',
          attempt: 0,
          taskToken: TASK_TOKEN,
          // The account the confirmation reads the user in; null for the stack's own.
          accountId: null,
          timeoutSeconds: 1,
        },
      },
    ]);
  });

  test('a confirm (SendTaskSuccess) deactivates the old key and the rotation succeeds; the state keeps status and time only', async () => {
    // Prepare: a person confirms (SendTaskSuccess).
    const confirmed = async (): Promise<unknown> => ({
      status: 'confirmed',
      decidedAt: '2026-06-01T12:00:30.000Z',
      newAccessKeyId: 'AKIANEW0000000000000',
      taskToken: TASK_TOKEN,
    });

    // Act
    const { visited, output } = await run(AWAITING, confirmed);

    // Assess
    expect(visited.slice(visited.indexOf('ConsumersHealthy'))).toEqual([
      'ConsumersHealthy',
      'AwaitConfirmation',
      'Deactivate',
      'NotifyDeactivated',
      'WaitObserving',
      'CheckObservation',
      'ObservationVerdict',
      'DeleteOldKey',
      'NotifyCompleted',
      'Succeeded',
    ]);
    expect(output.confirmation).toEqual({ status: 'confirmed', decidedAt: '2026-06-01T12:00:30.000Z' });
    expect(output.outcome).toMatchObject({ status: 'Succeeded' });
    expect(JSON.stringify(output)).not.toContain(TASK_TOKEN);
  });

  test('an abort (SendTaskFailure RotationAbortedError) rolls back, with the gate saying a person aborted', async () => {
    // Prepare: a person aborts (SendTaskFailure).
    const aborted = async (): Promise<unknown> => {
      throw named('RotationAbortedError', 'Aborted by a person (iam-key-rotator abort billing-export)');
    };

    // Act
    const { visited, output } = await run(AWAITING, aborted);

    // Assess
    expect(visited.slice(visited.indexOf('AwaitConfirmation'))).toEqual([
      'AwaitConfirmation',
      'ConfirmationAborted',
      'Rollback',
      'NotifyRolledBack',
      'RolledBack',
    ]);
    expect(output.gate).toMatchObject({
      status: 'aborted',
      detail: expect.stringContaining('aborted by a person'),
      passing: ['new-key-used'],
      failing: ['manual'],
    });
    expect(output.outcome).toMatchObject({ status: 'RolledBack' });
  });

  test('no answer before the gate deadline (States.Timeout) asks the owner to act and ends NeedsAttention', async () => {
    // Prepare: no one ever answers.
    const never = (): Promise<unknown> => new Promise(() => undefined);

    // Act
    const { visited, output } = await run(AWAITING, never);

    // Assess
    expect(visited.slice(visited.indexOf('AwaitConfirmation'))).toEqual([
      'AwaitConfirmation',
      'ConfirmationOverdue',
      'NotifyActionNeeded',
      'NeedsAttention',
    ]);
    expect(visited).not.toContain('Deactivate');
    expect(output.gate).toMatchObject({ status: 'overdue', detail: expect.stringContaining('no one confirmed') });
    expect(output.confirmation).toMatchObject({ Error: 'States.Timeout' });
    expect(output.outcome).toMatchObject({ status: 'NeedsAttention' });
  }, 10_000);

  test('a confirm by tag that arrived while the gate moved here (AlreadyConfirmedError) deactivates', async () => {
    // Prepare: the confirm tag arrived first.
    const byTag = async (): Promise<unknown> => {
      throw named('AlreadyConfirmedError', 'A person confirmed the rotation (tag rotation:confirm)');
    };

    // Act
    const { visited, output } = await run(AWAITING, byTag);

    // Assess
    expect(visited.slice(visited.indexOf('AwaitConfirmation'), visited.indexOf('AwaitConfirmation') + 2)).toEqual([
      'AwaitConfirmation',
      'Deactivate',
    ]);
    expect(output.outcome).toMatchObject({ status: 'Succeeded' });
  });

  test('any other failure of the step goes to MakeSafe and fails the rotation', async () => {
    // Prepare: the step fails for another reason.
    const broken = async (): Promise<unknown> => {
      throw named('ConfigError', 'No ledger table is configured');
    };

    // Act
    const result = run(AWAITING, broken);

    // Assess
    await expect(result).rejects.toThrow();
  });

  test('without the manual check (a healthy gate) the workflow never enters AwaitConfirmation: 18 transitions', async () => {
    // Prepare: a handler that must never run.
    const unused = async (): Promise<unknown> => {
      throw new Error('AwaitConfirmation must not run');
    };

    // Act
    const { visited, output } = await run({ status: 'healthy', confirmTimeoutSeconds: 60 }, unused);

    // Assess
    expect(visited).not.toContain('AwaitConfirmation');
    expect(visited).toHaveLength(18);
    expect(output.outcome).toMatchObject({ status: 'Succeeded' });
  });
});
