import type { Command } from 'commander';
import { decideFromCli, recordedLine, runLabel, tokenNote } from './confirm.ts';
import { colors, type Output } from '../local/terminal.ts';
import { addStackOptions, type StackFlags } from './stack.ts';

const HELP = `
Stops the user's running rotation and rolls it back. A rotation is running when the deployed state
machine has a RUNNING execution for the user, or, with no deployed stack, while a local run
(rotate --local, in any process against this account) is going on. Deployed, the abort is recorded
in the ledger table (item abort#<user>, with the new key's id), which the gate and the observation
phase read at their next check; when the rotation waits for a person in its AwaitConfirmation step,
the task token stored there also fails that step at once (SendTaskFailure, error RotationAbortedError)
and the rollback starts now. A deployed rotation never reads a rotation:abort tag: a user may tag
itself. Local runs (no task-token callbacks) are aborted by tagging the user rotation:abort=<new key id>.
At the health gate, the old key stays Active and AWSCURRENT goes back to it; during observation,
the old key is reactivated and becomes AWSCURRENT again. Either way the new key is deactivated and
kept for inspection (the next rotation deletes it), except when no version of the secret ever held
the old key (its first rotation created the secret): then AWSCURRENT and the new key stay as they
are, so nobody reading the secret is locked out. A compromise rotation ignores it: a leaked key is
never brought back. The table comes from NOTIFICATION_LEDGER_TABLE, or the stack's
NotificationLedgerTableName output (--stage/--stack); the token is never printed. The user's secret
is found under the stack's SECRET_NAME_PREFIX (its StackSettings output) when the rotation runs in a
stack, under the environment's with ROTATION_STATE_MACHINE_ARN or for local runs.

Exit code: 0 when the abort is recorded; 1 when no rotation of the user is running (nothing is
changed); 2 for bad usage.

Example:
  $ iam-key-rotator abort billing-export`;

export function registerAbort(program: Command, output: Output, setResult: (code: number) => void): void {
  addStackOptions(
    program
      .command('abort')
      .description("Stop the user's running rotation at the health gate, or roll it back during observation.")
      .argument('<user>', 'IAM user name'),
  )
    .addHelpText('after', HELP)
    .action(async (userName: string, flags: StackFlags) => {
      const { target, result } = await decideFromCli('abort', userName, flags);
      // Rollback (planRollback) moves AWSCURRENT back only to a version that holds the old key.
      const what = result.retirement
        ? `key ${result.oldAccessKeyId} ${result.phase === 'observation' ? 'is reactivated' : 'stays Active'} and the retirement ends`
        : !result.oldKeyInSecret
          ? `old key ${result.oldAccessKeyId} ${result.phase === 'observation' ? 'is reactivated' : 'stays Active'}; no version of the secret ever held it, so AWSCURRENT stays on new key ${result.newAccessKeyId}, which stays Active`
          : result.phase === 'observation'
            ? `old key ${result.oldAccessKeyId} is reactivated and AWSCURRENT again; new key ${result.newAccessKeyId} is deactivated`
            : `old key ${result.oldAccessKeyId} stays Active and AWSCURRENT goes back to it; new key ${result.newAccessKeyId} is deactivated`;
      if (result.token === 'sent' && target.mode === 'deployed') {
        output.out(
          `${colors.yellow('Aborted')}: ${recordedLine(result)} and failed the manual check waiting in execution ${result.executionName ?? '?'} ` +
            `with RotationAbortedError (task token from ${target.ledger.source}). Rolling back now: ${what}.`,
        );
      } else {
        output.out(
          `${colors.yellow('Abort recorded')}: ${recordedLine(result)} for ${runLabel(target, result)}. At the rotation's next check ${what}.`,
        );
        if (target.mode === 'deployed' && result.token !== 'sent' && result.phase !== 'observation')
          output.out(tokenNote(result.token, target.ledger.tableName, target.ledger.source));
      }
      setResult(0);
    });
}
