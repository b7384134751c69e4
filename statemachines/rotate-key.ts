import type * as z from 'zod/mini';
import type { AlreadyConfirmedError, AwsTransientError, KeyNotYetValidError, RotationAbortedError } from '#shared/base/errors.ts';
import type { NotificationEvent } from '#shared/config/notification-events.ts';
import type { NotifyResult } from '#shared/rotation/notify-step.ts';
import type { deleteOldKey, makeSafe, RollbackResult } from '#shared/rotation/old-key.ts';
import type {
  Contained,
  Deactivated,
  Gate,
  GateStatus,
  NewKey,
  Observation,
  ObservationStatus,
  Promoted,
  Rotation,
  Verified,
} from '#shared/rotation/workflow-state.ts';
import {
  errorName,
  fromPayload,
  LAMBDA_SERVICE_ERRORS,
  lambdaTask,
  type Catcher,
  type ChoiceRule,
  type Json,
  type PayloadOption,
  type Retrier,
  type State,
  type StateMachine,
  type TaskState,
} from './asl.ts';

/**
 * The rotation workflow (statemachines/rotate-key.asl.json is generated from this file by
 * `npm run build:asl`). One execution per key; the state between Tasks is described in
 * shared/rotation/workflow-state.ts.
 */

/** Every state's name, for the code that watches or overrides states by name (local runner, CLI, demo). */
export const STATES = {
  IsCompromise: 'IsCompromise',
  // The compromise path: contain the leaked key before anything else.
  Contain: 'Contain',
  NotifyContained: 'NotifyContained',
  CanReplace: 'CanReplace',
  NoReplacement: 'NoReplacement',
  // Retirement: no new key; the key is cut once no consumer has used it for the quiet period.
  PrepareRetirement: 'PrepareRetirement',
  FirstQuietCheck: 'FirstQuietCheck',
  NotifyRetirementStarted: 'NotifyRetirementStarted',
  WaitForQuiet: 'WaitForQuiet',
  CheckQuiet: 'CheckQuiet',
  KeyQuiet: 'KeyQuiet',
  // Every rotation: a new key, stored, verified and promoted.
  Prepare: 'Prepare',
  NotifyStarted: 'NotifyStarted',
  CreateAndStore: 'CreateAndStore',
  Verify: 'Verify',
  Promote: 'Promote',
  NotifyReady: 'NotifyReady',
  // The health gate: a loop until the consumers use the new key, a person decides, or the deadline passes.
  WaitForConsumers: 'WaitForConsumers',
  CheckConsumers: 'CheckConsumers',
  ConsumersHealthy: 'ConsumersHealthy',
  AwaitConfirmation: 'AwaitConfirmation',
  ConfirmationOverdue: 'ConfirmationOverdue',
  ConfirmationAborted: 'ConfirmationAborted',
  NotifyActionNeeded: 'NotifyActionNeeded',
  NeedsAttention: 'NeedsAttention',
  // The observation: the old key Inactive (still recoverable) until no one turns out to need it.
  Deactivate: 'Deactivate',
  HoldCompromisedKey: 'HoldCompromisedKey',
  NotifyDeactivated: 'NotifyDeactivated',
  WaitObserving: 'WaitObserving',
  CheckObservation: 'CheckObservation',
  ObservationVerdict: 'ObservationVerdict',
  Rollback: 'Rollback',
  NotifyRolledBack: 'NotifyRolledBack',
  RolledBack: 'RolledBack',
  DeleteOldKey: 'DeleteOldKey',
  NotifyCompleted: 'NotifyCompleted',
  Succeeded: 'Succeeded',
  // After any failure.
  MakeSafe: 'MakeSafe',
  NotifyFailed: 'NotifyFailed',
  Failed: 'Failed',
} as const;

export type RotateKeyState = (typeof STATES)[keyof typeof STATES];
type RotateKeyStates = { readonly [K in RotateKeyState]: State<RotateKeyState> };

/**
 * Every Task's retry policy. Lambda's own transient errors, and AwsTransientError: throttling or an
 * AWS 5xx the SDK gave up on (shared/rotation/step-handler.ts). Typed business errors are never
 * retried: the same input fails the same way. Up to ~2 minutes of backoff (2, 4, ... capped at 60 s);
 * full jitter because one scan starts many rotations at once, and throttled together they would
 * otherwise retry together.
 */
