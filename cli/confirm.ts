import type { Command } from 'commander';
import { dynamodb, iam, secretsManager, sfn } from '#shared/aws/clients.ts';
import { systemClock } from '#shared/base/clock.ts';
import { loadConfig } from '#shared/config/settings.ts';
import { decide, type DecisionResult, type RotationRecords } from '#shared/rotation/confirmation.ts';
import { dynamoTokenStore } from '#shared/rotation/confirmation-tokens.ts';
import { dynamoDecisionStore } from '#shared/rotation/decision-records.ts';
import { ConfigError, InvalidInputError, NoRotationInProgressError, UserNotFoundError } from '#shared/base/errors.ts';
import { requireUser } from '#shared/aws/iam.ts';
import type { MarkerAction } from '#shared/rotation/markers.ts';
import { runningRotationsOf } from '#shared/start/start-rotation.ts';
import { localRunRegistry } from '#local/run-registry.ts';
import { colors, type Output } from '../local/terminal.ts';
import { addStackOptions, resolveDecisionTarget, type DecisionTarget, type StackFlags } from './stack.ts';

const HELP = `
Satisfies the "manual" health check of the user's running rotation. It does not override the gate's
other checks (consumers-moved, old-key-idle, http, ...): the gate passes, and the old key is
deactivated, once they pass too (the checks are HEALTH_CHECKS, or the user's rotation:health-checks
tag). A rotation is running when the deployed state machine has a
RUNNING execution for the user, or, with no deployed stack, while a local run (rotate --local, in
any process against this account) is going on. Deployed, the confirm is recorded in the ledger table
(item confirm#<user>, with the new key's id); when the rotation waits for a person in its
AwaitConfirmation step, the task token that step stored there (item token#<user>) completes it at
once (SendTaskSuccess; the step waits only when a person is all the gate misses) and the old key is
deactivated now; otherwise the workflow's next check reads
the record. A deployed rotation never reads a rotation:confirm tag: a user may tag itself. Local runs
(no task-token callbacks) are confirmed by tagging the user rotation:confirm=<new key id>, which their
next check reads. The table comes from NOTIFICATION_LEDGER_TABLE, or the stack's
NotificationLedgerTableName output (--stage/--stack); the token is never printed. The user's secret
is found under the stack's SECRET_NAME_PREFIX (its StackSettings output) when the rotation runs in a
stack, under the environment's with ROTATION_STATE_MACHINE_ARN or for local runs.
After the gate has passed (the old key is Inactive), there is nothing to confirm and nothing is
changed; to stop the rotation instead, run iam-key-rotator abort <user>.
A rotation that ended NeedsAttention is not running: move its consumers to the secret and rotate
again (README: When a rotation needs attention).

Exit code: 0 when confirmed (or nothing to confirm); 1 when no rotation of the user is running
(nothing is changed); 2 for bad usage.

Example:
  $ iam-key-rotator confirm billing-export`;

export function registerConfirm(program: Command, output: Output, setResult: (code: number) => void): void {
  addStackOptions(
    program
      .command('confirm')
      .description("Confirm that the user's consumers work with the new key: the running rotation's manual health check passes.")
      .argument('<user>', 'IAM user name'),
  )
    .addHelpText('after', HELP)
    .action(async (userName: string, flags: StackFlags) => {
      const { target, result } = await decideFromCli('confirm', userName, flags);
      if (!result.tagged) {
        output.out(
          `Nothing to confirm: the gate has passed and old key ${result.oldAccessKeyId} is Inactive (observation). ` +
            `It is deleted when the observation period ends; to roll back instead: iam-key-rotator abort ${userName}.`,
        );
      } else if (result.token === 'sent' && target.mode === 'deployed') {
        output.out(
          `${colors.green('Confirmed')}: ${recordedLine(result)} and completed the manual check waiting in execution ${result.executionName ?? '?'} ` +
            `(task token from ${target.ledger.source}). The gate passes now; old key ${result.oldAccessKeyId} is deactivated.`,
        );
      } else {
        const when = result.phase === 'pending' ? 'once the new key is promoted' : 'at the next health check';
        output.out(
          `${colors.green('Confirmed')}: ${recordedLine(result)} for ${runLabel(target, result)}. The manual check passes ${when}; ` +
            `once the gate's other checks (HEALTH_CHECKS, or the user's rotation:health-checks tag) pass too, old key ${result.oldAccessKeyId} is deactivated.`,
        );
        if (target.mode === 'deployed' && result.token !== 'sent')
          output.out(tokenNote(result.token, target.ledger.tableName, target.ledger.source));
      }
      setResult(0);
    });
}

/** Where the decision was recorded, for the confirmation line. */
export function recordedLine(result: DecisionResult): string {
  return result.recordedIn === 'table'
    ? `recorded ${result.tag} (new key ${result.newAccessKeyId}) in the ledger table`
    : `tagged ${result.userName} ${result.tag}=${result.newAccessKeyId}`;
}

