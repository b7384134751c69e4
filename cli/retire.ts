import type { Command } from 'commander';
import { formatDuration } from '#shared/base/duration.ts';
import { LOCAL_DURATIONS } from '#local/runner.ts';
import type { Output } from '../local/terminal.ts';
import { addStackOptions, STACK_HELP } from './stack.ts';
import { QUIET_PERIOD_OPTION, rotate, type RotateFlags } from './rotate.ts';
import { addOutputOptions } from './output-format.ts';

const HELP = `
Takes one access key out of service for good, with no replacement: the way off a key once its
workload runs with a role (iam-key-rotator usage <user> --propose-role shows what that role needs).
It runs the rotation workflow as kind "retire" (statemachines/rotate-key.asl.json):

  1. the key stays Active until no consumer has used it for the quiet period (OLD_KEY_QUIET_PERIOD):
     CloudTrail shows no call with it and its last use is older; the owner is told which consumers
     are still on it. Past the health-check deadline (HEALTH_CHECK_DEADLINE) nothing is cut: the run
     ends NeedsAttention and names them.
  2. the key is deactivated, then observed (OBSERVATION_PERIOD): iam-key-rotator abort <user>, or a
     failing health URL (rotation:health-checks=http), reactivates it.
  3. the key is deleted; with --delete-secret, the user's secret is scheduled for deletion too, with
     Secrets Manager's 30-day recovery window (refused before anything changes unless the secret is
     the user's own and nothing else of the user's is read from it).

A request signed with an Inactive key fails authentication and leaves no CloudTrail record: a
consumer that was silent through the whole quiet period and fails after the cut shows only by its
own failures. Keep the observation long enough to hear from your slowest job.
${STACK_HELP}

Local mode (--local) runs the workflow in this process against AWS_ENDPOINT_URL (e.g. moto) or your
credentials' account, with compressed waits (every ${formatDuration(LOCAL_DURATIONS.healthCheckIntervalMs)}, deadline ${formatDuration(LOCAL_DURATIONS.healthCheckDeadlineMs)}, observation ${formatDuration(LOCAL_DURATIONS.observationMs)}).
The quiet period is compressed (${formatDuration(LOCAL_DURATIONS.oldKeyQuietMs)}) only against AWS_ENDPOINT_URL: in a real account it is
OLD_KEY_QUIET_PERIOD (default 24h), as deployed, unless --quiet-period names another. There, with the
local ${formatDuration(LOCAL_DURATIONS.healthCheckDeadlineMs)} deadline, the run ends NeedsAttention with the key still Active: to retire it in one
run, give --health-check-deadline longer than the quiet period and CloudTrail's delivery delay
(CLOUDTRAIL_DELIVERY_DELAY, default 15m).

Exit code: 0 when the key was retired (deployed: when the retirement started); 3 when it ended safely
but needs a person (the key still in use: NeedsAttention; rolled back); 1 when it failed; 2 for bad usage.

Examples:
  $ iam-key-rotator retire billing-export --key AKIAIOSFODNN7EXAMPLE --stage prod
  $ iam-key-rotator retire billing-export --delete-secret --reason "moved to a task role" --stage prod
  $ iam-key-rotator retire billing-export --local --observation 30s`;

export function registerRetire(program: Command, output: Output, setResult: (code: number) => void): void {
  const command = program
    .command('retire')
    .description('Retire one access key with no replacement: deactivated once no consumer uses it, observed, then deleted.')
    .argument('<user>', 'IAM user name')
    .option('--key <access-key-id>', "the key to retire (default: the user's oldest Active key)")
    .option('--delete-secret', "also schedule the user's secret for deletion (30-day recovery window) once the key is deleted")
    .option('--local', 'run the workflow in this process (against AWS_ENDPOINT_URL or your credentials)')
    .option('--account <id>', 'the member account the user lives in (organization-wide deployments)')
    .option('--reason <text>', 'why the key is retired (shown in notifications)')
    .option(
      '--override-exemption <reason>',
      'retire a key of an exempt user (EXEMPT_PATHS, EXEMPT_GROUPS, rotation:exempt) anyway; the reason is recorded',
    )
    .option('--yes', '--local in a real account (no AWS_ENDPOINT_URL): go on without asking')
    .option('--health-check-interval <duration>', 'time between quiet checks (--local)')
    .option('--health-check-deadline <duration>', 'give up waiting for the key to fall quiet after this long (--local)')
    .option('--observation <duration>', 'how long the key stays Inactive before it is deleted (--local)')
    .option('--quiet-period <duration>', QUIET_PERIOD_OPTION)
    .addHelpText('after', HELP)
    .action(async (userName: string, flags: RotateFlags) => {
      setResult(await rotate(userName, flags, output, true));
    });
  addOutputOptions(command, 'print one JSON object with the outcome and every state on stdout');
  addStackOptions(command);
}