const TRANSIENT: Retrier = {
  ErrorEquals: [...LAMBDA_SERVICE_ERRORS, errorName<AwsTransientError>('AwsTransientError')],
  IntervalSeconds: 2,
  MaxAttempts: 6,
  BackoffRate: 2,
  MaxDelaySeconds: 60,
  JitterStrategy: 'FULL',
};

/**
 * Every failure ends in MakeSafe, so a user never has fewer working keys than before the rotation.
 * ResultPath keeps the state (rotation, newKey, promoted) that MakeSafe needs and adds the error,
 * which the Fail state reports in the end.
 */
const TO_MAKE_SAFE: Catcher<RotateKeyState> = { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'MakeSafe' };

interface StepOptions {
  readonly comment?: string;
  readonly waitForTaskToken?: boolean;
  readonly timeoutSecondsPath?: string;
  readonly resultSelector?: { readonly [key: string]: Json };
  readonly resultPath: string | null;
  /** Retried before the transient errors. */
  readonly retry?: readonly Retrier[];
  /** Caught before the catch-all. */
  readonly catch?: readonly Catcher<RotateKeyState>[];
  readonly catchAll?: Catcher<RotateKeyState>;
  readonly next: RotateKeyState;
}

/** A rotation step: its Lambda receives the whole state and parses the parts it needs. */
function step(functionKey: string, options: StepOptions): TaskState<RotateKeyState> {
  return task(functionKey, { ...options, payloadPath: '$' });
}

/** A Task with the workflow's retry policy and catch-all (unless told otherwise). */
function task(functionKey: string, options: StepOptions & PayloadOption): TaskState<RotateKeyState> {
  const { retry = [], catch: caught = [], catchAll = TO_MAKE_SAFE, ...rest } = options;
  return lambdaTask<RotateKeyState>(functionKey, { ...rest, retry: [...retry, TRANSIENT], catch: [...caught, catchAll] });
}

/**
 * A notification. Its result is dropped (ResultPath null), except where it ends the rotation: there
 * $.outcome.status says how the rotation ended, since NeedsAttention and RolledBack are successful
 * executions too (the local runner reports it).
 */
function notify(
  event: NotificationEvent,
  options: {
    readonly outcome?: 'Succeeded' | 'RolledBack' | 'NeedsAttention';
    readonly catchAll?: Catcher<RotateKeyState>;
    readonly next: RotateKeyState;
  },
): TaskState<RotateKeyState> {
  return task('notify', {
    payload: { event, 'executionName.$': '$$.Execution.Name', 'state.$': '$' },
    ...(options.outcome === undefined
      ? { resultPath: null }
      : { resultSelector: { status: options.outcome, ...fromPayload<NotifyResult>('messageId') }, resultPath: '$.outcome' }),
    ...(options.catchAll === undefined ? {} : { catchAll: options.catchAll }),
    next: options.next,
  });
}

function gateIs(status: GateStatus, next: RotateKeyState): ChoiceRule<RotateKeyState> {
  return { Variable: '$.gate.status', StringEquals: status, Next: next };
}

function observationIs(status: ObservationStatus, next: RotateKeyState): ChoiceRule<RotateKeyState> {
  return { Variable: '$.observation.status', StringEquals: status, Next: next };
}

// Deactivate and HoldCompromisedKey run the same Lambda, which tells the paths apart by $.rotation.kind.
// Two states because only the usual path then tells the owner that the old key was deactivated:
// on the compromise path Contain did that at the start, and the critical notice said so.
const DEACTIVATED = { resultSelector: fromPayload<Deactivated>('deactivatedAt', 'observeUntil'), resultPath: '$.deactivated' } as const;

/** The manual confirmation's Pass states: the gate as CheckConsumers would have written it, with the person's verdict. */
function gateDecided(status: GateStatus, detail: string): { readonly [key: string]: Json } {
  return {
    status,
    detail,
    'checkedAt.$': '$$.State.EnteredTime',
    'passing.$': '$.gate.passing',
    'failing.$': '$.gate.failing',
    'confirmTimeoutSeconds.$': '$.gate.confirmTimeoutSeconds',
    'stragglers.$': '$.gate.stragglers',
  };
}