/** The rotation a decision went to, for the confirmation line. */
export function runLabel(target: DecisionTarget, result: DecisionResult): string {
  return `${target.mode === 'local' ? 'local run' : 'execution'} ${result.runningExecutionName}`;
}

/** Where the running rotations of a user are recorded for this target. */
function rotationRecords(target: DecisionTarget, userName: string, flags: StackFlags): RotationRecords {
  if (target.mode === 'deployed') {
    const stackFlags = `${flags.stage ? ` --stage ${flags.stage}` : ''}${flags.stack ? ` --stack ${flags.stack}` : ''}`;
    return {
      where: `the running executions of ${target.stateMachineArn} (${target.source})`,
      hint:
        `To finish a rotation that ended NeedsAttention, move its consumers to the secret and rotate again: iam-key-rotator rotate ${userName}${stackFlags}. ` +
        `Recent rotations: iam-key-rotator status ${userName}${stackFlags}.`,
      running: async (user) =>
        (await runningRotationsOf(sfn, target.stateMachineArn, user, undefined)).map((execution) => ({
          executionName: execution.name,
          oldAccessKeyId: execution.accessKeyId,
          kind: execution.kind,
        })),
    };
  }
  const registry = localRunRegistry(dynamodb, target.ledgerTableName);
  return {
    where: `the local runs recorded in DynamoDB table ${target.ledgerTableName}; no deployed stack: ${target.source}`,
    hint:
      `To finish a rotation that ended NeedsAttention, move its consumers to the secret and rotate again: iam-key-rotator rotate ${userName} --local ` +
      '(a local run is running only while that command runs). For a deployed stack, pass --stage or --stack, or set ROTATION_STATE_MACHINE_ARN.',
    running: async (user) => {
      const run = await registry.running(user);
      return run ? [{ executionName: run.executionName, oldAccessKeyId: run.oldAccessKeyId, kind: run.kind }] : [];
    },
  };
}

/**
 * `confirm` and `abort`: find the user's running rotation where the target records it, then record
 * the decision (deployed: in the ledger table, and sent to the waiting task through the token stored
 * there; local runs store no token and read a tag).
 */
export async function decideFromCli(
  action: MarkerAction,
  userName: string,
  flags: StackFlags,
): Promise<{ target: DecisionTarget; result: DecisionResult }> {
  const target = await resolveDecisionTarget(flags);
  const tableName = target.mode === 'deployed' ? target.ledger.tableName : undefined;
  if (target.mode === 'deployed' && tableName === undefined)
    // Deployed, tags are not authority: without the table there is no channel the rotation would hear.
    throw new ConfigError(
      `No ledger table found (${target.ledger.source}): a deployed rotation hears ${action} only through it, never through tags. Nothing was changed. ` +
        'Pass --stage or --stack, or set NOTIFICATION_LEDGER_TABLE.',
    );
  const tokens = tableName === undefined ? undefined : dynamoTokenStore(dynamodb, () => tableName);
  const decisions = tableName === undefined ? undefined : dynamoDecisionStore(dynamodb, () => tableName);
  const rotations = rotationRecords(target, userName, flags);
  const result = await decide(
    action,
    userName,
    { iam, secretsManager, sfn, tokens, decisions, rotations },
    // Deployed from a stack: its secret prefix, so the decision reads the secret its rotation writes.
    loadConfig(process.env, target.mode === 'deployed' ? target.settings : {}),
    systemClock,
  ).catch(async (error: unknown) => {
    if (error instanceof NoRotationInProgressError) await refuseUnknownUser(userName, action, error);
    throw error;
  });
  return { target, result };
}

/** With no rotation running, a user this account does not have is most likely a misspelled name: bad usage, named as such. */
async function refuseUnknownUser(userName: string, action: MarkerAction, cause: NoRotationInProgressError): Promise<void> {
  const missing = await requireUser(iam, userName).then(
    () => false,
    (error: unknown) => error instanceof UserNotFoundError,
  );
  if (!missing) return;
  throw new InvalidInputError(
    `No rotation of ${userName} is running, and this account has no IAM user ${userName}: check the name (aws iam list-users). ` +
      `Nothing was changed (a user of a member account has no rotation running either).`,
    { cause },
  );
}

/** Why no task token was used: said plainly, so a person knows whether a deployed gate heard them now. */
export function tokenNote(token: 'stale' | 'none', tableName: string | undefined, source: string): string {
  if (token === 'stale') return `A stored task token for this rotation no longer completes anything (its wait has ended); it was deleted.`;
  if (tableName === undefined)
    return `No ledger table found (${source}): no task token was looked for. Pass --stage or --stack, or set NOTIFICATION_LEDGER_TABLE.`;
  return `No rotation of this user waits in AwaitConfirmation (no task token in ${tableName}).`;
}
