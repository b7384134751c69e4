import { describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDefinition } from '#statemachines/definitions.ts';
import { repoPath } from '../../helpers/paths.ts';

interface State {
  Type: string;
  Next?: string;
  Default?: string;
  Choices?: { Next: string }[];
  Parameters?: { FunctionName?: string };
  Retry?: { ErrorEquals: string[] }[];
  Catch?: { ErrorEquals: string[]; Next: string; ResultPath?: string }[];
  ResultSelector?: Record<string, unknown>;
  ResultPath?: string | null;
  SecondsPath?: string;
}

const definition = loadDefinition('us-east-1', '123456789012') as unknown as { StartAt: string; States: Record<string, State> };
const states = Object.entries(definition.States);
const tasks = states.filter(([, state]) => state.Type === 'Task');
const TYPED_ERRORS = [
  'KeyLimitReachedError',
  'UserNotFoundError',
  'AccessKeyNotFoundError',
  'KeyNotActiveError',
  'SecretStateError',
  'KeyVerificationError',
  'InvalidInputError',
];

describe('statemachines/rotate-key.asl.json', () => {
  test('is valid ASL for asl-validator once Fn::GetAtt is resolved', () => {
    // Prepare: the definition, Fn::GetAtt resolved, in a temporary file.
    const dir = mkdtempSync(join(tmpdir(), 'asl-'));
    try {
      const file = join(dir, 'rotate-key.asl.json');
      writeFileSync(file, JSON.stringify(definition));

      // Act
      const result = spawnSync('asl-validator', ['--json-path', file], { encoding: 'utf8' });

      // Assess
      expect({ status: result.status, output: result.stdout + result.stderr }).toMatchObject({ status: 0 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('every Task invokes a function declared in serverless.yml', () => {
    // Prepare
    const serverless = readFileSync(repoPath('serverless.yml'), 'utf8');

    // Assess
    for (const [name, state] of tasks) {
      const functionKey = String(state.Parameters?.FunctionName).split(':').pop() ?? '';
      expect({ name, declared: new RegExp(`^  ${functionKey}:\\n    handler: functions/`, 'm').test(serverless) }).toEqual({
        name,
        declared: true,
      });
    }
  });

  test('every Task retries Lambda service errors and throttling, and never a typed business error', () => {
    // Assess
    for (const [name, state] of tasks) {
      const retried = (state.Retry ?? []).flatMap((retrier) => retrier.ErrorEquals);
      expect({ name, retried }).toEqual({
        name,
        retried: expect.arrayContaining([
          'Lambda.ServiceException',
          'Lambda.AWSLambdaException',
          'Lambda.SdkClientException',
          'Lambda.TooManyRequestsException',
          'AwsTransientError',
        ]),
      });
      for (const typed of [...TYPED_ERRORS, 'States.ALL'])
        expect({ name, retries: retried.includes(typed) }).toEqual({ name, retries: false });
    }
  });

  test('Verify alone retries KeyNotYetValidError, for about a minute', () => {
    // Assess
    const verify = definition.States.Verify?.Retry?.find((retrier) => retrier.ErrorEquals.includes('KeyNotYetValidError')) as
      { IntervalSeconds: number; MaxAttempts: number; BackoffRate: number } | undefined;
    expect(verify).toBeDefined();
    const total = Array.from(
      { length: verify?.MaxAttempts ?? 0 },
      (_, attempt) => (verify?.IntervalSeconds ?? 0) * (verify?.BackoffRate ?? 1) ** attempt,
    ).reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThanOrEqual(45);
    expect(total).toBeLessThanOrEqual(90);
    const others = tasks
      .filter(([name]) => name !== 'Verify')
      .flatMap(([, state]) => (state.Retry ?? []).flatMap((retrier) => retrier.ErrorEquals));
    expect(others).not.toContain('KeyNotYetValidError');
  });

  test('every Task but the failure path catches everything into MakeSafe, keeping the error in $.error', () => {
    // Assess
    for (const [name, state] of tasks.filter(([taskName]) => taskName !== 'MakeSafe' && taskName !== 'NotifyFailed')) {
      expect({ name, catch: state.Catch?.at(-1) }).toEqual({
        name,
        catch: { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'MakeSafe' },
      });
      // Only the manual confirmation catches named outcomes first: its timeout, an abort, a confirm by tag.
      if (name !== 'AwaitConfirmation') expect({ name, catches: state.Catch?.length }).toEqual({ name, catches: 1 });
    }
    expect(definition.States.AwaitConfirmation?.Catch?.map((clause) => [clause.ErrorEquals, clause.Next])).toEqual([
      [['States.Timeout'], 'ConfirmationOverdue'],
      [['RotationAbortedError'], 'ConfirmationAborted'],
      [['AlreadyConfirmedError'], 'Deactivate'],
      [['States.ALL'], 'MakeSafe'],
    ]);
    expect(definition.States.MakeSafe?.Catch?.[0]?.Next).toBe('NotifyFailed');
    expect(definition.States.NotifyFailed?.Catch?.[0]?.Next).toBe('Failed');
    expect(definition.States.Failed).toMatchObject({ Type: 'Fail', ErrorPath: '$.error.Error', CausePath: '$.error.Cause' });
  });

  test('every Task keeps only selected fields of its result, so no handler can put a secret into the state', () => {
    // Assess
    for (const [name, state] of tasks) {
      const keeps = state.ResultPath === null || state.ResultSelector !== undefined;
      expect({ name, keeps }).toEqual({ name, keeps: true });
    }
  });

  test('every loop waits for seconds set in Prepare and has an exit decided by a deadline', () => {
    // Assess
    expect(definition.States.WaitForConsumers?.SecondsPath).toBe('$.rotation.waitSeconds');
    expect(definition.States.WaitObserving?.SecondsPath).toBe('$.rotation.waitSeconds');
    // The compromise path's gate never blocks: anything but "waiting" moves on to the hold before deletion.
    expect(definition.States.ConsumersHealthy?.Choices?.map((choice) => choice.Next)).toEqual([
      'HoldCompromisedKey',
      'Deactivate',
      'NotifyActionNeeded',
      'Rollback',
      'AwaitConfirmation',
    ]);
    // The manual confirmation waits at most until the gate's deadline, a whole number of seconds CheckConsumers computes.
    expect(definition.States.AwaitConfirmation).toMatchObject({ TimeoutSecondsPath: '$.gate.confirmTimeoutSeconds', Next: 'Deactivate' });
    expect(definition.States.ObservationVerdict?.Choices?.map((choice) => choice.Next)).toEqual(['Rollback', 'DeleteOldKey']);
  });

  test('every state is reachable from StartAt', () => {
    // Prepare: a walk that follows Next, Default, Choices and Catch.
    const seen = new Set<string>();
    const visit = (name: string): void => {
      if (seen.has(name)) return;
      seen.add(name);
      const state = definition.States[name];
      const next = [
        state?.Next,
        state?.Default,
        ...(state?.Choices ?? []).map((choice) => choice.Next),
        ...(state?.Catch ?? []).map((c) => c.Next),
      ];
      for (const target of next) if (target) visit(target);
    };

    // Act
    visit(definition.StartAt);

    // Assess
    expect([...seen].sort()).toEqual(Object.keys(definition.States).sort());
  });
});