/** Prepare's result, on both paths: every field of the rotation, each always present (null where it does not apply). */
const PREPARED = fromPayload<Rotation>(
  'userName',
  'userArn',
  'oldAccessKeyId',
  'kind',
  'requestedBy',
  'reason',
  'owner',
  'secretName',
  'startedAt',
  'healthChecks',
  'healthCheckUrls',
  'waitSeconds',
  'healthCheckDeadlineMs',
  'observationMs',
  'oldKeyQuietMs',
  'removedKeyId',
  'confirmVia',
  'accountId',
  'accountName',
  'exemption',
  'exemptionOverride',
  'weakened',
  'deleteSecret',
);

const GATE = fromPayload<Gate>('status', 'checkedAt', 'passing', 'failing', 'detail', 'confirmTimeoutSeconds', 'stragglers');

// In a few states the Comment comes after the other fields: that is its place in the definition as
// deployed before this builder, kept so the deployed definition string stays the same. The phases
// are spread in the order of the deployed definition, for the same reason.
export function rotateKeyDefinition(): StateMachine<RotateKeyState> {
  return {
    Comment:
      'Rotates one IAM user access key: create, store (AWSPENDING), verify, promote (AWSCURRENT), wait for healthy consumers, deactivate, observe, delete; rolls back on trouble. Input: { userName, accessKeyId, kind, requestedBy, reason }. Kind "compromise" contains the key first (deactivate it, deny its sessions, critical notice), then replaces it without ever bringing it back. The state carries ids, labels, timestamps and statuses only.',
    StartAt: 'IsCompromise',
    States: { ...compromisePath(), ...newKeyStates(), ...consumerGate(), ...retireOldKey(), ...failurePath(), ...retirementPath() },
  };
}

/** The compromise fast path: contain the leaked key first, then replace it unless there is no room. */
function compromisePath() {
  return {
    IsCompromise: {
      Type: 'Choice',
      Comment:
        'The compromise fast path contains the leaked key before anything else; a retirement takes the key out of service with no replacement; every other kind starts with Prepare.',
      Choices: [
        {
          // IsPresent first: StringEquals on a missing field is a runtime error, and kind is optional (default manual).
          And: [
            { Variable: '$.kind', IsPresent: true },
            { Variable: '$.kind', StringEquals: 'compromise' },
          ],
          Next: 'Contain',
        },
        {
          And: [
            { Variable: '$.kind', IsPresent: true },
            { Variable: '$.kind', StringEquals: 'retire' },
          ],
          Next: 'PrepareRetirement',
        },
      ],
      Default: 'Prepare',
    },
    // Contain runs before Prepare, so there is no $.rotation yet: its Lambda gets the execution input,
    // and the execution's start time, by which a retry finds the deny policy it already attached.
    Contain: task('rotateContain', {
      comment:
        "Compromise path, first Task: validates the input, deactivates the leaked key (none when the trigger named a session's ASIA key: then only the sessions are denied), attaches an inline deny-all policy for the user's sessions issued before now plus a propagation margin (idempotent per execution), revokes (or names) the older sessions of the roles the key assumed, summarizes what the key did from CloudTrail (bounded), and plans the replacement.",
      payload: { 'request.$': '$', 'executionStartedAt.$': '$$.Execution.StartTime' },
      resultSelector: fromPayload<Contained>(
        'containedAt',
        'keyWasActive',
        'denyPolicyName',
        'deniedBefore',
        'awsQuarantinePolicies',
        'incident',
        'otherKeyId',
        'plan',
        'replacement',
        'compromisedKeyAction',
        'detail',
        'exemption',
        'session',
      ),
      resultPath: '$.contained',
      next: 'NotifyContained',
    }),
    NotifyContained: notify('compromise-contained', { next: 'CanReplace' }),
    CanReplace: {
      Type: 'Choice',
      Comment:
        "No room for a replacement without losing the leaked key's forensics hold, and the user's other key keeps working: stop here, contained.",
      Choices: [{ Variable: '$.contained.replacement', StringEquals: 'skip', Next: 'NoReplacement' }],
      Default: 'Prepare',
    },
    NoReplacement: {
      Type: 'Pass',
      Comment: 'The critical notice already told the owner why no replacement was issued and what to do.',
      Result: { status: 'NeedsAttention' },
      ResultPath: '$.outcome',
      Next: 'NeedsAttention',
    },
  } satisfies Partial<RotateKeyStates>;
}

