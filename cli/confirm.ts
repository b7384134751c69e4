import type { Command } from 'commander';
import { iam, secretsManager } from '#shared/clients.ts';
import { loadConfig } from '#shared/config.ts';
import { setMarker } from '#shared/rotation/markers.ts';
import { colors, type Output } from './output.ts';

const HELP = `
Passes the consumer health gate of the user's running rotation (the "manual" health check, or
any gate a person wants to end now): the user is tagged rotation:confirm=<new key id>, and the
workflow's next check (every health-check interval) moves on to deactivate the old key. The same
tag works for a deployed stack and for a --local run. After the gate has passed (the old key is
Inactive), there is nothing to confirm and nothing is changed; to stop the rotation instead, run
iam-key-rotator abort <user>.

Exit code: 0 when confirmed (or nothing to confirm); 1 when no rotation of the user is in progress.

Example:
  $ iam-key-rotator confirm billing-export`;

export function registerConfirm(program: Command, output: Output, setResult: (code: number) => void): void {
  program
    .command('confirm')
    .description("Confirm that the user's consumers work with the new key: the rotation's health gate passes.")
    .argument('<user>', 'IAM user name')
    .addHelpText('after', HELP)
    .action(async (userName: string) => {
      const result = await setMarker('confirm', userName, { iam, secretsManager }, loadConfig(process.env));
      if (!result.tagged) {
        output.out(
          `Nothing to confirm: the gate has passed and old key ${result.oldAccessKeyId} is Inactive (observation). ` +
            `It is deleted when the observation period ends; to roll back instead: iam-key-rotator abort ${userName}.`,
        );
      } else {
        const when = result.phase === 'pending' ? 'once the new key is promoted' : 'at its next health check';
        output.out(`${colors.green('Confirmed')}: tagged ${userName} ${result.tag}=${result.newAccessKeyId}. The gate passes ${when}; then old key ${result.oldAccessKeyId} is deactivated.`);
      }
      setResult(0);
    });
}
