import type { Command } from 'commander';
import { decideFromCli, tokenNote } from './confirm.ts';
import { colors, type Output } from '../local/terminal.ts';
import { addStackOptions, type StackFlags } from './stack.ts';

const HELP = `
Stops the user's running rotation and rolls it back. The user is tagged rotation:abort=<new key id>
(the observation phase reads it at its next check); when a deployed rotation waits for a person in
its AwaitConfirmation step, the task token stored in the ledger table also fails that step at once
(SendTaskFailure, error RotationAbortedError) and the rollback starts now. At the health gate, the old key
stays Active and AWSCURRENT goes back to it; during observation, the old key is reactivated and
becomes AWSCURRENT again. Either way the new key is deactivated and kept for inspection (the next
rotation deletes it). A compromise rotation ignores it: a leaked key is never brought back.
The table comes from NOTIFICATION_LEDGER_TABLE, or the stack's NotificationLedgerTableName output
(--stage/--stack); the token is never printed.

Exit code: 0 when the abort is recorded; 1 when no rotation of the user is in progress.

Example:
  $ iam-key-rotator abort billing-export`;

export function registerAbort(program: Command, output: Output, setResult: (code: number) => void): void {
  addStackOptions(
    program
      .command('abort')
      .description("Stop the user's rotation at the health gate, or roll it back during observation.")
      .argument('<user>', 'IAM user name'),
  )
    .addHelpText('after', HELP)
    .action(async (userName: string, flags: StackFlags) => {
      const { ledger, result } = await decideFromCli('abort', userName, flags);
      const what =
        result.phase === 'observation'
          ? `old key ${result.oldAccessKeyId} is reactivated and AWSCURRENT again`
          : `old key ${result.oldAccessKeyId} stays Active and AWSCURRENT goes back to it`;
      if (result.token === 'sent') {
        output.out(
          `${colors.yellow('Aborted')}: tagged ${userName} ${result.tag}=${result.newAccessKeyId} and failed the manual check waiting in execution ${result.executionName ?? '?'} ` +
            `with RotationAbortedError (task token from ${ledger.source}). Rolling back now: ${what}; new key ${result.newAccessKeyId} is deactivated.`,
        );
      } else {
        output.out(`${colors.yellow('Abort recorded')}: tagged ${userName} ${result.tag}=${result.newAccessKeyId}. At the rotation's next check ${what}; new key ${result.newAccessKeyId} is deactivated.`);
        if (result.phase !== 'observation') output.out(tokenNote(result.token, ledger.tableName, ledger.source));
      }
      setResult(0);
    });
}