/** Prepare, then the new key: created, stored as AWSPENDING, verified with STS, promoted to AWSCURRENT. */
function newKeyStates() {
  return {
    Prepare: step('rotatePrepare', {
      comment:
        "Live read of the user and key; settings from tags; makes room under the two-key limit or fails with KeyLimitReachedError, deleting nothing Active. On the compromise path the key is already Inactive and the gate's deadline is short.",
      resultSelector: PREPARED,
      resultPath: '$.rotation',
      next: 'NotifyStarted',
    }),
    NotifyStarted: notify('rotation-started', { next: 'CreateAndStore' }),
    CreateAndStore: step('rotateCreateAndStore', {
      comment:
        'Creates the new key and stores it as AWSPENDING. Idempotent: reuses a stored key, deletes an orphan of an interrupted attempt.',
      resultSelector: fromPayload<NewKey>('accessKeyId', 'versionId', 'createdAt', 'reused'),
      resultPath: '$.newKey',
      next: 'Verify',
    }),
    Verify: step('rotateVerify', {
      comment: 'STS with the pending key. KeyNotYetValidError is retried for about a minute (2+4+8+16+32 s) while IAM spreads the new key.',
      resultSelector: fromPayload<z.output<typeof Verified>>('arn', 'verifiedAt'),
      resultPath: '$.verified',
      retry: [{ ErrorEquals: [errorName<KeyNotYetValidError>('KeyNotYetValidError')], IntervalSeconds: 2, MaxAttempts: 5, BackoffRate: 2 }],
      next: 'Promote',
    }),
    Promote: step('rotatePromote', {
      resultSelector: fromPayload<Promoted>('promotedAt', 'previousVersionId', 'gateDeadline', 'consumersToMove'),
      resultPath: '$.promoted',
      next: 'NotifyReady',
    }),
    NotifyReady: notify('new-key-ready', { next: 'WaitForConsumers' }),
  } satisfies Partial<RotateKeyStates>;
}

