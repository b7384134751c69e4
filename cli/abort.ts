import type { Command } from 'commander';
import { iam, secretsManager } from '#shared/clients.ts';
import { loadConfig } from '#shared/config.ts';
import { setMarker } from '#shared/rotation/markers.ts';
import { colors, type Output } from './output.ts';

const HELP = `
Stops the user's running rotation and rolls it back: the user is tagged rotation:abort=<new key id>,
and the workflow's next check acts on it. At the health gate, the old key stays Active and
AWSCURRENT goes back to it; during observation, the old key is reactivated and becomes AWSCURRENT
again. Either way the new key is deactivated and kept for inspection (the next rotation deletes it).
The same tag works for a deployed stack and for a --local run. A compromise rotation ignores it:
a leaked key is never brought back.

Exit code: 0 when the abort is recorded; 1 when no rotation of the user is in progress.

Example:
  $ iam-key-rotator abort billing-export`;

export function registerAbort(program: Command, output: Output, setResult: (code: number) => void): void {
  program
    .command('abort')
    .description("Stop the user's rotation at the health gate, or roll it back during observation.")
    .argument('<user>', 'IAM user name')
    .addHelpText('after', HELP)
    .action(async (userName: string) => {
      const result = await setMarker('abort', userName, { iam, secretsManager }, loadConfig(process.env));
      const what =
        result.phase === 'observation'
          ? `old key ${result.oldAccessKeyId} is reactivated and AWSCURRENT again`
          : `old key ${result.oldAccessKeyId} stays Active and AWSCURRENT goes back to it`;
      output.out(`${colors.yellow('Abort recorded')}: tagged ${userName} ${result.tag}=${result.newAccessKeyId}. At the rotation's next check ${what}; new key ${result.newAccessKeyId} is deactivated.`);
      setResult(0);
    });
}
