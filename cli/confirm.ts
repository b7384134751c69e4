import type { Command } from 'commander';
import { dynamodb, iam, secretsManager, sfn } from '#shared/aws/clients.ts';
import { systemClock } from '#shared/base/clock.ts';
import { loadConfig } from '#shared/config/settings.ts';
import { decide, type DecisionResult } from '#shared/rotation/confirmation.ts';
import { dynamoTokenStore } from '#shared/rotation/confirmation-tokens.ts';
import type { MarkerAction } from '#shared/rotation/markers.ts';
import { colors, type Output } from '../local/terminal.ts';
import { addStackOptions, resolveLedgerTable, type LedgerTable, type StackFlags } from './stack.ts';

const HELP = `
Passes the consumer health gate of the user's running rotation (the "manual" health check, or
any gate a person wants to end now). The user is tagged rotation:confirm=<new key id>; then, when a
deployed rotation waits for a person in its AwaitConfirmation step, the task token that step stored
in the ledger table (item token#<user>) completes it at once (SendTaskSuccess) and the old key is
deactivated now. Otherwise the workflow's next check (every health-check interval) reads the tag,
as local runs always do. The table comes from NOTIFICATION_LEDGER_TABLE, or the stack's
NotificationLedgerTableName output (--stage/--stack); the token is never printed.
After the gate has passed (the old key is Inactive), there is nothing to confirm and nothing is
changed; to stop the rotation instead, run iam-key-rotator abort <user>.

Exit code: 0 when confirmed (or nothing to confirm); 1 when no rotation of the user is in progress.

Example:
  $ iam-key-rotator confirm billing-export`;

export function registerConfirm(program: Command, output: Output, setResult: (code: number) => void): void {
  addStackOptions(
    program
      .command('confirm')
      .description("Confirm that the user's consumers work with the new key: the rotation's health gate passes.")
      .argument('<user>', 'IAM user name'),
  )
    .addHelpText('after', HELP)
    .action(async (userName: string, flags: StackFlags) => {
      const { ledger, result } = await decideFromCli('confirm', userName, flags);
      if (!result.tagged) {
        output.out(
          `Nothing to confirm: the gate has passed and old key ${result.oldAccessKeyId} is Inactive (observation). ` +
            `It is deleted when the observation period ends; to roll back instead: iam-key-rotator abort ${userName}.`,
        );
      } else if (result.token === 'sent') {
        output.out(
          `${colors.green('Confirmed')}: tagged ${userName} ${result.tag}=${result.newAccessKeyId} and completed the manual check waiting in execution ${result.executionName ?? '?'} ` +
            `(task token from ${ledger.source}). The gate passes now; old key ${result.oldAccessKeyId} is deactivated.`,
        );
      } else {
        const when = result.phase === 'pending' ? 'once the new key is promoted' : 'at its next health check';
        output.out(`${colors.green('Confirmed')}: tagged ${userName} ${result.tag}=${result.newAccessKeyId}. The gate passes ${when}; then old key ${result.oldAccessKeyId} is deactivated.`);
        output.out(tokenNote(result.token, ledger.tableName, ledger.source));
      }
      setResult(0);
    });
}

/**
 * `confirm` and `abort`: the decision recorded as a tag and, deployed, sent to the waiting task
 * through the token stored in the ledger table (NOTIFICATION_LEDGER_TABLE or the stack's output).
 */
export async function decideFromCli(action: MarkerAction, userName: string, flags: StackFlags): Promise<{ ledger: LedgerTable; result: DecisionResult }> {
  const ledger = await resolveLedgerTable(flags);
  const tokens = ledger.tableName === undefined ? undefined : dynamoTokenStore(dynamodb, () => ledger.tableName ?? '');
  const result = await decide(action, userName, { iam, secretsManager, sfn, tokens }, loadConfig(process.env), systemClock);
  return { ledger, result };
}

/** Why no task token was used: said plainly, so a person knows whether a deployed gate heard them now. */
export function tokenNote(token: 'stale' | 'none', tableName: string | undefined, source: string): string {
  if (token === 'stale') return `A stored task token for this rotation no longer completes anything (its wait has ended); it was deleted.`;
  if (tableName === undefined) return `No ledger table found (${source}): no task token was looked for. For a deployed stack, pass --stage or --stack, or set NOTIFICATION_LEDGER_TABLE.`;
  return `No rotation of this user waits in AwaitConfirmation (no task token in ${tableName}).`;
}