/** The consumer health gate: poll until every check passes or the deadline; a person confirms or aborts the manual check. */
function consumerGate() {
  return {
    WaitForConsumers: {
      Type: 'Wait',
      Comment: 'Health-check interval from Prepare; the loop is bounded by $.promoted.gateDeadline.',
      SecondsPath: '$.rotation.waitSeconds',
      Next: 'CheckConsumers',
    },
    CheckConsumers: step('rotateCheckConsumers', {
      resultSelector: GATE,
      resultPath: '$.gate',
      next: 'ConsumersHealthy',
    }),
    ConsumersHealthy: {
      Type: 'Choice',
      Choices: [
        {
          And: [
            { Variable: '$.rotation.kind', StringEquals: 'compromise' },
            { Not: { Variable: '$.gate.status', StringEquals: 'waiting' } },
          ],
          Next: 'HoldCompromisedKey',
        },
        gateIs('healthy', 'Deactivate'),
        gateIs('overdue', 'NotifyActionNeeded'),
        gateIs('aborted', 'Rollback'),
        gateIs('awaiting-confirmation', 'AwaitConfirmation'),
      ],
      Default: 'WaitForConsumers',
      Comment:
        'On the compromise path the gate never blocks: it records when consumers recovered (or that they did not by the deadline) and moves on. With the manual check deployed, a gate where only a person is missing waits for them in AwaitConfirmation instead of polling.',
    },
    AwaitConfirmation: task('rotateAwaitConfirmation', {
      comment:
        "Deployed, manual check: every other check passed, so wait for a person. The handler stores the task token in the ledger table (token#<userName>, never logged) and returns; `iam-key-rotator confirm` completes the task (SendTaskSuccess), `abort` fails it with RotationAbortedError. Times out at the gate's deadline. Local runs never come here: their CheckConsumers reads the rotation:confirm tag.",
      waitForTaskToken: true,
      payload: {
        'userName.$': '$.rotation.userName',
        'oldAccessKeyId.$': '$.rotation.oldAccessKeyId',
        'newAccessKeyId.$': '$.newKey.accessKeyId',
        'gateDeadline.$': '$.promoted.gateDeadline',
        'executionName.$': '$$.Execution.Name',
        'enteredAt.$': '$$.State.EnteredTime',
        // A retried invocation gets a new token: the attempt lets the store keep the latest one.
        'attempt.$': '$$.State.RetryCount',
        'taskToken.$': '$$.Task.Token',
        'accountId.$': '$.rotation.accountId',
      },
      timeoutSecondsPath: '$.gate.confirmTimeoutSeconds',
      // The result is SendTaskSuccess's output (written by `confirm`), not the Lambda's: no $.Payload.
      resultSelector: { 'status.$': '$.status', 'decidedAt.$': '$.decidedAt' },
      resultPath: '$.confirmation',
      catch: [
        { ErrorEquals: ['States.Timeout'], ResultPath: '$.confirmation', Next: 'ConfirmationOverdue' },
        {
          ErrorEquals: [errorName<RotationAbortedError>('RotationAbortedError')],
          ResultPath: '$.confirmation',
          Next: 'ConfirmationAborted',
        },
        { ErrorEquals: [errorName<AlreadyConfirmedError>('AlreadyConfirmedError')], ResultPath: '$.confirmation', Next: 'Deactivate' },
      ],
      next: 'Deactivate',
    }),
    ConfirmationOverdue: {
      Type: 'Pass',
      Comment: "No one confirmed by the gate's deadline: the gate is overdue; both keys stay Active and the owner is asked to act.",
      Parameters: gateDecided(
        'overdue',
        "manual: no one confirmed the new key before the gate's deadline (iam-key-rotator confirm <user>)",
      ),
      ResultPath: '$.gate',
      Next: 'NotifyActionNeeded',
    },
    ConfirmationAborted: {
      Type: 'Pass',
      Comment: 'A person ran iam-key-rotator abort while the gate waited for them: roll back.',
      Parameters: gateDecided('aborted', 'aborted by a person at the manual confirmation (iam-key-rotator abort)'),
      ResultPath: '$.gate',
      Next: 'Rollback',
    },
    NotifyActionNeeded: notify('action-needed', { outcome: 'NeedsAttention', next: 'NeedsAttention' }),
    NeedsAttention: {
      Type: 'Succeed',
      Comment:
        "Past the gate's deadline: both keys stay Active and the owner was asked to act. The execution succeeds; $.outcome.status says NeedsAttention.",
    },
  } satisfies Partial<RotateKeyStates>;
}

/** The old key's way out: deactivated, observed, deleted; rolled back on trouble. */
function retireOldKey() {
  return {
    Deactivate: step('rotateDeactivate', { ...DEACTIVATED, next: 'NotifyDeactivated' }),
    HoldCompromisedKey: {
      ...step('rotateDeactivate', { ...DEACTIVATED, next: 'WaitObserving' }),
      Comment:
        'Compromise path: the leaked key stays Inactive (it may already be deleted to make room); starts the hold before its deletion. Never reactivates it.',
    },
    NotifyDeactivated: notify('old-key-deactivated', { next: 'WaitObserving' }),
    WaitObserving: {
      Type: 'Wait',
      Comment: 'Observation loop, bounded by $.deactivated.observeUntil.',
      SecondsPath: '$.rotation.waitSeconds',
      Next: 'CheckObservation',
    },
    CheckObservation: step('rotateCheckObservation', {
      resultSelector: fromPayload<Observation>('status', 'checkedAt', 'detail'),
      resultPath: '$.observation',
      next: 'ObservationVerdict',
    }),
    ObservationVerdict: {
      Type: 'Choice',
      Choices: [observationIs('trouble', 'Rollback'), observationIs('over', 'DeleteOldKey')],
      Default: 'WaitObserving',
    },
    Rollback: step('rotateRollback', {
      comment:
        'Old key Active and AWSCURRENT again; the new key is deactivated and kept for inspection (the next rotation deletes it to make room). If the secret has no version of the old key, the new key stays Active and AWSCURRENT.',
      resultSelector: fromPayload<RollbackResult>('rolledBackAt', 'reason', 'actions', 'currentKeyId'),
      resultPath: '$.rollback',
      next: 'NotifyRolledBack',
    }),
    NotifyRolledBack: notify('rolled-back', { outcome: 'RolledBack', next: 'RolledBack' }),
    RolledBack: { Type: 'Succeed' },
    DeleteOldKey: {
      ...step('rotateDeleteOldKey', {
        resultSelector: fromPayload<Awaited<ReturnType<typeof deleteOldKey>>>('deletedAt', 'keptInactive', 'secret'),
        resultPath: '$.deleted',
        next: 'NotifyCompleted',
      }),
      Comment: 'Deletes the old key; a leaked key is kept Inactive instead when COMPROMISED_KEY_ACTION=keep-inactive.',
    },
    NotifyCompleted: notify('rotation-completed', { outcome: 'Succeeded', next: 'Succeeded' }),
    Succeeded: { Type: 'Succeed' },
    // The failure path catches into itself, never into MakeSafe again: a MakeSafe that fails still
    // notifies, a notification that fails still ends in Failed. Their errors go beside $.error, so
    // the execution fails with the error that started it all.
  } satisfies Partial<RotateKeyStates>;
}

/** After any failure: make safe, tell the owner, fail with the error that started it all. */
function failurePath() {
  return {
    MakeSafe: step('rotateMakeSafe', {
      comment:
        'After any failure: reactivate the old key, point AWSCURRENT back at it if the current key no longer works, delete a new key that was never promoted. Never deletes a promoted key.',
      resultSelector: fromPayload<Awaited<ReturnType<typeof makeSafe>>>('actions', 'detail'),
      resultPath: '$.safe',
      catchAll: { ErrorEquals: ['States.ALL'], ResultPath: '$.safeError', Next: 'NotifyFailed' },
      next: 'NotifyFailed',
    }),
    NotifyFailed: notify('rotation-failed', {
      catchAll: { ErrorEquals: ['States.ALL'], ResultPath: '$.notifyError', Next: 'Failed' },
      next: 'Failed',
    }),
    Failed: { Type: 'Fail', ErrorPath: '$.error.Error', CausePath: '$.error.Cause' },
  } satisfies Partial<RotateKeyStates>;
}

/**
 * Retirement (kind `retire`): Prepare checks the key and changes nothing; the gate, inverted, waits
 * until no consumer has used the key for the quiet period (or a person aborts, or the deadline
 * passes); then the key leaves as an old key does: Deactivate, the observation (rolled back by
 * reactivation on trouble), DeleteOldKey. Separate states, so a rotation pays no transition for it.
 */
function retirementPath() {
  return {
    PrepareRetirement: step('rotatePrepare', {
      comment:
        'Live read of the user and key: the key must be Active; with deleteSecret the secret must be bound to the user and hold nothing else of it. Changes nothing.',
      resultSelector: PREPARED,
      resultPath: '$.rotation',
      next: 'FirstQuietCheck',
    }),
    // Checked once before the owner hears of it, so the notice names the consumers still on the key.
    FirstQuietCheck: step('rotateCheckConsumers', {
      comment: 'The first quiet check, before the start notice: its stragglers are the consumers the owner must move off the key.',
      resultSelector: GATE,
      resultPath: '$.gate',
      next: 'NotifyRetirementStarted',
    }),
    NotifyRetirementStarted: notify('rotation-started', { next: 'KeyQuiet' }),
    WaitForQuiet: {
      Type: 'Wait',
      Comment: 'Health-check interval from Prepare; the loop is bounded by the health-check deadline from the start.',
      SecondsPath: '$.rotation.waitSeconds',
      Next: 'CheckQuiet',
    },
    CheckQuiet: step('rotateCheckConsumers', {
      comment:
        "The consumer gate inverted: healthy once neither CloudTrail nor the key's last use shows a use within the quiet period; stragglers are the consumers still on it.",
      resultSelector: GATE,
      resultPath: '$.gate',
      next: 'KeyQuiet',
    }),
    KeyQuiet: {
      Type: 'Choice',
      Choices: [gateIs('healthy', 'Deactivate'), gateIs('overdue', 'NotifyActionNeeded'), gateIs('aborted', 'Rollback')],
      Default: 'WaitForQuiet',
    },
  } satisfies Partial<RotateKeyStates>;
}
